//! The rollout: a pure, deterministic state machine that runs a candidates list.
//!
//! **Contract.** No clock, no I/O, no threads: the rollout is given the current time with every
//! input and never reads one. The same inputs give the same actions and events, in the same
//! order. A caller (the driver, a test, a dry run) pushes inputs in and pulls outputs out:
//!
//! - [`Rollout::start`], [`Rollout::handle_outcome`], [`Rollout::handle_timeout`],
//!   [`Rollout::approve`] and [`Rollout::cancel`] push time and results in;
//! - after each of them, drain [`Rollout::poll_action`] (work to carry out, each answered later
//!   by exactly one `handle_outcome`) and [`Rollout::poll_event`] (what happened);
//! - [`Rollout::poll_timeout`] says when to call `handle_timeout` (the start-not-before time);
//! - [`Rollout::is_finished`] says when every target has its final status.
//!
//! **Order of work** (SPEC 3): batches in ascending order, one at a time; within a batch, every
//! standalone gateway and cluster in parallel, up to [`Settings::concurrency`] targets working
//! at once (a cluster's last member first, then first waves, then standalone gateways, each in
//! list order). A target runs its program: state check, version setting (standalone version
//! upgrades), the CPUSE agent update, the plan (with policy installed after each
//! `install_package`), state check again. A cluster runs its sequence: state check, version
//! setting, the first wave's programs, Connectivity Upgrade (MVC or FCU), the failover away
//! from the Active/Master/VSLS active member, that member's program, bringing it back
//! (`restore`), MVC off, state check again.
//!
//! **Safety rules**, held by construction and checked by property tests: the last member of a
//! cluster is never touched before its whole first wave succeeded; a cluster whose first wave
//! failed stops there (its last member is skipped); a cluster whose first wave succeeded
//! completes, even after the run stopped; at most the first wave or the last member is out of
//! service at a time, so a cluster always keeps a member in service; a failed failover brings
//! the old Active back (`restore`) before the cluster stops. Nothing is rolled back.
//!
//! **Failures** (SPEC 3.4): a failed critical step stops its target's plan (later steps are
//! skipped, except `execute_always` scripts); on a cluster member, every disruptive step is
//! critical whatever the plan says (`iscritical="false"` only applies to standalone gateways
//! and to non-disruptive steps), since a member whose install failed may be out of service; a script's exit status 222 reboots the target,
//! then the plan goes on; an unreachable target ends at once. When the failures exceed the
//! [`FailureBudget`] (default: the first one), the run stops starting new work: no new batch,
//! no new target, no new first-wave member. Work in flight finishes. [`Rollout::cancel`] does
//! the same on request. Targets that never began are `not_started`, with the reason.
//!
//! **Time**: the first batch starts no earlier than [`Settings::not_before`]; no batch starts
//! at or after [`Settings::not_after`] (the cut-off), and a batch that started finishes. With
//! [`Settings::pause_after_batch`], the run waits for [`Rollout::approve`] between batches.
//!
//! ```
//! use cdt_core::candidates::CandidatesList;
//! use cdt_core::formats::plan::Plan;
//! use cdt_core::model::Package;
//! use cdt_core::rollout::{Event, Outcome, Rollout, RolloutSpec, Settings, Work};
//!
//! let list = CandidatesList::parse_csv(
//!     "Object Name,Cluster Name,IP Address,Version/JHF Take,State,Upgrade Order\n\
//!      gw-1,,192.0.2.1,R81.20,,1\n",
//!     None,
//! )?;
//! let plan = Plan::parse(
//!     r#"<CDT_Deployment_Plan><plan_settings><update_cpuse value="false"/></plan_settings>
//!        <install_package path="/p/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz"/>
//!        </CDT_Deployment_Plan>"#,
//!     None,
//! )?;
//! let package = Package::from_path("/p/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz")?;
//! let spec = RolloutSpec {
//!     list,
//!     package,
//!     work: Work::Plan { plan, cpuse_agent: None },
//!     settings: Settings::default(),
//! };
//! let mut rollout = Rollout::new(spec)?;
//! let now = "2026-12-01T01:00:00Z".parse()?;
//! rollout.start(now);
//! let mut steps = Vec::new();
//! while let Some(action) = rollout.poll_action() {
//!     steps.push(action.step.name());
//!     rollout.handle_outcome(action.id, Outcome::Ok, now)?;
//! }
//! assert_eq!(steps, ["check_state", "install_package", "install_policy", "check_state"]);
//! assert!(rollout.is_finished());
//! assert_eq!(rollout.totals().succeeded, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod budget;
mod cluster;
mod spec;
mod target;
mod types;

use std::collections::VecDeque;

use jiff::Timestamp;

pub use budget::FailureBudget;
pub use spec::{BasicWork, RolloutSpec, Settings, Work};
pub use types::{
    Action, ActionId, ClusterId, ConnectivityUpgrade, Event, Outcome, Phase, Status, StatusReason,
    Step, StopReason, Subject, Target, TargetId, Totals,
};

use crate::candidates::UpgradeOrder;
use crate::error::{Error, Result};
use spec::{ClusterPlan, Item, Stage};

/// A cluster as the rollout runs it: its members, first wave and last member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClusterView<'a> {
    /// The cluster object's name.
    pub name: &'a str,
    /// Its kind (from the roles in the list).
    pub kind: crate::model::ClusterKind,
    /// Every member in the list.
    pub members: &'a [TargetId],
    /// Batched members other than the last one.
    pub first_wave: &'a [TargetId],
    /// The member that goes last, when it is batched.
    pub last: Option<TargetId>,
    /// Members that run the new software before the failover (first wave and `Installed`).
    pub upgraded: &'a [TargetId],
}

/// A standalone gateway or a cluster: what a batch is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    Target(TargetId),
    Cluster(ClusterId),
}

#[derive(Debug, Clone)]
struct Batch {
    number: u32,
    units: Vec<Unit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RunPhase {
    NotStarted,
    BatchPending(usize),
    BatchRunning(usize),
    AwaitingApproval(usize),
    Finished,
}

/// Who an action in flight belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Owner {
    /// A step of the target's program.
    Program(TargetId),
    /// A stage of the cluster's sequence.
    Cluster(ClusterId),
}

#[derive(Debug, Clone)]
struct InFlight {
    owner: Owner,
    subject: Subject,
    step: Step,
    critical: bool,
}

/// The actions sent and not yet answered, by id. Ids are issued in increasing order and are
/// mostly answered in about that order, so they are kept in a window of slots that starts at
/// the oldest unanswered id: issuing appends, answering empties a slot, and the window's front
/// moves past the emptied slots. It holds at most the actions issued while its oldest one is
/// in flight.
#[derive(Debug, Clone, Default)]
struct InFlightActions {
    /// The id of the first slot.
    first: u64,
    slots: VecDeque<Option<InFlight>>,
}

impl InFlightActions {
    /// Records `flight` under `id`, which is newer than every id recorded before.
    fn insert(&mut self, id: ActionId, flight: InFlight) {
        debug_assert!(
            self.slots.is_empty() || id.0 >= self.first,
            "action ids are issued in increasing order"
        );
        if self.slots.is_empty() {
            self.first = id.0;
        }
        let Some(at) =
            id.0.checked_sub(self.first)
                .and_then(|at| usize::try_from(at).ok())
        else {
            return;
        };
        while self.slots.len() <= at {
            self.slots.push_back(None);
        }
        if let Some(slot) = self.slots.get_mut(at) {
            *slot = Some(flight);
        }
    }

    /// Takes the action `id` out, if it is in flight.
    fn remove(&mut self, id: ActionId) -> Option<InFlight> {
        let at = usize::try_from(id.0.checked_sub(self.first)?).ok()?;
        let flight = self.slots.get_mut(at)?.take()?;
        while let Some(None) = self.slots.front() {
            self.slots.pop_front();
            self.first += 1;
        }
        Some(flight)
    }
}

/// The deployment state machine. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Rollout {
    targets: Vec<Target>,
    orders: Vec<UpgradeOrder>,
    standalone_program: Vec<Item>,
    member_program: Vec<Item>,
    clusters: Vec<ClusterPlan>,
    settings: Settings,
    package_kind: crate::model::PackageKind,
    batches: Vec<Batch>,
    planned_steps: usize,

    phase: RunPhase,
    runs: Vec<target::TargetRun>,
    cluster_runs: Vec<cluster::ClusterRun>,
    /// The actions sent and not yet answered.
    in_flight: InFlightActions,
    next_action: u64,
    actions: VecDeque<Action>,
    events: VecDeque<Event>,
    stop: Option<StopReason>,
    failures: usize,
    started: usize,
    working: usize,
    totals: Totals,
    /// Scheduling indexes of the running batch, so each input costs time in proportion to
    /// what it changes, not to the batch's size.
    sched: Schedule,
}

impl Schedule {
    /// `t` started or was settled: it is no longer ready.
    fn unready(&mut self, t: TargetId) {
        for priority in 0..=2 {
            self.ready.remove(&(priority, t));
        }
    }
}

/// What the running batch has left to do.
#[derive(Debug, Clone, Default)]
struct Schedule {
    /// Programs that may start: (priority, target). Priority 0: a cluster's last member;
    /// 1: a first-wave member; 2: a standalone gateway. Started or settled ones leave.
    ready: std::collections::BTreeSet<(u8, TargetId)>,
    /// Clusters to advance at the next scheduling pass.
    dirty: std::collections::BTreeSet<ClusterId>,
    /// Units of the batch (standalone gateways and clusters) not finished yet.
    remaining: usize,
}

impl Rollout {
    /// Builds a rollout, refusing inputs its safety rules cannot hold for: a cluster whose
    /// members are in different batches, whose last member is batched while a first-wave
    /// member is excluded, without exactly one Active/Master/VSLS active member, with a member
    /// Down, or whose version upgrade needs a Connectivity Upgrade it cannot do.
    pub fn new(spec: RolloutSpec) -> Result<Rollout> {
        let clusters = spec::clusters(&spec)?;
        let standalone_program = spec::program(&spec, true);
        let member_program = spec::program(&spec, false);
        let rows = &spec.list.rows;
        let mut cluster_of = vec![None; rows.len()];
        for (c, plan) in clusters.iter().enumerate() {
            for t in &plan.members {
                cluster_of[t.0] = Some(ClusterId(c));
            }
        }
        let targets: Vec<Target> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| Target {
                name: r.object_name.clone(),
                cluster: cluster_of[i],
                role: r.state,
                batch: r.order.batch_number(),
            })
            .collect();
        let mut numbers: Vec<u32> = targets.iter().filter_map(|t| t.batch).collect();
        numbers.sort_unstable();
        numbers.dedup();
        let mut batches: Vec<Batch> = numbers
            .iter()
            .map(|&number| Batch {
                number,
                units: Vec::new(),
            })
            .collect();
        let mut placed = vec![false; clusters.len()];
        let mut planned_steps = 0;
        for (i, t) in targets.iter().enumerate() {
            let Some(batch) = t.batch else { continue };
            let index = numbers.partition_point(|&n| n < batch);
            match t.cluster {
                None => {
                    batches[index].units.push(Unit::Target(TargetId(i)));
                    planned_steps += standalone_program.len();
                }
                Some(c) => {
                    planned_steps += member_program.len();
                    if !placed[c.0] {
                        placed[c.0] = true;
                        batches[index].units.push(Unit::Cluster(c));
                        planned_steps += clusters[c.0]
                            .stages
                            .iter()
                            .map(|s| match s {
                                Stage::Cluster(_) => 1,
                                Stage::Members(_, m) => m.len(),
                                Stage::Programs(_) => 0,
                            })
                            .sum::<usize>();
                    }
                }
            }
        }
        Ok(Rollout {
            orders: rows.iter().map(|r| r.order).collect(),
            runs: vec![target::TargetRun::default(); targets.len()],
            cluster_runs: vec![cluster::ClusterRun::default(); clusters.len()],
            targets,
            standalone_program,
            member_program,
            clusters,
            settings: spec.settings,
            package_kind: spec.package.kind,
            batches,
            planned_steps,
            phase: RunPhase::NotStarted,
            in_flight: InFlightActions::default(),
            next_action: 0,
            actions: VecDeque::new(),
            events: VecDeque::new(),
            stop: None,
            failures: 0,
            started: 0,
            working: 0,
            totals: Totals::default(),
            sched: Schedule::default(),
        })
    }

    /// What the package does (install or upgrade; which version).
    pub fn package_kind(&self) -> crate::model::PackageKind {
        self.package_kind
    }

    /// The targets, one per row of the list, indexed by [`TargetId`].
    pub fn targets(&self) -> &[Target] {
        &self.targets
    }

    /// A cluster's name.
    pub fn cluster_name(&self, cluster: ClusterId) -> Option<&str> {
        self.clusters.get(cluster.0).map(|c| c.name.as_str())
    }

    /// A cluster as the rollout runs it.
    pub fn cluster(&self, cluster: ClusterId) -> Option<ClusterView<'_>> {
        self.clusters.get(cluster.0).map(|c| ClusterView {
            name: &c.name,
            kind: c.kind,
            members: &c.members,
            first_wave: &c.first_wave,
            last: c.last,
            upgraded: &c.upgraded,
        })
    }

    /// A target's final status and reason, once it has one.
    pub fn status(&self, target: TargetId) -> Option<(Status, Option<&StatusReason>)> {
        self.runs
            .get(target.0)
            .and_then(|r| r.done.as_ref())
            .map(|(s, r)| (*s, r.as_ref()))
    }

    /// Targets by status so far.
    pub fn totals(&self) -> Totals {
        self.totals
    }

    /// Why the run stopped starting new work, if it did.
    pub fn stop_reason(&self) -> Option<&StopReason> {
        self.stop.as_ref()
    }

    /// Whether every target has its final status and the run is over.
    pub fn is_finished(&self) -> bool {
        self.phase == RunPhase::Finished
    }

    /// Starts the run at `now`: emits `RunStarted`, settles the rows that have no batch, and
    /// starts the first batch unless it must wait. Does nothing if already started.
    pub fn start(&mut self, now: Timestamp) {
        if self.phase != RunPhase::NotStarted {
            return;
        }
        self.events.push_back(Event::RunStarted {
            at: now,
            targets: self.targets.len(),
            batched: self.targets.iter().filter(|t| t.batch.is_some()).count(),
            batches: self.batches.iter().map(|b| b.number).collect(),
            planned_steps: self.planned_steps,
        });
        for i in 0..self.targets.len() {
            let reason = match self.orders[i] {
                UpgradeOrder::Batch(_) => continue,
                UpgradeOrder::Excluded => StatusReason::Excluded,
                UpgradeOrder::NotApplicable => StatusReason::NotApplicable,
                UpgradeOrder::Installed => StatusReason::AlreadyInstalled,
            };
            self.finish_target(TargetId(i), types::Status::Skipped, Some(reason), now);
        }
        self.phase = RunPhase::BatchPending(0);
        self.pump(now);
    }

    /// The next action to carry out, if any. Drain after every input.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<Action> {
        self.actions.pop_front()
    }

    /// The next event, if any. Drain after every input.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// When the rollout wants [`Rollout::handle_timeout`] called: the start-not-before time,
    /// while the first batch waits for it.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        match self.phase {
            RunPhase::BatchPending(_) => self.settings.not_before,
            _ => None,
        }
    }

    /// Time passed: starts a batch that was waiting for the start-not-before time.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.pump(now);
    }

    /// Reports how action `id` ended. Errors (changing nothing) for an unknown action or one
    /// already reported.
    pub fn handle_outcome(&mut self, id: ActionId, outcome: Outcome, now: Timestamp) -> Result<()> {
        let Some(flight) = self.in_flight.remove(id) else {
            return Err(Error::Rollout(format!(
                "outcome for action {} that is not in flight",
                id.0
            )));
        };
        self.events.push_back(Event::StepFinished {
            at: now,
            id,
            subject: flight.subject,
            step: flight.step.name(),
            outcome: outcome.clone(),
        });
        match flight.owner {
            Owner::Program(t) => self.program_outcome(t, &flight, &outcome, now),
            Owner::Cluster(c) => {
                self.sched.dirty.insert(c);
                self.cluster_outcome(c, id, &outcome, now);
            }
        }
        self.pump(now);
        Ok(())
    }

    /// Lets the run go on after a batch, when [`Settings::pause_after_batch`] is set.
    pub fn approve(&mut self, now: Timestamp) {
        if let RunPhase::AwaitingApproval(next) = self.phase {
            self.phase = RunPhase::BatchPending(next);
            self.pump(now);
        }
    }

    /// Stops starting new work, as an exceeded failure budget does: work in flight finishes,
    /// clusters past their first wave complete, everything else is `not_started`.
    pub fn cancel(&mut self, now: Timestamp) {
        if self.stop.is_none() && self.phase != RunPhase::Finished {
            self.set_stop(StopReason::Cancelled, now);
        }
        if let RunPhase::AwaitingApproval(next) = self.phase {
            self.phase = RunPhase::BatchPending(next);
        }
        self.pump(now);
    }

    /// Issues an action: queues it and records it in flight.
    fn issue(
        &mut self,
        owner: Owner,
        subject: Subject,
        step: Step,
        critical: bool,
        now: Timestamp,
    ) -> ActionId {
        let id = ActionId(self.next_action);
        self.next_action += 1;
        let action = Action {
            id,
            subject,
            step: step.clone(),
            critical,
        };
        self.in_flight.insert(
            id,
            InFlight {
                owner,
                subject,
                step,
                critical,
            },
        );
        self.events.push_back(Event::StepStarted {
            at: now,
            action: action.clone(),
        });
        self.actions.push_back(action);
        id
    }

    fn set_stop(&mut self, reason: StopReason, now: Timestamp) {
        self.stop = Some(reason.clone());
        // Every cluster of the running batch looks again: first-wave members that have not
        // begun now never will.
        if let RunPhase::BatchRunning(i) = self.phase {
            for u in &self.batches[i].units {
                if let Unit::Cluster(c) = *u {
                    self.sched.dirty.insert(c);
                }
            }
        }
        self.events
            .push_back(Event::RunStopping { at: now, reason });
    }

    fn stop_status_reason(&self) -> StatusReason {
        match self.stop {
            Some(StopReason::Cancelled) => StatusReason::Cancelled,
            _ => StatusReason::RunStopped,
        }
    }

    /// Gives a target its final status, counts it, and applies the failure budget.
    fn finish_target(
        &mut self,
        t: TargetId,
        status: Status,
        reason: Option<StatusReason>,
        now: Timestamp,
    ) {
        let run = &mut self.runs[t.0];
        if run.done.is_some() {
            return;
        }
        run.done = Some((status, reason.clone()));
        self.totals.add(status);
        self.sched.unready(t);
        match self.targets[t.0].cluster {
            None if self.targets[t.0].batch.is_some() => {
                self.sched.remaining = self.sched.remaining.saturating_sub(1);
            }
            Some(c) => {
                self.sched.dirty.insert(c);
            }
            None => {}
        }
        self.events.push_back(Event::TargetFinished {
            at: now,
            target: t,
            status,
            reason,
        });
        if status.is_failure() {
            self.failures += 1;
            let budget = self.settings.failure_budget;
            if self.stop.is_none() && budget.is_exceeded(self.failures, self.started) {
                let allowed = budget.allowed(self.started);
                self.set_stop(
                    StopReason::FailureBudgetExceeded {
                        failures: self.failures,
                        started: self.started,
                        allowed,
                    },
                    now,
                );
            }
        }
    }

    /// Moves the run forward as far as it can go at `now`.
    fn pump(&mut self, now: Timestamp) {
        loop {
            match self.phase {
                RunPhase::NotStarted | RunPhase::Finished | RunPhase::AwaitingApproval(_) => return,
                RunPhase::BatchPending(i) => {
                    if i >= self.batches.len() {
                        return self.finish_run(now);
                    }
                    if self.stop.is_some() {
                        let reason = self.stop_status_reason();
                        self.abandon_batches(i, &reason, now);
                        return self.finish_run(now);
                    }
                    if self.settings.not_after.is_some_and(|cut| now >= cut) {
                        self.events.push_back(Event::WindowClosed {
                            at: now,
                            batches: self.batches[i..].iter().map(|b| b.number).collect(),
                        });
                        self.abandon_batches(i, &StatusReason::WindowClosed, now);
                        return self.finish_run(now);
                    }
                    if self.settings.not_before.is_some_and(|start| now < start) {
                        return;
                    }
                    self.events.push_back(Event::BatchStarted {
                        at: now,
                        batch: self.batches[i].number,
                    });
                    self.phase = RunPhase::BatchRunning(i);
                    self.sched = Schedule {
                        remaining: self.batches[i].units.len(),
                        ..Schedule::default()
                    };
                    for u in self.batches[i].units.clone() {
                        match u {
                            Unit::Cluster(c) => {
                                self.cluster_runs[c.0].began = true;
                                self.sched.dirty.insert(c);
                            }
                            Unit::Target(t) => {
                                if self.runs[t.0].is_waiting() {
                                    self.sched.ready.insert((2, t));
                                }
                            }
                        }
                    }
                }
                RunPhase::BatchRunning(i) => {
                    self.schedule(now);
                    if !self.batch_done() {
                        return;
                    }
                    self.events.push_back(Event::BatchFinished {
                        at: now,
                        batch: self.batches[i].number,
                    });
                    let next = i + 1;
                    let window_open = self.settings.not_after.is_none_or(|cut| now < cut);
                    if self.settings.pause_after_batch
                        && next < self.batches.len()
                        && self.stop.is_none()
                        && window_open
                    {
                        self.phase = RunPhase::AwaitingApproval(next);
                        self.events.push_back(Event::AwaitingApproval {
                            at: now,
                            next_batch: self.batches[next].number,
                        });
                        return;
                    }
                    self.phase = RunPhase::BatchPending(next);
                }
            }
        }
    }

    /// Starts what can start in the running batch, in priority order, and advances its
    /// clusters.
    fn schedule(&mut self, now: Timestamp) {
        loop {
            let mut progress = false;
            // One pass over the clusters that may move, in list order; a cluster that moved
            // gets another pass.
            let dirty = std::mem::take(&mut self.sched.dirty);
            for c in dirty {
                if self.advance_cluster(c, now) {
                    self.sched.dirty.insert(c);
                    progress = true;
                }
            }
            if self.stop.is_some() {
                let reason = self.stop_status_reason();
                let standalone: Vec<TargetId> = self
                    .sched
                    .ready
                    .iter()
                    .filter(|(p, _)| *p == 2)
                    .map(|(_, t)| *t)
                    .collect();
                for t in standalone {
                    self.finish_target(t, Status::NotStarted, Some(reason.clone()), now);
                    progress = true;
                }
            }
            while self.has_slot() {
                let Some(t) = self.next_program() else {
                    break;
                };
                self.start_program(t, now);
                progress = true;
            }
            if !progress {
                return;
            }
        }
    }

    fn has_slot(&self) -> bool {
        self.settings
            .concurrency
            .is_none_or(|cap| self.working < cap.get())
    }

    /// The next program to start: a cluster's last member, then first-wave members, then
    /// standalone gateways (none of the latter two once the run stopped); list order within.
    fn next_program(&self) -> Option<TargetId> {
        let (priority, t) = *self.sched.ready.first()?;
        (priority == 0 || self.stop.is_none()).then_some(t)
    }

    /// A cluster's programs stage began: its waiting members may start.
    pub(super) fn programs_ready(&mut self, c: ClusterId, ids: &[TargetId]) {
        let priority = if self.is_last_stage(c, ids) { 0 } else { 1 };
        for t in ids {
            if self.runs[t.0].is_waiting() {
                self.sched.ready.insert((priority, *t));
            }
        }
    }

    /// A cluster's sequence ended.
    pub(super) fn cluster_done(&mut self, c: ClusterId) {
        if !self.cluster_runs[c.0].done {
            self.cluster_runs[c.0].done = true;
            if self.cluster_runs[c.0].began {
                self.sched.remaining = self.sched.remaining.saturating_sub(1);
            }
        }
    }

    fn batch_done(&self) -> bool {
        self.sched.remaining == 0
    }

    /// Gives every batched target of batches `from..` that has not begun `reason`.
    fn abandon_batches(&mut self, from: usize, reason: &StatusReason, now: Timestamp) {
        let units: Vec<Unit> = self.batches[from..]
            .iter()
            .flat_map(|b| b.units.iter().copied())
            .collect();
        for u in units {
            match u {
                Unit::Target(t) => {
                    self.finish_target(t, Status::NotStarted, Some(reason.clone()), now)
                }
                Unit::Cluster(c) => {
                    for t in self.batched_members(c) {
                        self.finish_target(t, Status::NotStarted, Some(reason.clone()), now);
                    }
                    self.cluster_done(c);
                }
            }
        }
    }

    fn batched_members(&self, c: ClusterId) -> Vec<TargetId> {
        let plan = &self.clusters[c.0];
        plan.first_wave.iter().copied().chain(plan.last).collect()
    }

    fn finish_run(&mut self, now: Timestamp) {
        // Every target has its status by now; settle any the rules above missed rather than
        // leave a report incomplete.
        for i in 0..self.runs.len() {
            if self.runs[i].done.is_none() {
                let reason = self.stop_status_reason();
                self.finish_target(TargetId(i), Status::NotStarted, Some(reason), now);
            }
        }
        self.phase = RunPhase::Finished;
        self.events.push_back(Event::RunFinished {
            at: now,
            totals: self.totals,
        });
    }
}

#[cfg(test)]
mod in_flight_tests {
    use super::*;

    fn flight(t: usize) -> InFlight {
        InFlight {
            owner: Owner::Program(TargetId(t)),
            subject: Subject::Target(TargetId(t)),
            step: Step::CheckClusterState {
                phase: Phase::Before,
            },
            critical: false,
        }
    }

    #[test]
    fn actions_answered_in_any_order_come_out_once_and_the_window_shrinks_behind_them() {
        let mut in_flight = InFlightActions::default();
        for id in 10..15 {
            in_flight.insert(ActionId(id), flight(usize::try_from(id).unwrap()));
        }
        let owner = |f: Option<InFlight>| f.map(|f| f.owner);
        assert_eq!(
            owner(in_flight.remove(ActionId(12))),
            Some(Owner::Program(TargetId(12)))
        );
        assert_eq!(
            owner(in_flight.remove(ActionId(12))),
            None,
            "answered twice"
        );
        assert_eq!(in_flight.slots.len(), 5, "the oldest is still in flight");
        assert_eq!(
            owner(in_flight.remove(ActionId(10))),
            Some(Owner::Program(TargetId(10)))
        );
        assert_eq!(
            owner(in_flight.remove(ActionId(11))),
            Some(Owner::Program(TargetId(11)))
        );
        assert_eq!((in_flight.first, in_flight.slots.len()), (13, 2));
        assert_eq!(owner(in_flight.remove(ActionId(9))), None, "never issued");
        assert_eq!(owner(in_flight.remove(ActionId(99))), None, "never issued");
        in_flight.insert(ActionId(15), flight(15));
        for id in [14, 13, 15] {
            assert!(in_flight.remove(ActionId(id)).is_some(), "{id}");
        }
        assert!(in_flight.slots.is_empty());
        in_flight.insert(ActionId(20), flight(20));
        assert_eq!((in_flight.first, in_flight.slots.len()), (20, 1));
        assert!(in_flight.remove(ActionId(20)).is_some());
    }
}
