//! # cdt-core
//!
//! The domain model, the file formats and the deployment engine of the Central Deployment Tool
//! (CDT), for deploying packages to fleets of Check Point Security Gateways and cluster members.
//!
//! - [`model`]: versions, packages, inventories (gateways, clusters, members and their roles);
//! - [`formats`]: CDT's primary configuration XML, deployment plan XML and candidates list CSV;
//! - [`candidates`]: generating a candidates list from an inventory and a package, and
//!   validating an operator's edits against the rules of the generated one;
//! - [`rollout`]: the deployment state machine, pure and deterministic (no clock, no I/O):
//!   batches, cluster waves and failovers, failure budget, maintenance window;
//! - [`gaia`]: the Gaia vocabulary: the commands the engine sends (with the one audited
//!   quoting function) and typed parsers for their replies;
//! - [`sim`]: a simulated Gaia fleet that interprets that vocabulary, prints replies in the
//!   real formats and keeps the ground truth of what happened to every box.
//!
//! The driver that pumps the rollout through the Gaia vocabulary over a transport, the journal
//! and the reports build on these.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod candidates;
pub mod digest;
#[cfg(feature = "driver")]
pub mod driver;
pub mod error;
pub mod formats;
pub mod gaia;
pub mod input;
pub mod journal;
mod json;
pub mod model;
#[cfg(feature = "driver")]
pub mod report;
mod rfc3339;
pub mod rollout;
#[cfg(feature = "driver")]
pub mod run;
pub mod sim;
#[cfg(feature = "driver")]
pub mod transport;

pub use error::{Diagnostic, Diagnostics, Error, ErrorKind, Location, Result};

/// The README's Rust example, compiled as a doctest so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

/// The hash map of the maps looked up on every command and step (hosts and sessions by name,
/// failovers and attempts by action id): foldhash, several times faster than the standard SipHash on short keys, and still
/// seeded per process. Nothing depends on its order: every walk over one sorts first.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
