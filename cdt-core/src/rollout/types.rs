//! The vocabulary of the rollout: targets, steps, actions, outcomes, statuses and events.

use std::fmt;
use std::path::PathBuf;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::formats::plan;
use crate::model::{MemberRole, Version};

/// A target: the index of its row in the candidates list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct TargetId(pub usize);

/// A cluster: its index among the clusters of the list, in order of first appearance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ClusterId(pub usize);

/// An action's identity, unique within one rollout, increasing in the order actions are issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ActionId(pub u64);

/// Before or after the work, for state checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Before the plan runs.
    Before,
    /// After the plan ran.
    After,
}

/// How a cluster's members keep connections across the failover of a version upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConnectivityUpgrade {
    /// No connection sync: a hotfix, or Connectivity Upgrade turned off.
    Off,
    /// Multi-Version Cluster (targets R80.40 and newer, sources R80.10 and newer).
    Mvc,
    /// Full Connectivity Upgrade (targets R80.30 and older).
    Fcu,
}

/// What one action does. Steps on a target run on that gateway; cluster steps concern the
/// cluster object or its failover. The Gaia vocabulary turns each into commands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    /// Target: the gateway answers and its processes are up (`cpwd_admin list`); after the
    /// plan, every process that was up before is up again.
    CheckState {
        /// Before or after the plan.
        phase: Phase,
    },
    /// Target (standalone) or cluster: set the new version on the object in the management
    /// database and prepare its Access Control policy (version upgrades only).
    SetVersion {
        /// The version being installed.
        version: Version,
    },
    /// Target: update the CPUSE agent before any other action.
    UpdateCpuse {
        /// The agent package, when the configuration names one.
        agent: Option<PathBuf>,
    },
    /// Target: one action of the plan (or of Basic Mode's built-in sequence).
    Run {
        /// Its position in the plan, or `None` for a Basic-mode step.
        index: Option<usize>,
        /// The action, shared: a step is cloned into the action sent, its event and the
        /// rollout's record of what is in flight.
        action: std::sync::Arc<plan::Action>,
    },
    /// Target: make sure Access Control (and Threat Prevention) policy is installed, after an
    /// install.
    InstallPolicy,
    /// Target: reboot and wait until it is back (a script exited 222).
    Reboot,
    /// Cluster: exactly the expected roles and healthy sync.
    CheckClusterState {
        /// Before the first wave, or after the last member.
        phase: Phase,
    },
    /// Target (an upgraded member): `cphaconf mvc on`, then wait until it is Standby.
    MvcOn,
    /// Target (an upgraded member): `cphacu start`, then wait until it is ready for failover.
    CuStart,
    /// Cluster: take `from` (the Active, Master or VSLS active member) out of service
    /// (`clusterXL_admin down`, not persistent) and wait until an upgraded member is active.
    Failover {
        /// The member that goes last.
        from: TargetId,
    },
    /// Target (the former Active): bring it back into service (`clusterXL_admin up`).
    Restore,
    /// Target: `cphaconf mvc off`, once every member runs the new version.
    MvcOff,
}

impl Step {
    /// The step's name in reports: the plan's element name for a plan action, otherwise
    /// `check_state`, `set_version`, `update_cpuse`, `install_policy`, `reboot`,
    /// `check_cluster_state`, `mvc_on`, `cu_start`, `failover`, `restore`, `mvc_off`.
    pub fn name(&self) -> &'static str {
        match self {
            Step::CheckState { .. } => "check_state",
            Step::SetVersion { .. } => "set_version",
            Step::UpdateCpuse { .. } => "update_cpuse",
            Step::Run { action, .. } => action.element_name(),
            Step::InstallPolicy => "install_policy",
            Step::Reboot => "reboot",
            Step::CheckClusterState { .. } => "check_cluster_state",
            Step::MvcOn => "mvc_on",
            Step::CuStart => "cu_start",
            Step::Failover { .. } => "failover",
            Step::Restore => "restore",
            Step::MvcOff => "mvc_off",
        }
    }

    /// Whether the step *touches* the member it runs on (SPEC 3.3): installs, uninstalls,
    /// reboots, scripts, commands, `clusterXL_admin`, `cphaconf`, `cphacu` and failovers do;
    /// reading state, copying, importing, snapshots and management steps do not.
    pub fn touches(&self) -> bool {
        match self {
            Step::Run { action, .. } => action.is_disruptive(),
            Step::Reboot
            | Step::MvcOn
            | Step::CuStart
            | Step::Failover { .. }
            | Step::Restore
            | Step::MvcOff => true,
            Step::CheckState { .. }
            | Step::SetVersion { .. }
            | Step::UpdateCpuse { .. }
            | Step::InstallPolicy
            | Step::CheckClusterState { .. } => false,
        }
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What an action is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    /// A gateway or cluster member.
    Target(TargetId),
    /// A cluster as a whole (its object, its state, its failover).
    Cluster(ClusterId),
}

/// Work the caller must carry out, then report with [`crate::rollout::Rollout::handle_outcome`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Action {
    /// Its identity, to report the outcome.
    pub id: ActionId,
    /// What it is about.
    pub subject: Subject,
    /// What to do.
    pub step: Step,
    /// Whether a failure stops the target's plan.
    pub critical: bool,
}

/// How an action ended, as the caller observed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", content = "detail", rename_all = "snake_case")]
pub enum Outcome {
    /// It did what it should.
    Ok,
    /// A script or command ran and exited with this status: for `execute_script`, 0 is
    /// success, 222 means "reboot, then continue", anything else a failure; for other steps
    /// only 0 is success.
    Exited(i32),
    /// It failed (the message says why).
    Failed(String),
    /// It did not finish within its timeout.
    TimedOut,
    /// The target could not be reached, or was lost for longer than its timeout.
    Unreachable(String),
}

impl Outcome {
    /// The report's word for a finished step: `ok`, `failed` or `timed_out` (an unreachable
    /// target's step is `failed`).
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Ok | Outcome::Exited(0) => "ok",
            Outcome::TimedOut => "timed_out",
            Outcome::Exited(_) | Outcome::Failed(_) | Outcome::Unreachable(_) => "failed",
        }
    }
}

/// The final state of a target (SPEC 3.4): kept apart in every count and report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Every critical step succeeded.
    Succeeded,
    /// A critical step failed.
    Failed,
    /// It could not be reached, or was lost for longer than its timeout.
    Unreachable,
    /// Excluded, not applicable, already installed, or its cluster stopped.
    Skipped,
    /// The run stopped or the window closed before it began.
    NotStarted,
}

impl Status {
    /// Its word in reports: `succeeded`, `failed`, `unreachable`, `skipped`, `not_started`.
    pub fn word(self) -> &'static str {
        match self {
            Status::Succeeded => "succeeded",
            Status::Failed => "failed",
            Status::Unreachable => "unreachable",
            Status::Skipped => "skipped",
            Status::NotStarted => "not_started",
        }
    }

    /// Whether this status counts against the failure budget (failed and unreachable do).
    pub fn is_failure(self) -> bool {
        matches!(self, Status::Failed | Status::Unreachable)
    }
}

/// Why a target ended as it did (a stable code in reports).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum StatusReason {
    /// `-` in the list.
    Excluded,
    /// `N/A` in the list.
    NotApplicable,
    /// `Installed` in the list.
    AlreadyInstalled,
    /// A critical step failed.
    StepFailed {
        /// The step's name.
        step: String,
    },
    /// A step found the target unreachable.
    Unreachable {
        /// The step's name.
        step: String,
    },
    /// A step of its cluster's sequence failed (state check, version, MVC, failover…).
    ClusterStepFailed {
        /// The step's name.
        step: String,
    },
    /// Its cluster stopped before reaching it (its first wave failed).
    ClusterStopped,
    /// The cut-off passed before its batch began.
    WindowClosed,
    /// The failure budget was exceeded before it began.
    RunStopped,
    /// The run was cancelled before it began.
    Cancelled,
}

impl StatusReason {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            StatusReason::Excluded => "excluded",
            StatusReason::NotApplicable => "not_applicable",
            StatusReason::AlreadyInstalled => "already_installed",
            StatusReason::StepFailed { .. } => "step_failed",
            StatusReason::Unreachable { .. } => "unreachable",
            StatusReason::ClusterStepFailed { .. } => "cluster_step_failed",
            StatusReason::ClusterStopped => "cluster_stopped",
            StatusReason::WindowClosed => "window_closed",
            StatusReason::RunStopped => "run_stopped",
            StatusReason::Cancelled => "cancelled",
        }
    }
}

/// Why a run stopped starting new work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum StopReason {
    /// More targets failed than the budget allows.
    FailureBudgetExceeded {
        /// Failed or unreachable targets.
        failures: usize,
        /// Targets started so far.
        started: usize,
        /// Failures allowed at that point.
        allowed: usize,
    },
    /// The caller cancelled the run.
    Cancelled,
}

/// Counts of targets by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Succeeded.
    pub succeeded: usize,
    /// Failed.
    pub failed: usize,
    /// Unreachable.
    pub unreachable: usize,
    /// Skipped.
    pub skipped: usize,
    /// Not started.
    pub not_started: usize,
}

impl Totals {
    pub(crate) fn add(&mut self, status: Status) {
        match status {
            Status::Succeeded => self.succeeded += 1,
            Status::Failed => self.failed += 1,
            Status::Unreachable => self.unreachable += 1,
            Status::Skipped => self.skipped += 1,
            Status::NotStarted => self.not_started += 1,
        }
    }
}

/// What happened, in order: for progress displays, logs and reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The run began: totals known up front.
    RunStarted {
        /// When.
        at: Timestamp,
        /// Rows in the list.
        targets: usize,
        /// Targets with a batch number.
        batched: usize,
        /// The batch numbers, ascending.
        batches: Vec<u32>,
        /// Steps planned if nothing fails (reboots after exit 222 come on top).
        planned_steps: usize,
    },
    /// A batch began.
    BatchStarted {
        /// When.
        at: Timestamp,
        /// Its number.
        batch: u32,
    },
    /// Every target of a batch finished.
    BatchFinished {
        /// When.
        at: Timestamp,
        /// Its number.
        batch: u32,
    },
    /// The run waits for [`crate::rollout::Rollout::approve`] before the next batch.
    AwaitingApproval {
        /// When.
        at: Timestamp,
        /// The batch that would start next.
        next_batch: u32,
    },
    /// The cut-off passed: no further batch starts.
    WindowClosed {
        /// When.
        at: Timestamp,
        /// The batches that will not run.
        batches: Vec<u32>,
    },
    /// Work on a target began.
    TargetStarted {
        /// When.
        at: Timestamp,
        /// The target.
        target: TargetId,
    },
    /// An action was issued.
    StepStarted {
        /// When.
        at: Timestamp,
        /// The action.
        action: Action,
    },
    /// An action's outcome was reported.
    StepFinished {
        /// When.
        at: Timestamp,
        /// The action.
        id: ActionId,
        /// What it was about.
        subject: Subject,
        /// Its step's name.
        step: &'static str,
        /// How it ended.
        outcome: Outcome,
    },
    /// A step of a target's program did not run: an earlier critical step failed (or, for a
    /// policy install, the install before it failed).
    StepSkipped {
        /// When.
        at: Timestamp,
        /// The target.
        target: TargetId,
        /// The step's name.
        step: &'static str,
    },
    /// A target reached its final status.
    TargetFinished {
        /// When.
        at: Timestamp,
        /// The target.
        target: TargetId,
        /// Its status.
        status: Status,
        /// Why, unless it simply succeeded.
        reason: Option<StatusReason>,
    },
    /// A cluster's sequence stopped early; its remaining members will not be touched.
    ClusterStopped {
        /// When.
        at: Timestamp,
        /// The cluster.
        cluster: ClusterId,
        /// The step that failed.
        step: &'static str,
    },
    /// Nothing new starts any more; work in flight finishes (see the stop rules).
    RunStopping {
        /// When.
        at: Timestamp,
        /// Why.
        reason: StopReason,
    },
    /// The run is over: every target has its final status.
    RunFinished {
        /// When.
        at: Timestamp,
        /// Targets by status.
        totals: Totals,
    },
}

/// A row of the list as the rollout sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Target {
    /// The object name.
    pub name: String,
    /// Its cluster, if it is a member.
    pub cluster: Option<ClusterId>,
    /// Its role, if it is a member.
    pub role: Option<MemberRole>,
    /// Its batch, if it has one.
    pub batch: Option<u32>,
}
