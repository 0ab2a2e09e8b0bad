//! `cdt_core::Error` as the exceptions of `cdt.errors` (defined in Python, so they can
//! inherit from Python's own: `FileError` is an `OSError`, input errors are `ValueError`s,
//! `ConnectTimeout` is a `TimeoutError`).

use cdt_core::{Error, ErrorKind};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};

/// The class of `cdt.errors` that an error kind raises.
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Io => "FileError",
        ErrorKind::TooLarge => "TooLargeError",
        ErrorKind::Xml => "XmlError",
        ErrorKind::Config => "ConfigError",
        ErrorKind::Plan => "PlanError",
        ErrorKind::Inventory => "InventoryError",
        ErrorKind::Package => "PackageError",
        ErrorKind::Candidates => "CandidatesError",
        ErrorKind::Rollout => "RolloutError",
        ErrorKind::Management => "ManagementError",
        ErrorKind::Journal => "JournalError",
        _ => "CdtError",
    }
}

/// The name of an error kind, as `CdtError.kind` gives it.
fn kind_name(kind: ErrorKind) -> String {
    format!("{kind:?}")
}

/// Builds the exception `class` of `cdt.errors` with `message` and keyword arguments.
fn raise(py: Python<'_>, class: &str, message: String, kwargs: &Bound<'_, PyDict>) -> PyErr {
    let built = py
        .import("cdt.errors")
        .and_then(|m| m.getattr(class))
        .and_then(|c| c.call((message.clone(),), Some(kwargs)));
    match built {
        Ok(exception) => PyErr::from_value(exception),
        // The package is broken (cdt.errors missing): still say what went wrong.
        Err(e) => pyo3::exceptions::PyRuntimeError::new_err(format!("{message} ({e})")),
    }
}

/// A `cdt_core::Error` as its exception.
pub fn to_py(error: Error) -> PyErr {
    Python::attach(|py| {
        let build = || -> PyResult<Bound<'_, PyDict>> {
            let kwargs = PyDict::new(py);
            kwargs.set_item("kind", kind_name(error.kind()))?;
            let diagnostics = py.import("cdt.errors")?.getattr("Diagnostic")?;
            let mut items = Vec::new();
            for d in error.diagnostics() {
                items.push(diagnostics.call1((
                    d.location.path.as_ref().map(|p| p.display().to_string()),
                    d.location.line,
                    d.location.column,
                    d.object.clone(),
                    d.message.clone(),
                ))?);
            }
            kwargs.set_item("diagnostics", PyTuple::new(py, items)?)?;
            match &error {
                Error::Io { path, .. } | Error::TooLarge { path, .. } => {
                    kwargs.set_item("path", path.display().to_string())?;
                }
                _ => {}
            }
            Ok(kwargs)
        };
        match build() {
            Ok(kwargs) => raise(py, class_name(error.kind()), error.to_string(), &kwargs),
            Err(e) => e,
        }
    })
}

/// A message as a `RolloutError` (a deployment driven wrongly: started twice, say).
pub fn rollout(message: impl Into<String>) -> PyErr {
    Python::attach(|py| {
        let kwargs = PyDict::new(py);
        let _ = kwargs.set_item("kind", "Rollout");
        raise(py, "RolloutError", message.into(), &kwargs)
    })
}

/// Maps `cdt_core::Result` into `PyResult`.
pub trait IntoPy<T> {
    /// The result, its error as the matching exception.
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for cdt_core::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// A transport error as its exception: `HostKeyError`, `AuthError`, or `TransportError`
/// (with `host`).
pub fn transport(error: &cdt_core::transport::TransportError) -> PyErr {
    use cdt_core::transport::TransportError as T;
    let (class, host) = match error {
        T::HostKey { host, .. } => ("HostKeyError", host),
        T::Auth { host, .. } => ("AuthError", host),
        T::Unreachable { host, .. }
        | T::ConnectionLost { host, .. }
        | T::Transfer { host, .. }
        | T::Other { host, .. } => ("TransportError", host),
        _ => ("TransportError", &String::new()),
    };
    let host = host.clone();
    Python::attach(|py| {
        let kwargs = PyDict::new(py);
        let _ = kwargs.set_item("kind", "Transport");
        let _ = kwargs.set_item("host", host);
        raise(py, class, error.to_string(), &kwargs)
    })
}

/// A host that did not answer in time, as `ConnectTimeout` (also a `TimeoutError`).
pub fn connect_timeout(host: &str, message: String) -> PyErr {
    Python::attach(|py| {
        let kwargs = PyDict::new(py);
        let _ = kwargs.set_item("kind", "Transport");
        let _ = kwargs.set_item("host", host);
        raise(py, "ConnectTimeout", message, &kwargs)
    })
}
