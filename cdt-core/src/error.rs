//! The one error type of `cdt-core`, its kinds, and the located diagnostics it carries.
//!
//! Every error that comes from an input file names the file and the line (and, for XML, the
//! column) of the offending element, attribute or row, and for a candidates list the object.
//! Bindings map [`ErrorKind`] to their own error classes (Python exceptions, C status codes).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Where in an input something was found: file (when the input came from a file), 1-based line
/// and, where the format has them, 1-based column.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Location {
    /// The file, or `None` for input given as a string.
    pub path: Option<PathBuf>,
    /// Physical line, starting at 1.
    pub line: u32,
    /// Column in characters, starting at 1, when the format has one.
    pub column: Option<u32>,
}

impl Location {
    /// A location in `path` (or in an unnamed input) at `line` and optional `column`.
    pub fn new(path: Option<&Path>, line: u32, column: Option<u32>) -> Self {
        Location {
            path: path.map(Path::to_path_buf),
            line,
            column,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}", path.display())?,
            None => f.write_str("<input>")?,
        }
        write!(f, ":{}", self.line)?;
        if let Some(column) = self.column {
            write!(f, ":{column}")?;
        }
        Ok(())
    }
}

/// One located problem in an input: `FILE:LINE[:COL]: [object NAME: ]message`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Diagnostic {
    /// Where the problem is.
    pub location: Location,
    /// The object (gateway, cluster member, element) it concerns, when there is one.
    pub object: Option<String>,
    /// What is wrong, in a sentence without a trailing period.
    pub message: String,
}

impl Diagnostic {
    /// A diagnostic at `location` with `message` and no object.
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        Diagnostic {
            location,
            object: None,
            message: message.into(),
        }
    }

    /// The same diagnostic, naming the object it concerns.
    pub fn with_object(mut self, object: impl Into<String>) -> Self {
        self.object = Some(object.into());
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.location)?;
        if let Some(object) = &self.object {
            write!(f, "object {object}: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Several diagnostics reported together (a candidates list is checked whole, so an operator
/// sees every mistake at once). Displayed one per line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

/// The kind of an [`Error`], without its data: what bindings map to exception classes and
/// status codes. Numbers are stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
#[repr(u16)]
pub enum ErrorKind {
    /// Reading or writing a file failed.
    Io = 1,
    /// An input is larger than its size cap.
    TooLarge = 2,
    /// An XML input is not well-formed, or uses a forbidden construct (DTD, entities).
    Xml = 10,
    /// A primary configuration (`CentralDeploymentTool.xml`) is invalid.
    Config = 11,
    /// A deployment plan is invalid.
    Plan = 12,
    /// An inventory (fleet description) is invalid.
    Inventory = 13,
    /// A package name or description cannot be understood.
    Package = 14,
    /// A candidates list (or its filter or reasons file) is malformed or breaks the rules.
    Candidates = 15,
    /// A rollout cannot be built from its inputs, or was driven wrongly.
    Rollout = 16,
    /// The Management Server could not be read (its API refused, or did not answer).
    Management = 17,
    /// A run folder's journal is unreadable, held by another run, or cannot be written.
    Journal = 18,
}

/// Everything that can go wrong in `cdt-core`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading or writing `path` failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// `path` is `size` bytes, over the `limit`-byte cap for its kind of input.
    #[error("{}: file is {size} bytes, over the {limit}-byte cap", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size in bytes.
        size: u64,
        /// The cap in bytes.
        limit: u64,
    },
    /// Malformed XML, or a forbidden XML construct.
    #[error("{0}")]
    Xml(Diagnostic),
    /// An invalid primary configuration.
    #[error("{0}")]
    Config(Diagnostic),
    /// An invalid deployment plan.
    #[error("{0}")]
    Plan(Diagnostic),
    /// An invalid inventory.
    #[error("{0}")]
    Inventory(Diagnostic),
    /// A package whose kind and version cannot be derived from `name`.
    #[error("package {name:?}: {message}")]
    Package {
        /// The package file name.
        name: String,
        /// Why it was not understood.
        message: String,
    },
    /// A malformed candidates list, or an edited one that breaks the rules: every problem found.
    #[error("{0}")]
    Candidates(Diagnostics),
    /// A rollout that cannot be built from its inputs (a cluster the engine cannot upgrade
    /// safely, a mode without its package or plan), or an outcome for an unknown action.
    #[error("{0}")]
    Rollout(String),
    /// The Management Server could not be read.
    #[error("Management Server: {0}")]
    Management(String),
    /// A run folder's journal is unreadable (not a torn last line: a damaged one), held by
    /// another run, or cannot be written.
    #[error("{0}")]
    Journal(String),
}

impl Error {
    /// The kind of this error.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Io { .. } => ErrorKind::Io,
            Error::TooLarge { .. } => ErrorKind::TooLarge,
            Error::Xml(_) => ErrorKind::Xml,
            Error::Config(_) => ErrorKind::Config,
            Error::Plan(_) => ErrorKind::Plan,
            Error::Inventory(_) => ErrorKind::Inventory,
            Error::Package { .. } => ErrorKind::Package,
            Error::Candidates(_) => ErrorKind::Candidates,
            Error::Rollout(_) => ErrorKind::Rollout,
            Error::Management(_) => ErrorKind::Management,
            Error::Journal(_) => ErrorKind::Journal,
        }
    }

    /// The located diagnostics this error carries (none for I/O and size errors).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            Error::Xml(d) | Error::Config(d) | Error::Plan(d) | Error::Inventory(d) => {
                std::slice::from_ref(d)
            }
            Error::Candidates(ds) => &ds.0,
            Error::Io { .. }
            | Error::TooLarge { .. }
            | Error::Package { .. }
            | Error::Rollout(_)
            | Error::Management(_)
            | Error::Journal(_) => &[],
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
