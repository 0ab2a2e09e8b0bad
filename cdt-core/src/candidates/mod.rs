//! The candidates list: which targets get the package, in which batch.
//!
//! A list is [generated](generate::generate) from an inventory and a package (every eligible
//! target and cluster in batch 1, `N/A` with a reason for the others, `Installed` where the
//! package already is), written as CDT's six-column CSV ([`crate::formats::candidates_csv`]),
//! edited by the operator (only the `Upgrade Order` column), read back, and
//! [validated](validate::validate_edit) against the generated list before a run.
//!
//! ```
//! use cdt_core::candidates::{generate::{generate, GenerateOptions}, validate::validate_edit,
//!     CandidatesList, UpgradeOrder};
//! use cdt_core::model::{Gateway, Inventory, Package, Version};
//!
//! let mut inventory = Inventory::default();
//! inventory.gateways.push(Gateway::new("gw-paris", "192.0.2.10".parse().unwrap(), Version::R81_20));
//! let package = Package::from_path(
//!     "/var/packages/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz").unwrap();
//! let generated = generate(&inventory, &package, &GenerateOptions::default()).list;
//! assert_eq!(generated.rows[0].order, UpgradeOrder::batch(1));
//!
//! // The operator moves the gateway to batch 2: allowed.
//! let csv = generated.to_csv().replace(", 1\r\n", ", 2\r\n");
//! let edited = CandidatesList::parse_csv(&csv, None).unwrap();
//! validate_edit(&generated, &edited).unwrap();
//! ```

pub mod filter;
pub mod generate;
pub mod validate;

use std::fmt;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::str::FromStr;

use serde::Serialize;

use crate::model::{InstalledVersion, MemberRole};

/// The `Upgrade Order` column: the only one an operator may edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum UpgradeOrder {
    /// Eligible: install in this batch (batches run in ascending order).
    Batch(NonZeroU32),
    /// `N/A`: not eligible; must not be changed.
    NotApplicable,
    /// `Installed`: the package is already there; must not be changed.
    Installed,
    /// `-`: excluded by the operator.
    Excluded,
}

impl UpgradeOrder {
    /// Batch `n`; batch 0 does not exist, so `batch(0)` gives batch 1.
    pub fn batch(n: u32) -> UpgradeOrder {
        UpgradeOrder::Batch(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN))
    }

    /// The batch number, if this is a batch.
    pub fn batch_number(self) -> Option<u32> {
        match self {
            UpgradeOrder::Batch(n) => Some(n.get()),
            _ => None,
        }
    }
}

impl fmt::Display for UpgradeOrder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UpgradeOrder::Batch(n) => write!(f, "{n}"),
            UpgradeOrder::NotApplicable => f.write_str("N/A"),
            UpgradeOrder::Installed => f.write_str("Installed"),
            UpgradeOrder::Excluded => f.write_str("-"),
        }
    }
}

impl FromStr for UpgradeOrder {
    type Err = String;
    /// Parses `N/A`, `Installed` (any case), `-`, or a positive batch number.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("N/A") {
            Ok(UpgradeOrder::NotApplicable)
        } else if s.eq_ignore_ascii_case("Installed") {
            Ok(UpgradeOrder::Installed)
        } else if s == "-" {
            Ok(UpgradeOrder::Excluded)
        } else if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
            match s.parse::<u32>().ok().and_then(NonZeroU32::new) {
                Some(n) => Ok(UpgradeOrder::Batch(n)),
                None if s.bytes().all(|b| b == b'0') => Err(format!(
                    "batch {s:?} is not a positive integer (batches start at 1)"
                )),
                None => Err(format!("batch {s:?} is too large")),
            }
        } else {
            Err(format!(
                "Upgrade Order {s:?} is not a batch number, N/A, Installed or -"
            ))
        }
    }
}

impl Serialize for UpgradeOrder {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            UpgradeOrder::Batch(n) => s.serialize_u32(n.get()),
            other => s.collect_str(other),
        }
    }
}

/// Why a target is `N/A`, or what a warning is about: a stable code for programs and a
/// sentence for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReasonCode {
    /// The cluster's kind is not supported (ClusterXL Load Sharing, VSX HA, Maestro, ElasticXL).
    UnsupportedClusterKind,
    /// The platform is not supported (Quantum Spark).
    UnsupportedPlatform,
    /// An upgrade whose target version is older than the installed one.
    VersionNotNewer,
    /// A Jumbo for another major version than the installed one.
    JumboForOtherVersion,
    /// A Jumbo take older than the installed take.
    JumboTakeOlder,
    /// A hotfix for another version than the installed one.
    HotfixForOtherVersion,
    /// The members of one cluster run different versions.
    MixedVersions,
    /// Connectivity Upgrade is on but impossible for this VRRP cluster (SPEC 3.3, step 4).
    ConnectivityUpgradeImpossible,
    /// The target did not answer, or its state is unknown.
    Unreachable,
    /// The cluster's members are not in the expected roles (one Active, the rest Standby…).
    UnexpectedClusterState,
    /// Warning only: the CPUSE agent is older than the package needs.
    CpuseAgentOutdated,
}

impl ReasonCode {
    /// Every code.
    pub const ALL: [ReasonCode; 11] = [
        ReasonCode::UnsupportedClusterKind,
        ReasonCode::UnsupportedPlatform,
        ReasonCode::VersionNotNewer,
        ReasonCode::JumboForOtherVersion,
        ReasonCode::JumboTakeOlder,
        ReasonCode::HotfixForOtherVersion,
        ReasonCode::MixedVersions,
        ReasonCode::ConnectivityUpgradeImpossible,
        ReasonCode::Unreachable,
        ReasonCode::UnexpectedClusterState,
        ReasonCode::CpuseAgentOutdated,
    ];

    /// The stable code, as written in the reasons file and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ReasonCode::UnsupportedClusterKind => "unsupported_cluster_kind",
            ReasonCode::UnsupportedPlatform => "unsupported_platform",
            ReasonCode::VersionNotNewer => "version_not_newer",
            ReasonCode::JumboForOtherVersion => "jumbo_for_other_version",
            ReasonCode::JumboTakeOlder => "jumbo_take_older",
            ReasonCode::HotfixForOtherVersion => "hotfix_for_other_version",
            ReasonCode::MixedVersions => "mixed_versions",
            ReasonCode::ConnectivityUpgradeImpossible => "connectivity_upgrade_impossible",
            ReasonCode::Unreachable => "unreachable",
            ReasonCode::UnexpectedClusterState => "unexpected_cluster_state",
            ReasonCode::CpuseAgentOutdated => "cpuse_agent_outdated",
        }
    }

    /// Parses a stable code.
    pub fn parse(s: &str) -> Option<ReasonCode> {
        ReasonCode::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether this code is a warning (the target stays eligible) rather than an `N/A` reason.
    pub fn is_warning(self) -> bool {
        self == ReasonCode::CpuseAgentOutdated
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reason for `N/A`, or a warning, about one row.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Reason {
    /// The stable code.
    pub code: ReasonCode,
    /// A sentence for people.
    pub message: String,
}

impl Reason {
    /// A reason with `code` and `message`.
    pub fn new(code: ReasonCode, message: impl Into<String>) -> Reason {
        Reason {
            code,
            message: message.into(),
        }
    }
}

/// One row of the list: a standalone gateway or a cluster member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Candidate {
    /// `Object Name`: the gateway or member object; rows are matched by it.
    pub object_name: String,
    /// `Cluster Name`: the cluster, or `None` for a standalone gateway.
    pub cluster_name: Option<String>,
    /// `IP Address`.
    pub address: IpAddr,
    /// `Version/JHF Take`.
    pub version: InstalledVersion,
    /// `State`: the member's role, or `None` for a standalone gateway.
    pub state: Option<MemberRole>,
    /// `Upgrade Order`.
    pub order: UpgradeOrder,
    /// Why the row is `N/A` (kept in the reasons file, not in the CSV).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<Reason>,
    /// Warnings about the row (kept in the reasons file, not in the CSV).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Reason>,
}

/// Where a list was read from: the file and the physical line of each row (the header is
/// line 1), for error messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListSource {
    /// The file, when read from one.
    pub path: Option<PathBuf>,
    /// The line of each row, in row order.
    pub lines: Vec<u32>,
}

/// A candidates list. Equality compares the rows only, not where they were read from.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CandidatesList {
    /// The rows, in file order.
    pub rows: Vec<Candidate>,
    /// Where the list was read from, if it was.
    #[serde(skip)]
    pub source: ListSource,
}

impl PartialEq for CandidatesList {
    fn eq(&self, other: &Self) -> bool {
        self.rows == other.rows
    }
}

impl Eq for CandidatesList {}

impl CandidatesList {
    /// A list of `rows` not read from any file.
    pub fn new(rows: Vec<Candidate>) -> CandidatesList {
        CandidatesList {
            rows,
            source: ListSource::default(),
        }
    }

    /// The physical line of row `index` (the header is line 1): from the file it was read
    /// from, else where [`CandidatesList::to_csv`] writes it.
    pub fn line_of(&self, index: usize) -> u32 {
        self.source
            .lines
            .get(index)
            .copied()
            .unwrap_or_else(|| u32::try_from(index + 2).unwrap_or(u32::MAX))
    }

    /// The list as JSON: every row with its reason and warnings.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// How many rows have each kind of upgrade order: (batched, `N/A`, `Installed`, `-`).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let mut c = (0, 0, 0, 0);
        for row in &self.rows {
            match row.order {
                UpgradeOrder::Batch(_) => c.0 += 1,
                UpgradeOrder::NotApplicable => c.1 += 1,
                UpgradeOrder::Installed => c.2 += 1,
                UpgradeOrder::Excluded => c.3 += 1,
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upgrade_order_reads_every_spelling() {
        assert_eq!("3".parse(), Ok(UpgradeOrder::batch(3)));
        assert_eq!(" N/A ".parse(), Ok(UpgradeOrder::NotApplicable));
        assert_eq!("installed".parse(), Ok(UpgradeOrder::Installed));
        assert_eq!("-".parse(), Ok(UpgradeOrder::Excluded));
    }

    #[test]
    fn zero_negative_and_words_are_not_batches() {
        for s in ["0", "00", "-1", "+1", "1.5", "one", "", "99999999999"] {
            assert!(s.parse::<UpgradeOrder>().is_err(), "{s:?}");
        }
    }

    #[test]
    fn reason_codes_round_trip() {
        for c in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(c.as_str()), Some(c));
        }
    }
}
