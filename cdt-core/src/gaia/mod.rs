//! The Gaia vocabulary: the commands the engine sends to gateways and the Management Server,
//! and typed parsers for their replies, tolerant of the layouts that differ between versions.
//!
//! Gaia knowledge lives here, not in transports: a transport only moves bytes (`exec`, `put`,
//! `get`), so one written in Python or C gets the same behaviour.

pub mod commands;
pub mod parse;
pub mod quote;
#[cfg(feature = "driver")]
pub mod steps;
pub mod terminal;
