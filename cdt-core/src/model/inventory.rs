//! The inventory of a fleet: standalone gateways and clusters with their members and roles.
//!
//! An inventory comes from the Management Server (a later transport fills it) or from a file,
//! so a fleet can be described without one. The file is JSON or TOML with the same fields:
//!
//! ```toml
//! [[gateways]]
//! name = "gw-paris"              # object name, unique in the inventory
//! address = "192.0.2.10"         # main IP address
//! version = "R81.10"             # R81.10 or R81_10
//! take = 95                      # installed Jumbo take (optional)
//! platform = "gaia"              # gaia (default) | quantum_spark
//! reachability = "reachable"     # reachable (default) | unreachable | unknown
//! cpuse_build = 2412             # CPUSE agent build (optional)
//! installed_hotfixes = []        # CPUSE names of installed hotfixes (optional)
//!
//! [[clusters]]
//! name = "cl-lyon"
//! kind = "clusterxl_ha"          # clusterxl_ha | clusterxl_ls | vrrp | vsx_vsls | vsx_ha | maestro | elasticxl
//! [[clusters.members]]
//! name = "lyon-a"                # same fields as a gateway, plus its role:
//! address = "192.0.2.21"
//! version = "R81.10"
//! role = "Active"                # Active | Standby | Master | Backup | VSLS member | VSLS active member | Down
//! [[clusters.members]]
//! name = "lyon-b"
//! address = "192.0.2.22"
//! version = "R81.10"
//! role = "Standby"
//!
//! [[packages]]                   # packages whose names cannot be understood (optional)
//! path = "/var/packages/custom_fix.tgz"
//! kind = "hotfix"                # hotfix | jumbo | upgrade
//! version = "R81.10"             # for hotfix and jumbo; `target` for an upgrade
//! ```
//!
//! Unknown fields are errors (a misspelled field is never silently ignored).

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Diagnostic, Error, Location, Result};
use crate::input::{DEFAULT_INPUT_CAP, check_text_cap, read_text_capped};
use crate::model::package::Package;
use crate::model::version::{InstalledVersion, Version};

/// The hardware and OS family of a gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Platform {
    /// Gaia on an appliance or open server: supported.
    #[default]
    Gaia,
    /// Quantum Spark (Gaia Embedded): not supported by CDT, always `N/A`.
    QuantumSpark,
}

/// Whether the gateway answered when the inventory was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reachability {
    /// It answered.
    #[default]
    Reachable,
    /// It did not answer.
    Unreachable,
    /// Its state could not be read.
    Unknown,
}

/// One Security Gateway (standalone, or as a cluster member's box).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// The object name in the management database; unique in the inventory.
    pub name: String,
    /// Its main IP address.
    pub address: IpAddr,
    /// Its Gaia version.
    pub version: Version,
    /// Its installed Jumbo take, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub take: Option<u32>,
    /// Its platform.
    #[serde(default, skip_serializing_if = "is_default")]
    pub platform: Platform,
    /// Whether it answered when the inventory was taken.
    #[serde(default, skip_serializing_if = "is_default")]
    pub reachability: Reachability,
    /// Its CPUSE agent build, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpuse_build: Option<u32>,
    /// CPUSE names of the hotfixes installed on it (for hotfixes other than Jumbos).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub installed_hotfixes: Vec<String>,
}

fn is_default<T: Default + PartialEq>(t: &T) -> bool {
    *t == T::default()
}

impl Gateway {
    /// A reachable Gaia gateway with no Jumbo, no known agent build and no hotfixes.
    pub fn new(name: impl Into<String>, address: IpAddr, version: Version) -> Gateway {
        Gateway {
            name: name.into(),
            address,
            version,
            take: None,
            platform: Platform::Gaia,
            reachability: Reachability::Reachable,
            cpuse_build: None,
            installed_hotfixes: Vec::new(),
        }
    }

    /// Its version and Jumbo take, as in the candidates list.
    pub fn installed_version(&self) -> InstalledVersion {
        InstalledVersion::new(self.version, self.take)
    }
}

/// The kind of a cluster, which decides its upgrade order (SPEC 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClusterKind {
    /// ClusterXL High Availability: Standby members first, then the former Active.
    #[serde(rename = "clusterxl_ha")]
    ClusterXlHa,
    /// ClusterXL Load Sharing: not supported (`N/A`).
    #[serde(rename = "clusterxl_ls")]
    ClusterXlLoadSharing,
    /// VRRP: Backup members first, then the former Master.
    Vrrp,
    /// VSX Virtual System Load Sharing: `VSLS member`s first, then the `VSLS active member`.
    VsxVsls,
    /// VSX High Availability: not supported (`N/A`).
    VsxHa,
    /// Maestro: not supported (`N/A`).
    Maestro,
    /// ElasticXL: not supported (`N/A`).
    #[serde(rename = "elasticxl")]
    ElasticXl,
}

impl ClusterKind {
    /// Whether the deployment engine can upgrade this kind of cluster.
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            ClusterKind::ClusterXlHa | ClusterKind::Vrrp | ClusterKind::VsxVsls
        )
    }

    /// The role of the member that goes last (after failover) in this kind of cluster.
    pub fn last_role(self) -> MemberRole {
        match self {
            ClusterKind::Vrrp => MemberRole::Master,
            ClusterKind::VsxVsls => MemberRole::VslsActiveMember,
            _ => MemberRole::Active,
        }
    }

    /// The role of the members of the first wave in this kind of cluster.
    pub fn first_wave_role(self) -> MemberRole {
        match self {
            ClusterKind::Vrrp => MemberRole::Backup,
            ClusterKind::VsxVsls => MemberRole::VslsMember,
            _ => MemberRole::Standby,
        }
    }

    /// Whether a member of this kind of cluster may be in `role`.
    pub fn allows_role(self, role: MemberRole) -> bool {
        role == MemberRole::Down || role == self.last_role() || role == self.first_wave_role()
    }
}

impl fmt::Display for ClusterKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ClusterKind::ClusterXlHa => "ClusterXL High Availability",
            ClusterKind::ClusterXlLoadSharing => "ClusterXL Load Sharing",
            ClusterKind::Vrrp => "VRRP",
            ClusterKind::VsxVsls => "VSX VSLS",
            ClusterKind::VsxHa => "VSX High Availability",
            ClusterKind::Maestro => "Maestro",
            ClusterKind::ElasticXl => "ElasticXL",
        })
    }
}

/// A cluster member's role, spelled exactly as in the candidates list's `State` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MemberRole {
    /// ClusterXL Active.
    Active,
    /// ClusterXL Standby.
    Standby,
    /// VRRP Master.
    Master,
    /// VRRP Backup.
    Backup,
    /// VSLS member (first wave).
    #[serde(rename = "VSLS member")]
    VslsMember,
    /// VSLS active member (goes last).
    #[serde(rename = "VSLS active member")]
    VslsActiveMember,
    /// Down.
    Down,
}

impl MemberRole {
    /// Every role, in the order of the SPEC.
    pub const ALL: [MemberRole; 7] = [
        MemberRole::Active,
        MemberRole::Standby,
        MemberRole::Master,
        MemberRole::Backup,
        MemberRole::VslsMember,
        MemberRole::VslsActiveMember,
        MemberRole::Down,
    ];

    /// The spelling in the candidates list.
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Active => "Active",
            MemberRole::Standby => "Standby",
            MemberRole::Master => "Master",
            MemberRole::Backup => "Backup",
            MemberRole::VslsMember => "VSLS member",
            MemberRole::VslsActiveMember => "VSLS active member",
            MemberRole::Down => "Down",
        }
    }

    /// Parses the exact spelling of the candidates list.
    pub fn parse(s: &str) -> Option<MemberRole> {
        MemberRole::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Whether this is the role of a cluster's last member (Active, Master, VSLS active member).
    pub fn is_last(self) -> bool {
        matches!(
            self,
            MemberRole::Active | MemberRole::Master | MemberRole::VslsActiveMember
        )
    }
}

impl fmt::Display for MemberRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cluster member: a gateway and its role in the cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "MemberRecord", into = "MemberRecord")]
pub struct Member {
    /// The member's box.
    pub gateway: Gateway,
    /// Its role when the inventory was taken.
    pub role: MemberRole,
}

/// A cluster of gateways.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// The cluster object's name.
    pub name: String,
    /// Its kind.
    pub kind: ClusterKind,
    /// Its members, in the order they are listed.
    pub members: Vec<Member>,
}

impl Cluster {
    /// The member that goes last (the Active, Master or VSLS active member), if exactly one
    /// member holds that role.
    pub fn last_member(&self) -> Option<&Member> {
        let mut last = self.members.iter().filter(|m| m.role.is_last());
        match (last.next(), last.next()) {
            (Some(m), None) => Some(m),
            _ => None,
        }
    }

    /// Whether the roles are exactly the healthy ones for the kind: one last member (Active,
    /// Master or VSLS active member) and every other member in the first-wave role.
    pub fn has_expected_roles(&self) -> bool {
        let last = self.kind.last_role();
        let first = self.kind.first_wave_role();
        self.members.iter().filter(|m| m.role == last).count() == 1
            && self
                .members
                .iter()
                .all(|m| m.role == last || m.role == first)
    }
}

/// The serialised form of a [`Member`]: a gateway's fields plus `role`.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberRecord {
    name: String,
    address: IpAddr,
    version: Version,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    take: Option<u32>,
    #[serde(default, skip_serializing_if = "is_default")]
    platform: Platform,
    #[serde(default, skip_serializing_if = "is_default")]
    reachability: Reachability,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cpuse_build: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    installed_hotfixes: Vec<String>,
    role: MemberRole,
}

impl From<MemberRecord> for Member {
    fn from(r: MemberRecord) -> Self {
        Member {
            gateway: Gateway {
                name: r.name,
                address: r.address,
                version: r.version,
                take: r.take,
                platform: r.platform,
                reachability: r.reachability,
                cpuse_build: r.cpuse_build,
                installed_hotfixes: r.installed_hotfixes,
            },
            role: r.role,
        }
    }
}

impl From<Member> for MemberRecord {
    fn from(m: Member) -> Self {
        let g = m.gateway;
        MemberRecord {
            name: g.name,
            address: g.address,
            version: g.version,
            take: g.take,
            platform: g.platform,
            reachability: g.reachability,
            cpuse_build: g.cpuse_build,
            installed_hotfixes: g.installed_hotfixes,
            role: m.role,
        }
    }
}

/// A fleet: standalone gateways, clusters, and packages described explicitly.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// Standalone gateways.
    #[serde(default)]
    pub gateways: Vec<Gateway>,
    /// Clusters.
    #[serde(default)]
    pub clusters: Vec<Cluster>,
    /// Packages whose kind is given explicitly (names that cannot be understood).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<Package>,
}

/// The text format of an inventory file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InventoryFormat {
    /// JSON.
    Json,
    /// TOML.
    Toml,
}

impl Inventory {
    /// Loads an inventory file (JSON for `.json`, TOML for `.toml`, otherwise guessed from the
    /// first character), capped at 16 MiB, and validates it.
    pub fn load(path: &Path) -> Result<Inventory> {
        let text = read_text_capped(path, DEFAULT_INPUT_CAP)?;
        let format = match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("json") => InventoryFormat::Json,
            Some(e) if e.eq_ignore_ascii_case("toml") => InventoryFormat::Toml,
            _ if text.trim_start().starts_with('{') => InventoryFormat::Json,
            _ => InventoryFormat::Toml,
        };
        Inventory::parse(&text, format, Some(path))
    }

    /// Parses and validates an inventory given as text.
    pub fn parse(text: &str, format: InventoryFormat, path: Option<&Path>) -> Result<Inventory> {
        check_text_cap(path, text, DEFAULT_INPUT_CAP)?;
        let at = |line: usize, column: usize| {
            Location::new(path, clamp_u32(line), Some(clamp_u32(column)))
        };
        let inventory: Inventory = match format {
            InventoryFormat::Json => serde_json::from_str(text).map_err(|e| {
                Error::Inventory(Diagnostic::new(
                    at(e.line(), e.column()),
                    strip_position(&e.to_string()),
                ))
            })?,
            InventoryFormat::Toml => toml::from_str(text).map_err(|e| {
                let (line, column) = e
                    .span()
                    .map(|s| line_column(text, s.start))
                    .unwrap_or((1, 1));
                Error::Inventory(Diagnostic::new(at(line, column), e.message().to_string()))
            })?,
        };
        inventory.validate_in(Some(text), path)?;
        Ok(inventory)
    }

    /// Writes the inventory as pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Writes the inventory as TOML.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| {
            Error::Inventory(Diagnostic::new(Location::new(None, 1, None), e.to_string()))
        })
    }

    /// Checks the rules a parsed file is held to, for an inventory built in code: unique,
    /// clean object names; clusters of at least two members whose roles fit their kind.
    pub fn validate(&self) -> Result<()> {
        self.validate_in(None, None)
    }

    fn validate_in(&self, text: Option<&str>, path: Option<&Path>) -> Result<()> {
        let mut seen = std::collections::HashSet::new();
        // Semantic problems carry no position from serde: report them at the line where the
        // object's quoted name occurs (its second occurrence for a duplicate).
        let fail = |name: &str, occurrence: usize, message: String| -> Error {
            let line = text.map_or(1, |t| line_of_nth_quoted(t, name, occurrence));
            Error::Inventory(
                Diagnostic::new(Location::new(path, clamp_u32(line), None), message)
                    .with_object(name),
            )
        };
        let names =
            self.gateways
                .iter()
                .map(|g| g.name.as_str())
                .chain(self.clusters.iter().flat_map(|c| {
                    std::iter::once(c.name.as_str())
                        .chain(c.members.iter().map(|m| m.gateway.name.as_str()))
                }));
        for name in names {
            if let Some(problem) = object_name_problem(name) {
                return Err(fail(name, 0, problem));
            }
            if seen.contains(name) {
                return Err(fail(name, 1, "object name given twice".to_string()));
            }
            seen.insert(name);
        }
        for cluster in &self.clusters {
            if cluster.members.len() < 2 {
                return Err(fail(
                    &cluster.name,
                    0,
                    format!(
                        "a cluster needs at least 2 members, it has {}",
                        cluster.members.len()
                    ),
                ));
            }
            for m in &cluster.members {
                if !cluster.kind.allows_role(m.role) {
                    return Err(fail(
                        &m.gateway.name,
                        0,
                        format!(
                            "role {} is not a role of a {} cluster",
                            m.role, cluster.kind
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The package at `path`: described explicitly in this inventory (matched by path or by
    /// file name), else derived from its file name.
    pub fn resolve_package(&self, path: &Path) -> Result<Package> {
        let name = path.file_name();
        self.packages
            .iter()
            .find(|p| p.path == path || (name.is_some() && p.path.file_name() == name))
            .map(|p| Package {
                path: path.to_path_buf(),
                ..p.clone()
            })
            .map_or_else(|| Package::from_path(PathBuf::from(path)), Ok)
    }

    /// Every box: the standalone gateways, then each cluster's members.
    pub fn boxes(&self) -> impl Iterator<Item = &Gateway> {
        self.gateways.iter().chain(
            self.clusters
                .iter()
                .flat_map(|c| c.members.iter().map(|m| &m.gateway)),
        )
    }

    /// The number of targets (standalone gateways plus cluster members).
    pub fn target_count(&self) -> usize {
        self.gateways.len() + self.clusters.iter().map(|c| c.members.len()).sum::<usize>()
    }
}

/// Why `name` cannot be an object name, if it cannot: empty, padded with spaces, or holding a
/// control character (it must survive a padded CSV field unchanged).
pub(crate) fn object_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        Some("object name is empty".to_string())
    } else if name.trim() != name {
        Some("object name starts or ends with a space".to_string())
    } else if name.chars().any(char::is_control) {
        Some("object name holds a control character".to_string())
    } else {
        None
    }
}

fn clamp_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// serde_json appends " at line L column C" to its messages; the location is reported apart.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message.to_string(),
    }
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// The line of the `nth` (0-based) occurrence of `"name"` in `text` (1 when not found): where a
/// semantic problem with an object is reported, since serde keeps no positions.
fn line_of_nth_quoted(text: &str, name: &str, nth: usize) -> usize {
    let quoted = format!("\"{name}\"");
    text.match_indices(&quoted)
        .nth(nth)
        .or_else(|| text.match_indices(&quoted).next())
        .map_or(1, |(offset, _)| line_column(text, offset).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    const HA: &str = r#"
[[clusters]]
name = "cl"
kind = "clusterxl_ha"
[[clusters.members]]
name = "a"
address = "192.0.2.1"
version = "R81.10"
role = "Active"
[[clusters.members]]
name = "b"
address = "192.0.2.2"
version = "R81_10"
role = "Standby"
"#;

    #[test]
    fn a_toml_cluster_parses_with_its_roles() {
        let inv = Inventory::parse(HA, InventoryFormat::Toml, None).unwrap();
        let cl = &inv.clusters[0];
        assert_eq!(cl.last_member().unwrap().gateway.name, "a");
        assert!(cl.has_expected_roles());
    }

    #[test]
    fn json_and_toml_describe_the_same_inventory() {
        let inv = Inventory::parse(HA, InventoryFormat::Toml, None).unwrap();
        let json = inv.to_json();
        assert_eq!(
            Inventory::parse(&json, InventoryFormat::Json, None).unwrap(),
            inv
        );
        let toml = inv.to_toml().unwrap();
        assert_eq!(
            Inventory::parse(&toml, InventoryFormat::Toml, None).unwrap(),
            inv
        );
    }

    #[test]
    fn a_misspelled_field_is_an_error_at_its_line() {
        let text = HA.replace("role = \"Standby\"", "rolle = \"Standby\"");
        let e = Inventory::parse(&text, InventoryFormat::Toml, None).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::Inventory);
        assert!(e.to_string().contains("rolle"), "{e}");
    }

    #[test]
    fn a_role_foreign_to_the_kind_is_an_error_naming_the_member() {
        let text = HA.replace("\"Standby\"", "\"Backup\"");
        let e = Inventory::parse(&text, InventoryFormat::Toml, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "<input>:11: object b: role Backup is not a role of a ClusterXL High Availability cluster"
        );
    }

    #[test]
    fn a_duplicate_name_is_reported_at_its_second_occurrence() {
        let text = HA.replace("name = \"b\"", "name = \"a\"");
        let e = Inventory::parse(&text, InventoryFormat::Toml, None).unwrap_err();
        assert_eq!(
            e.to_string(),
            "<input>:11: object a: object name given twice"
        );
    }
}
