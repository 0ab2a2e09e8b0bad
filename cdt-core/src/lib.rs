//! # cdt-core
//!
//! The domain model and the file formats of the Central Deployment Tool (CDT), for deploying
//! packages to fleets of Check Point Security Gateways and cluster members.
//!
//! This crate is pure: no networking, no clock, no threads. It holds:
//! - [`model`]: versions, packages, inventories (gateways, clusters, members and their roles);
//! - [`formats`]: CDT's primary configuration XML, deployment plan XML and candidates list CSV;
//! - [`candidates`]: generating a candidates list from an inventory and a package, and
//!   validating an operator's edits against the rules of the generated one.
//!
//! The deployment engine (rollout state machine, Gaia vocabulary, simulator, driver, journal and
//! reports) builds on these types.
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

pub mod candidates;
pub mod error;
pub mod formats;
pub mod input;
pub mod model;
pub mod rollout;

pub use error::{Diagnostic, Diagnostics, Error, ErrorKind, Location, Result};

/// The README's Rust example, compiled as a doctest so it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
