//! Timestamps written as RFC 3339 text, exactly as `jiff::Timestamp` displays them
//! (`2026-01-01T00:00:00.026953455Z`: UTC, the fraction without trailing zeros, none when
//! zero), without going through the general formatting machinery: the journal and the report
//! write two of them per step. The serde functions here serialize `Timestamp` fields; reading
//! them back is jiff's own.

use std::cell::Cell;

use jiff::Timestamp;

/// The longest text [`write`] produces: `YYYY-MM-DDTHH:MM:SS.fffffffffZ`.
const MAX: usize = 30;

/// Writes `at` into `buf`; returns the length used, or `None` for a year outside 0000–9999
/// (left to jiff's own display).
fn write(at: Timestamp, buf: &mut [u8; MAX]) -> Option<usize> {
    let seconds = at.as_second();
    let nanos = at.subsec_nanosecond();
    // A negative sub-second part belongs to the second before (jiff keeps the two signs
    // equal).
    let (seconds, nanos) = if nanos < 0 {
        (seconds - 1, nanos + 1_000_000_000)
    } else {
        (seconds, nanos)
    };
    if !(YEAR_0000..YEAR_10000).contains(&seconds) {
        return None;
    }
    // Timestamps come in runs within one second: the date and time of day are worked out
    // once per second and thread.
    let (last, text) = LAST_SECOND.with(Cell::get);
    let text = if last == seconds {
        text
    } else {
        let text = date_and_time(seconds);
        LAST_SECOND.with(|c| c.set((seconds, text)));
        text
    };
    buf[..19].copy_from_slice(&text);
    let mut len = 19;
    if nanos > 0 {
        buf[19] = b'.';
        // Nine digits, two at a time, then the trailing zeros dropped.
        let mut digits = [b'0'; 9];
        let mut n = nanos as u32;
        digits[8] = b'0' + (n % 10) as u8;
        n /= 10;
        for pair in (0..4).rev() {
            let two = (n % 100) as usize;
            n /= 100;
            digits[pair * 2..pair * 2 + 2].copy_from_slice(&PAIRS[two * 2..two * 2 + 2]);
        }
        let used = 9 - digits.iter().rev().take_while(|&&d| d == b'0').count();
        buf[20..20 + used].copy_from_slice(&digits[..used]);
        len = 20 + used;
    }
    buf[len] = b'Z';
    Some(len + 1)
}

/// The first second of the year 0000 and of the year 10000: [`write`] covers the years
/// between, as jiff displays them (four digits, no sign).
const YEAR_0000: i64 = -62_167_219_200;
const YEAR_10000: i64 = 253_402_300_800;

/// The two-digit numbers 00 to 99, one after the other.
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

thread_local! {
    /// The second last written on this thread and its `YYYY-MM-DDTHH:MM:SS`.
    static LAST_SECOND: Cell<(i64, [u8; 19])> = const { Cell::new((i64::MIN, [0; 19])) };
}

/// `YYYY-MM-DDTHH:MM:SS` of a second since the epoch in the years 0000 to 9999.
fn date_and_time(seconds: i64) -> [u8; 19] {
    let days = seconds.div_euclid(86_400);
    let in_day = seconds.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    let mut buf = [0u8; 19];
    let mut two = |at: usize, v: i64| {
        let v = v as usize;
        buf[at..at + 2].copy_from_slice(&PAIRS[v * 2..v * 2 + 2]);
    };
    two(0, year / 100);
    two(2, year % 100);
    two(5, month);
    two(8, day);
    two(11, in_day / 3600);
    two(14, in_day / 60 % 60);
    two(17, in_day % 60);
    buf[4] = b'-';
    buf[7] = b'-';
    buf[10] = b'T';
    buf[13] = b':';
    buf[16] = b':';
    buf
}

/// The civil (proleptic Gregorian) date of a count of days since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Serializes a timestamp as jiff displays it.
pub(crate) fn serialize<S: serde::Serializer>(at: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
    let mut buf = [0u8; MAX];
    match write(*at, &mut buf) {
        // Only ASCII digits and separators were written.
        Some(len) => s.serialize_str(std::str::from_utf8(&buf[..len]).unwrap_or_default()),
        None => s.collect_str(at),
    }
}

/// Appends `at` (without quotes) to `buf`, as [`serialize`] writes it.
pub(crate) fn push(buf: &mut Vec<u8>, at: Timestamp) {
    let mut text = [0u8; MAX];
    match write(at, &mut text) {
        Some(len) => buf.extend_from_slice(&text[..len]),
        None => {
            use std::io::Write as _;
            let _ = write!(buf, "{at}");
        }
    }
}

/// [`serialize`] for an optional timestamp (`null` when absent).
pub(crate) fn serialize_option<S: serde::Serializer>(
    at: &Option<Timestamp>,
    s: S,
) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => serialize(at, s),
        None => s.serialize_none(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(at: Timestamp) -> String {
        let mut buf = [0u8; MAX];
        match write(at, &mut buf) {
            Some(len) => String::from_utf8(buf[..len].to_vec()).unwrap(),
            None => at.to_string(),
        }
    }

    #[test]
    fn known_instants_read_as_jiff_writes_them() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2026-01-01T00:00:00.026953455Z",
            "2024-02-29T23:59:59.5Z",
            "1969-12-31T23:59:59.999999999Z",
            "0000-03-01T00:00:00.000001Z",
            "9999-12-30T21:59:59.999999999Z",
        ] {
            let at: Timestamp = s.parse().unwrap();
            assert_eq!(text(at), at.to_string());
            assert_eq!(text(at), s);
        }
    }

    proptest! {
        #[test]
        fn every_timestamp_reads_as_jiff_writes_it(
            seconds in Timestamp::MIN.as_second()..=Timestamp::MAX.as_second(),
            nanos in 0i32..1_000_000_000,
            whole in any::<bool>(),
        ) {
            let nanos = if whole { 0 } else { nanos };
            if let Ok(at) = Timestamp::new(seconds, if seconds < 0 { -nanos } else { nanos }) {
                prop_assert_eq!(text(at), at.to_string());
            }
        }

        #[test]
        fn runs_of_timestamps_in_few_seconds_read_as_jiff_writes_them(
            base in -100_000_000_000i64..100_000_000_000,
            offsets in proptest::collection::vec((0i64..3, 0i32..1_000_000_000), 1..20),
        ) {
            // The second last written is remembered: every run through it must still match.
            for (offset, nanos) in offsets {
                let seconds = base + offset;
                let at = Timestamp::new(seconds, if seconds < 0 { -nanos } else { nanos }).unwrap();
                prop_assert_eq!(text(at), at.to_string());
            }
        }

        #[test]
        fn serde_output_matches_jiff_serde(
            seconds in -100_000_000_000i64..100_000_000_000,
            nanos in 0i32..1_000_000_000,
        ) {
            let at = Timestamp::new(seconds, if seconds < 0 { -nanos } else { nanos }).unwrap();
            let mut ours = Vec::new();
            serialize(&at, &mut serde_json::Serializer::new(&mut ours)).unwrap();
            prop_assert_eq!(String::from_utf8(ours).unwrap(), serde_json::to_string(&at).unwrap());
        }
    }
}
