//! Reports of a run, built from its events: `report.json` (for programs), `results.csv` (one
//! row per target), and the live status files `CDT_status.txt` and `CDT_status_brief.txt`.
//!
//! `report.json` has three top-level keys. `targets`: per target `name`, `cluster` (null when
//! standalone), `batch`, `role` (as in the list's `State` column, or null), `status`
//! (`succeeded`, `failed`, `unreachable`, `skipped`, `not_started`), `reason`, and `steps`,
//! each `{action, attempts, started_at, finished_at, outcome, error}`. `clusters`: per cluster
//! `name`, `kind` (`clusterxl_ha`, `vrrp`, `vsx_vsls`), its own `steps`, and `failovers`
//! (`at`, `from`, `to`). `totals`: targets by status. Times are RFC 3339 with sub-second
//! precision. Each target and each cluster is written on a line of its own.

use std::borrow::Cow;
use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;

use crate::driver::DriverEvent;
use crate::rollout::{ActionId, Event, Rollout, Status, Subject, Totals};

/// One step as it happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    /// The plan's element name or the built-in step's name.
    pub action: Cow<'static, str>,
    /// How many times its command was delivered.
    pub attempts: u32,
    /// When it started.
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub started_at: Timestamp,
    /// When it finished, if it did.
    #[serde(serialize_with = "crate::rfc3339::serialize_option")]
    pub finished_at: Option<Timestamp>,
    /// `ok`, `failed`, `timed_out`, or `skipped` (never ran: an earlier critical step failed;
    /// or started but not finished when the report was written, which `error` says).
    pub outcome: Cow<'static, str>,
    /// What went wrong, when something did.
    pub error: Option<Cow<'static, str>>,
}

/// One target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetReport {
    /// Its object name.
    pub name: String,
    /// Its cluster, or null.
    pub cluster: Option<String>,
    /// Its batch, or null.
    pub batch: Option<u32>,
    /// Its role as in the list's `State` column, or null.
    pub role: Option<String>,
    /// Its final status, or null while it has none.
    pub status: Option<Status>,
    /// Why (a stable code), unless it simply succeeded.
    pub reason: Option<String>,
    /// Its steps, in order.
    pub steps: Vec<StepReport>,
}

impl StepReport {
    /// Appends the step as serializing it writes it.
    fn write_json(&self, buf: &mut Vec<u8>) {
        use crate::json::{push_opt_str, push_opt_timestamp, push_str, push_timestamp, push_u64};
        buf.extend_from_slice(b"{\"action\":");
        push_str(buf, &self.action);
        buf.extend_from_slice(b",\"attempts\":");
        push_u64(buf, u64::from(self.attempts));
        buf.extend_from_slice(b",\"started_at\":");
        push_timestamp(buf, self.started_at);
        buf.extend_from_slice(b",\"finished_at\":");
        push_opt_timestamp(buf, self.finished_at);
        buf.extend_from_slice(b",\"outcome\":");
        push_str(buf, &self.outcome);
        buf.extend_from_slice(b",\"error\":");
        push_opt_str(buf, self.error.as_deref());
        buf.push(b'}');
    }
}

impl TargetReport {
    /// Appends the target as serializing it writes it (one per target in `report.json`:
    /// written directly).
    fn write_json(&self, buf: &mut Vec<u8>) {
        use crate::json::{push_opt_str, push_str, push_u64};
        buf.extend_from_slice(b"{\"name\":");
        push_str(buf, &self.name);
        buf.extend_from_slice(b",\"cluster\":");
        push_opt_str(buf, self.cluster.as_deref());
        buf.extend_from_slice(b",\"batch\":");
        match self.batch {
            Some(batch) => push_u64(buf, u64::from(batch)),
            None => buf.extend_from_slice(b"null"),
        }
        buf.extend_from_slice(b",\"role\":");
        push_opt_str(buf, self.role.as_deref());
        buf.extend_from_slice(b",\"status\":");
        push_opt_str(buf, self.status.map(Status::word));
        buf.extend_from_slice(b",\"reason\":");
        push_opt_str(buf, self.reason.as_deref());
        buf.extend_from_slice(b",\"steps\":[");
        for (i, step) in self.steps.iter().enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            step.write_json(buf);
        }
        buf.extend_from_slice(b"]}");
    }
}

/// A failover that happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FailoverReport {
    /// When it was confirmed.
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub at: Timestamp,
    /// The member that stopped being active.
    pub from: String,
    /// The member that became active.
    pub to: String,
}

/// One cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterReport {
    /// Its name.
    pub name: String,
    /// `clusterxl_ha`, `vrrp` or `vsx_vsls`.
    pub kind: crate::model::ClusterKind,
    /// Its cluster-level steps (state checks, version, failover).
    pub steps: Vec<StepReport>,
    /// Its failovers.
    pub failovers: Vec<FailoverReport>,
}

/// The report of a run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Report {
    /// When the run started and finished.
    #[serde(serialize_with = "crate::rfc3339::serialize_option")]
    pub started_at: Option<Timestamp>,
    /// When it finished, if it did.
    #[serde(serialize_with = "crate::rfc3339::serialize_option")]
    pub finished_at: Option<Timestamp>,
    /// Every target of the list.
    pub targets: Vec<TargetReport>,
    /// Every cluster of the list.
    pub clusters: Vec<ClusterReport>,
    /// Targets by status.
    pub totals: Totals,
}

#[derive(Debug, Clone, Copy)]
enum Place {
    Target(usize, usize),
    Cluster(usize, usize),
}

/// Builds a [`Report`] from the events of a run.
#[derive(Debug, Clone)]
pub struct ReportBuilder {
    report: Report,
    /// Where each action's step is, by action id (ids are issued from 0 upwards).
    places: Vec<Option<Place>>,
    attempts: crate::FastMap<ActionId, u32>,
    cluster_index: crate::FastMap<String, usize>,
}

impl ReportBuilder {
    /// A report of every target and cluster of `rollout`, with no step yet.
    pub fn new(rollout: &Rollout) -> ReportBuilder {
        let targets = rollout
            .targets()
            .iter()
            .map(|t| TargetReport {
                name: t.name.clone(),
                cluster: t
                    .cluster
                    .and_then(|c| rollout.cluster_name(c))
                    .map(str::to_string),
                batch: t.batch,
                role: t.role.map(|r| r.as_str().to_string()),
                status: None,
                reason: None,
                steps: Vec::new(),
            })
            .collect();
        let mut clusters = Vec::new();
        let mut c = 0;
        while let Some(view) = rollout.cluster(crate::rollout::ClusterId(c)) {
            clusters.push(ClusterReport {
                name: view.name.to_string(),
                kind: view.kind,
                steps: Vec::new(),
                failovers: Vec::new(),
            });
            c += 1;
        }
        let cluster_index = clusters
            .iter()
            .enumerate()
            .map(|(i, c)| (c.name.clone(), i))
            .collect();
        ReportBuilder {
            report: Report {
                started_at: None,
                finished_at: None,
                targets,
                clusters,
                totals: Totals::default(),
            },
            places: Vec::new(),
            attempts: crate::FastMap::default(),
            cluster_index,
        }
    }

    /// Counts `n` earlier deliveries of an action (from the journal of a resumed run).
    pub fn add_attempts(&mut self, id: ActionId, n: u32) {
        *self.attempts.entry(id).or_default() += n;
        if let Some(step) = self.step_mut(id) {
            step.attempts += n;
        }
    }

    fn step_mut(&mut self, id: ActionId) -> Option<&mut StepReport> {
        match (*self.places.get(usize::try_from(id.0).ok()?)?)? {
            Place::Target(t, s) => self.report.targets.get_mut(t)?.steps.get_mut(s),
            Place::Cluster(c, s) => self.report.clusters.get_mut(c)?.steps.get_mut(s),
        }
    }

    /// Takes in one event.
    pub fn record(&mut self, event: &DriverEvent) {
        match event {
            DriverEvent::Rollout { event } => self.record_rollout(event),
            DriverEvent::Failover {
                at,
                cluster,
                from,
                to,
            } => {
                if let Some(&c) = self.cluster_index.get(cluster) {
                    self.report.clusters[c].failovers.push(FailoverReport {
                        at: *at,
                        from: from.clone(),
                        to: to.clone(),
                    });
                }
            }
            DriverEvent::Log { .. } | DriverEvent::Email { .. } => {}
        }
    }

    /// Takes in one rollout event.
    pub fn record_rollout(&mut self, event: &Event) {
        match event {
            Event::RunStarted { at, .. } => self.report.started_at = Some(*at),
            Event::RunFinished { at, totals } => {
                self.report.finished_at = Some(*at);
                self.report.totals = *totals;
            }
            Event::StepStarted { at, action } => {
                if let Some(step) = self.step_mut(action.id) {
                    // The same action delivered again (a resumed run): one step, more attempts.
                    step.attempts += 1;
                    return;
                }
                let step = StepReport {
                    action: Cow::Borrowed(action.step.name()),
                    attempts: 1 + self.attempts.get(&action.id).copied().unwrap_or(0),
                    started_at: *at,
                    finished_at: None,
                    // Until its outcome arrives (a live status file, or the report of a run
                    // that stopped before the step ended).
                    outcome: Cow::Borrowed("skipped"),
                    error: Some(Cow::Borrowed("not finished when this report was written")),
                };
                let place = match action.subject {
                    Subject::Target(t) => self.report.targets.get_mut(t.0).map(|r| {
                        r.steps.push(step);
                        Place::Target(t.0, r.steps.len() - 1)
                    }),
                    Subject::Cluster(c) => self.report.clusters.get_mut(c.0).map(|r| {
                        r.steps.push(step);
                        Place::Cluster(c.0, r.steps.len() - 1)
                    }),
                };
                if let Some(p) = place
                    && let Ok(i) = usize::try_from(action.id.0)
                {
                    if self.places.len() <= i {
                        self.places.resize(i + 1, None);
                    }
                    self.places[i] = Some(p);
                }
            }
            Event::StepFinished {
                at, id, outcome, ..
            } => {
                if let Some(step) = self.step_mut(*id) {
                    step.finished_at = Some(*at);
                    step.outcome = Cow::Borrowed(outcome.word());
                    step.error = match outcome {
                        crate::rollout::Outcome::Failed(m)
                        | crate::rollout::Outcome::Unreachable(m) => Some(Cow::Owned(m.clone())),
                        crate::rollout::Outcome::Exited(code) if *code != 0 => {
                            Some(Cow::Owned(format!("exit status {code}")))
                        }
                        crate::rollout::Outcome::TimedOut => Some(Cow::Borrowed("timed out")),
                        _ => None,
                    };
                }
            }
            Event::StepSkipped { at, target, step } => {
                if let Some(t) = self.report.targets.get_mut(target.0) {
                    t.steps.push(StepReport {
                        action: Cow::Borrowed(*step),
                        attempts: 0,
                        started_at: *at,
                        finished_at: None,
                        outcome: Cow::Borrowed("skipped"),
                        error: Some(Cow::Borrowed("not run: an earlier step failed")),
                    });
                }
            }
            Event::TargetFinished {
                target,
                status,
                reason,
                ..
            } => {
                if let Some(t) = self.report.targets.get_mut(target.0) {
                    t.status = Some(*status);
                    t.reason = reason.as_ref().map(|r| r.code().to_string());
                }
            }
            _ => {}
        }
    }

    /// The report as it stands.
    pub fn report(&self) -> &Report {
        &self.report
    }

    /// The report, the builder done with.
    pub fn into_report(self) -> Report {
        self.report
    }
}

impl Report {
    /// Writes the report's files into `dir` (created if needed), each atomically:
    /// `report.json`, `results.csv`, `CDT_status.txt` and `CDT_status_brief.txt`.
    pub fn save(&self, dir: &std::path::Path) -> crate::Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| crate::Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        for (name, text) in [
            ("report.json", self.to_json()),
            ("results.csv", self.results_csv()),
            ("CDT_status.txt", self.status_text()),
            ("CDT_status_brief.txt", self.status_brief()),
        ] {
            crate::input::write_atomic(&dir.join(name), text.as_bytes())?;
        }
        Ok(())
    }

    /// `report.json`: the top level indented, each target and each cluster on a line of its
    /// own (a fleet of thousands stays readable with `grep` and small to write). The same
    /// JSON value as serializing [`Report`].
    pub fn to_json(&self) -> String {
        fn list<T>(out: &mut Vec<u8>, key: &str, items: &[T], write: impl Fn(&T, &mut Vec<u8>)) {
            out.extend_from_slice(format!("  \"{key}\": [").as_bytes());
            for (i, item) in items.iter().enumerate() {
                out.extend_from_slice(if i == 0 { b"\n    " } else { b",\n    " });
                write(item, out);
            }
            out.extend_from_slice(if items.is_empty() {
                b"],\n"
            } else {
                b"\n  ],\n"
            });
        }
        #[derive(Serialize)]
        struct At(#[serde(serialize_with = "crate::rfc3339::serialize_option")] Option<Timestamp>);
        // About 250 bytes per step and 100 per target besides.
        let steps: usize = self.targets.iter().map(|t| t.steps.len()).sum();
        let mut out = Vec::with_capacity(4096 + 128 * self.targets.len() + 256 * steps);
        out.extend_from_slice(b"{\n  \"started_at\": ");
        let _ = serde_json::to_writer(&mut out, &At(self.started_at));
        out.extend_from_slice(b",\n  \"finished_at\": ");
        let _ = serde_json::to_writer(&mut out, &At(self.finished_at));
        out.extend_from_slice(b",\n");
        list(&mut out, "targets", &self.targets, TargetReport::write_json);
        list(&mut out, "clusters", &self.clusters, |c, out| {
            let _ = serde_json::to_writer(out, c);
        });
        out.extend_from_slice(b"  \"totals\": ");
        let _ = serde_json::to_writer(&mut out, &self.totals);
        out.extend_from_slice(b"\n}\n");
        // serde_json writes UTF-8 only.
        String::from_utf8(out).unwrap_or_default()
    }

    /// `results.csv`: one row per target.
    pub fn results_csv(&self) -> String {
        let mut out = String::from(
            "Object Name,Cluster Name,Batch,Role,Status,Reason,Started,Finished,Steps OK,Steps Failed\r\n",
        );
        for t in &self.targets {
            let started = t
                .steps
                .first()
                .map(|s| s.started_at.to_string())
                .unwrap_or_default();
            let finished = t
                .steps
                .last()
                .and_then(|s| s.finished_at)
                .map(|f| f.to_string())
                .unwrap_or_default();
            let ok = t.steps.iter().filter(|s| s.outcome == "ok").count();
            let failed = t
                .steps
                .iter()
                .filter(|s| s.outcome == "failed" || s.outcome == "timed_out")
                .count();
            let _ = write!(
                out,
                "{},{},{},{},{},{},{},{},{},{}\r\n",
                csv_field(&t.name),
                csv_field(t.cluster.as_deref().unwrap_or("")),
                t.batch.map(|b| b.to_string()).unwrap_or_default(),
                t.role.as_deref().unwrap_or(""),
                t.status.map(status_word).unwrap_or("running"),
                t.reason.as_deref().unwrap_or(""),
                started,
                finished,
                ok,
                failed
            );
        }
        out
    }

    /// `CDT_status.txt`: every target with its status and current step.
    pub fn status_text(&self) -> String {
        let width = self
            .targets
            .iter()
            .map(|t| t.name.len())
            .max()
            .unwrap_or(6)
            .max(6);
        let mut out = format!(
            "{:<width$}  {:<5}  {:<12}  STEP\n",
            "TARGET", "BATCH", "STATUS"
        );
        for t in &self.targets {
            let step = t
                .steps
                .last()
                .map(|s| {
                    format!(
                        "{} ({})",
                        s.action,
                        if s.finished_at.is_some() {
                            &*s.outcome
                        } else {
                            "running"
                        }
                    )
                })
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{:<width$}  {:<5}  {:<12}  {}",
                t.name,
                t.batch.map(|b| b.to_string()).unwrap_or_else(|| "-".into()),
                t.status.map(status_word).unwrap_or(if t.steps.is_empty() {
                    "waiting"
                } else {
                    "running"
                }),
                step
            );
        }
        out
    }

    /// `CDT_status_brief.txt`: one line of counts.
    pub fn status_brief(&self) -> String {
        let count = |s: Status| self.targets.iter().filter(|t| t.status == Some(s)).count();
        let running = self
            .targets
            .iter()
            .filter(|t| t.status.is_none() && !t.steps.is_empty())
            .count();
        let waiting = self
            .targets
            .iter()
            .filter(|t| t.status.is_none() && t.steps.is_empty())
            .count();
        format!(
            "succeeded {} failed {} unreachable {} skipped {} not_started {} running {running} waiting {waiting}\n",
            count(Status::Succeeded),
            count(Status::Failed),
            count(Status::Unreachable),
            count(Status::Skipped),
            count(Status::NotStarted)
        )
    }
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Succeeded => "succeeded",
        Status::Failed => "failed",
        Status::Unreachable => "unreachable",
        Status::Skipped => "skipped",
        Status::NotStarted => "not_started",
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}
