//! What a rollout is given: the list, the package, the work to run on each target, and the
//! settings; and how that becomes each target's program and each cluster's sequence.

use std::num::NonZeroUsize;
use std::path::PathBuf;

use jiff::Timestamp;

use super::budget::FailureBudget;
use super::types::{ConnectivityUpgrade, Phase, Step, TargetId};
use crate::candidates::{CandidatesList, UpgradeOrder};
use crate::error::{Error, Result};
use crate::formats::config::{Mode, PrimaryConfig, UserScript};
use crate::formats::plan::{self, Plan};
use crate::model::{ClusterKind, MemberRole, Package, Version};

/// The work each target runs.
// One value per run: the size difference between the variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    /// Advanced Mode: a deployment plan, and the CPUSE agent the primary configuration names
    /// (for the plan's `update_cpuse`).
    Plan {
        /// The plan.
        plan: Plan,
        /// `<CPUSE>` of the primary configuration, if any.
        cpuse_agent: Option<PathBuf>,
    },
    /// Basic Mode: the built-in sequence of SPEC 3.2 for one package.
    Basic(BasicWork),
}

/// Basic Mode's built-in sequence: pre-installation scripts, CPUSE agent update (when an agent
/// is given), send, import and install the package, make sure policy is installed,
/// post-installation scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BasicWork {
    /// The package (`<PackageToInstall Path>`).
    pub package: PathBuf,
    /// The CPUSE agent (`<CPUSE>`), if any.
    pub cpuse_agent: Option<PathBuf>,
    /// Scripts run first, in order; a blocking one that fails fails its target.
    pub pre_scripts: Vec<UserScript>,
    /// Scripts run last, in order.
    pub post_scripts: Vec<UserScript>,
    /// Whether clusters use Connectivity Upgrade for a version upgrade.
    pub connectivity_upgrade: bool,
}

impl Work {
    /// The work a primary configuration describes: Basic Mode when it has a
    /// `PackageToInstall` (or a pre-installation script), else Advanced Mode with `plan`.
    pub fn from_config(config: &PrimaryConfig, plan: Option<Plan>) -> Result<Work> {
        match (config.mode(), config.package_to_install.as_ref(), plan) {
            (Mode::Basic, Some(p), _) => Ok(Work::Basic(BasicWork {
                package: p.path.clone(),
                cpuse_agent: config.cpuse.clone(),
                pre_scripts: config.pre_installation_scripts.clone(),
                post_scripts: config.post_installation_scripts.clone(),
                connectivity_upgrade: config.connectivity_upgrade(),
            })),
            (Mode::Basic, None, _) => Err(Error::Rollout(
                "Basic Mode needs a <PackageToInstall> in the primary configuration".into(),
            )),
            (Mode::Advanced, _, Some(plan)) => Ok(Work::Plan {
                plan,
                cpuse_agent: config.cpuse.clone(),
            }),
            (Mode::Advanced, _, None) => Err(Error::Rollout(
                "Advanced Mode (no <PackageToInstall>) needs a deployment plan".into(),
            )),
        }
    }

    /// Whether clusters use Connectivity Upgrade for a version upgrade.
    pub fn connectivity_upgrade(&self) -> bool {
        match self {
            Work::Plan { plan, .. } => plan.settings.connectivity_upgrade(),
            Work::Basic(b) => b.connectivity_upgrade,
        }
    }

    /// The work's own items, without state checks and version setting.
    fn items(&self) -> Vec<Item> {
        let mut items = Vec::new();
        let run = |index, action: plan::Action, critical, always| Item {
            step: Step::Run {
                index,
                action: std::sync::Arc::new(action),
            },
            critical,
            always,
            needs_previous_ok: false,
        };
        let push_run = |items: &mut Vec<Item>, index, action: plan::Action, critical: bool| {
            let install = matches!(action, plan::Action::InstallPackage { .. });
            let always = matches!(
                action,
                plan::Action::ExecuteScript {
                    execute_always: true,
                    ..
                }
            );
            items.push(run(index, action, critical, always));
            if install {
                items.push(Item {
                    step: Step::InstallPolicy,
                    critical,
                    always: false,
                    needs_previous_ok: true,
                });
            }
        };
        let script = |s: &UserScript| plan::Action::ExecuteScript {
            path: s.path.clone(),
            execute_always: false,
        };
        match self {
            Work::Plan { plan, cpuse_agent } => {
                if plan.settings.update_cpuse() {
                    items.push(Item::critical(Step::UpdateCpuse {
                        agent: cpuse_agent.clone(),
                    }));
                }
                for (i, step) in plan.steps.iter().enumerate() {
                    push_run(&mut items, Some(i), step.action.clone(), step.critical);
                }
            }
            Work::Basic(b) => {
                for s in &b.pre_scripts {
                    push_run(&mut items, None, script(s), s.is_blocking);
                }
                if let Some(agent) = &b.cpuse_agent {
                    items.push(Item::critical(Step::UpdateCpuse {
                        agent: Some(agent.clone()),
                    }));
                }
                let path = b.package.clone();
                push_run(
                    &mut items,
                    None,
                    plan::Action::SendPackage { path: path.clone() },
                    true,
                );
                push_run(
                    &mut items,
                    None,
                    plan::Action::ImportPackage { path: path.clone() },
                    true,
                );
                push_run(
                    &mut items,
                    None,
                    plan::Action::InstallPackage { path },
                    true,
                );
                for s in &b.post_scripts {
                    push_run(&mut items, None, script(s), s.is_blocking);
                }
            }
        }
        items
    }
}

/// How a run is paced and when it stops.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    /// At most this many targets work at once (cluster-level steps do not count); `None`: no cap.
    pub concurrency: Option<NonZeroUsize>,
    /// The first batch does not start before this time.
    pub not_before: Option<Timestamp>,
    /// The cut-off: no batch starts at or after this time (a started batch finishes).
    pub not_after: Option<Timestamp>,
    /// How many failures the run tolerates before it stops starting new work.
    pub failure_budget: FailureBudget,
    /// Wait for [`super::Rollout::approve`] after each batch but the last.
    pub pause_after_batch: bool,
    /// Check each target's state before and after its work (default true).
    pub check_state: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            concurrency: None,
            not_before: None,
            not_after: None,
            failure_budget: FailureBudget::default(),
            pause_after_batch: false,
            check_state: true,
        }
    }
}

/// Everything a rollout needs.
#[derive(Debug, Clone)]
pub struct RolloutSpec {
    /// The candidates list, validated against the generated one.
    pub list: CandidatesList,
    /// The package the list was generated for (its kind decides version setting and
    /// Connectivity Upgrade).
    pub package: Package,
    /// What each target runs.
    pub work: Work,
    /// Pacing and stop rules.
    pub settings: Settings,
}

impl RolloutSpec {
    /// An Advanced-mode run: `plan` on every target of `list`, generated for `package`, no
    /// CPUSE agent update, default settings.
    pub fn with_plan(
        list: CandidatesList,
        package: Package,
        plan: crate::formats::plan::Plan,
    ) -> RolloutSpec {
        RolloutSpec {
            list,
            package,
            work: Work::Plan {
                plan,
                cpuse_agent: None,
            },
            settings: Settings::default(),
        }
    }

    /// The run the faces of cdt build from what their users give: `list` with a `plan`
    /// (Advanced Mode) or a `config` (Basic Mode, or Advanced with `plan`), for `package`,
    /// or, without it, the first package the plan (or the Basic-mode configuration) installs,
    /// looked up in `inventory`'s packages.
    pub fn build(
        inventory: &crate::model::Inventory,
        list: CandidatesList,
        plan: Option<Plan>,
        config: Option<&PrimaryConfig>,
        package: Option<Package>,
        settings: Settings,
    ) -> Result<RolloutSpec> {
        let work = match (config, plan) {
            (Some(c), plan) => Work::from_config(c, plan)?,
            (None, Some(plan)) => Work::Plan {
                plan,
                cpuse_agent: None,
            },
            (None, None) => {
                return Err(Error::Rollout(
                    "give a plan, or a configuration (Basic Mode, or with a plan)".into(),
                ));
            }
        };
        let package = match package {
            Some(p) => p,
            None => {
                let path = match &work {
                    Work::Plan { plan, .. } => {
                        plan.first_package().map(std::path::Path::to_path_buf)
                    }
                    Work::Basic(b) => Some(b.package.clone()),
                };
                let path = path.ok_or_else(|| {
                    Error::Rollout("the plan installs no package: give the package".into())
                })?;
                inventory.resolve_package(&path)?
            }
        };
        Ok(RolloutSpec {
            list,
            package,
            work,
            settings,
        })
    }
}

/// One entry of a target's program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) step: Step,
    pub(crate) critical: bool,
    /// Runs even after an earlier critical failure (`execute_always`).
    pub(crate) always: bool,
    /// Skipped when the item before it failed (policy after a failed install).
    pub(crate) needs_previous_ok: bool,
}

impl Item {
    fn critical(step: Step) -> Item {
        Item {
            step,
            critical: true,
            always: false,
            needs_previous_ok: false,
        }
    }
}

/// A target's program: the same for every standalone gateway, and for every cluster member
/// (where disruptive steps are always critical).
pub(crate) fn program(spec: &RolloutSpec, standalone: bool) -> Vec<Item> {
    let mut items = Vec::new();
    if spec.settings.check_state {
        items.push(Item::critical(Step::CheckState {
            phase: Phase::Before,
        }));
    }
    if standalone && spec.package.kind.is_version_upgrade() {
        items.push(Item::critical(Step::SetVersion {
            version: spec.package.kind.resulting_version(),
        }));
    }
    let work = spec.work.items().into_iter().map(|mut item| {
        // On a cluster member every disruptive step is critical, whatever the plan says: the
        // last member is only touched once its whole first wave succeeded, and a member whose
        // install (or reboot, script, command) failed may be out of service.
        if !standalone && item.step.touches() {
            item.critical = true;
        }
        item
    });
    items.extend(work);
    if spec.settings.check_state {
        items.push(Item::critical(Step::CheckState {
            phase: Phase::After,
        }));
    }
    items
}

/// One stage of a cluster's sequence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Stage {
    /// One cluster-level action.
    Cluster(Step),
    /// The same step on several members at once.
    Members(Step, Vec<TargetId>),
    /// These members' programs (in parallel, within the concurrency cap).
    Programs(Vec<TargetId>),
}

/// A cluster as the rollout runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ClusterPlan {
    pub(crate) name: String,
    pub(crate) kind: ClusterKind,
    pub(crate) members: Vec<TargetId>,
    /// Batched members other than the last one.
    pub(crate) first_wave: Vec<TargetId>,
    /// The member that goes last, when it is batched.
    pub(crate) last: Option<TargetId>,
    /// Members running the new software before the failover (first wave and `Installed`).
    pub(crate) upgraded: Vec<TargetId>,
    pub(crate) batch: Option<u32>,
    pub(crate) stages: Vec<Stage>,
}

/// Groups the list's cluster rows, checks the rules the rollout's safety rests on, and lays
/// out each cluster's sequence (SPEC 3.3).
pub(crate) fn clusters(spec: &RolloutSpec) -> Result<Vec<ClusterPlan>> {
    let rows = &spec.list.rows;
    // Clusters in the order the list first names them, each with its members in list order.
    let mut groups: Vec<(&str, Vec<TargetId>)> = Vec::new();
    let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for (i, row) in rows.iter().enumerate() {
        if let Some(c) = row.cluster_name.as_deref() {
            let g = *index.entry(c).or_insert_with(|| {
                groups.push((c, Vec::new()));
                groups.len() - 1
            });
            groups[g].1.push(TargetId(i));
        }
    }
    let upgrade = spec.package.kind.is_version_upgrade();
    let target_version = spec.package.kind.resulting_version();
    let mut plans = Vec::with_capacity(groups.len());
    for (name, members) in groups {
        let refuse = |message: String| Error::Rollout(format!("cluster {name}: {message}"));
        let lasts: Vec<TargetId> = members
            .iter()
            .copied()
            .filter(|t| rows[t.0].state.is_some_and(MemberRole::is_last))
            .collect();
        let batched: Vec<TargetId> = members
            .iter()
            .copied()
            .filter(|t| rows[t.0].order.batch_number().is_some())
            .collect();
        let mut batches: Vec<u32> = batched
            .iter()
            .filter_map(|t| rows[t.0].order.batch_number())
            .collect();
        batches.dedup();
        if batches.len() > 1 {
            return Err(refuse("members are in different batches".into()));
        }
        if batched.is_empty() {
            plans.push(ClusterPlan {
                name: name.to_string(),
                kind: ClusterKind::ClusterXlHa,
                members,
                first_wave: Vec::new(),
                last: None,
                upgraded: Vec::new(),
                batch: None,
                stages: Vec::new(),
            });
            continue;
        }
        let [last_member] = lasts[..] else {
            return Err(refuse(format!(
                "expected exactly one Active, Master or VSLS active member, found {}",
                lasts.len()
            )));
        };
        let kind = match rows[last_member.0].state {
            Some(MemberRole::Master) => ClusterKind::Vrrp,
            Some(MemberRole::VslsActiveMember) => ClusterKind::VsxVsls,
            _ => ClusterKind::ClusterXlHa,
        };
        for t in &members {
            if let Some(role) = rows[t.0].state
                && (!kind.allows_role(role) || role == MemberRole::Down)
            {
                return Err(refuse(format!(
                    "member {} is {role}, not a role a {kind} cluster can be upgraded from",
                    rows[t.0].object_name
                )));
            }
        }
        let last = batched.contains(&last_member).then_some(last_member);
        let first_wave: Vec<TargetId> = batched
            .iter()
            .copied()
            .filter(|t| *t != last_member)
            .collect();
        if last.is_some()
            && members
                .iter()
                .any(|t| *t != last_member && rows[t.0].order == UpgradeOrder::Excluded)
        {
            return Err(refuse(
                "a first-wave member is excluded while the last member is batched".into(),
            ));
        }
        // Members that will run the new software before the failover: the first wave, and
        // members that already have the package.
        let upgraded: Vec<TargetId> = members
            .iter()
            .copied()
            .filter(|t| {
                *t != last_member
                    && (first_wave.contains(t) || rows[t.0].order == UpgradeOrder::Installed)
            })
            .collect();
        let cu = if !upgrade || !spec.work.connectivity_upgrade() {
            ConnectivityUpgrade::Off
        } else if target_version >= Version::R80_40 {
            let source = rows[last_member.0].version.version;
            if source < Version::R80_10 {
                return Err(refuse(format!(
                    "Multi-Version Cluster upgrade needs members on R80.10 or newer, they run {source}; turn Connectivity Upgrade off"
                )));
            }
            ConnectivityUpgrade::Mvc
        } else {
            ConnectivityUpgrade::Fcu
        };
        let check = spec.settings.check_state;
        let mut stages = Vec::new();
        if check {
            stages.push(Stage::Cluster(Step::CheckClusterState {
                phase: Phase::Before,
            }));
        }
        if upgrade {
            stages.push(Stage::Cluster(Step::SetVersion {
                version: target_version,
            }));
        }
        if !first_wave.is_empty() {
            stages.push(Stage::Programs(first_wave.clone()));
        }
        if let Some(last) = last {
            if upgraded.is_empty() {
                return Err(refuse(
                    "no member would be upgraded before the last one: nothing to fail over to"
                        .into(),
                ));
            }
            match cu {
                ConnectivityUpgrade::Mvc => {
                    stages.push(Stage::Members(Step::MvcOn, upgraded.clone()))
                }
                ConnectivityUpgrade::Fcu => {
                    stages.push(Stage::Members(Step::CuStart, upgraded.clone()));
                }
                ConnectivityUpgrade::Off => {}
            }
            stages.push(Stage::Cluster(Step::Failover { from: last }));
            stages.push(Stage::Programs(vec![last]));
            stages.push(Stage::Members(Step::Restore, vec![last]));
            if cu == ConnectivityUpgrade::Mvc {
                stages.push(Stage::Members(Step::MvcOff, members.clone()));
            }
            if check {
                stages.push(Stage::Cluster(Step::CheckClusterState {
                    phase: Phase::After,
                }));
            }
        }
        plans.push(ClusterPlan {
            name: name.to_string(),
            kind,
            members,
            first_wave,
            last,
            upgraded,
            batch: batches.first().copied(),
            stages,
        });
    }
    Ok(plans)
}
