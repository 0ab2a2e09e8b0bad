//! The pieces of JSON text the journal and the report write for every step, written straight
//! into a byte buffer: the same bytes as `serde_json` writes for them (pinned by the tests of
//! their users), without its general machinery. A run of ten thousand targets writes a
//! quarter of a million journal lines and as many report steps.

use jiff::Timestamp;

/// Appends `s` as a JSON string, escaped exactly as `serde_json` escapes it.
pub(crate) fn push_str(buf: &mut Vec<u8>, s: &str) {
    if s.bytes().any(|b| b < 0x20 || b == b'"' || b == b'\\') {
        // Rare (names and messages seldom hold quotes or control characters): serde_json's
        // own escaping, which cannot fail on a string written into memory.
        let _ = serde_json::to_writer(&mut *buf, s);
    } else {
        buf.push(b'"');
        buf.extend_from_slice(s.as_bytes());
        buf.push(b'"');
    }
}

/// Appends `s` as a JSON string, or `null`.
pub(crate) fn push_opt_str(buf: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => push_str(buf, s),
        None => buf.extend_from_slice(b"null"),
    }
}

/// Appends `n` in decimal.
pub(crate) fn push_u64(buf: &mut Vec<u8>, n: u64) {
    let mut digits = [0u8; 20];
    buf.extend_from_slice(decimal(n, &mut digits).as_bytes());
}

/// `n` in decimal, written at the end of `digits` (without going through `fmt`).
pub(crate) fn decimal(n: u64, digits: &mut [u8; 20]) -> &str {
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    std::str::from_utf8(&digits[at..]).unwrap_or_default()
}

/// Appends `at` as a JSON string, as [`crate::rfc3339::serialize`] writes it.
pub(crate) fn push_timestamp(buf: &mut Vec<u8>, at: Timestamp) {
    buf.push(b'"');
    crate::rfc3339::push(buf, at);
    buf.push(b'"');
}

/// Appends `at` as a JSON string, or `null`.
pub(crate) fn push_opt_timestamp(buf: &mut Vec<u8>, at: Option<Timestamp>) {
    match at {
        Some(at) => push_timestamp(buf, at),
        None => buf.extend_from_slice(b"null"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn string(s: &str) -> String {
        let mut buf = Vec::new();
        push_str(&mut buf, s);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn strings_are_escaped_as_serde_json_escapes_them() {
        for s in [
            "",
            "check_state",
            "a \"quoted\" word",
            "back\\slash",
            "tab\there",
            "new\nline",
            "\u{1}\u{1f}",
            "ünïcödé ✓",
            "\u{7f}",
        ] {
            assert_eq!(string(s), serde_json::to_string(s).unwrap(), "{s:?}");
        }
    }

    proptest! {
        #[test]
        fn any_string_is_escaped_as_serde_json_escapes_it(s in any::<String>()) {
            prop_assert_eq!(string(&s), serde_json::to_string(&s).unwrap());
        }

        #[test]
        fn any_number_is_written_as_serde_json_writes_it(n in any::<u64>()) {
            let mut buf = Vec::new();
            push_u64(&mut buf, n);
            prop_assert_eq!(String::from_utf8(buf).unwrap(), serde_json::to_string(&n).unwrap());
        }
    }
}
