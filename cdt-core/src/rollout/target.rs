//! A target's program: its steps one after another, with the failure rules of SPEC 3.4.

use jiff::Timestamp;

use super::spec::Item;
use super::types::{Outcome, Status, StatusReason, Step, Subject, TargetId};
use super::{InFlight, Owner, Rollout};
use crate::formats::plan;

/// Where a target's program is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) enum ProgramState {
    /// Not begun.
    #[default]
    Waiting,
    /// A step is in flight.
    Running,
    /// The program ended (its result is known).
    Ended,
}

/// The progress of one target.
#[derive(Debug, Clone, Default)]
pub(super) struct TargetRun {
    pub(super) state: ProgramState,
    /// The next item of the program.
    pc: usize,
    /// The first critical failure; later items run only if `execute_always`.
    failure: Option<StatusReason>,
    /// Whether the last step succeeded (policy is installed only after a successful install).
    previous_ok: bool,
    /// A script exited 222: reboot before the next item.
    reboot_next: bool,
    /// How the program ended.
    pub(super) result: Option<(Status, Option<StatusReason>)>,
    /// The final status (for a cluster's last member, only once its cluster's sequence ended).
    pub(super) done: Option<(Status, Option<StatusReason>)>,
}

impl TargetRun {
    /// Whether the program could still start.
    pub(super) fn is_waiting(&self) -> bool {
        self.state == ProgramState::Waiting && self.done.is_none()
    }

    /// Whether the program ended successfully.
    pub(super) fn succeeded(&self) -> bool {
        matches!(self.result, Some((Status::Succeeded, _)))
    }
}

/// How a step's outcome counts.
enum Verdict {
    Ok,
    RebootThenContinue,
    Failed,
    Unreachable,
}

fn verdict(step: &Step, outcome: &Outcome) -> Verdict {
    match outcome {
        Outcome::Ok | Outcome::Exited(0) => Verdict::Ok,
        Outcome::Exited(222)
            if matches!(
                step,
                Step::Run { action, .. } if matches!(**action, plan::Action::ExecuteScript { .. })
            ) =>
        {
            Verdict::RebootThenContinue
        }
        Outcome::Unreachable(_) => Verdict::Unreachable,
        Outcome::Exited(_) | Outcome::Failed(_) | Outcome::TimedOut => Verdict::Failed,
    }
}

impl Rollout {
    fn program_of(&self, t: TargetId) -> &[Item] {
        if self.targets[t.0].cluster.is_some() {
            &self.member_program
        } else {
            &self.standalone_program
        }
    }

    /// Begins a target's program.
    pub(super) fn start_program(&mut self, t: TargetId, now: Timestamp) {
        self.sched.unready(t);
        self.runs[t.0].state = ProgramState::Running;
        self.started += 1;
        self.working += 1;
        self.events
            .push_back(super::Event::TargetStarted { at: now, target: t });
        self.next_step(t, now);
    }

    /// Issues the target's next step, or ends its program.
    fn next_step(&mut self, t: TargetId, now: Timestamp) {
        loop {
            if self.runs[t.0].reboot_next {
                self.runs[t.0].reboot_next = false;
                self.issue(
                    Owner::Program(t),
                    Subject::Target(t),
                    Step::Reboot,
                    true,
                    now,
                );
                return;
            }
            let run = &self.runs[t.0];
            let Some(item) = self.program_of(t).get(run.pc).cloned() else {
                return self.end_program(t, None, now);
            };
            self.runs[t.0].pc += 1;
            let run = &self.runs[t.0];
            if (run.failure.is_some() && !item.always)
                || (item.needs_previous_ok && !run.previous_ok)
            {
                self.events.push_back(super::Event::StepSkipped {
                    at: now,
                    target: t,
                    step: item.step.name(),
                });
                continue;
            }
            self.issue(
                Owner::Program(t),
                Subject::Target(t),
                item.step,
                item.critical,
                now,
            );
            return;
        }
    }

    /// A step of a target's program ended.
    pub(super) fn program_outcome(
        &mut self,
        t: TargetId,
        flight: &InFlight,
        outcome: &Outcome,
        now: Timestamp,
    ) {
        match verdict(&flight.step, outcome) {
            Verdict::Ok => self.runs[t.0].previous_ok = true,
            Verdict::RebootThenContinue => {
                self.runs[t.0].previous_ok = true;
                self.runs[t.0].reboot_next = true;
            }
            Verdict::Failed => {
                let run = &mut self.runs[t.0];
                run.previous_ok = false;
                if flight.critical && run.failure.is_none() {
                    run.failure = Some(StatusReason::StepFailed {
                        step: flight.step.name().to_string(),
                    });
                }
            }
            Verdict::Unreachable => {
                let reason = StatusReason::Unreachable {
                    step: flight.step.name().to_string(),
                };
                return self.end_program(t, Some((Status::Unreachable, Some(reason))), now);
            }
        }
        self.next_step(t, now);
    }

    /// Ends a program with `result`, or with the result its failures imply.
    fn end_program(
        &mut self,
        t: TargetId,
        result: Option<(Status, Option<StatusReason>)>,
        now: Timestamp,
    ) {
        self.working -= 1;
        let run = &mut self.runs[t.0];
        run.state = ProgramState::Ended;
        let result = result.unwrap_or_else(|| match run.failure.clone() {
            Some(reason) => (Status::Failed, Some(reason)),
            None => (Status::Succeeded, None),
        });
        run.result = Some(result.clone());
        if let Some(c) = self.targets[t.0].cluster {
            self.sched.dirty.insert(c);
        }
        // A cluster's last member that succeeded is settled when its cluster's sequence ends
        // (bringing it back into service and the final checks may still fail).
        let deferred = result.0 == Status::Succeeded
            && self.targets[t.0]
                .cluster
                .is_some_and(|c| self.clusters[c.0].last == Some(t));
        if !deferred {
            self.finish_target(t, result.0, result.1, now);
        }
    }
}
