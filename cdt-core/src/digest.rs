//! SHA-256 digests in the form `sha256sum` prints (lower-case hexadecimal), used to decide
//! whether a copy is needed and whether it arrived intact.

use std::io::Read;

use sha2::{Digest, Sha256};

/// The SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The SHA-256 of everything `reader` yields.
pub fn sha256_hex_of(reader: impl Read) -> std::io::Result<String> {
    sha256_hex_and_size_of(reader).map(|(digest, _)| digest)
}

/// The SHA-256 of everything `reader` yields, and how many bytes that was: a file hashed
/// while it is read, its size the size of what was hashed.
pub fn sha256_hex_and_size_of(mut reader: impl Read) -> std::io::Result<(String, u64)> {
    let mut hasher = Sha256::new();
    let size = std::io::copy(&mut reader, &mut hasher)?;
    Ok((hex(&hasher.finalize()), size))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_read_as_sha256sum_prints_them() {
        let abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        assert_eq!(sha256_hex(b"abc"), abc);
        assert_eq!(sha256_hex_of(&b"abc"[..]).unwrap(), abc);
        assert_eq!(
            sha256_hex_and_size_of(&b"abc"[..]).unwrap(),
            (abc.to_string(), 3)
        );
    }
}
