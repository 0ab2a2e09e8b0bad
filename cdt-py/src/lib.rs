//! # cdt-py (not yet implemented)
//!
//! This crate will hold the Python bindings of cdt (pyo3, built with maturin as the private
//! native module `cdt._cdt` under a pure-Python package `cdt`): loading, editing and saving
//! CDT's files, generating and validating candidates lists, running deployments on a simulated
//! fleet or over SSH with events as iterators or callbacks, and transports written in Python.
//!
//! It exports nothing today: the bindings are written once the engine they wrap exists.
