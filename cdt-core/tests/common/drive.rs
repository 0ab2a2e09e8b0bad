//! Drives a rollout in virtual time against outcomes a test decides, and records what
//! happened: every action with its start, end and outcome, and every event.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use cdt_core::rollout::{Action, ActionId, Event, Outcome, Rollout};
use jiff::{SignedDuration, Timestamp};

/// One action as it was carried out.
#[derive(Debug, Clone)]
pub struct Done {
    pub action: Action,
    pub start: Timestamp,
    pub end: Timestamp,
    pub outcome: Outcome,
}

/// What a drive produced.
#[derive(Debug, Clone, Default)]
pub struct Record {
    pub actions: Vec<Done>,
    pub events: Vec<Event>,
}

impl Record {
    /// `subject-name:step` for each action in issue order, for readable assertions.
    pub fn steps(&self, rollout: &Rollout) -> Vec<String> {
        let mut actions: Vec<&Done> = self.actions.iter().collect();
        actions.sort_by_key(|d| d.action.id);
        actions
            .into_iter()
            .map(|d| {
                format!(
                    "{}:{}",
                    subject_name(rollout, &d.action),
                    d.action.step.name()
                )
            })
            .collect()
    }
}

/// The name of an action's subject: the target's or the cluster's.
pub fn subject_name(rollout: &Rollout, action: &Action) -> String {
    match action.subject {
        cdt_core::rollout::Subject::Target(t) => rollout.targets()[t.0].name.clone(),
        cdt_core::rollout::Subject::Cluster(c) => {
            rollout.cluster_name(c).unwrap_or("?").to_string()
        }
    }
}

pub fn t0() -> Timestamp {
    "2026-12-01T01:00:00Z".parse().unwrap()
}

/// How the test answers: the outcome of an action and how many seconds it takes.
pub type Decide<'a> = dyn FnMut(&Rollout, &Action) -> (Outcome, i64) + 'a;

/// Runs `rollout` from `t0()` until it finishes: each action's outcome and duration come from
/// `decide`; approvals are given at once when `approve` is set (otherwise the drive ends while
/// the run waits). Panics if the run stalls or exceeds a bound on steps.
pub fn drive(rollout: &mut Rollout, decide: &mut Decide<'_>, approve: bool) -> Record {
    drive_with(rollout, decide, &mut |_, _| false, approve)
}

/// Like [`drive`], and `cancel_when` may cancel the run after any event.
pub fn drive_with(
    rollout: &mut Rollout,
    decide: &mut Decide<'_>,
    cancel_when: &mut dyn FnMut(&Event, Timestamp) -> bool,
    approve: bool,
) -> Record {
    let mut record = Record::default();
    let mut now = t0();
    let mut pending: BinaryHeap<Reverse<(Timestamp, ActionId)>> = BinaryHeap::new();
    let mut in_flight: std::collections::BTreeMap<ActionId, (Action, Timestamp, Outcome)> =
        Default::default();
    rollout.start(now);
    for _ in 0..1_000_000 {
        let mut awaiting = false;
        let mut cancel = false;
        while let Some(event) = rollout.poll_event() {
            awaiting |= matches!(event, Event::AwaitingApproval { .. });
            cancel |= cancel_when(&event, now);
            record.events.push(event);
        }
        while let Some(action) = rollout.poll_action() {
            let (outcome, seconds) = decide(rollout, &action);
            let end = now + SignedDuration::from_secs(seconds.max(0));
            pending.push(Reverse((end, action.id)));
            in_flight.insert(action.id, (action, now, outcome));
        }
        if cancel {
            rollout.cancel(now);
            continue;
        }
        if awaiting {
            if !approve {
                return record;
            }
            rollout.approve(now);
            continue;
        }
        if rollout.is_finished() {
            assert!(pending.is_empty(), "finished with actions in flight");
            return record;
        }
        if let Some(Reverse((end, id))) = pending.pop() {
            now = now.max(end);
            let (action, start, outcome) = in_flight.remove(&id).unwrap();
            rollout.handle_outcome(id, outcome.clone(), now).unwrap();
            record.actions.push(Done {
                action,
                start,
                end: now,
                outcome,
            });
        } else if let Some(wake) = rollout.poll_timeout() {
            assert!(wake > now, "a timeout in the past would loop");
            now = wake;
            rollout.handle_timeout(now);
        } else {
            panic!("the rollout stalled: nothing in flight, not finished");
        }
    }
    panic!("the drive did not end within its bound");
}
