//! A deployment in a run folder: what every face of cdt (the command-line tool, Python, C)
//! does the same way around the driver.
//!
//! A run folder holds `run.json` (what the run needs besides its journal to be resumed: the
//! Management Server, the policy package, and how the gateways are reached, without secrets),
//! the journal, the live status files `CDT_status.txt` and `CDT_status_brief.txt`, and at the
//! end `report.json` and `results.csv`. A run on the simulator keeps the simulated fleet's
//! state under `fleet/`, so a resumed run finds the gateways as they went on meanwhile.
//!
//! ```no_run
//! # async fn demo(fleet: cdt_core::sim::FleetFile, spec: cdt_core::rollout::RolloutSpec) -> cdt_core::Result<()> {
//! use std::path::Path;
//! use cdt_core::driver::Control;
//! use cdt_core::run::{Prepared, RunInfo};
//!
//! let dir = Path::new("run-1");
//! let prepared = Prepared::fresh(dir, RunInfo::for_fleet(&fleet), spec)?;
//! let connector = cdt_core::run::simulated(dir, Some(&fleet), 60.0)?;
//! let finished = prepared
//!     .drive(std::sync::Arc::new(connector.clone()), std::sync::Arc::new(connector.clock()), None, Control::none())
//!     .await?;
//! println!("{} succeeded", finished.totals.succeeded);
//! # Ok(()) }
//! ```

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

use crate::driver::{Clock, Control, Driver, DriverEvent, DriverSettings};
use crate::error::{Error, Result};
use crate::gaia::steps::ManagementInfo;
use crate::journal::{Journal, Resumed};
use crate::report::{Report, ReportBuilder};
use crate::rollout::{Event, Rollout, RolloutSpec, Totals};
use crate::sim::{FleetFile, Sim, SimConnector};

/// The file in a run folder that keeps [`RunInfo`].
pub const RUN_INFO: &str = "run.json";

/// How often at most the live status files are rewritten as targets finish (real time).
const STATUS_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// What a run folder keeps besides the journal, to resume the run (no secrets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// The Management Server's object name, for version and policy steps.
    pub management: Option<String>,
    /// The policy package installed after an upgrade.
    pub policy_package: String,
    /// How the gateways are reached, as the embedding program records it (the command-line
    /// tool: its SSH settings, with where secrets come from but never the secrets); absent
    /// for a simulated fleet.
    #[serde(default)]
    pub ssh: Option<serde_json::Value>,
}

impl RunInfo {
    /// The run information of a simulated fleet: its Management Server and policy package.
    pub fn for_fleet(fleet: &FleetFile) -> RunInfo {
        RunInfo {
            management: fleet.management.as_ref().map(|m| m.name.clone()),
            policy_package: fleet
                .management
                .as_ref()
                .map_or_else(|| "Standard".to_string(), |m| m.policy_package.clone()),
            ssh: None,
        }
    }

    /// Reads `run.json` from the run folder `dir`.
    pub fn load(dir: &Path) -> Result<RunInfo> {
        let path = dir.join(RUN_INFO);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_str(&text).map_err(|e| {
            Error::Rollout(format!(
                "{}: not a run folder's {RUN_INFO}: {e}",
                path.display()
            ))
        })
    }

    /// Writes `run.json` into the run folder `dir` (created if needed).
    pub fn save(&self, dir: &Path) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|source| Error::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| Error::Rollout(format!("{RUN_INFO}: {e}")))?;
        crate::input::write_atomic(&dir.join(RUN_INFO), text.as_bytes())
    }

    /// The driver settings this run needs (its Management Server), the others at their
    /// defaults.
    pub fn driver_settings(&self) -> DriverSettings {
        DriverSettings {
            management: self.management.clone().map(|host| ManagementInfo {
                host,
                policy_package: self.policy_package.clone(),
                domain: None,
            }),
            ..DriverSettings::default()
        }
    }

    /// Like [`RunInfo::driver_settings`], with how often steps poll a waiting gateway
    /// (`poll`) and how long a command may take (`command_timeout`), in seconds of the
    /// driver's clock, when given. Refused (with the setting's name) unless positive.
    pub fn driver_settings_with(
        &self,
        poll: Option<f64>,
        command_timeout: Option<f64>,
    ) -> std::result::Result<DriverSettings, String> {
        let duration = |name: &str, secs: f64| {
            jiff::SignedDuration::try_from_secs_f64(secs)
                .ok()
                .filter(|d| d.is_positive())
                .ok_or_else(|| format!("{name} must be a positive number of seconds"))
        };
        let mut settings = self.driver_settings();
        if let Some(poll) = poll {
            settings.waits.poll = duration("poll", poll)?;
        }
        if let Some(t) = command_timeout {
            settings.command_timeout = duration("command_timeout", t)?;
        }
        Ok(settings)
    }
}

enum Job {
    Fresh(Box<(Rollout, Journal)>),
    Resume(Box<Resumed>),
}

/// A run ready to be driven: a new one (its inputs journaled) or one rebuilt from its journal.
pub struct Prepared {
    dir: PathBuf,
    info: RunInfo,
    report: ReportBuilder,
    targets: Vec<String>,
    in_flight: usize,
    job: Job,
}

/// How a driven run ended.
#[derive(Debug)]
pub struct Finished {
    /// The totals of the run.
    pub totals: Totals,
    /// The report, as written to `report.json`.
    pub report: Report,
}

impl Prepared {
    /// A new run in `dir`: writes `run.json` and creates the journal, its inputs recorded
    /// before anything is sent. Refused if `dir` holds a run already, or another process
    /// has it open.
    pub fn fresh(dir: &Path, info: RunInfo, spec: RolloutSpec) -> Result<Prepared> {
        let rollout = Rollout::new(spec.clone())?;
        // The journal first: it refuses a folder that holds a run, whose run.json must stay.
        let journal = Journal::create(dir, &spec)?;
        info.save(dir)?;
        Ok(Prepared {
            dir: dir.to_path_buf(),
            info,
            report: ReportBuilder::new(&rollout),
            targets: rollout.targets().iter().map(|t| t.name.clone()).collect(),
            in_flight: 0,
            job: Job::Fresh(Box::new((rollout, journal))),
        })
    }

    /// The run in `dir`, rebuilt from its journal: finished work is not redone, and the
    /// steps that were in flight are checked again first.
    pub fn resume(dir: &Path) -> Result<Prepared> {
        let info = RunInfo::load(dir)?;
        let resumed = Journal::resume(dir)?;
        let mut report = ReportBuilder::new(&resumed.rollout);
        for e in &resumed.events {
            report.record_rollout(e);
        }
        // The replayed events count one delivery per step; the journal knows them all. A step
        // in flight is delivered once more now.
        for (id, n) in &resumed.attempts {
            report.add_attempts(*id, n.saturating_sub(1));
        }
        for (action, n) in &resumed.in_flight {
            report.add_attempts(action.id, *n);
        }
        Ok(Prepared {
            dir: dir.to_path_buf(),
            info,
            targets: resumed
                .rollout
                .targets()
                .iter()
                .map(|t| t.name.clone())
                .collect(),
            in_flight: resumed.in_flight.len(),
            report,
            job: Job::Resume(Box::new(resumed)),
        })
    }

    /// What `run.json` says.
    pub fn info(&self) -> &RunInfo {
        &self.info
    }

    /// The targets' names, by target number (as in events).
    pub fn targets(&self) -> &[String] {
        &self.targets
    }

    /// How many steps a resumed run checks again before going on (0 for a new run).
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The run folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Drives the run over `connector` to its end (or its cancellation through `control`):
    /// keeps the status files up to date, forwards every event to `events` (waiting for room,
    /// so none is lost), and writes `report.json`, `results.csv` and the status files at the
    /// end.
    pub async fn drive(
        self,
        connector: Arc<dyn crate::transport::Connector>,
        clock: Arc<dyn Clock>,
        events: Option<mpsc::Sender<DriverEvent>>,
        control: Control,
    ) -> Result<Finished> {
        let settings = self.info.driver_settings();
        self.drive_with(connector, clock, settings, events, control)
            .await
    }

    /// Like [`Prepared::drive`], with the driver's `settings` (timeouts and waits) given.
    pub async fn drive_with(
        self,
        connector: Arc<dyn crate::transport::Connector>,
        clock: Arc<dyn Clock>,
        settings: DriverSettings,
        events: Option<mpsc::Sender<DriverEvent>>,
        control: Control,
    ) -> Result<Finished> {
        let Prepared {
            dir,
            mut report,
            job,
            ..
        } = self;
        let driver = Driver::new(connector, clock, settings);
        let (tx, mut rx) = mpsc::channel(1024);
        type Run<'a> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<Totals>> + 'a>>;
        let run: Run<'_> = match job {
            Job::Fresh(fresh) => {
                let (rollout, mut journal) = *fresh;
                let driver = &driver;
                Box::pin(async move {
                    driver
                        .run_journaled(rollout, &mut journal, tx, control)
                        .await
                })
            }
            Job::Resume(resumed) => {
                let driver = &driver;
                Box::pin(async move { driver.resume(*resumed, tx, control).await })
            }
        };
        let status_path = dir.join("CDT_status.txt");
        let brief_path = dir.join("CDT_status_brief.txt");
        let (report, result) = tokio::join!(
            async {
                // The live status files cost a pass over every target: rewritten when a batch
                // starts, and when a target finishes at most every STATUS_EVERY.
                let mut written: Option<std::time::Instant> = None;
                while let Some(event) = rx.recv().await {
                    report.record(&event);
                    let due = match &event {
                        DriverEvent::Rollout {
                            event: Event::BatchStarted { .. },
                        } => true,
                        DriverEvent::Rollout {
                            event: Event::TargetFinished { .. },
                        } => written.is_none_or(|at| at.elapsed() >= STATUS_EVERY),
                        _ => false,
                    };
                    if due {
                        written = Some(std::time::Instant::now());
                        let r = report.report();
                        // Live status is best effort; the final files below are not.
                        let _ = std::fs::write(&status_path, r.status_text());
                        let _ = std::fs::write(&brief_path, r.status_brief());
                    }
                    if let Some(out) = &events {
                        // A consumer that went away no longer hears; the run goes on.
                        let _ = out.send(event).await;
                    }
                }
                report
            },
            run
        );
        let totals = result?;
        let report = report.into_report();
        report.save(&dir)?;
        Ok(Finished { totals, report })
    }
}

/// The driver's clock for gateways reached over a transport: the wall clock, or one running
/// `scale` times faster (for simulated gateways behind SSH, a test fleet; never for real
/// ones).
pub fn clock(scale: f64) -> Arc<dyn Clock> {
    if scale == 1.0 {
        Arc::new(crate::driver::SystemClock)
    } else {
        Arc::new(crate::sim::SimClock::new(jiff::Timestamp::now(), scale))
    }
}

/// The simulated fleet of the run folder `dir`, its state kept under `dir/fleet`: a new one
/// from `fleet` (its clock running `scale` simulated seconds per second), or, without
/// `fleet`, the one a run left there, as it went on since.
pub fn simulated(dir: &Path, fleet: Option<&FleetFile>, scale: f64) -> Result<SimConnector> {
    let state = dir.join("fleet");
    match fleet {
        Some(fleet) => SimConnector::new(Sim::new(fleet), scale).keep_state_in(&state),
        None => SimConnector::reopen(&state),
    }
}

/// How a run driven on a thread of its own ([`spawn`]) reaches its gateways.
pub enum Reach {
    /// The simulated fleet: a new one from `fleet`, or (without it) the one the run folder
    /// keeps; its state kept in the run folder when `keep`, else in memory only. Its clock
    /// runs `scale` simulated seconds per real second.
    Simulated {
        /// The fleet to start from, or `None` to reopen the run folder's.
        fleet: Option<Box<FleetFile>>,
        /// Simulated seconds per real second.
        scale: f64,
        /// Whether the fleet's state is kept under the run folder.
        keep: bool,
    },
    /// Any connector (SSH, a transport of the embedding language), the driver's clock
    /// `scale` times real time ([`clock`]).
    Connector {
        /// The connector.
        connector: Arc<dyn crate::transport::Connector>,
        /// The driver's clock speed (1 for real gateways).
        scale: f64,
        /// Whether the run's runtime needs sockets (a connector doing its own I/O in tokio,
        /// as SSH does); a connector calling out to blocking code does not.
        sockets: bool,
    },
}

/// What [`spawn`] returns: the run's thread, and the queue its events arrive on.
pub type Spawned = (
    std::thread::JoinHandle<Result<Finished>>,
    std::sync::mpsc::Receiver<DriverEvent>,
);

/// Drives `prepared` to its end on a thread of its own (with its own runtime), for the faces
/// that do not run tokio themselves (Python, C). Events for which `keep` is true go to a
/// bounded queue of `queue` events: a slow consumer holds the run back rather than losing
/// events; one that drops the receiver no longer holds it. With `keep` `None` no event is
/// wanted: none is forwarded at all (the queue is closed at once), as a run driven directly
/// without an event sender.
pub fn spawn(
    prepared: Prepared,
    reach: Reach,
    settings: DriverSettings,
    control: Control,
    queue: usize,
    keep: Option<fn(&DriverEvent) -> bool>,
) -> Result<Spawned> {
    let (to, rx) = std::sync::mpsc::sync_channel(queue.max(1));
    let worker = std::thread::Builder::new()
        .name("cdt-deployment".into())
        .spawn(move || run_on_thread(prepared, reach, settings, control, to, keep))
        .map_err(|e| Error::Rollout(format!("cannot start the run's thread: {e}")))?;
    Ok((worker, rx))
}

fn run_on_thread(
    prepared: Prepared,
    reach: Reach,
    settings: DriverSettings,
    control: Control,
    to: std::sync::mpsc::SyncSender<DriverEvent>,
    keep: Option<fn(&DriverEvent) -> bool>,
) -> Result<Finished> {
    let mut runtime = tokio::runtime::Builder::new_current_thread();
    if matches!(reach, Reach::Connector { sockets: true, .. }) {
        runtime.enable_all();
    } else {
        runtime.enable_time();
    }
    let runtime = runtime
        .build()
        .map_err(|e| Error::Rollout(format!("cannot start the run's runtime: {e}")))?;
    let dir = prepared.dir().to_path_buf();
    let outcome = runtime.block_on(async move {
        let (connector, clock): (Arc<dyn crate::transport::Connector>, Arc<dyn Clock>) = match reach
        {
            Reach::Simulated { fleet, scale, keep } => {
                let sim = match (keep, fleet) {
                    (true, fleet) => simulated(&dir, fleet.as_deref(), scale)?,
                    (false, Some(fleet)) => SimConnector::new(Sim::new(&fleet), scale),
                    (false, None) => {
                        return Err(Error::Rollout(
                            "a resumed run needs the fleet state its run kept".into(),
                        ));
                    }
                };
                (Arc::new(sim.clone()), Arc::new(sim.clock()))
            }
            Reach::Connector {
                connector, scale, ..
            } => (connector, clock(scale)),
        };
        let Some(keep) = keep else {
            drop(to);
            return prepared
                .drive_with(connector, clock, settings, None, control)
                .await;
        };
        let (tx, mut rx) = mpsc::channel(1024);
        let forward = async move {
            while let Some(event) = rx.recv().await {
                // A full queue holds the run until the consumer takes events; a consumer
                // that went away no longer does.
                if keep(&event) && to.send(event).is_err() {
                    break;
                }
            }
            // The rest is drained, so the run never waits for a consumer gone.
            while rx.recv().await.is_some() {}
        };
        let (finished, ()) = tokio::join!(
            prepared.drive_with(connector, clock, settings, Some(tx), control),
            forward
        );
        finished
    });
    // A transport call the driver gave up on (its deadline passed) may still be running on a
    // blocking thread: the run does not wait for it.
    runtime.shutdown_background();
    outcome
}

/// What [`next_batch`] found in a run's event queue.
#[derive(Debug)]
pub enum Batch {
    /// Events, at least one.
    Events(Vec<DriverEvent>),
    /// None within the wait.
    Empty,
    /// None, and none will come: the run has ended.
    Closed,
}

/// Takes up to `max` events from `queue`: waits up to `wait` for the first (for ever with
/// `None`), then takes what is there without waiting.
pub fn next_batch(
    queue: &std::sync::mpsc::Receiver<DriverEvent>,
    max: usize,
    wait: Option<std::time::Duration>,
) -> Batch {
    use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
    let first = match wait {
        Some(limit) if limit.is_zero() => match queue.try_recv() {
            Ok(e) => e,
            Err(TryRecvError::Empty) => return Batch::Empty,
            Err(TryRecvError::Disconnected) => return Batch::Closed,
        },
        Some(limit) => match queue.recv_timeout(limit) {
            Ok(e) => e,
            Err(RecvTimeoutError::Timeout) => return Batch::Empty,
            Err(RecvTimeoutError::Disconnected) => return Batch::Closed,
        },
        None => match queue.recv() {
            Ok(e) => e,
            Err(_) => return Batch::Closed,
        },
    };
    let mut batch = vec![first];
    while batch.len() < max.max(1) {
        match queue.try_recv() {
            Ok(e) => batch.push(e),
            Err(_) => break,
        }
    }
    Batch::Events(batch)
}

/// An event as JSON for the faces of other languages: its `kind`, and `target` by name
/// (`targets` the run's target names by number, [`Prepared::targets`]).
pub fn event_json(event: &DriverEvent, targets: &[String]) -> serde_json::Value {
    let mut v = match event {
        DriverEvent::Rollout { event } => serde_json::to_value(event),
        other => serde_json::to_value(other),
    }
    .unwrap_or_default();
    if let Some(map) = v.as_object_mut() {
        if let Some(kind) = map.remove("event") {
            map.insert("kind".into(), kind);
        }
        if let Some(n) = map.get("target").and_then(serde_json::Value::as_u64)
            && let Some(name) = usize::try_from(n).ok().and_then(|n| targets.get(n))
        {
            map.insert("target".into(), name.clone().into());
        }
    }
    v
}
