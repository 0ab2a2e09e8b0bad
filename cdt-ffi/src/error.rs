//! Errors: each failing call sets the calling thread's last error, which says what went
//! wrong and, for input errors, where (file, line, column, object).

use std::cell::RefCell;
use std::ffi::{CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use cdt_core::{Error, ErrorKind};

use crate::cdt_status;

/// Why a call failed, before it is handed to C.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: cdt_status,
    pub(crate) message: String,
    pub(crate) diagnostics: Vec<cdt_core::Diagnostic>,
}

impl Failure {
    pub(crate) fn new(status: cdt_status, message: impl Into<String>) -> Failure {
        Failure {
            status,
            message: message.into(),
            diagnostics: Vec::new(),
        }
    }
}

pub(crate) type Result<T> = std::result::Result<T, Failure>;

pub(crate) fn status_of(kind: ErrorKind) -> cdt_status {
    use cdt_status::*;
    match kind {
        ErrorKind::Io => CDT_ERR_IO,
        ErrorKind::TooLarge => CDT_ERR_TOO_LARGE,
        ErrorKind::Xml => CDT_ERR_XML,
        ErrorKind::Config => CDT_ERR_CONFIG,
        ErrorKind::Plan => CDT_ERR_PLAN,
        ErrorKind::Inventory => CDT_ERR_INVENTORY,
        ErrorKind::Package => CDT_ERR_PACKAGE,
        ErrorKind::Candidates => CDT_ERR_CANDIDATES,
        ErrorKind::Management => CDT_ERR_MANAGEMENT,
        ErrorKind::Journal => CDT_ERR_JOURNAL,
        _ => CDT_ERR_ROLLOUT,
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        Failure {
            status: status_of(e.kind()),
            message: e.to_string(),
            diagnostics: e.diagnostics().to_vec(),
        }
    }
}

/// One problem found in an input, as [`cdt_last_error_diagnostic`] gives it. The strings
/// are borrowed from the thread's last error: valid until the next call that fails on this
/// thread.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct cdt_diagnostic {
    /// The file, or NULL for input given as text without a name.
    pub file: *const c_char,
    /// The line, from 1.
    pub line: u32,
    /// The column in characters, from 1, or 0 when the format has none (CSV, TOML).
    pub column: u32,
    /// The object (gateway, member, element) it concerns, or NULL.
    pub object: *const c_char,
    /// What is wrong.
    pub message: *const c_char,
}

struct Kept {
    file: Option<CString>,
    line: u32,
    column: u32,
    object: Option<CString>,
    message: CString,
}

struct Last {
    status: cdt_status,
    message: CString,
    diagnostics: Vec<Kept>,
}

thread_local! {
    static LAST: RefCell<Option<Last>> = const { RefCell::new(None) };
}

/// `s` as a C string, a NUL byte in it replaced.
pub(crate) fn c_text(s: &str) -> CString {
    CString::new(s.replace('\0', "\u{FFFD}")).unwrap_or_default()
}

fn remember(f: Failure) -> cdt_status {
    let status = f.status;
    let last = Last {
        status,
        message: c_text(&f.message),
        diagnostics: f
            .diagnostics
            .iter()
            .map(|d| Kept {
                file: d
                    .location
                    .path
                    .as_ref()
                    .map(|p| c_text(&p.display().to_string())),
                line: d.location.line,
                column: d.location.column.unwrap_or(0),
                object: d.object.as_deref().map(c_text),
                message: c_text(&d.message),
            })
            .collect(),
    };
    LAST.with(|l| *l.borrow_mut() = Some(last));
    status
}

fn panic_text(p: Box<dyn std::any::Any + Send>) -> String {
    let what = p
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| p.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".into());
    format!("internal error (please report it): {what}")
}

/// Runs the body of an export: its failure (or a panic) becomes the thread's last error and
/// the status returned; success clears the last error.
pub(crate) fn call(body: impl FnOnce() -> Result<()>) -> cdt_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            LAST.with(|l| l.borrow_mut().take());
            cdt_status::CDT_OK
        }
        Ok(Err(f)) => remember(f),
        Err(p) => remember(Failure::new(cdt_status::CDT_ERR_PANIC, panic_text(p))),
    }
}

/// Runs the body of an export that reads a value and cannot fail: `fallback` if it panics.
/// The last error is left as it is.
pub(crate) fn guard<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(body)).unwrap_or(fallback)
}

/// The message of the last call that failed on this thread, or NULL if the last call
/// succeeded. Borrowed: valid until the next call on this thread that fails or succeeds.
///
/// Thread safety: any thread; each thread has its own last error.
#[unsafe(no_mangle)]
pub extern "C" fn cdt_last_error_message() -> *const c_char {
    LAST.with(|l| {
        l.borrow()
            .as_ref()
            .map_or(std::ptr::null(), |l| l.message.as_ptr())
    })
}

/// The status of the last call that failed on this thread, or `CDT_OK`.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cdt_last_error_status() -> cdt_status {
    LAST.with(|l| l.borrow().as_ref().map_or(cdt_status::CDT_OK, |l| l.status))
}

/// How many problems the last failed call found in its input (0 for errors that are not
/// about an input's content).
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cdt_last_error_diagnostics() -> usize {
    LAST.with(|l| l.borrow().as_ref().map_or(0, |l| l.diagnostics.len()))
}

/// Writes the `index`th problem of the last failed call into `*out` (borrowed strings, valid
/// until the next call on this thread). `CDT_ERR_ARGUMENT` when there is no such problem.
/// Does not change the last error.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_last_error_diagnostic(
    index: usize,
    out: *mut cdt_diagnostic,
) -> cdt_status {
    if out.is_null() {
        return cdt_status::CDT_ERR_NULL;
    }
    LAST.with(|l| {
        let last = l.borrow();
        let Some(d) = last.as_ref().and_then(|l| l.diagnostics.get(index)) else {
            return cdt_status::CDT_ERR_ARGUMENT;
        };
        let ptr = |s: &Option<CString>| s.as_ref().map_or(std::ptr::null(), |s| s.as_ptr());
        // `out` is not NULL and points to a cdt_diagnostic (the caller's contract).
        *out = cdt_diagnostic {
            file: ptr(&d.file),
            line: d.line,
            column: d.column,
            object: ptr(&d.object),
            message: d.message.as_ptr(),
        };
        cdt_status::CDT_OK
    })
}

/// The line of the last failed call's first problem in its input, or 0 when it has none.
///
/// Thread safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn cdt_last_error_line() -> u32 {
    LAST.with(|l| {
        l.borrow()
            .as_ref()
            .and_then(|l| l.diagnostics.first())
            .map_or(0, |d| d.line)
    })
}
