//! `<BatchEndTime value="..."/>`: the batch cut-off, an RFC 3339 date and time with a mandatory
//! UTC offset.

use std::fmt;

use jiff::Timestamp;
use jiff::tz::Offset;

/// The batch cut-off: no new batch starts after this instant; a running batch finishes.
///
/// **Decision** (SPEC 2.1): written as RFC 3339 with a mandatory UTC offset
/// (`2026-12-01T06:00:00+01:00`), because the orchestrator may run in another time zone than the
/// Management Server did. The instant and the offset as written are both kept, so writing back
/// reproduces the value; `Z` is written back as `+00:00` (same instant, same offset).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchEndTime {
    /// The cut-off instant.
    pub timestamp: Timestamp,
    /// The UTC offset the value was written with.
    pub offset: Offset,
    /// Operator comments written just before the element.
    pub comments: Vec<String>,
}

impl BatchEndTime {
    /// A cut-off at `timestamp`, written with `offset`.
    pub fn new(timestamp: Timestamp, offset: Offset) -> Self {
        BatchEndTime {
            timestamp,
            offset,
            comments: Vec::new(),
        }
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM)`. A value without an offset is
    /// refused; the error is a message for the operator.
    pub fn parse(value: &str) -> Result<BatchEndTime, String> {
        let bad = || {
            format!(
                "BatchEndTime {value:?} is not an RFC 3339 date and time with a UTC offset \
                 (like 2026-12-01T06:00:00+01:00)"
            )
        };
        let b = value.as_bytes();
        let digits =
            |r: std::ops::Range<usize>| b.get(r).is_some_and(|d| d.iter().all(u8::is_ascii_digit));
        let shape = digits(0..4)
            && b.get(4) == Some(&b'-')
            && digits(5..7)
            && b.get(7) == Some(&b'-')
            && digits(8..10)
            && matches!(b.get(10), Some(b'T' | b't' | b' '))
            && digits(11..13)
            && b.get(13) == Some(&b':')
            && digits(14..16)
            && b.get(16) == Some(&b':')
            && digits(17..19);
        if !shape {
            return Err(bad());
        }
        let mut rest = value.get(19..).ok_or_else(bad)?;
        if let Some(fraction) = rest.strip_prefix('.') {
            let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
            if n == 0 || n > 9 {
                return Err(bad());
            }
            rest = fraction.get(n..).ok_or_else(bad)?;
        }
        let offset = match rest {
            "" => {
                return Err(format!(
                    "BatchEndTime {value:?} has no UTC offset: write it with one, like \
                     2026-12-01T06:00:00+01:00 (or Z for UTC)"
                ));
            }
            "Z" | "z" => Offset::UTC,
            _ => {
                let o = rest.as_bytes();
                let sign = match o.first() {
                    Some(b'+') => 1,
                    Some(b'-') => -1,
                    _ => return Err(bad()),
                };
                let ok = o.len() == 6
                    && o[1..3].iter().all(u8::is_ascii_digit)
                    && o[3] == b':'
                    && o[4..6].iter().all(u8::is_ascii_digit);
                if !ok {
                    return Err(bad());
                }
                let hours: i32 = rest
                    .get(1..3)
                    .and_then(|h| h.parse().ok())
                    .ok_or_else(bad)?;
                let minutes: i32 = rest
                    .get(4..6)
                    .and_then(|m| m.parse().ok())
                    .ok_or_else(bad)?;
                if hours > 23 || minutes > 59 {
                    return Err(bad());
                }
                Offset::from_seconds(sign * (hours * 3600 + minutes * 60)).map_err(|_| bad())?
            }
        };
        let timestamp: Timestamp = value.parse().map_err(|e| format!("{}: {e}", bad()))?;
        Ok(BatchEndTime::new(timestamp, offset))
    }
}

/// RFC 3339 with the kept offset, e.g. `2026-12-01T06:00:00+01:00`.
impl fmt::Display for BatchEndTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.timestamp.display_with_offset(self.offset))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_instant_and_offset() {
        let t = BatchEndTime::parse("2026-12-01T06:00:00+01:00").unwrap();
        assert_eq!(
            t.timestamp,
            "2026-12-01T05:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(t.to_string(), "2026-12-01T06:00:00+01:00");
        assert_eq!(
            BatchEndTime::parse("2026-12-01T06:00:00.5-05:30")
                .unwrap()
                .to_string(),
            "2026-12-01T06:00:00.5-05:30"
        );
        assert_eq!(
            BatchEndTime::parse("2026-12-01T06:00:00Z")
                .unwrap()
                .to_string(),
            "2026-12-01T06:00:00+00:00"
        );
    }

    #[test]
    fn refuses_values_without_offset_or_malformed() {
        assert!(
            BatchEndTime::parse("2026-12-01T06:00:00")
                .unwrap_err()
                .contains("no UTC offset")
        );
        for bad in [
            "",
            "2026-12-01",
            "2026-13-01T06:00:00Z",
            "2026-12-01T06:00:00+1:00",
            "2026-12-01T06:00:00+01:00[Europe/Paris]",
            "é",
        ] {
            assert!(BatchEndTime::parse(bad).is_err(), "{bad}");
        }
    }
}
