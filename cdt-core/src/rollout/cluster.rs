//! A cluster's sequence (SPEC 3.3): state check, version, first wave, Connectivity Upgrade,
//! failover, last member, restore, MVC off, state check; and what happens when a stage fails.

use jiff::Timestamp;

use super::spec::Stage;
use super::types::{
    ActionId, ClusterId, Event, Outcome, Status, StatusReason, Step, Subject, TargetId,
};
use super::{Owner, Rollout};

/// Where a cluster's sequence is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum StageState {
    /// The current stage has not been issued.
    #[default]
    Idle,
    /// A cluster-level action is in flight.
    Cluster(ActionId),
    /// Member actions are in flight; the first failed step, if any.
    Members {
        pending: usize,
        failed: Option<&'static str>,
    },
    /// The stage's programs run.
    Programs,
}

/// The progress of one cluster.
#[derive(Debug, Clone, Default)]
pub(super) struct ClusterRun {
    /// Its batch began.
    pub(super) began: bool,
    /// Its sequence ended (every batched member has its final status).
    pub(super) done: bool,
    stage: usize,
    state: StageState,
    /// The failover failed: the sequence only brings the old Active back, then ends.
    failover_failed: bool,
}

impl Rollout {
    /// The programs the cluster runs now, if it is in a programs stage.
    pub(super) fn programs_running(&self, c: ClusterId) -> Option<&[TargetId]> {
        let run = &self.cluster_runs[c.0];
        if !run.began || run.done || run.state != StageState::Programs {
            return None;
        }
        match self.clusters[c.0].stages.get(run.stage) {
            Some(Stage::Programs(ids)) => Some(ids),
            _ => None,
        }
    }

    /// Whether `ids` is the cluster's last-member stage (rather than its first wave).
    pub(super) fn is_last_stage(&self, c: ClusterId, ids: &[TargetId]) -> bool {
        matches!(ids, [t] if self.clusters[c.0].last == Some(*t))
    }

    /// Moves a cluster's sequence forward; whether anything changed.
    pub(super) fn advance_cluster(&mut self, c: ClusterId, now: Timestamp) -> bool {
        let run = &self.cluster_runs[c.0];
        if !run.began || run.done {
            return false;
        }
        match run.state {
            StageState::Cluster(_) | StageState::Members { .. } => false,
            StageState::Idle => {
                let Some(stage) = self.clusters[c.0].stages.get(run.stage).cloned() else {
                    self.complete_cluster(c, now);
                    return true;
                };
                match stage {
                    Stage::Cluster(step) => {
                        let id =
                            self.issue(Owner::Cluster(c), Subject::Cluster(c), step, true, now);
                        self.cluster_runs[c.0].state = StageState::Cluster(id);
                    }
                    Stage::Members(step, ids) => {
                        for t in &ids {
                            self.issue(
                                Owner::Cluster(c),
                                Subject::Target(*t),
                                step.clone(),
                                true,
                                now,
                            );
                        }
                        self.cluster_runs[c.0].state = StageState::Members {
                            pending: ids.len(),
                            failed: None,
                        };
                    }
                    Stage::Programs(ids) => {
                        self.cluster_runs[c.0].state = StageState::Programs;
                        self.programs_ready(c, &ids);
                    }
                }
                true
            }
            StageState::Programs => {
                let Some(ids) = self.programs_running(c).map(<[TargetId]>::to_vec) else {
                    return false;
                };
                let mut progress = false;
                if self.stop.is_some() && !self.is_last_stage(c, &ids) {
                    // Nothing new starts once the run stopped: first-wave members that have
                    // not begun never will.
                    let reason = self.stop_status_reason();
                    for t in &ids {
                        if self.runs[t.0].is_waiting() {
                            self.finish_target(*t, Status::NotStarted, Some(reason.clone()), now);
                            progress = true;
                        }
                    }
                }
                if !ids
                    .iter()
                    .all(|t| self.runs[t.0].result.is_some() || self.runs[t.0].done.is_some())
                {
                    return progress;
                }
                if ids.iter().all(|t| self.runs[t.0].succeeded()) {
                    let run = &mut self.cluster_runs[c.0];
                    run.stage += 1;
                    run.state = StageState::Idle;
                } else {
                    self.stop_cluster_after_programs(c, &ids, now);
                }
                true
            }
        }
    }

    /// A cluster-level or member action of the cluster's sequence ended.
    pub(super) fn cluster_outcome(
        &mut self,
        c: ClusterId,
        id: ActionId,
        outcome: &Outcome,
        now: Timestamp,
    ) {
        let ok = matches!(outcome, Outcome::Ok | Outcome::Exited(0));
        let run = &mut self.cluster_runs[c.0];
        let step_name = match self.clusters[c.0].stages.get(run.stage) {
            Some(Stage::Cluster(step) | Stage::Members(step, _)) => step.name(),
            _ => "cluster",
        };
        match run.state {
            StageState::Cluster(expected) if expected == id => {
                if ok {
                    run.stage += 1;
                    run.state = StageState::Idle;
                } else {
                    self.cluster_stage_failed(c, step_name, now);
                }
            }
            StageState::Members { pending, failed } => {
                let failed = if ok {
                    failed
                } else {
                    failed.or(Some(step_name))
                };
                let pending = pending.saturating_sub(1);
                if pending > 0 {
                    run.state = StageState::Members { pending, failed };
                } else if run.failover_failed {
                    // The old Active is back (or restoring it failed too): the cluster ends
                    // with the failover's failure.
                    self.end_cluster_failed(c, "failover", now);
                } else if let Some(step) = failed {
                    self.cluster_stage_failed(c, step, now);
                } else {
                    run.stage += 1;
                    run.state = StageState::Idle;
                }
            }
            _ => {}
        }
    }

    /// A cluster stage failed. A failed failover first brings the old Active back.
    fn cluster_stage_failed(&mut self, c: ClusterId, step: &'static str, now: Timestamp) {
        let plan = &self.clusters[c.0];
        let restore = plan
            .stages
            .iter()
            .position(|s| matches!(s, Stage::Members(Step::Restore, _)));
        let run = &mut self.cluster_runs[c.0];
        if step == "failover"
            && !run.failover_failed
            && let Some(restore) = restore
        {
            run.failover_failed = true;
            run.stage = restore;
            run.state = StageState::Idle;
            self.events.push_back(Event::ClusterStopped {
                at: now,
                cluster: c,
                step,
            });
            return;
        }
        self.events.push_back(Event::ClusterStopped {
            at: now,
            cluster: c,
            step,
        });
        self.end_cluster_failed(c, step, now);
    }

    /// Ends a cluster whose `step` failed: its batched members without a final status fail
    /// with that reason (they count as started).
    fn end_cluster_failed(&mut self, c: ClusterId, step: &'static str, now: Timestamp) {
        let reason = StatusReason::ClusterStepFailed {
            step: step.to_string(),
        };
        for t in self.batched_members(c) {
            if self.runs[t.0].done.is_none() {
                if self.runs[t.0].result.is_none() {
                    self.started += 1;
                }
                self.finish_target(t, Status::Failed, Some(reason.clone()), now);
            }
        }
        self.cluster_done(c);
    }

    /// A programs stage ended with a member that did not succeed: the cluster stops, and its
    /// members that have not begun are skipped (or not started, if the run stopped).
    fn stop_cluster_after_programs(&mut self, c: ClusterId, ids: &[TargetId], now: Timestamp) {
        self.events.push_back(Event::ClusterStopped {
            at: now,
            cluster: c,
            step: "plan",
        });
        let stopped_run = ids
            .iter()
            .any(|t| matches!(self.runs[t.0].done, Some((Status::NotStarted, _))));
        let reason = if stopped_run {
            (Status::NotStarted, self.stop_status_reason())
        } else {
            (Status::Skipped, StatusReason::ClusterStopped)
        };
        for t in self.batched_members(c) {
            if self.runs[t.0].done.is_none() && self.runs[t.0].result.is_none() {
                self.finish_target(t, reason.0, Some(reason.1.clone()), now);
            }
        }
        self.cluster_done(c);
    }

    /// Every stage succeeded: the last member, held back until now, succeeded.
    fn complete_cluster(&mut self, c: ClusterId, now: Timestamp) {
        if let Some(last) = self.clusters[c.0].last
            && self.runs[last.0].done.is_none()
            && self.runs[last.0].succeeded()
        {
            self.finish_target(last, Status::Succeeded, None, now);
        }
        self.cluster_done(c);
    }
}
