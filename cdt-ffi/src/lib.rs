//! # cdt-ffi: the C ABI of cdt
//!
//! C tooling links `libcdt` (shared or static) and includes `cdt.h`, generated from this
//! crate by cbindgen and committed under `include/`. The layer is thin: it converts C
//! arguments, maps errors to one status enum with a message, bridges to the engine's runtime
//! (each deployment runs on a thread of its own), and adapts callbacks; everything else is
//! `cdt-core` and `cdt-ssh`.
//!
//! Conventions, the same for every function:
//! - a function that can fail returns a [`cdt_status`] (`CDT_OK` is 0), and on failure sets
//!   the calling thread's last error ([`cdt_last_error_message`], and for an input error
//!   [`cdt_last_error_diagnostic`] with its file, line, column and object);
//! - outputs are written only on success; buffers come with their lengths; strings returned
//!   are released with [`cdt_string_free`];
//! - strings given are NUL-terminated and must be UTF-8 (checked: `CDT_ERR_UTF8`); a NULL
//!   where a value is needed is `CDT_ERR_NULL`;
//! - handles are opaque, made by `*_new`, `*_load` or `*_parse` and released by `*_free`
//!   (NULL accepted); using a handle after its `*_free` is undefined behaviour;
//! - no export lets a panic cross into C: it becomes `CDT_ERR_PANIC`.
//!
//! # Safety
//!
//! Every export is an `unsafe extern "C"` function whose contract is the C one above: each
//! pointer argument is NULL (where the function says it may be) or points to what its type
//! says, alive for the call. The bodies rely on exactly that and on nothing else, which is
//! why the crate allows unsafe operations inside them without a block per dereference.
#![allow(non_camel_case_types)]
#![allow(unsafe_op_in_unsafe_fn)]
#![allow(clippy::missing_safety_doc)]

mod args;
pub mod deploy;
pub mod error;
pub mod files;
pub mod ssh;
pub mod transport;

use std::ffi::{CString, c_char};

pub use deploy::*;
pub use error::*;
pub use files::*;
pub use ssh::*;
pub use transport::*;

/// What a call did. The numbers are stable: 0 is success, 1 to 29 are the kinds of
/// `cdt_core::ErrorKind` (input and run errors), 30 and up are the C layer's own, and
/// `CDT_NO_EVENT` and `CDT_FINISHED` are not errors but what polling for events found.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum cdt_status {
    /// Success.
    CDT_OK = 0,
    /// Reading or writing a file failed.
    CDT_ERR_IO = 1,
    /// An input is larger than its size cap.
    CDT_ERR_TOO_LARGE = 2,
    /// An XML input is not well-formed, or uses a forbidden construct (DTD, entities).
    CDT_ERR_XML = 10,
    /// A primary configuration (`CentralDeploymentTool.xml`) is invalid.
    CDT_ERR_CONFIG = 11,
    /// A deployment plan is invalid.
    CDT_ERR_PLAN = 12,
    /// An inventory or a simulated fleet file is invalid.
    CDT_ERR_INVENTORY = 13,
    /// A package name or description cannot be understood.
    CDT_ERR_PACKAGE = 14,
    /// A candidates list is malformed or breaks the rules.
    CDT_ERR_CANDIDATES = 15,
    /// A deployment cannot be built from its inputs, or did not run.
    CDT_ERR_ROLLOUT = 16,
    /// The Management Server could not be read.
    CDT_ERR_MANAGEMENT = 17,
    /// A run folder's journal is unreadable, held by another run, or cannot be written.
    CDT_ERR_JOURNAL = 18,
    /// A pointer that must not be NULL was NULL.
    CDT_ERR_NULL = 30,
    /// A string was not UTF-8.
    CDT_ERR_UTF8 = 31,
    /// An argument is out of its range (a negative scale, an unknown format name, ...).
    CDT_ERR_ARGUMENT = 32,
    /// The handle is not in a state that allows the call (a deployment started twice, waited
    /// for before it started, ...).
    CDT_ERR_STATE = 33,
    /// A bug in cdt: a Rust panic was caught at the boundary. The message says where.
    CDT_ERR_PANIC = 35,
    /// Polling found no event within the time given; the run goes on.
    CDT_NO_EVENT = 40,
    /// Polling found no event, and none will come: the run has ended.
    CDT_FINISHED = 41,
}

/// The version of this library, as a static NUL-terminated string (never freed).
///
/// Thread safety: any thread, at any time.
#[unsafe(no_mangle)]
pub extern "C" fn cdt_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// Releases a string this library returned (NULL accepted). Passing anything else, or the
/// same string twice, is undefined behaviour.
///
/// Thread safety: any thread; a given string once.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_string_free(s: *mut c_char) {
    if !s.is_null() {
        let _ = std::panic::catch_unwind(|| {
            // The string was made by `CString::into_raw` in `args::give_string`.
            drop(CString::from_raw(s));
        });
    }
}
