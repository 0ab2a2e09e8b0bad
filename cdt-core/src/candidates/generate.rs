//! Generating a candidates list from an inventory and a package (SPEC 2.3).
//!
//! Every eligible standalone gateway and every eligible cluster goes in batch 1; targets that
//! already have the package are `Installed`; the others are `N/A` with a [`Reason`].
//!
//! One box, by package kind:
//!
//! | package | `N/A` | `Installed` | batch 1 |
//! |---|---|---|---|
//! | upgrade to V | runs a version newer than V (`version_not_newer`) | runs V | runs an older version |
//! | Jumbo V Take T | runs another version (`jumbo_for_other_version`), or a take newer than T (`jumbo_take_older`) | runs V Take T | runs V with no take or an older one |
//! | hotfix for V | runs another version (`hotfix_for_other_version`) | CPUSE lists it as installed | otherwise |
//!
//! and whatever the package: `N/A` on Quantum Spark (`unsupported_platform`) and when the box
//! was unreachable or its state unknown (`unreachable`). A CPUSE agent older than the package's
//! `min_cpuse_build` is a warning (`cpuse_agent_outdated`), not `N/A`.
//!
//! A cluster is judged as a unit: every member is `N/A` when its kind is not supported
//! (`unsupported_cluster_kind`), a member is unreachable or on an unsupported platform, the
//! roles are not exactly one Active/Master/`VSLS active member` and the rest
//! Standby/Backup/`VSLS member` (`unexpected_cluster_state`), the members that still need the
//! package run different versions (`mixed_versions`), a member cannot take the package, or
//! Connectivity Upgrade is impossible (`connectivity_upgrade_impossible`, the VRRP rule of
//! SPEC 3.3). Members that already have the package stay `Installed`, so a cluster whose first
//! wave was upgraded in a semi-automatic first run shows its last member in batch 1.

use std::collections::HashSet;

use crate::candidates::filter::ObjectFilter;
use crate::candidates::{Candidate, CandidatesList, Reason, ReasonCode, UpgradeOrder};
use crate::error::Result;
use crate::formats::config::PrimaryConfig;
use crate::formats::plan::Plan;
use crate::model::package::cpuse_name;
use crate::model::{
    Cluster, ClusterKind, Gateway, Inventory, MemberRole, Package, PackageKind, Platform,
    Reachability, Version,
};

/// What generation needs besides the inventory and the package.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Whether Connectivity Upgrade is on for version upgrades (default: on).
    pub connectivity_upgrade: bool,
    /// `<Debug CUSyncForVRRP="true"/>`: allow Connectivity Upgrade on VRRP clusters going to
    /// R77.30 or R80.20, with a Jumbo in the plan.
    pub cu_sync_for_vrrp: bool,
    /// Packages the plan installs besides the first one (for the VRRP Jumbo rule).
    pub later_packages: Vec<Package>,
    /// Objects to leave out, or the only ones to keep.
    pub filter: Option<ObjectFilter>,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            connectivity_upgrade: true,
            cu_sync_for_vrrp: false,
            later_packages: Vec::new(),
            filter: None,
        }
    }
}

impl GenerateOptions {
    /// The options a deployment plan (and, if given, the primary configuration) implies, and
    /// the plan's first package, resolved through `inventory`. Returns `None` for the package
    /// when the plan names none.
    pub fn from_plan(
        plan: &Plan,
        config: Option<&PrimaryConfig>,
        inventory: &Inventory,
    ) -> Result<(Option<Package>, GenerateOptions)> {
        let first = plan
            .first_package()
            .map(|p| inventory.resolve_package(p))
            .transpose()?;
        let later_packages = plan
            .installed_packages()
            .filter(|p| Some(*p) != first.as_ref().map(|f| f.path.as_path()))
            .filter_map(|p| inventory.resolve_package(p).ok())
            .collect();
        Ok((
            first,
            GenerateOptions {
                connectivity_upgrade: plan.settings.connectivity_upgrade(),
                cu_sync_for_vrrp: config
                    .and_then(|c| c.debug.as_ref())
                    .is_some_and(|d| d.cu_sync_for_vrrp),
                later_packages,
                filter: None,
            },
        ))
    }

    /// The options of a Basic-mode primary configuration, and its package resolved through
    /// `inventory` (`None` when it has no `PackageToInstall`).
    pub fn from_config(
        config: &PrimaryConfig,
        inventory: &Inventory,
    ) -> Result<(Option<Package>, GenerateOptions)> {
        let package = config
            .package_to_install
            .as_ref()
            .map(|p| inventory.resolve_package(&p.path))
            .transpose()?;
        Ok((
            package,
            GenerateOptions {
                connectivity_upgrade: config.connectivity_upgrade(),
                cu_sync_for_vrrp: config.debug.as_ref().is_some_and(|d| d.cu_sync_for_vrrp),
                later_packages: Vec::new(),
                filter: None,
            },
        ))
    }
}

/// A generated list, and what generation noticed on the way.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The list.
    pub list: CandidatesList,
    /// Filter names that matched no object (probably misspelled).
    pub unmatched_filter_names: Vec<String>,
}

/// Generates the candidates list of `package` for `inventory`: standalone gateways first, then
/// each cluster's members, in inventory order.
pub fn generate(inventory: &Inventory, package: &Package, options: &GenerateOptions) -> Generated {
    let mut rows = Vec::with_capacity(inventory.target_count());
    let keeps = |names: &mut dyn Iterator<Item = &str>| {
        options.filter.as_ref().is_none_or(|f| f.keeps(names))
    };
    for gateway in &inventory.gateways {
        if !keeps(&mut std::iter::once(gateway.name.as_str())) {
            continue;
        }
        let (order, reason) = match gateway_eligibility(gateway, package) {
            Eligibility::Eligible => (UpgradeOrder::batch(1), None),
            Eligibility::Installed => (UpgradeOrder::Installed, None),
            Eligibility::NotApplicable(r) => (UpgradeOrder::NotApplicable, Some(r)),
        };
        rows.push(row(gateway, None, None, order, reason, package));
    }
    for cluster in &inventory.clusters {
        let mut names = std::iter::once(cluster.name.as_str())
            .chain(cluster.members.iter().map(|m| m.gateway.name.as_str()));
        if !keeps(&mut names) {
            continue;
        }
        let verdict = cluster_verdict(cluster, package, options);
        for (member, eligibility) in cluster.members.iter().zip(verdict) {
            let (order, reason) = match eligibility {
                Eligibility::Eligible => (UpgradeOrder::batch(1), None),
                Eligibility::Installed => (UpgradeOrder::Installed, None),
                Eligibility::NotApplicable(r) => (UpgradeOrder::NotApplicable, Some(r)),
            };
            rows.push(row(
                &member.gateway,
                Some(&cluster.name),
                Some(member.role),
                order,
                reason,
                package,
            ));
        }
    }
    Generated {
        list: CandidatesList::new(rows),
        unmatched_filter_names: options
            .filter
            .as_ref()
            .map(|f| f.unmatched(inventory))
            .unwrap_or_default(),
    }
}

fn row(
    gateway: &Gateway,
    cluster: Option<&str>,
    state: Option<MemberRole>,
    order: UpgradeOrder,
    reason: Option<Reason>,
    package: &Package,
) -> Candidate {
    let mut warnings = Vec::new();
    if let (Some(have), Some(need)) = (gateway.cpuse_build, package.min_cpuse_build)
        && have < need
        && order != UpgradeOrder::NotApplicable
        && order != UpgradeOrder::Installed
    {
        warnings.push(Reason::new(
                ReasonCode::CpuseAgentOutdated,
                format!("CPUSE agent build {have} is older than build {need} the package needs; update the agent first"),
            ));
    }
    Candidate {
        object_name: gateway.name.clone(),
        cluster_name: cluster.map(str::to_string),
        address: gateway.address,
        version: gateway.installed_version(),
        state,
        order,
        reason,
        warnings,
    }
}

/// Whether one box can take the package.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Eligibility {
    Eligible,
    Installed,
    NotApplicable(Reason),
}

fn gateway_eligibility(g: &Gateway, package: &Package) -> Eligibility {
    use Eligibility::*;
    if g.platform == Platform::QuantumSpark {
        return NotApplicable(Reason::new(
            ReasonCode::UnsupportedPlatform,
            "Quantum Spark gateways are not supported",
        ));
    }
    match g.reachability {
        Reachability::Reachable => {}
        Reachability::Unreachable => {
            return NotApplicable(Reason::new(
                ReasonCode::Unreachable,
                "did not answer when the list was generated",
            ));
        }
        Reachability::Unknown => {
            return NotApplicable(Reason::new(
                ReasonCode::Unreachable,
                "state unknown when the list was generated",
            ));
        }
    }
    let installed = g.installed_version();
    match package.kind {
        PackageKind::Upgrade { target, .. } => {
            if g.version == target {
                Installed
            } else if g.version > target {
                NotApplicable(Reason::new(
                    ReasonCode::VersionNotNewer,
                    format!("runs {}, newer than the package's {target}", g.version),
                ))
            } else {
                Eligible
            }
        }
        PackageKind::Jumbo { version, take } => {
            if g.version != version {
                NotApplicable(Reason::new(
                    ReasonCode::JumboForOtherVersion,
                    format!("runs {}, the Jumbo is for {version}", g.version),
                ))
            } else {
                match installed.take {
                    Some(have) if have == take => Installed,
                    Some(have) if have > take => NotApplicable(Reason::new(
                        ReasonCode::JumboTakeOlder,
                        format!("runs {installed}, newer than Take {take}"),
                    )),
                    _ => Eligible,
                }
            }
        }
        PackageKind::Hotfix { version } => {
            if g.version != version {
                NotApplicable(Reason::new(
                    ReasonCode::HotfixForOtherVersion,
                    format!("runs {}, the hotfix is for {version}", g.version),
                ))
            } else if g
                .installed_hotfixes
                .iter()
                .any(|h| cpuse_name(h).eq_ignore_ascii_case(&package.cpuse_name()))
            {
                Installed
            } else {
                Eligible
            }
        }
    }
}

/// The eligibility of each member of `cluster`, in member order.
fn cluster_verdict(
    cluster: &Cluster,
    package: &Package,
    options: &GenerateOptions,
) -> Vec<Eligibility> {
    let all_na = |reason: Reason| vec![Eligibility::NotApplicable(reason); cluster.members.len()];
    if !cluster.kind.is_supported() {
        return all_na(Reason::new(
            ReasonCode::UnsupportedClusterKind,
            format!("{} clusters are not supported", cluster.kind),
        ));
    }
    let per_member: Vec<Eligibility> = cluster
        .members
        .iter()
        .map(|m| gateway_eligibility(&m.gateway, package))
        .collect();
    // A member that cannot be reached or is on an unsupported platform makes the whole cluster
    // undeployable: say which member.
    for (member, e) in cluster.members.iter().zip(&per_member) {
        if let Eligibility::NotApplicable(r) = e
            && matches!(
                r.code,
                ReasonCode::Unreachable | ReasonCode::UnsupportedPlatform
            )
        {
            return all_na(Reason::new(
                r.code,
                format!("member {}: {}", member.gateway.name, r.message),
            ));
        }
    }
    if !cluster.has_expected_roles() {
        let roles: Vec<String> = cluster
            .members
            .iter()
            .map(|m| format!("{} {}", m.gateway.name, m.role))
            .collect();
        return all_na(Reason::new(
            ReasonCode::UnexpectedClusterState,
            format!(
                "expected one {} and the other members {}, found {}",
                cluster.kind.last_role(),
                cluster.kind.first_wave_role(),
                roles.join(", ")
            ),
        ));
    }
    // Members that still need the package must all run the same version: a cluster whose
    // first wave is already upgraded (semi-automatic flow, second run) is fine.
    let pending_versions: HashSet<_> = cluster
        .members
        .iter()
        .zip(&per_member)
        .filter(|(_, e)| **e != Eligibility::Installed)
        .map(|(m, _)| m.gateway.installed_version())
        .collect();
    if pending_versions.len() > 1 {
        let versions: Vec<String> = cluster
            .members
            .iter()
            .map(|m| format!("{} {}", m.gateway.name, m.gateway.installed_version()))
            .collect();
        return all_na(Reason::new(
            ReasonCode::MixedVersions,
            format!("members run different versions: {}", versions.join(", ")),
        ));
    }
    if let Some((member, Eligibility::NotApplicable(r))) = cluster
        .members
        .iter()
        .zip(&per_member)
        .find(|(_, e)| matches!(e, Eligibility::NotApplicable(_)))
    {
        return all_na(Reason::new(
            r.code,
            format!("member {}: {}", member.gateway.name, r.message),
        ));
    }
    if let Some(reason) = connectivity_upgrade_problem(cluster, package, options)
        && per_member.contains(&Eligibility::Eligible)
    {
        return all_na(reason);
    }
    per_member
}

/// SPEC 3.3 step 4: Connectivity Upgrade of a VRRP cluster to R77.30 or R80.20 needs
/// `CUSyncForVRRP` and a Jumbo take in the plan (R77.30: 342+, R80.20: 17+).
fn connectivity_upgrade_problem(
    cluster: &Cluster,
    package: &Package,
    options: &GenerateOptions,
) -> Option<Reason> {
    let PackageKind::Upgrade { target, .. } = package.kind else {
        return None;
    };
    if cluster.kind != ClusterKind::Vrrp || !options.connectivity_upgrade {
        return None;
    }
    let min_take = match target {
        Version::R77_30 => 342,
        Version::R80_20 => 17,
        _ => return None,
    };
    let has_jumbo = options.later_packages.iter().any(|p| {
        matches!(p.kind, PackageKind::Jumbo { version, take } if version == target && take >= min_take)
    });
    if options.cu_sync_for_vrrp && has_jumbo {
        return None;
    }
    Some(Reason::new(
        ReasonCode::ConnectivityUpgradeImpossible,
        format!(
            "Connectivity Upgrade of a VRRP cluster to {target} needs CUSyncForVRRP and a {target} Jumbo Take {min_take} or above in the plan; or turn Connectivity Upgrade off"
        ),
    ))
}
