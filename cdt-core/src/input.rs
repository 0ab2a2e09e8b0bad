//! Reading input files with a size cap, so a huge or endless file is refused before it is read.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// The default cap on any input file the library reads (XML, CSV, inventory): 16 MiB.
pub const DEFAULT_INPUT_CAP: u64 = 16 * 1024 * 1024;

/// Reads `path` as UTF-8 text, refusing files over `limit` bytes and stripping a UTF-8 byte
/// order mark.
pub fn read_text_capped(path: &Path, limit: u64) -> Result<String> {
    let io_err = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let mut bytes = Vec::new();
    // Read one byte past the cap so an oversized file is detected without reading it whole.
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_err)?;
    if bytes.len() as u64 > limit {
        let size = std::fs::metadata(path)
            .map(|m| m.len())
            .unwrap_or(bytes.len() as u64);
        return Err(Error::TooLarge {
            path: path.to_path_buf(),
            size,
            limit,
        });
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        io_err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        ))
    })?;
    Ok(strip_bom(text))
}

/// Refuses text over `limit` bytes given directly (not from a file).
pub fn check_text_cap(path: Option<&Path>, text: &str, limit: u64) -> Result<()> {
    if text.len() as u64 > limit {
        return Err(Error::TooLarge {
            path: path
                .map(Path::to_path_buf)
                .unwrap_or_else(|| "<input>".into()),
            size: text.len() as u64,
            limit,
        });
    }
    Ok(())
}

fn strip_bom(mut text: String) -> String {
    if text.starts_with('\u{feff}') {
        text.drain(..'\u{feff}'.len_utf8());
    }
    text
}

/// Writes `contents` to `path` atomically: a temporary file beside it, synced, then renamed.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let io_err = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let file_name = path.file_name().ok_or_else(|| {
        io_err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a file path",
        ))
    })?;
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    let tmp = dir.join(tmp_name);
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(contents)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result.map_err(io_err)
}
