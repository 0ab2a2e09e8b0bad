//! # cdt-py
//!
//! The Python bindings of cdt (pyo3), built with maturin as the private native module
//! `cdt._cdt` under the pure-Python package `cdt` (`cdt-py/python/cdt`). The bindings only
//! convert arguments, call `cdt-core`, convert results and map errors: every rule, order and
//! policy stays in `cdt-core`, so Python behaves exactly as Rust and C do.
//!
//! - [`files`]: CDT's primary configuration, deployment plans and their steps;
//! - [`fleet`]: packages, inventories, simulated fleets, candidates lists, their generation
//!   and the validation of an operator's edits;
//! - [`reach`]: SSH settings and secrets, and transports written in Python;
//! - [`deploy`]: deployments in a run folder (on the simulated fleet, over SSH or through a
//!   Python transport), their events, control
//!   (cancel, approve) and report, and resuming a run;
//! - [`errors`]: `cdt_core::Error` as the exceptions of `cdt.errors`.

use pyo3::prelude::*;

pub mod convert;
pub mod deploy;
pub mod errors;
pub mod files;
pub mod fleet;
pub mod reach;

/// The native module `cdt._cdt`.
#[pymodule]
fn _cdt(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<files::Plan>()?;
    m.add_class::<files::Step>()?;
    m.add_class::<files::Config>()?;
    m.add_class::<fleet::Package>()?;
    m.add_class::<fleet::Inventory>()?;
    m.add_class::<fleet::Fleet>()?;
    m.add_class::<fleet::Candidate>()?;
    m.add_class::<fleet::CandidatesList>()?;
    m.add_function(wrap_pyfunction!(fleet::generate, m)?)?;
    m.add_function(wrap_pyfunction!(fleet::validate_edit, m)?)?;
    m.add_class::<reach::Secret>()?;
    m.add_class::<reach::SshSettings>()?;
    m.add_class::<deploy::Deployment>()?;
    m.add_class::<deploy::Event>()?;
    m.add_class::<deploy::Events>()?;
    m.add_class::<deploy::Report>()?;
    Ok(())
}
