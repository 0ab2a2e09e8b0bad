//! The simulated fleet behind the transport traits: an in-process [`Connector`] whose sessions
//! run commands on a shared [`Sim`], waiting (in tokio time) as long as each command takes.
//!
//! The simulator's clock follows tokio's: `start + elapsed × scale`. Under tokio's paused test
//! clock a whole deployment runs in virtual time at once; with a real clock and a scale of, say,
//! 120, a two-hour simulated deployment takes a minute.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};

use super::{LocalFile, ReplyKind, Sim, SimError};
use crate::transport::{Connector, ExecOutput, Session, TransportError};

/// Maps tokio time to the simulator's clock.
#[derive(Debug, Clone)]
pub struct SimClock {
    origin: tokio::time::Instant,
    start: Timestamp,
    scale: f64,
}

impl SimClock {
    /// A clock that reads `start` now and runs `scale` times faster than tokio time.
    pub fn new(start: Timestamp, scale: f64) -> SimClock {
        SimClock {
            origin: tokio::time::Instant::now(),
            start,
            scale: if scale > 0.0 { scale } else { 1.0 },
        }
    }

    /// The simulated time now.
    pub fn now(&self) -> Timestamp {
        let elapsed = self.origin.elapsed();
        // Unscaled (the benchmarks, the demo at real speed): integer arithmetic only.
        let d = if self.scale == 1.0 {
            SignedDuration::try_from(elapsed).unwrap_or(super::NEVER)
        } else {
            SignedDuration::try_from_secs_f64(elapsed.as_secs_f64() * self.scale)
                .unwrap_or(super::NEVER)
        };
        self.start.checked_add(d).unwrap_or(self.start)
    }

    /// Waits (in tokio time) as long as a simulated duration; not at all for a zero duration.
    pub async fn wait(&self, d: SignedDuration) {
        if d.is_zero() {
            return;
        }
        let real = self.real(d);
        if !real.is_zero() {
            tokio::time::sleep(real).await;
        }
    }

    /// How long to wait in tokio time for a simulated duration.
    pub fn real(&self, d: SignedDuration) -> std::time::Duration {
        std::time::Duration::try_from_secs_f64(d.as_secs_f64().max(0.0) / self.scale)
            .unwrap_or(std::time::Duration::MAX)
    }
}

/// A [`Connector`] to a simulated fleet. Cheap to clone; every clone shares the fleet.
#[derive(Debug, Clone)]
pub struct SimConnector {
    sim: Arc<Mutex<Sim>>,
    clock: SimClock,
    state_dir: Option<Arc<std::path::PathBuf>>,
    files: Arc<Mutex<crate::FastMap<std::path::PathBuf, ReadFile>>>,
}

/// A local file as last read for a copy, with the size and modification time it had then: a
/// file copied to many hosts is read once, and read again if it changes.
#[derive(Debug)]
struct ReadFile {
    len: u64,
    modified: Option<std::time::SystemTime>,
    /// When the size and modification time were last compared with the file's.
    checked: std::time::Instant,
    file: LocalFile,
}

/// How long a comparison of a local file's size and modification time holds: copies within
/// this long of the last comparison send the file as read then, without asking the file
/// system again (10,000 targets copying one package ask it a few times, not 10,000). A file
/// rewritten less than this after a copy was checked may go out as it was for the rest of
/// the window; kernels that take file times from the scheduler tick (1 to 10 ms) already hid
/// changes that close together.
const RECHECK_AFTER: std::time::Duration = std::time::Duration::from_millis(1);

/// The simulated time now of the fleet kept in `dir` (by [`SimConnector::keep_state_in`]), and
/// its scale (simulated seconds per real second): every process working on the fleet reads
/// the same clock from its anchor.
pub fn clock_in_dir(dir: &Path) -> crate::error::Result<(Timestamp, f64)> {
    let path = dir.join("clock.json");
    let text = crate::input::read_text_capped(&path, 1 << 20)?;
    let anchor: ClockAnchor = serde_json::from_str(&text)
        .map_err(|e| crate::error::Error::Rollout(format!("{}: {e}", path.display())))?;
    let elapsed = Timestamp::now()
        .duration_since(anchor.wall_at)
        .as_secs_f64()
        .max(0.0)
        * anchor.scale;
    let now =
        anchor.sim_at + SignedDuration::try_from_secs_f64(elapsed).unwrap_or(SignedDuration::ZERO);
    Ok((now, anchor.scale))
}

/// Where a fleet kept on disk stood in time: its simulated time at a wall-clock instant, and
/// the scale, so a later process knows how much simulated time has passed since.
#[derive(Debug, Clone, Copy, serde::Serialize, serde::Deserialize)]
struct ClockAnchor {
    sim_at: Timestamp,
    wall_at: Timestamp,
    scale: f64,
}

impl SimConnector {
    /// Connects to `sim`, whose clock then follows tokio's at `scale` simulated seconds per
    /// second.
    pub fn new(sim: Sim, scale: f64) -> SimConnector {
        let clock = SimClock::new(sim.now(), scale);
        SimConnector {
            sim: Arc::new(Mutex::new(sim)),
            clock,
            state_dir: None,
            files: Arc::default(),
        }
    }

    /// Keeps the fleet's state in `dir` (written after every command and copy, as a gateway
    /// keeps its own state), so a later process can [`SimConnector::reopen`] it. Use with the
    /// wall clock (not tokio's paused test clock).
    pub fn keep_state_in(mut self, dir: &std::path::Path) -> crate::error::Result<SimConnector> {
        self.state_dir = Some(Arc::new(dir.to_path_buf()));
        self.save()?;
        Ok(self)
    }

    /// Reopens a fleet kept in `dir`: the time that passed since it was last written has
    /// passed for the fleet too (installs in progress went on).
    pub fn reopen(dir: &std::path::Path) -> crate::error::Result<SimConnector> {
        let mut sim = Sim::load(dir)?;
        let (now, scale) = clock_in_dir(dir)?;
        sim.advance(now);
        let connector = SimConnector {
            clock: SimClock::new(sim.now(), scale),
            sim: Arc::new(Mutex::new(sim)),
            state_dir: Some(Arc::new(dir.to_path_buf())),
            files: Arc::default(),
        };
        connector.save()?;
        Ok(connector)
    }

    /// Writes the fleet's state and clock anchor, when it is kept on disk.
    fn save(&self) -> crate::error::Result<()> {
        let Some(dir) = &self.state_dir else {
            return Ok(());
        };
        let sim = self.fleet();
        sim.save(dir)?;
        let anchor = ClockAnchor {
            sim_at: sim.now(),
            wall_at: Timestamp::now(),
            scale: self.clock.scale,
        };
        let json =
            serde_json::to_vec(&anchor).map_err(|e| crate::error::Error::Rollout(e.to_string()))?;
        crate::input::write_atomic(&dir.join("clock.json"), &json)
    }

    fn saved(&self) -> Result<(), TransportError> {
        self.save().map_err(|e| TransportError::Other {
            host: "simulator".into(),
            message: e.to_string(),
        })
    }

    /// The fleet, to inspect its state and record (brought up to the clock's time first).
    pub fn fleet(&self) -> MutexGuard<'_, Sim> {
        let mut sim = self.sim.lock().unwrap_or_else(PoisonError::into_inner);
        let now = self.clock.now();
        sim.advance(now);
        sim
    }

    /// The simulated time now.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// The fleet, not yet brought up to the clock's time, and that time: for the calls that
    /// bring it there themselves (one clock reading per command).
    fn at_now(&self) -> (MutexGuard<'_, Sim>, Timestamp) {
        let sim = self.sim.lock().unwrap_or_else(PoisonError::into_inner);
        (sim, self.clock.now())
    }

    /// The local file at `path` as a copy sends it: read once, and again when its size or
    /// modification time changed since (compared at most once per [`RECHECK_AFTER`]).
    fn local_file(&self, path: &Path) -> std::io::Result<LocalFile> {
        let now = std::time::Instant::now();
        let mut files = self.files.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(read) = files.get(path)
            && now.saturating_duration_since(read.checked) < RECHECK_AFTER
        {
            return Ok(read.file.clone());
        }
        let meta = std::fs::metadata(path)?;
        let (len, modified) = (meta.len(), meta.modified().ok());
        if let Some(read) = files.get_mut(path)
            && read.len == len
            && read.modified == modified
            && modified.is_some()
        {
            read.checked = now;
            return Ok(read.file.clone());
        }
        let file = LocalFile::read(path)?;
        files.insert(
            path.to_path_buf(),
            ReadFile {
                len,
                modified,
                checked: now,
                file: file.clone(),
            },
        );
        Ok(file)
    }

    /// The clock the fleet follows (give it to the driver).
    pub fn clock(&self) -> SimClock {
        self.clock.clone()
    }
}

fn unreachable(e: SimError, host: &str) -> TransportError {
    match e {
        SimError::NoSuchFile { host, path } => TransportError::Transfer {
            host,
            message: format!("{path}: no such file"),
        },
        other => TransportError::Unreachable {
            host: host.to_string(),
            message: other.to_string(),
        },
    }
}

#[async_trait]
impl Connector for SimConnector {
    async fn connect(&self, host: &str) -> Result<Arc<dyn Session>, TransportError> {
        {
            let (mut sim, at) = self.at_now();
            sim.check_reachable(host, at)
                .map_err(|e| unreachable(e, host))?;
        }
        Ok(Arc::new(SimSession {
            host: host.to_string(),
            connector: self.clone(),
        }))
    }
}

struct SimSession {
    host: String,
    connector: SimConnector,
}

#[async_trait]
impl Session for SimSession {
    async fn exec(&self, command: &str) -> Result<ExecOutput, TransportError> {
        let reply = {
            let (mut sim, at) = self.connector.at_now();
            sim.exec(&self.host, command, at)
                .map_err(|e| unreachable(e, &self.host))?
        };
        self.connector.saved()?;
        if reply.kind == ReplyKind::Hangs {
            std::future::pending::<()>().await;
        }
        self.connector.clock.wait(reply.duration).await;
        Ok(ExecOutput {
            exit: match reply.kind {
                ReplyKind::Exited(code) => Some(code),
                ReplyKind::Dropped | ReplyKind::Hangs => None,
            },
            stdout: reply.stdout,
            stderr: reply.stderr,
        })
    }

    async fn put(&self, local: &Path, remote: &str) -> Result<(), TransportError> {
        let file = self
            .connector
            .local_file(local)
            .map_err(|e| TransportError::Transfer {
                host: self.host.clone(),
                message: format!("{}: {e}", local.display()),
            })?;
        let took = {
            let (mut sim, at) = self.connector.at_now();
            sim.put_file(&self.host, remote, &file, at)
                .map_err(|e| unreachable(e, &self.host))?
        };
        self.connector.saved()?;
        self.connector.clock.wait(took).await;
        Ok(())
    }

    async fn get(&self, remote: &str, local: &Path) -> Result<(), TransportError> {
        let (content, took) = {
            let (mut sim, at) = self.connector.at_now();
            sim.get(&self.host, remote, at)
                .map_err(|e| unreachable(e, &self.host))?
        };
        self.connector.clock.wait(took).await;
        std::fs::write(local, content).map_err(|e| TransportError::Transfer {
            host: self.host.clone(),
            message: format!("{}: {e}", local.display()),
        })
    }
}
