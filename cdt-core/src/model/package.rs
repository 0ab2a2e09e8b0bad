//! CPUSE packages: a hotfix, a Jumbo Hotfix Accumulator, or a major version upgrade, with the
//! version it applies to or leads to.
//!
//! The kind is derived from the vendor's file names, where versions are spelled both `R81_20`
//! and `R81.20`:
//!
//! ```
//! use cdt_core::model::{Package, PackageKind, Version};
//! let jumbo = Package::from_path("/var/log/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz").unwrap();
//! assert_eq!(jumbo.kind, PackageKind::Jumbo { version: Version::R81_20, take: 89 });
//! let upgrade = Package::from_path(
//!     "/var/log/Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz").unwrap();
//! assert_eq!(upgrade.kind, PackageKind::Upgrade { target: Version::R82, take: None });
//! ```
//!
//! When a name cannot be understood, the kind is given explicitly ([`Package::new`], or a
//! `packages` entry in the inventory file).

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::version::Version;

/// What a package does to a gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PackageKind {
    /// A hotfix for one Gaia version.
    Hotfix {
        /// The version it applies to.
        version: Version,
    },
    /// A Jumbo Hotfix Accumulator take for one Gaia version.
    Jumbo {
        /// The version it applies to.
        version: Version,
        /// Its take number.
        take: u32,
    },
    /// A major version upgrade (or a Blink image, which may carry a Jumbo take).
    Upgrade {
        /// The version it installs.
        target: Version,
        /// The Jumbo take the image already contains, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        take: Option<u32>,
    },
}

impl PackageKind {
    /// Whether this is a major version upgrade (the kind that changes the gateway object's
    /// version and for which clusters use Connectivity Upgrade).
    pub fn is_version_upgrade(&self) -> bool {
        matches!(self, PackageKind::Upgrade { .. })
    }

    /// The version a gateway runs once the package is installed.
    pub fn resulting_version(&self) -> Version {
        match *self {
            PackageKind::Hotfix { version } | PackageKind::Jumbo { version, .. } => version,
            PackageKind::Upgrade { target, .. } => target,
        }
    }
}

impl fmt::Display for PackageKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackageKind::Hotfix { version } => write!(f, "hotfix for {version}"),
            PackageKind::Jumbo { version, take } => write!(f, "{version} Jumbo Take {take}"),
            PackageKind::Upgrade { target, take: None } => write!(f, "upgrade to {target}"),
            PackageKind::Upgrade {
                target,
                take: Some(take),
            } => write!(f, "upgrade to {target} Take {take}"),
        }
    }
}

/// A CPUSE offline package: where it is on the orchestrator, and what it does.
///
/// Serialised flat, as in an inventory's `packages` entries: `path`, `kind` (`hotfix`, `jumbo`
/// or `upgrade`), `version` (hotfix and jumbo) or `target` (upgrade), `take` (jumbo; optional
/// for an upgrade image that carries one) and optional `min_cpuse_build`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "PackageRecord", into = "PackageRecord")]
pub struct Package {
    /// The package file on the orchestrator (absolute).
    pub path: PathBuf,
    /// What it does.
    pub kind: PackageKind,
    /// The oldest CPUSE agent build able to install it, when known (gateways with an older agent
    /// get a warning at generation, and the agent update step matters for them).
    pub min_cpuse_build: Option<u32>,
}

#[derive(Clone, Copy, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum KindName {
    Hotfix,
    Jumbo,
    Upgrade,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackageRecord {
    path: PathBuf,
    kind: KindName,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    version: Option<Version>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<Version>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    take: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    min_cpuse_build: Option<u32>,
}

impl TryFrom<PackageRecord> for Package {
    type Error = String;
    fn try_from(r: PackageRecord) -> std::result::Result<Self, String> {
        let kind = match (r.kind, r.version, r.target, r.take) {
            (KindName::Hotfix, Some(version), None, None) => PackageKind::Hotfix { version },
            (KindName::Jumbo, Some(version), None, Some(take)) => {
                PackageKind::Jumbo { version, take }
            }
            (KindName::Upgrade, None, Some(target), take) => PackageKind::Upgrade { target, take },
            (KindName::Hotfix, ..) => return Err("a hotfix takes `version` only".into()),
            (KindName::Jumbo, ..) => return Err("a jumbo takes `version` and `take`".into()),
            (KindName::Upgrade, ..) => {
                return Err("an upgrade takes `target` and an optional `take`".into());
            }
        };
        Ok(Package {
            path: r.path,
            kind,
            min_cpuse_build: r.min_cpuse_build,
        })
    }
}

impl From<Package> for PackageRecord {
    fn from(p: Package) -> Self {
        let (kind, version, target, take) = match p.kind {
            PackageKind::Hotfix { version } => (KindName::Hotfix, Some(version), None, None),
            PackageKind::Jumbo { version, take } => {
                (KindName::Jumbo, Some(version), None, Some(take))
            }
            PackageKind::Upgrade { target, take } => (KindName::Upgrade, None, Some(target), take),
        };
        PackageRecord {
            path: p.path,
            kind,
            version,
            target,
            take,
            min_cpuse_build: p.min_cpuse_build,
        }
    }
}

impl Package {
    /// A package whose kind is given explicitly.
    pub fn new(path: impl Into<PathBuf>, kind: PackageKind) -> Package {
        Package {
            path: path.into(),
            kind,
            min_cpuse_build: None,
        }
    }

    /// A package whose kind is derived from its vendor file name.
    pub fn from_path(path: impl Into<PathBuf>) -> Result<Package> {
        let path = path.into();
        let kind = kind_from_file_name(&file_name_of(&path))?;
        Ok(Package::new(path, kind))
    }

    /// The file name (`Check_Point_…_FULL.tgz`).
    pub fn file_name(&self) -> String {
        file_name_of(&self.path)
    }

    /// The name CPUSE knows the package by: the file name without `.tgz`, `.tar.gz` or `.tar`.
    pub fn cpuse_name(&self) -> String {
        cpuse_name(&self.file_name()).to_string()
    }
}

fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Normalises a package file name to its CPUSE name: strips `.tgz`, `.tar.gz` or `.tar`
/// (case-insensitively).
pub fn cpuse_name(file_name: &str) -> &str {
    for ext in [".tar.gz", ".tgz", ".tar"] {
        let Some(at) = file_name.len().checked_sub(ext.len()) else {
            continue;
        };
        if file_name
            .get(at..)
            .is_some_and(|end| end.eq_ignore_ascii_case(ext))
        {
            return &file_name[..at];
        }
    }
    file_name
}

/// Derives a package's kind from a vendor file name.
///
/// Recognised shapes (case-insensitive, `_` or `.` inside the version):
/// - `Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz`: a Jumbo, take after `JUMBO`;
/// - `Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz`: an upgrade;
/// - `Blink_image_1.1_Check_Point_R81.20_T634_JHF_T26_SecurityGateway.tgz`: an upgrade
///   carrying Jumbo take 26;
/// - `Check_Point_R81_10_HF_sk123456_FULL.tgz` (any other `Check_Point_R…` name with an `HF`
///   or `Hotfix` word): a hotfix for that version.
pub fn kind_from_file_name(file_name: &str) -> Result<PackageKind> {
    let err = |message: &str| Error::Package {
        name: file_name.to_string(),
        message: message.to_string(),
    };
    const MARK: &str = "check_point_";
    let stem = cpuse_name(file_name);
    let start = (0..stem.len().saturating_sub(MARK.len() - 1))
        .find(|&i| {
            stem.get(i..i + MARK.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(MARK))
        })
        .ok_or_else(|| {
            err("not a Check Point package name (no `Check_Point_R…`); give its kind explicitly")
        })?;
    let after = &stem[start + MARK.len()..];
    let (version, rest) = Version::parse_prefix(after)
        .ok_or_else(|| err("no Gaia version after `Check_Point_`; give its kind explicitly"))?;
    // The words after the version, walked again for each question (no allocation: the
    // simulator and the parsers ask this of every package name they meet).
    // Split as bytes: `_` is ASCII, and so is every word looked for.
    let words = || {
        rest.as_bytes()
            .split(|b| *b == b'_')
            .filter(|w| !w.is_empty())
    };
    let is = |w: &[u8], word: &str| w.eq_ignore_ascii_case(word.as_bytes());
    let take = |w: &[u8]| match w {
        [b'T' | b't', digits @ ..] if !digits.is_empty() => digits.iter().try_fold(0u32, |n, b| {
            let digit = b.is_ascii_digit().then(|| u32::from(b - b'0'))?;
            n.checked_mul(10)?.checked_add(digit)
        }),
        _ => None,
    };
    // The first `T<number>` at or after the first word that is `word`.
    let take_after = |word: &str| words().skip_while(|w| !is(w, word)).find_map(take);
    let is_blink = stem
        .get(..5)
        .is_some_and(|w| w.eq_ignore_ascii_case("blink"));
    if words().any(|w| is(w, "JUMBO")) {
        let take =
            take_after("JUMBO").ok_or_else(|| err("a Jumbo without a take (`T<number>`)"))?;
        return Ok(PackageKind::Jumbo { version, take });
    }
    if is_blink || words().any(|w| is(w, "UPGRADE")) {
        let take = take_after("JHF");
        return Ok(PackageKind::Upgrade {
            target: version,
            take,
        });
    }
    if words().any(|w| is(w, "HF") || is(w, "HOTFIX")) {
        return Ok(PackageKind::Hotfix { version });
    }
    Err(err(
        "cannot tell whether this is a hotfix, a Jumbo or an upgrade; give its kind explicitly",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(name: &str) -> PackageKind {
        kind_from_file_name(name).unwrap()
    }

    #[test]
    fn a_jumbo_take_must_be_t_and_a_number_that_fits() {
        assert_eq!(
            kind("Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_t4294967295_FULL.tgz"),
            PackageKind::Jumbo {
                version: Version::R81_20,
                take: u32::MAX
            }
        );
        for name in [
            "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T4294967296_FULL.tgz",
            "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T_FULL.tgz",
            "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T8x9_FULL.tgz",
            "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T-89_FULL.tgz",
        ] {
            assert!(kind_from_file_name(name).is_err(), "{name}");
        }
    }

    #[test]
    fn jumbo_names_give_version_and_take() {
        assert_eq!(
            kind("Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz"),
            PackageKind::Jumbo {
                version: Version::R81_20,
                take: 89
            }
        );
        assert_eq!(
            kind("Check_Point_R80_20_JUMBO_HF_Bundle_T17_sk137592_FULL.tgz"),
            PackageKind::Jumbo {
                version: Version::R80_20,
                take: 17
            }
        );
        assert_eq!(
            kind("Check_Point_R77_30_JUMBO_HF_1_Bundle_T342_FULL.tar"),
            PackageKind::Jumbo {
                version: Version::R77_30,
                take: 342
            }
        );
    }

    #[test]
    fn upgrade_names_give_the_target_with_either_version_spelling() {
        assert_eq!(
            kind("Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz"),
            PackageKind::Upgrade {
                target: Version::R82,
                take: None
            }
        );
        assert_eq!(
            kind("Check_Point_R80.20_T101_Fresh_Install_and_Upgrade_Security_Gateway.tgz"),
            PackageKind::Upgrade {
                target: Version::R80_20,
                take: None
            }
        );
    }

    #[test]
    fn blink_images_are_upgrades_carrying_their_jumbo_take() {
        assert_eq!(
            kind("Blink_image_1.1_Check_Point_R81.20_T634_JHF_T26_SecurityGateway.tgz"),
            PackageKind::Upgrade {
                target: Version::R81_20,
                take: Some(26)
            }
        );
    }

    #[test]
    fn hotfix_names_give_their_version() {
        assert_eq!(
            kind("Check_Point_R81_10_HF_sk123456_FULL.tgz"),
            PackageKind::Hotfix {
                version: Version::R81_10
            }
        );
    }

    #[test]
    fn names_that_cannot_be_understood_are_typed_errors() {
        for name in [
            "firmware.tgz",
            "Check_Point_latest.tgz",
            "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_FULL.tgz",
            "Check_Point_R81_20_something.tgz",
            "",
        ] {
            let e = kind_from_file_name(name).unwrap_err();
            assert_eq!(e.kind(), crate::ErrorKind::Package, "{name}");
            assert!(e.to_string().contains("explicitly") || e.to_string().contains("take"));
        }
    }

    #[test]
    fn cpuse_names_drop_the_archive_extension() {
        assert_eq!(cpuse_name("a.tgz"), "a");
        assert_eq!(cpuse_name("a.TAR"), "a");
        assert_eq!(cpuse_name("a.tar.gz"), "a");
        assert_eq!(cpuse_name("a"), "a");
    }
}
