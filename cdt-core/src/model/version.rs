//! Gaia versions (`R77.30` … `R82.10`) and the installed version of a gateway with its Jumbo
//! Hotfix Accumulator take (`R81.10 Take 95`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A Gaia release, ordered by age: `R77.30 < R80.10 < … < R81 < R81.10 < … < R82.10`.
///
/// Parsed from `R81.20`, `R81_20`, `r81.20` or `R81`; displayed as `R81.20` (`R81` for a `.0`
/// release). Any `R<major>[.<minor>]` with a two-digit major from 75 up is accepted, so a
/// release newer than this library still parses and orders correctly; [`Version::KNOWN`] lists
/// the releases the library was written against.
///
/// ```
/// use cdt_core::model::Version;
/// let v: Version = "R81_20".parse().unwrap();
/// assert_eq!(v.to_string(), "R81.20");
/// assert!(v > "R81".parse().unwrap() && v < Version::R82);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    major: u8,
    minor: u8,
}

impl Version {
    /// R77.30.
    pub const R77_30: Version = Version::new(77, 30);
    /// R80.10.
    pub const R80_10: Version = Version::new(80, 10);
    /// R80.20.
    pub const R80_20: Version = Version::new(80, 20);
    /// R80.30.
    pub const R80_30: Version = Version::new(80, 30);
    /// R80.40.
    pub const R80_40: Version = Version::new(80, 40);
    /// R81.
    pub const R81: Version = Version::new(81, 0);
    /// R81.10.
    pub const R81_10: Version = Version::new(81, 10);
    /// R81.20.
    pub const R81_20: Version = Version::new(81, 20);
    /// R82.
    pub const R82: Version = Version::new(82, 0);
    /// R82.10.
    pub const R82_10: Version = Version::new(82, 10);

    /// The Gaia releases this library was written against, oldest first.
    pub const KNOWN: [Version; 10] = [
        Self::R77_30,
        Self::R80_10,
        Self::R80_20,
        Self::R80_30,
        Self::R80_40,
        Self::R81,
        Self::R81_10,
        Self::R81_20,
        Self::R82,
        Self::R82_10,
    ];

    /// The release `R<major>.<minor>` (`minor` 0 for `R81`, `R82`).
    pub const fn new(major: u8, minor: u8) -> Version {
        Version { major, minor }
    }

    /// The major number (`81` for R81.20).
    pub fn major(self) -> u8 {
        self.major
    }

    /// The minor number (`20` for R81.20, `0` for R81).
    pub fn minor(self) -> u8 {
        self.minor
    }

    /// Parses the version at the start of `s` (`R81_20_JUMBO…`, `R80.20_T101…`), returning it
    /// and the rest of the string. Used by package-name parsing.
    pub(crate) fn parse_prefix(s: &str) -> Option<(Version, &str)> {
        let rest = s.strip_prefix(['R', 'r'])?;
        let major_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if major_len != 2 {
            return None;
        }
        let major: u8 = rest[..major_len].parse().ok()?;
        if major < 75 {
            return None;
        }
        let rest = &rest[major_len..];
        let mut minor = 0;
        let mut tail = rest;
        if let Some(after_sep) = rest.strip_prefix(['.', '_']) {
            let minor_len = after_sep.bytes().take_while(u8::is_ascii_digit).count();
            if minor_len == 2 {
                minor = after_sep[..2].parse().ok()?;
                tail = &after_sep[2..];
            }
        }
        // A version must not run on into more digits (`R811`), but may be followed by anything else.
        if tail.starts_with(|c: char| c.is_ascii_digit()) {
            return None;
        }
        Some((Version { major, minor }, tail))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.minor == 0 {
            write!(f, "R{}", self.major)
        } else {
            write!(f, "R{}.{:02}", self.major, self.minor)
        }
    }
}

/// A string that is not a Gaia version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a Gaia version (expected R<major>.<minor>, such as R81.20)")]
pub struct VersionParseError(pub String);

impl FromStr for Version {
    type Err = VersionParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match Version::parse_prefix(s.trim()) {
            Some((v, "")) => Ok(v),
            _ => Err(VersionParseError(s.to_string())),
        }
    }
}

impl Serialize for Version {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Version {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// What a gateway runs: a Gaia version and, if a Jumbo Hotfix Accumulator is installed, its take.
///
/// Written as in the candidates list's `Version/JHF Take` column: `R81.10` or `R81.10 Take 95`.
///
/// ```
/// use cdt_core::model::{InstalledVersion, Version};
/// let v: InstalledVersion = "R81.10 Take 95".parse().unwrap();
/// assert_eq!(v, InstalledVersion::new(Version::R81_10, Some(95)));
/// assert_eq!(v.to_string(), "R81.10 Take 95");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct InstalledVersion {
    /// The Gaia release.
    pub version: Version,
    /// The Jumbo take installed, if any.
    pub take: Option<u32>,
}

impl InstalledVersion {
    /// A version with an optional Jumbo take.
    pub fn new(version: Version, take: Option<u32>) -> Self {
        InstalledVersion { version, take }
    }
}

impl fmt::Display for InstalledVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.take {
            Some(take) => write!(f, "{} Take {take}", self.version),
            None => write!(f, "{}", self.version),
        }
    }
}

impl FromStr for InstalledVersion {
    type Err = VersionParseError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || VersionParseError(s.to_string());
        let mut words = s.split_whitespace();
        let version: Version = words.next().ok_or_else(err)?.parse().map_err(|_| err())?;
        let take = match (words.next(), words.next(), words.next()) {
            (None, _, _) => None,
            (Some(t), Some(n), None) if t.eq_ignore_ascii_case("take") => {
                Some(n.parse::<u32>().map_err(|_| err())?)
            }
            _ => return Err(err()),
        };
        Ok(InstalledVersion { version, take })
    }
}

impl Serialize for InstalledVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_versions_are_ordered_oldest_first() {
        assert!(Version::KNOWN.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn both_spellings_parse_to_the_same_version() {
        for (a, b) in [("R81.20", "R81_20"), ("R80.40", "r80_40"), ("R81", "R81")] {
            assert_eq!(a.parse::<Version>().unwrap(), b.parse::<Version>().unwrap());
        }
    }

    #[test]
    fn every_known_version_displays_as_it_parses() {
        for v in Version::KNOWN {
            assert_eq!(v.to_string().parse::<Version>().unwrap(), v);
        }
        assert_eq!(Version::R82.to_string(), "R82");
        assert_eq!(Version::R77_30.to_string(), "R77.30");
    }

    #[test]
    fn non_versions_are_refused() {
        for s in [
            "",
            "R",
            "81.20",
            "R8",
            "R811",
            "R81.2",
            "R81.20x",
            "R81.20 Take",
            "R12.10",
        ] {
            assert!(s.parse::<Version>().is_err(), "{s:?} parsed");
        }
    }

    #[test]
    fn installed_version_reads_the_take() {
        assert_eq!(
            "R81.20 take 89".parse::<InstalledVersion>().unwrap(),
            InstalledVersion::new(Version::R81_20, Some(89))
        );
        assert!("R81.20 Take".parse::<InstalledVersion>().is_err());
        assert!("R81.20 Take x".parse::<InstalledVersion>().is_err());
        assert!("R81.20 Take 5 6".parse::<InstalledVersion>().is_err());
    }
}
