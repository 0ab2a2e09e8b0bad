//! Reading C arguments and writing C outputs, every check in one place.

use std::ffi::{CStr, CString, c_char};
use std::path::PathBuf;

use crate::cdt_status::{self, CDT_ERR_ARGUMENT, CDT_ERR_NULL, CDT_ERR_UTF8};
use crate::error::{Failure, Result};

/// The NUL-terminated UTF-8 string `p`, named `name` in errors.
pub(crate) unsafe fn text<'a>(p: *const c_char, name: &str) -> Result<&'a str> {
    if p.is_null() {
        return Err(Failure::new(CDT_ERR_NULL, format!("{name} is NULL")));
    }
    CStr::from_ptr(p)
        .to_str()
        .map_err(|e| Failure::new(CDT_ERR_UTF8, format!("{name} is not UTF-8: {e}")))
}

/// Like [`text`], `None` for NULL.
pub(crate) unsafe fn opt_text<'a>(p: *const c_char, name: &str) -> Result<Option<&'a str>> {
    if p.is_null() {
        Ok(None)
    } else {
        text(p, name).map(Some)
    }
}

/// A path given as a string.
pub(crate) unsafe fn path(p: *const c_char, name: &str) -> Result<PathBuf> {
    Ok(PathBuf::from(text(p, name)?))
}

/// `len` bytes at `p` as UTF-8 text (NULL allowed when `len` is 0).
pub(crate) unsafe fn buffer<'a>(p: *const c_char, len: usize, name: &str) -> Result<&'a str> {
    if len == 0 {
        return Ok("");
    }
    if p.is_null() {
        return Err(Failure::new(CDT_ERR_NULL, format!("{name} is NULL")));
    }
    let bytes = std::slice::from_raw_parts(p.cast::<u8>(), len);
    std::str::from_utf8(bytes)
        .map_err(|e| Failure::new(CDT_ERR_UTF8, format!("{name} is not UTF-8: {e}")))
}

/// The handle `p`, named `name` in errors.
pub(crate) unsafe fn handle<'a, T>(p: *const T, name: &str) -> Result<&'a T> {
    p.as_ref()
        .ok_or_else(|| Failure::new(CDT_ERR_NULL, format!("{name} is NULL")))
}

/// Like [`handle`] for a handle changed in place.
pub(crate) unsafe fn handle_mut<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T> {
    p.as_mut()
        .ok_or_else(|| Failure::new(CDT_ERR_NULL, format!("{name} is NULL")))
}

/// Checks that the output pointer `p` is not NULL (before any work is done).
pub(crate) fn out<T>(p: *mut T, name: &str) -> Result<()> {
    if p.is_null() {
        Err(Failure::new(CDT_ERR_NULL, format!("{name} is NULL")))
    } else {
        Ok(())
    }
}

/// Writes a new handle to `*out` (checked not NULL beforehand).
pub(crate) unsafe fn give<T>(out: *mut *mut T, value: T) {
    *out = Box::into_raw(Box::new(value));
}

/// Releases a handle made by [`give`] (NULL accepted).
pub(crate) unsafe fn free<T>(p: *mut T) {
    if !p.is_null() {
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drop(Box::from_raw(p));
        }));
    }
}

/// Writes `s` as a new C string to `*out` and its length (without the NUL) to `*len` when
/// `len` is not NULL. Refused when `s` holds a NUL byte.
pub(crate) unsafe fn give_string(s: String, out: *mut *mut c_char, len: *mut usize) -> Result<()> {
    self::out(out, "out")?;
    let n = s.len();
    let c = CString::new(s).map_err(|_| {
        Failure::new(
            CDT_ERR_ARGUMENT,
            "the text holds a NUL byte and cannot be a C string",
        )
    })?;
    *out = c.into_raw();
    if !len.is_null() {
        *len = n;
    }
    Ok(())
}

/// A positive, finite number of seconds (or scale factor).
pub(crate) fn positive(value: f64, name: &str) -> Result<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(Failure::new(
            CDT_ERR_ARGUMENT,
            format!("{name} must be a positive number, not {value}"),
        ))
    }
}

/// An inventory or fleet file format by name.
pub(crate) fn format(name: &str) -> Result<cdt_core::model::inventory::InventoryFormat> {
    use cdt_core::model::inventory::InventoryFormat;
    match name {
        "toml" => Ok(InventoryFormat::Toml),
        "json" => Ok(InventoryFormat::Json),
        other => Err(Failure::new(
            cdt_status::CDT_ERR_ARGUMENT,
            format!("unknown format {other:?}: \"toml\" or \"json\""),
        )),
    }
}
