//! The journal: the source of truth of a run, so a run killed at any instant resumes where it
//! stopped.
//!
//! Append-only JSON lines in the run folder (`journal.jsonl`):
//! 1. the run's inputs (the list, the work, the package, the settings), written and synced
//!    before anything else happens;
//! 2. every input the rollout is given, in order: `start`, `outcome`, `timeout`, `approve`,
//!    `cancel`, each with the time it was given;
//! 3. before an action is sent to a gateway, a `sent` entry, synced first (all the actions
//!    issued at one moment share one sync: group commit).
//!
//! The rollout is deterministic, so replaying the inputs rebuilds it exactly, with the same
//! action identities. An action that was sent but has no outcome was in flight when the run
//! died: resume runs its step again, and every step first checks what is already done on the
//! gateway (an install CPUSE reports installed is not repeated). A kernel lock (`flock`) on the
//! journal keeps two runs off one folder; a killed process releases it. A torn last line (the
//! process died mid-write) is ignored.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::candidates::CandidatesList;
use crate::error::{Error, Result};
use crate::formats::config::UserScript;
use crate::formats::plan::Plan;
use crate::model::Package;
use crate::rollout::{Action, ActionId, BasicWork, Outcome, Rollout, RolloutSpec, Settings, Work};

/// The journal's file name inside a run folder.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// The work, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
enum WorkRecord {
    Plan {
        plan_xml: String,
        cpuse_agent: Option<PathBuf>,
    },
    Basic {
        package: PathBuf,
        cpuse_agent: Option<PathBuf>,
        pre_scripts: Vec<(PathBuf, bool)>,
        post_scripts: Vec<(PathBuf, bool)>,
        connectivity_upgrade: bool,
    },
}

/// One line of the journal.
// Written and read one line at a time: the size difference between variants does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "entry", rename_all = "snake_case")]
enum Entry {
    Inputs {
        format: u32,
        list_csv: String,
        work: WorkRecord,
        package: Package,
        settings: Settings,
    },
    Start {
        #[serde(serialize_with = "crate::rfc3339::serialize")]
        at: Timestamp,
    },
    Sent {
        id: ActionId,
        step: String,
        #[serde(serialize_with = "crate::rfc3339::serialize")]
        at: Timestamp,
    },
    Outcome {
        id: ActionId,
        outcome: Outcome,
        #[serde(serialize_with = "crate::rfc3339::serialize")]
        at: Timestamp,
    },
    Timeout {
        #[serde(serialize_with = "crate::rfc3339::serialize")]
        at: Timestamp,
    },
    Approve {
        #[serde(serialize_with = "crate::rfc3339::serialize")]
        at: Timestamp,
    },
    Cancel {
        #[serde(serialize_with = "crate::rfc3339::serialize")]
        at: Timestamp,
    },
}

/// A `sent` line, as serializing [`Entry::Sent`] writes it (two lines per step: written
/// directly).
fn write_sent(buf: &mut Vec<u8>, id: ActionId, step: &str, at: Timestamp) {
    buf.extend_from_slice(b"{\"entry\":\"sent\",\"id\":");
    crate::json::push_u64(buf, id.0);
    buf.extend_from_slice(b",\"step\":");
    crate::json::push_str(buf, step);
    buf.extend_from_slice(b",\"at\":");
    crate::json::push_timestamp(buf, at);
    buf.push(b'}');
}

/// An `outcome` line, as serializing [`Entry::Outcome`] writes it.
fn write_outcome(buf: &mut Vec<u8>, id: ActionId, outcome: &Outcome, at: Timestamp) -> Result<()> {
    buf.extend_from_slice(b"{\"entry\":\"outcome\",\"id\":");
    crate::json::push_u64(buf, id.0);
    buf.extend_from_slice(b",\"outcome\":");
    match outcome {
        Outcome::Ok => buf.extend_from_slice(b"{\"outcome\":\"ok\"}"),
        other => serde_json::to_writer(&mut *buf, other)
            .map_err(|e| Error::Journal(format!("cannot write the journal: {e}")))?,
    }
    buf.extend_from_slice(b",\"at\":");
    crate::json::push_timestamp(buf, at);
    buf.push(b'}');
    Ok(())
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn scripts(list: &[UserScript]) -> Vec<(PathBuf, bool)> {
    list.iter()
        .map(|s| (s.path.clone(), s.is_blocking))
        .collect()
}

fn unscripts(list: &[(PathBuf, bool)]) -> Vec<UserScript> {
    list.iter()
        .map(|(path, blocking)| {
            let mut s = UserScript::new(path.clone());
            s.is_blocking = *blocking;
            s
        })
        .collect()
}

/// An open journal, holding the lock on its run folder.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    /// Entries appended but not yet handed to the operating system (see [`Journal::flush`]).
    buffer: Vec<u8>,
    dirty: bool,
    written: usize,
    limit: Option<usize>,
}

/// What resuming a run rebuilt.
#[derive(Debug)]
pub struct Resumed {
    /// The open journal, appending after what was read.
    pub journal: Journal,
    /// The rollout, in the state it had when the run stopped.
    pub rollout: Rollout,
    /// Actions issued but without an outcome: run their steps again (each checks first what is
    /// already done). With how many times each was already sent.
    pub in_flight: Vec<(Action, u32)>,
    /// How many times each action with an outcome was sent.
    pub attempts: Vec<(ActionId, u32)>,
    /// Whether the run had started.
    pub started: bool,
    /// The events the replay produced: the run's history so far, for its report.
    pub events: Vec<crate::rollout::Event>,
}

impl Journal {
    /// Creates the journal of a new run in `dir` (which must not hold one), locks it, and
    /// records the run's inputs, synced.
    pub fn create(dir: &Path, spec: &RolloutSpec) -> Result<Journal> {
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join(JOURNAL_FILE);
        let file = match OpenOptions::new().create_new(true).append(true).open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::Journal(format!(
                    "{}: this run folder holds a run already; resume it, or choose another folder",
                    dir.display()
                )));
            }
            Err(e) => return Err(io(&path)(e)),
        };
        lock(&file, &path)?;
        let work = match &spec.work {
            Work::Plan { plan, cpuse_agent } => WorkRecord::Plan {
                plan_xml: plan.to_xml()?,
                cpuse_agent: cpuse_agent.clone(),
            },
            Work::Basic(b) => WorkRecord::Basic {
                package: b.package.clone(),
                cpuse_agent: b.cpuse_agent.clone(),
                pre_scripts: scripts(&b.pre_scripts),
                post_scripts: scripts(&b.post_scripts),
                connectivity_upgrade: b.connectivity_upgrade,
            },
        };
        let mut journal = Journal {
            path,
            file,
            buffer: Vec::new(),
            dirty: false,
            written: 0,
            limit: None,
        };
        journal.append(&Entry::Inputs {
            format: 1,
            list_csv: spec.list.to_csv(),
            work,
            package: spec.package.clone(),
            settings: spec.settings.clone(),
        })?;
        journal.sync()?;
        Ok(journal)
    }

    /// Opens the journal in `dir`, locks it, and rebuilds the rollout by replaying it.
    pub fn resume(dir: &Path) -> Result<Resumed> {
        let path = dir.join(JOURNAL_FILE);
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(&path)
            .map_err(io(&path))?;
        lock(&file, &path)?;
        let mut entries = Vec::new();
        let reader = BufReader::new(file.try_clone().map_err(io(&path))?);
        let lines: Vec<String> = reader
            .lines()
            .collect::<std::io::Result<_>>()
            .map_err(io(&path))?;
        let count = lines.len();
        for (i, line) in lines.iter().enumerate() {
            match serde_json::from_str::<Entry>(line) {
                Ok(entry) => entries.push(entry),
                // The process died while writing the last line: it never happened.
                Err(_) if i + 1 == count => {}
                Err(e) => {
                    return Err(Error::Journal(format!(
                        "{}:{}: unreadable journal entry: {e}",
                        path.display(),
                        i + 1
                    )));
                }
            }
        }
        let mut entries = entries.into_iter();
        let Some(Entry::Inputs {
            list_csv,
            work,
            package,
            settings,
            ..
        }) = entries.next()
        else {
            return Err(Error::Journal(format!(
                "{}: the journal does not start with the run's inputs",
                path.display()
            )));
        };
        let work = match work {
            WorkRecord::Plan {
                plan_xml,
                cpuse_agent,
            } => Work::Plan {
                plan: Plan::parse(&plan_xml, Some(&path))?,
                cpuse_agent,
            },
            WorkRecord::Basic {
                package,
                cpuse_agent,
                pre_scripts,
                post_scripts,
                connectivity_upgrade,
            } => Work::Basic(BasicWork {
                package,
                cpuse_agent,
                pre_scripts: unscripts(&pre_scripts),
                post_scripts: unscripts(&post_scripts),
                connectivity_upgrade,
            }),
        };
        let spec = RolloutSpec {
            list: CandidatesList::parse_csv(&list_csv, Some(&path))?,
            package,
            work,
            settings,
        };
        let mut rollout = Rollout::new(spec)?;
        let mut issued: std::collections::BTreeMap<ActionId, Action> = Default::default();
        let mut sent: std::collections::BTreeMap<ActionId, u32> = Default::default();
        let mut answered: std::collections::BTreeSet<ActionId> = Default::default();
        let mut started = false;
        let mut events = Vec::new();
        let drain = |rollout: &mut Rollout,
                     issued: &mut std::collections::BTreeMap<ActionId, Action>,
                     events: &mut Vec<crate::rollout::Event>| {
            while let Some(a) = rollout.poll_action() {
                issued.insert(a.id, a);
            }
            while let Some(e) = rollout.poll_event() {
                events.push(e);
            }
        };
        for entry in entries {
            match entry {
                Entry::Inputs { .. } => {
                    return Err(Error::Journal(format!(
                        "{}: the run's inputs appear twice",
                        path.display()
                    )));
                }
                Entry::Start { at } => {
                    rollout.start(at);
                    started = true;
                }
                Entry::Sent { id, .. } => *sent.entry(id).or_default() += 1,
                Entry::Outcome { id, outcome, at } => {
                    rollout.handle_outcome(id, outcome, at)?;
                    answered.insert(id);
                }
                Entry::Timeout { at } => rollout.handle_timeout(at),
                Entry::Approve { at } => rollout.approve(at),
                Entry::Cancel { at } => rollout.cancel(at),
            }
            drain(&mut rollout, &mut issued, &mut events);
        }
        let in_flight = issued
            .into_iter()
            .filter(|(id, _)| !answered.contains(id))
            .map(|(id, a)| (a, sent.get(&id).copied().unwrap_or(0)))
            .collect();
        let attempts = sent
            .into_iter()
            .filter(|(id, _)| answered.contains(id))
            .collect();
        Ok(Resumed {
            journal: Journal {
                path,
                file,
                buffer: Vec::new(),
                dirty: false,
                written: count,
                limit: None,
            },
            rollout,
            in_flight,
            attempts,
            started,
            events,
        })
    }

    /// For crash tests: after `entries` lines in all, the journal refuses to write, as if the
    /// process had died there (the run stops sending; what was sent goes on at the gateways).
    #[doc(hidden)]
    pub fn stop_writing_after(&mut self, entries: usize) {
        self.limit = Some(entries);
    }

    fn append(&mut self, entry: &Entry) -> Result<()> {
        self.append_with(|buffer| {
            serde_json::to_writer(buffer, entry)
                .map_err(|e| Error::Journal(format!("cannot write the journal: {e}")))
        })
    }

    /// Appends one line that `write` puts into the buffer.
    fn append_with(&mut self, write: impl FnOnce(&mut Vec<u8>) -> Result<()>) -> Result<()> {
        if self.limit.is_some_and(|limit| self.written >= limit) {
            return Err(Error::Journal(format!(
                "{}: the journal stopped at entry {} (crash test)",
                self.path.display(),
                self.written
            )));
        }
        let start = self.buffer.len();
        if let Err(e) = write(&mut self.buffer) {
            self.buffer.truncate(start);
            return Err(e);
        }
        self.written += 1;
        self.buffer.push(b'\n');
        self.dirty = true;
        Ok(())
    }

    /// Hands the entries appended so far to the operating system (one write), so they survive
    /// the process being killed; [`Journal::sync`] also makes them survive a power loss.
    pub fn flush(&mut self) -> Result<()> {
        if !self.buffer.is_empty() {
            let written = self.file.write_all(&self.buffer).map_err(io(&self.path));
            self.buffer.clear();
            written?;
        }
        Ok(())
    }

    /// Makes everything appended so far durable.
    pub fn sync(&mut self) -> Result<()> {
        self.flush()?;
        if self.dirty {
            self.file.sync_data().map_err(io(&self.path))?;
            self.dirty = false;
        }
        Ok(())
    }

    /// Records the start of the run.
    pub fn start(&mut self, at: Timestamp) -> Result<()> {
        self.append(&Entry::Start { at })?;
        self.sync()
    }

    /// Records that `action` is about to be sent. Call [`Journal::sync`] before sending it.
    pub fn sent(&mut self, action: &Action, at: Timestamp) -> Result<()> {
        self.append_with(|buf| {
            write_sent(buf, action.id, action.step.name(), at);
            Ok(())
        })
    }

    /// Records an outcome given to the rollout.
    pub fn outcome(&mut self, id: ActionId, outcome: &Outcome, at: Timestamp) -> Result<()> {
        self.append_with(|buf| write_outcome(buf, id, outcome, at))
    }

    /// Records a timeout given to the rollout.
    pub fn timeout(&mut self, at: Timestamp) -> Result<()> {
        self.append(&Entry::Timeout { at })?;
        self.sync()
    }

    /// Records an approval given to the rollout.
    pub fn approve(&mut self, at: Timestamp) -> Result<()> {
        self.append(&Entry::Approve { at })?;
        self.sync()
    }

    /// Records a cancel given to the rollout.
    pub fn cancel(&mut self, at: Timestamp) -> Result<()> {
        self.append(&Entry::Cancel { at })?;
        self.sync()
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Journal {
    /// Hands what was appended to the operating system, as the run would have at its next
    /// step (an error here has nowhere to go; resume tolerates a torn last line).
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

fn lock(file: &File, path: &Path) -> Result<()> {
    match file.try_lock() {
        Ok(()) => Ok(()),
        Err(std::fs::TryLockError::WouldBlock) => Err(Error::Journal(format!(
            "{}: another run holds this run folder",
            path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(Error::Io {
            path: path.to_path_buf(),
            source: e,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_line(entry: &Entry) -> String {
        serde_json::to_string(entry).unwrap()
    }

    #[test]
    fn sent_and_outcome_lines_are_the_entries_serde_writes() {
        let times = [
            "2026-01-01T00:00:00Z",
            "2026-01-01T00:00:00.108583417Z",
            "2026-06-30T23:59:59.5Z",
        ];
        for (i, at) in times.iter().enumerate() {
            let at: Timestamp = at.parse().unwrap();
            let id = ActionId([0, 7, u64::MAX][i]);
            for step in [
                "check_cluster_state",
                "install_package",
                "a \"b\"\\c\n",
                "ünï",
            ] {
                let mut buf = Vec::new();
                write_sent(&mut buf, id, step, at);
                let sent = Entry::Sent {
                    id,
                    step: step.to_string(),
                    at,
                };
                assert_eq!(String::from_utf8(buf).unwrap(), serde_line(&sent));
            }
            for outcome in [
                Outcome::Ok,
                Outcome::Exited(222),
                Outcome::Failed("no \"space\" left".into()),
                Outcome::TimedOut,
                Outcome::Unreachable("connection refused".into()),
            ] {
                let mut buf = Vec::new();
                write_outcome(&mut buf, id, &outcome, at).unwrap();
                let entry = Entry::Outcome { id, outcome, at };
                assert_eq!(String::from_utf8(buf).unwrap(), serde_line(&entry));
            }
        }
    }
}
