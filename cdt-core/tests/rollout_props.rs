//! Property tests of the rollout over random fleets, plans, settings and fault schedules.
//!
//! Invariants, in words (each a check below):
//! 1. A cluster never has every member out of service. Out of service (SPEC 3.3): installing,
//!    uninstalling or rebooting; admin-down from a failover until its restore succeeded; and,
//!    pessimistically, for ever after such a step failed or the member was unreachable.
//! 2. A cluster's last member (Active, Master, VSLS active member) is never touched before its
//!    whole first wave succeeded.
//! 3. A cluster whose first wave failed stops there: its last member does not succeed. One
//!    whose first wave succeeded completes, unless a step of its own later sequence failed.
//! 4. Batches never overlap and run in ascending order; every step runs inside its batch.
//! 5. No batch starts before the start-not-before time, nor at or after the cut-off.
//! 6. The budget arithmetic holds: the run stops exactly when failures first exceed the budget
//!    (or on cancel), and after that no target starts but the last member of a cluster whose
//!    first wave already succeeded.
//! 7. Every target gets exactly one final status; the totals add up.
//! 8. The same inputs give the same event sequence.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::hash::{Hash, Hasher};
use std::num::NonZeroUsize;

use cdt_core::candidates::CandidatesList;
use cdt_core::formats::plan::{self, Plan};
use cdt_core::model::{MemberRole, Package};
use cdt_core::rollout::{
    Action, Event, FailureBudget, Outcome, Rollout, RolloutSpec, Settings, Status, StatusReason,
    Step, StopReason, Subject, TargetId, Work,
};
use common::drive::{Record, drive_with, t0};
use jiff::{SignedDuration, Timestamp};
use proptest::prelude::*;

const JUMBO: &str = "/p/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz";
const UPGRADE_R82: &str = "/p/Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz";
const UPGRADE_R80_30: &str =
    "/p/Check_Point_R80.30_T200_Fresh_Install_and_Upgrade_Security_Gateway.tgz";

/// (package, version before, version once installed)
const PACKAGES: [(&str, &str, &str); 3] = [
    (JUMBO, "R81.20 Take 41", "R81.20 Take 89"),
    (UPGRADE_R82, "R81.20", "R82"),
    (UPGRADE_R80_30, "R80.10", "R80.30"),
];

#[derive(Debug, Clone)]
struct ClusterCase {
    /// 0 HA, 1 VRRP, 2 VSLS.
    kind: u8,
    members: usize,
    last_at: usize,
    /// 0 all batched, 1 last excluded, 2 first wave installed, 3 some first wave and the last
    /// excluded, 4 all excluded, 5 some first wave installed.
    shape: u8,
    batch: u32,
    mask: u8,
}

#[derive(Debug, Clone)]
struct Case {
    package: usize,
    standalone: Vec<u8>,
    clusters: Vec<ClusterCase>,
    /// (kind, critical, execute_always)
    extra: Vec<(u8, bool, bool)>,
    concurrency: Option<usize>,
    budget: FailureBudget,
    not_before: Option<i64>,
    not_after: Option<i64>,
    pause: bool,
    check_state: bool,
    fault_rate: u8,
    seed: u64,
    cancel_at: Option<usize>,
}

fn cluster_case() -> impl Strategy<Value = ClusterCase> {
    (
        0u8..3,
        2usize..5,
        any::<usize>(),
        0u8..6,
        1u32..4,
        any::<u8>(),
    )
        .prop_map(|(kind, members, last, shape, batch, mask)| {
            let members = if kind == 1 { members.min(3) } else { members };
            ClusterCase {
                kind,
                members,
                last_at: last % members,
                shape,
                batch,
                mask,
            }
        })
}

fn case() -> impl Strategy<Value = Case> {
    let budget = prop_oneof![
        (0usize..4).prop_map(FailureBudget::Count),
        (0u8..=100).prop_map(FailureBudget::Percent),
    ];
    (
        (
            0usize..3,
            prop::collection::vec(0u8..7, 0..8),
            prop::collection::vec(cluster_case(), 0..4),
        ),
        prop::collection::vec((0u8..5, any::<bool>(), any::<bool>()), 0..5),
        (prop::option::of(1usize..4), budget),
        (prop::option::of(0i64..600), prop::option::of(0i64..4000)),
        (
            any::<bool>(),
            any::<bool>(),
            0u8..4,
            any::<u64>(),
            prop::option::weighted(0.2, 0usize..10),
        ),
    )
        .prop_map(
            |(
                (package, standalone, clusters),
                extra,
                (concurrency, budget),
                (not_before, not_after),
                (pause, check_state, fault_rate, seed, cancel_at),
            )| Case {
                package,
                standalone,
                clusters,
                extra,
                concurrency,
                budget,
                not_before,
                not_after,
                pause,
                check_state,
                fault_rate,
                seed,
                cancel_at,
            },
        )
}

impl Case {
    fn csv(&self) -> String {
        let (_, before, after) = PACKAGES[self.package];
        let mut out = String::from(
            "Object Name,Cluster Name,IP Address,Version/JHF Take,State,Upgrade Order\n",
        );
        let mut n = 0u32;
        let mut ip = || {
            n += 1;
            format!("10.{}.{}.{}", n / 65536, (n / 256) % 256, n % 256)
        };
        for (i, o) in self.standalone.iter().enumerate() {
            let (version, order) = match o {
                0..=3 => (before, (1 + o % 3).to_string()),
                4 => (before, "-".to_string()),
                5 => ("R77.30", "N/A".to_string()),
                _ => (after, "Installed".to_string()),
            };
            out.push_str(&format!("s{i},,{},{version},,{order}\n", ip()));
        }
        for (c, cl) in self.clusters.iter().enumerate() {
            let (last_role, first_role) = match cl.kind {
                0 => (MemberRole::Active, MemberRole::Standby),
                1 => (MemberRole::Master, MemberRole::Backup),
                _ => (MemberRole::VslsActiveMember, MemberRole::VslsMember),
            };
            let firsts = cl.members - 1;
            let mut first_index = 0;
            for m in 0..cl.members {
                let last = m == cl.last_at;
                let bit = |k: usize| cl.mask & (1 << (k % 8)) != 0;
                let batch = cl.batch.to_string();
                let (version, order) = if last {
                    match cl.shape {
                        1 | 3 | 4 => (before, "-".to_string()),
                        _ => (before, batch),
                    }
                } else {
                    let k = first_index;
                    first_index += 1;
                    match cl.shape {
                        2 => (after, "Installed".to_string()),
                        3 if bit(k) || k + 1 == firsts => (before, "-".to_string()),
                        4 => (before, "-".to_string()),
                        5 if bit(k) && k + 1 < firsts => (after, "Installed".to_string()),
                        _ => (before, batch),
                    }
                };
                let role = if last { last_role } else { first_role };
                out.push_str(&format!(
                    "c{c}m{m},c{c},{},{version},{role},{order}\n",
                    ip()
                ));
            }
        }
        out
    }

    fn plan(&self) -> Plan {
        let package = PACKAGES[self.package].0;
        let mut steps = Vec::new();
        for (kind, critical, always) in &self.extra {
            let action = match kind {
                0 => plan::Action::ExecuteCommand {
                    command: "fw stat".into(),
                },
                1 => plan::Action::ExecuteScript {
                    path: "/s/x.sh".into(),
                    execute_always: *always,
                },
                2 => plan::Action::CreateSnapshot {
                    name: "s".into(),
                    description: None,
                },
                3 => plan::Action::Reboot,
                _ => plan::Action::SendPackage {
                    path: package.into(),
                },
            };
            let mut step = plan::Step::new(action);
            step.critical = *critical;
            steps.push(step);
        }
        steps.push(plan::Step::new(plan::Action::InstallPackage {
            path: package.into(),
        }));
        let mut plan = Plan::default();
        plan.settings.update_cpuse = Some(self.seed.is_multiple_of(3));
        plan.steps = steps;
        plan
    }

    fn settings(&self) -> Settings {
        let secs = |s: i64| t0() + SignedDuration::from_secs(s);
        Settings {
            concurrency: self.concurrency.and_then(NonZeroUsize::new),
            not_before: self.not_before.map(secs),
            not_after: self.not_after.map(secs),
            failure_budget: self.budget,
            pause_after_batch: self.pause,
            check_state: self.check_state,
        }
    }

    fn rollout(&self) -> Rollout {
        Rollout::new(RolloutSpec {
            list: CandidatesList::parse_csv(&self.csv(), None).unwrap(),
            package: Package::from_path(PACKAGES[self.package].0).unwrap(),
            work: Work::Plan {
                plan: self.plan(),
                cpuse_agent: None,
            },
            settings: self.settings(),
        })
        .unwrap()
    }

    /// Runs the case: outcomes and durations from a hash of the seed, the subject, the step and
    /// how many times that subject ran that step.
    fn run(&self) -> (Rollout, Record) {
        let mut rollout = self.rollout();
        let mut seen: HashMap<(String, &'static str), u32> = HashMap::new();
        let seed = self.seed;
        let rate = u64::from(self.fault_rate);
        let mut decide = |r: &Rollout, a: &Action| {
            let subject = match a.subject {
                Subject::Target(t) => r.targets()[t.0].name.clone(),
                Subject::Cluster(c) => r.cluster_name(c).unwrap().to_string(),
            };
            let n = seen.entry((subject.clone(), a.step.name())).or_default();
            *n += 1;
            let mut h = std::collections::hash_map::DefaultHasher::new();
            (seed, &subject, a.step.name(), *n).hash(&mut h);
            let x = h.finish();
            let roll = x % 100;
            let script = matches!(
                &a.step,
                Step::Run { action, .. } if matches!(**action, plan::Action::ExecuteScript { .. })
            );
            let outcome = if roll < rate * 4 {
                Outcome::Failed("injected".into())
            } else if roll < rate * 5 {
                Outcome::Unreachable("injected".into())
            } else if roll < rate * 6 {
                Outcome::TimedOut
            } else if script && (90..95).contains(&roll) {
                Outcome::Exited(222)
            } else if script && roll >= 95 && rate > 0 {
                Outcome::Exited(1)
            } else {
                Outcome::Ok
            };
            (outcome, 1 + ((x >> 8) % 300) as i64)
        };
        let cancel_at = self.cancel_at;
        let mut started = 0;
        let mut cancel = |e: &Event, _: Timestamp| {
            if matches!(e, Event::TargetStarted { .. }) {
                started += 1;
                return Some(started) == cancel_at;
            }
            false
        };
        let record = drive_with(&mut rollout, &mut decide, &mut cancel, true);
        (rollout, record)
    }
}

fn ok(outcome: &Outcome, step: &Step) -> bool {
    match outcome {
        Outcome::Ok | Outcome::Exited(0) => true,
        Outcome::Exited(222) => matches!(
            step,
            Step::Run { action, .. } if matches!(**action, plan::Action::ExecuteScript { .. })
        ),
        _ => false,
    }
}

/// Does this step put its member out of service while it runs (SPEC 3.3)?
fn takes_out_of_service(step: &Step) -> bool {
    match step {
        Step::Run { action, .. } => matches!(
            **action,
            plan::Action::InstallPackage { .. }
                | plan::Action::UninstallCpusePackage { .. }
                | plan::Action::UninstallLegacyPackage { .. }
                | plan::Action::Reboot
        ),
        Step::Reboot => true,
        _ => false,
    }
}

struct Facts<'a> {
    rollout: &'a Rollout,
    record: &'a Record,
    /// Members of each cluster, by name.
    clusters: BTreeMap<String, Vec<TargetId>>,
}

impl<'a> Facts<'a> {
    fn new(rollout: &'a Rollout, record: &'a Record) -> Self {
        let mut clusters: BTreeMap<String, Vec<TargetId>> = BTreeMap::new();
        for (i, t) in rollout.targets().iter().enumerate() {
            if let Some(c) = t.cluster {
                clusters
                    .entry(rollout.cluster_name(c).unwrap().to_string())
                    .or_default()
                    .push(TargetId(i));
            }
        }
        Facts {
            rollout,
            record,
            clusters,
        }
    }

    fn last_of(&self, members: &[TargetId]) -> TargetId {
        *members
            .iter()
            .find(|t| {
                self.rollout.targets()[t.0]
                    .role
                    .is_some_and(MemberRole::is_last)
            })
            .unwrap()
    }

    fn first_wave(&self, members: &[TargetId]) -> Vec<TargetId> {
        let last = self.last_of(members);
        members
            .iter()
            .copied()
            .filter(|t| *t != last && self.rollout.targets()[t.0].batch.is_some())
            .collect()
    }

    fn status(&self, t: TargetId) -> Status {
        self.rollout.status(t).unwrap().0
    }

    /// Invariant 1.
    fn cluster_always_in_service(&self) -> Result<(), String> {
        let forever = Timestamp::MAX;
        for (name, members) in &self.clusters {
            let mut out: BTreeMap<TargetId, Vec<(Timestamp, Timestamp)>> = BTreeMap::new();
            let mut actions: Vec<_> = self.record.actions.iter().collect();
            actions.sort_by_key(|d| d.action.id);
            for d in &actions {
                let member = match (&d.action.subject, &d.action.step) {
                    (_, Step::Failover { from }) if members.contains(from) => {
                        let restored = actions.iter().find(|r| {
                            r.action.id > d.action.id
                                && r.action.step == Step::Restore
                                && r.action.subject == Subject::Target(*from)
                        });
                        let end = match restored {
                            Some(r) if ok(&r.outcome, &r.action.step) => r.end,
                            _ => forever,
                        };
                        out.entry(*from).or_default().push((d.start, end));
                        continue;
                    }
                    (Subject::Target(t), step) if members.contains(t) => (*t, step),
                    _ => continue,
                };
                let (t, step) = member;
                let unreachable = matches!(d.outcome, Outcome::Unreachable(_));
                if takes_out_of_service(step) || unreachable {
                    let end = if unreachable || !ok(&d.outcome, step) {
                        forever
                    } else {
                        d.end
                    };
                    out.entry(t).or_default().push((d.start, end));
                }
            }
            let points: BTreeSet<Timestamp> = out.values().flatten().map(|(s, _)| *s).collect();
            for p in points {
                let down = members
                    .iter()
                    .filter(|m| {
                        out.get(m)
                            .is_some_and(|iv| iv.iter().any(|(s, e)| *s <= p && p < *e))
                    })
                    .count();
                if down == members.len() {
                    return Err(format!(
                        "cluster {name}: every member out of service at {p}"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Invariants 2 and 3.
    fn last_member_waits_for_its_first_wave(&self) -> Result<(), String> {
        for (name, members) in &self.clusters {
            let last = self.last_of(members);
            let wave = self.first_wave(members);
            let mut succeeded: BTreeSet<TargetId> = BTreeSet::new();
            for e in &self.record.events {
                match e {
                    Event::TargetFinished {
                        target,
                        status: Status::Succeeded,
                        ..
                    } => {
                        succeeded.insert(*target);
                    }
                    Event::StepStarted { action, .. } => {
                        let touches_last = match action.step {
                            Step::Failover { from } => from == last,
                            ref step => action.subject == Subject::Target(last) && step.touches(),
                        };
                        if touches_last && !wave.iter().all(|t| succeeded.contains(t)) {
                            return Err(format!(
                                "cluster {name}: {} touched the last member before its first wave succeeded",
                                action.step.name()
                            ));
                        }
                    }
                    _ => {}
                }
            }
            if self.rollout.targets()[last.0].batch.is_none() {
                continue;
            }
            let wave_ok = wave.iter().all(|t| self.status(*t) == Status::Succeeded);
            let last_status = self.status(last);
            if !wave_ok && last_status == Status::Succeeded {
                return Err(format!(
                    "cluster {name}: first wave failed but the last member succeeded"
                ));
            }
            let batch = self.rollout.targets()[last.0].batch;
            let batch_began =
                self.record.events.iter().any(
                    |e| matches!(e, Event::BatchStarted { batch: b, .. } if Some(*b) == batch),
                );
            if wave_ok && batch_began && last_status != Status::Succeeded {
                // Only a fault in the cluster's own later sequence explains it.
                let cluster_id = self.rollout.targets()[last.0].cluster.unwrap();
                let explained = self.record.actions.iter().any(|d| {
                    let mine = match d.action.subject {
                        Subject::Cluster(c) => c == cluster_id,
                        Subject::Target(t) => {
                            members.contains(&t)
                                && (t == last
                                    || !matches!(
                                        d.action.step,
                                        Step::Run { .. }
                                            | Step::CheckState { .. }
                                            | Step::Reboot
                                            | Step::UpdateCpuse { .. }
                                            | Step::InstallPolicy
                                    ))
                        }
                    };
                    mine && !ok(&d.outcome, &d.action.step)
                });
                if !explained {
                    return Err(format!(
                        "cluster {name}: first wave succeeded but the last member is {last_status:?} without a fault of its own"
                    ));
                }
            }
        }
        Ok(())
    }

    /// Invariants 4 and 5.
    fn batches_in_order_within_the_window(&self, case: &Case) -> Result<(), String> {
        let settings = case.settings();
        let mut open: Option<u32> = None;
        let mut last_number = 0;
        for e in &self.record.events {
            match e {
                Event::BatchStarted { at, batch } => {
                    if open.is_some() || *batch <= last_number {
                        return Err(format!("batch {batch} started out of order"));
                    }
                    if settings.not_after.is_some_and(|cut| *at >= cut) {
                        return Err(format!("batch {batch} started at {at}, after the cut-off"));
                    }
                    if settings.not_before.is_some_and(|start| *at < start) {
                        return Err(format!(
                            "batch {batch} started at {at}, before the start time"
                        ));
                    }
                    open = Some(*batch);
                    last_number = *batch;
                }
                Event::BatchFinished { batch, .. } => {
                    if open != Some(*batch) {
                        return Err(format!("batch {batch} finished without being open"));
                    }
                    open = None;
                }
                Event::StepStarted { action, .. } => {
                    let cluster_batch = |c| {
                        self.rollout
                            .targets()
                            .iter()
                            .find(|t| t.cluster == Some(c) && t.batch.is_some())
                            .and_then(|t| t.batch)
                    };
                    let batch = match action.subject {
                        Subject::Target(t) => match self.rollout.targets()[t.0].cluster {
                            Some(c) => cluster_batch(c),
                            None => self.rollout.targets()[t.0].batch,
                        },
                        Subject::Cluster(c) => cluster_batch(c),
                    };
                    if batch.is_none() || batch != open {
                        return Err(format!("{} ran outside its batch", action.step.name()));
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Invariant 6.
    fn budget_rules(&self, case: &Case) -> Result<(), String> {
        let (mut started, mut failures) = (0usize, 0usize);
        let mut began: BTreeSet<TargetId> = BTreeSet::new();
        let mut stopped = false;
        let mut expect_stop = false;
        let mut wave_done: BTreeSet<TargetId> = BTreeSet::new();
        for e in &self.record.events {
            if expect_stop && !matches!(e, Event::RunStopping { .. }) {
                return Err("the budget was exceeded but the run did not stop".into());
            }
            match e {
                Event::TargetStarted { target, .. } => {
                    started += 1;
                    began.insert(*target);
                    if stopped {
                        let t = &self.rollout.targets()[target.0];
                        let members = t
                            .cluster
                            .map(|c| self.clusters[self.rollout.cluster_name(c).unwrap()].clone());
                        let allowed = members.as_ref().is_some_and(|m| {
                            self.last_of(m) == *target
                                && self.first_wave(m).iter().all(|w| wave_done.contains(w))
                        });
                        if !allowed {
                            return Err(format!("{} started after the run stopped", t.name));
                        }
                    }
                }
                Event::TargetFinished {
                    target,
                    status,
                    reason,
                    ..
                } => {
                    if *status == Status::Succeeded {
                        wave_done.insert(*target);
                    }
                    if matches!(reason, Some(StatusReason::ClusterStepFailed { .. }))
                        && !began.contains(target)
                    {
                        started += 1;
                    }
                    if status.is_failure() {
                        failures += 1;
                        if !stopped && case.budget.is_exceeded(failures, started) {
                            expect_stop = true;
                        }
                    }
                }
                Event::RunStopping { reason, .. } => {
                    if stopped {
                        return Err("stopped twice".into());
                    }
                    match reason {
                        StopReason::FailureBudgetExceeded {
                            failures: f,
                            started: s,
                            allowed,
                        } => {
                            if !expect_stop
                                || *f != failures
                                || *s != started
                                || *allowed != case.budget.allowed(started)
                            {
                                return Err(format!(
                                    "stop {reason:?} does not match failures {failures}, started {started}"
                                ));
                            }
                        }
                        StopReason::Cancelled => {
                            if case.cancel_at.is_none() {
                                return Err("cancelled without a cancel".into());
                            }
                        }
                    }
                    stopped = true;
                    expect_stop = false;
                }
                Event::BatchStarted { batch, .. } if stopped => {
                    return Err(format!("batch {batch} started after the run stopped"));
                }
                _ => {}
            }
        }
        if expect_stop {
            return Err("the budget was exceeded at the end but the run did not stop".into());
        }
        Ok(())
    }

    /// Invariant 7.
    fn every_target_settled_once(&self) -> Result<(), String> {
        let mut finished: BTreeMap<TargetId, usize> = BTreeMap::new();
        for e in &self.record.events {
            if let Event::TargetFinished { target, .. } = e {
                *finished.entry(*target).or_default() += 1;
            }
        }
        let n = self.rollout.targets().len();
        if finished.len() != n || finished.values().any(|&c| c != 1) {
            return Err(format!(
                "{} of {n} targets settled, some more than once",
                finished.len()
            ));
        }
        let t = self.rollout.totals();
        if t.succeeded + t.failed + t.unreachable + t.skipped + t.not_started != n {
            return Err(format!("totals {t:?} do not add up to {n}"));
        }
        if !matches!(self.record.events.last(), Some(Event::RunFinished { .. })) {
            return Err("the last event is not run_finished".into());
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn a_cluster_never_has_every_member_out_of_service(case in case()) {
        let (r, record) = case.run();
        prop_assert!(r.is_finished());
        let facts = Facts::new(&r, &record);
        if let Err(e) = facts.cluster_always_in_service() { prop_assert!(false, "{}", e); }
    }

    #[test]
    fn the_last_member_waits_for_its_whole_first_wave(case in case()) {
        let (r, record) = case.run();
        if let Err(e) = Facts::new(&r, &record).last_member_waits_for_its_first_wave() { prop_assert!(false, "{}", e); }
    }

    #[test]
    fn batches_run_in_order_inside_the_window(case in case()) {
        let (r, record) = case.run();
        if let Err(e) = Facts::new(&r, &record).batches_in_order_within_the_window(&case) { prop_assert!(false, "{}", e); }
    }

    #[test]
    fn the_failure_budget_holds_rule_by_rule(case in case()) {
        let (r, record) = case.run();
        if let Err(e) = Facts::new(&r, &record).budget_rules(&case) { prop_assert!(false, "{}", e); }
    }

    #[test]
    fn every_target_gets_one_final_status(case in case()) {
        let (r, record) = case.run();
        if let Err(e) = Facts::new(&r, &record).every_target_settled_once() { prop_assert!(false, "{}", e); }
    }

    #[test]
    fn the_same_inputs_give_the_same_events(case in case()) {
        let (_, a) = case.run();
        let (_, b) = case.run();
        prop_assert_eq!(a.events, b.events);
    }
}
