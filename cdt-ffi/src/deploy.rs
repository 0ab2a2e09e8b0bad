//! Deployments in a run folder: on the simulated fleet, over SSH, or through a transport
//! written in C; run blocking with an event callback, or started and polled for events
//! without blocking (for hosts with an event loop of their own); paused, approved and
//! cancelled from other threads; resumed from their journal; their report as JSON and files.
//!
//! Each deployment runs on a thread of its own with its own runtime; the library keeps no
//! global runtime or thread, so nothing is left to shut down when every handle is freed.
//!
//! Thread safety: every `cdt_deployment_*` function may be called from any thread, and
//! several at once on one deployment (a callback or a poller on one thread, cancel and
//! approve on others), except `cdt_deployment_free`, which must be the last call on it.

use std::ffi::{CString, c_char, c_int, c_void};
use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use cdt_core::driver::{Control, ControlHandle, DriverEvent, DriverSettings};
use cdt_core::report::Report;
use cdt_core::rollout::{RolloutSpec, Settings, Totals};
use cdt_core::run::{self, Batch, Finished, Prepared, Reach, RunInfo};

use crate::args;
use crate::cdt_status::{self, CDT_ERR_ARGUMENT, CDT_ERR_STATE};
use crate::error::{Failure, Result, call, guard};
use crate::files::{cdt_candidates, cdt_config, cdt_fleet, cdt_inventory, cdt_plan};
use crate::ssh::cdt_ssh;
use crate::transport::{CConnector, cdt_transport};

/// Events waiting for the consumer at most (unless [`cdt_deployment_start`] says otherwise);
/// beyond, the run waits for it.
const QUEUE: usize = 4096;

/// Options of a new or resumed deployment; every one has a default, so NULL options are
/// the defaults.
pub struct cdt_options {
    scale: Option<f64>,
    settings: Option<Settings>,
    poll: Option<f64>,
    command_timeout: Option<f64>,
    keep_fleet_state: bool,
    package: Option<PathBuf>,
    config: Option<cdt_core::formats::config::PrimaryConfig>,
    management: Option<(String, Option<String>)>,
    policy_package: String,
}

impl Default for cdt_options {
    fn default() -> Self {
        cdt_options {
            scale: None,
            settings: None,
            poll: None,
            command_timeout: None,
            keep_fleet_state: true,
            package: None,
            config: None,
            management: None,
            policy_package: "Standard".into(),
        }
    }
}

/// New options, at their defaults, in `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_options_new(out: *mut *mut cdt_options) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        args::give(out, cdt_options::default());
        Ok(())
    })
}

/// The clock's speed: simulated seconds per real second on the simulated fleet (60 unless
/// set), or the driver's clock for simulated gateways behind a transport (1 unless set;
/// never anything else for real gateways).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_options_set_scale(
    options: *mut cdt_options,
    scale: f64,
) -> cdt_status {
    call(|| {
        let scale = args::positive(scale, "scale")?;
        args::handle_mut(options, "options")?.scale = Some(scale);
        Ok(())
    })
}

/// The rollout's settings as JSON, as in the journal: `concurrency`, `not_before`,
/// `not_after`, `failure_budget`, `pause_after_batch`, `check_state`. `CDT_ERR_ARGUMENT`
/// with the reason for an unknown or malformed field.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_options_set_settings_json(
    options: *mut cdt_options,
    json: *const c_char,
) -> cdt_status {
    call(|| {
        let options = args::handle_mut(options, "options")?;
        let text = args::text(json, "json")?;
        let settings = serde_json::from_str(text)
            .map_err(|e| Failure::new(CDT_ERR_ARGUMENT, format!("settings: {e}")))?;
        options.settings = Some(settings);
        Ok(())
    })
}

/// How often steps poll a gateway they wait for (10 s unless set), and how long a command
/// may take (5,400 s unless set), in seconds of the driver's clock; 0 leaves one as it is.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_options_set_timing(
    options: *mut cdt_options,
    poll: f64,
    command_timeout: f64,
) -> cdt_status {
    call(|| {
        let options = args::handle_mut(options, "options")?;
        if poll != 0.0 {
            options.poll = Some(args::positive(poll, "poll")?);
        }
        if command_timeout != 0.0 {
            options.command_timeout = Some(args::positive(command_timeout, "command_timeout")?);
        }
        Ok(())
    })
}

/// Whether a simulated fleet's state is kept in the run folder (the default: a resumed run
/// finds the gateways as they went on) or in memory only, for large dry runs.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_options_set_keep_fleet_state(
    options: *mut cdt_options,
    keep: bool,
) -> cdt_status {
    call(|| {
        args::handle_mut(options, "options")?.keep_fleet_state = keep;
        Ok(())
    })
}

/// The package the list was generated for (a file name or path the inventory knows), when
/// it is not the plan's first package.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_options_set_package(
    options: *mut cdt_options,
    package: *const c_char,
) -> cdt_status {
    call(|| {
        let options = args::handle_mut(options, "options")?;
        options.package = Some(args::path(package, "package")?);
        Ok(())
    })
}

/// A primary configuration (copied): Basic Mode without a plan, or its options with one.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_options_set_config(
    options: *mut cdt_options,
    config: *const cdt_config,
) -> cdt_status {
    call(|| {
        let config = args::handle(config, "config")?.inner.clone();
        args::handle_mut(options, "options")?.config = Some(config);
        Ok(())
    })
}

/// The Management Server (its object name, and for SSH its `address`; NULL otherwise) and
/// the `policy_package` installed after an upgrade (NULL: `Standard`), for runs that reach
/// real gateways. A simulated fleet names its own.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_options_set_management(
    options: *mut cdt_options,
    name: *const c_char,
    address: *const c_char,
    policy_package: *const c_char,
) -> cdt_status {
    call(|| {
        let options = args::handle_mut(options, "options")?;
        let name = args::text(name, "name")?.to_string();
        let address = args::opt_text(address, "address")?.map(str::to_string);
        if let Some(p) = args::opt_text(policy_package, "policy_package")? {
            options.policy_package = p.to_string();
        }
        options.management = Some((name, address));
        Ok(())
    })
}

/// Releases options (NULL accepted).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_options_free(options: *mut cdt_options) {
    args::free(options);
}

enum State {
    Ready {
        prepared: Box<Prepared>,
        reach: Reach,
        settings: Box<DriverSettings>,
        control: Control,
    },
    Running(JoinHandle<cdt_core::Result<Finished>>),
    Done(std::result::Result<Report, (cdt_status, String)>),
    /// Being started or waited for by another call.
    Busy,
}

/// A deployment in a run folder.
pub struct cdt_deployment {
    dir: PathBuf,
    targets: Arc<Vec<String>>,
    in_flight: usize,
    control: ControlHandle,
    state: Mutex<State>,
    events: Mutex<Option<Receiver<DriverEvent>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One event of a run: its `kind`, its `target` (by name, or NULL) and the whole event as
/// JSON, as in Python's `Event.to_dict()`.
pub struct cdt_event {
    kind: CString,
    target: Option<CString>,
    json: CString,
}

impl cdt_event {
    fn new(event: &DriverEvent, targets: &[String]) -> cdt_event {
        let v = run::event_json(event, targets);
        let text = crate::error::c_text;
        cdt_event {
            kind: text(
                v.get("kind")
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or(""),
            ),
            target: v
                .get("target")
                .and_then(serde_json::Value::as_str)
                .map(text),
            json: text(&v.to_string()),
        }
    }
}

/// A deployment's report: what happened to every target and cluster.
pub struct cdt_report {
    inner: Report,
}

/// The report's totals, as [`cdt_report_totals`] writes them.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct cdt_totals {
    /// Targets that succeeded.
    pub succeeded: usize,
    /// Targets that failed.
    pub failed: usize,
    /// Targets that could not be reached.
    pub unreachable: usize,
    /// Targets skipped (a cluster whose first wave failed, the error budget spent, ...).
    pub skipped: usize,
    /// Targets never started (cancelled, or past the cut-off).
    pub not_started: usize,
}

impl From<&Totals> for cdt_totals {
    fn from(t: &Totals) -> Self {
        cdt_totals {
            succeeded: t.succeeded,
            failed: t.failed,
            unreachable: t.unreachable,
            skipped: t.skipped,
            not_started: t.not_started,
        }
    }
}

/// Called with each event of a blocking run, on the thread that called
/// [`cdt_deployment_run`], `userdata` first. The event is borrowed for the call. Returning
/// non-zero cancels the run (nothing new starts, installs in flight finish); no more events
/// are passed after that.
pub type cdt_event_fn =
    Option<unsafe extern "C" fn(userdata: *mut c_void, event: *const cdt_event) -> c_int>;

impl cdt_deployment {
    fn new(prepared: Prepared, reach: Reach, settings: DriverSettings) -> cdt_deployment {
        let (control, run_control) = Control::new();
        cdt_deployment {
            dir: prepared.dir().to_path_buf(),
            targets: Arc::new(prepared.targets().to_vec()),
            in_flight: prepared.in_flight(),
            control,
            state: Mutex::new(State::Ready {
                prepared: Box::new(prepared),
                reach,
                settings: Box::new(settings),
                control: run_control,
            }),
            events: Mutex::new(None),
        }
    }

    fn launch(&self, queue: usize, keep: Option<fn(&DriverEvent) -> bool>) -> Result<()> {
        let mut state = lock(&self.state);
        match std::mem::replace(&mut *state, State::Busy) {
            State::Ready {
                prepared,
                reach,
                settings,
                control,
            } => {
                let (worker, rx) = run::spawn(*prepared, reach, *settings, control, queue, keep)?;
                *lock(&self.events) = Some(rx);
                *state = State::Running(worker);
                Ok(())
            }
            other => {
                *state = other;
                Err(Failure::new(
                    CDT_ERR_STATE,
                    "this deployment was started already",
                ))
            }
        }
    }

    fn finish(&self) -> Result<Report> {
        let worker = {
            let mut state = lock(&self.state);
            match std::mem::replace(&mut *state, State::Busy) {
                State::Running(worker) => worker,
                State::Done(done) => {
                    *state = State::Done(done.clone());
                    return done.map_err(|(s, m)| Failure::new(s, m));
                }
                other => {
                    *state = other;
                    return Err(Failure::new(
                        CDT_ERR_STATE,
                        "this deployment is not running (start it first, or another thread waits for it)",
                    ));
                }
            }
        };
        // Nobody listens any more: the run must not wait for a consumer.
        lock(&self.events).take();
        let done = match worker.join() {
            Ok(Ok(finished)) => Ok(finished.report),
            Ok(Err(e)) => {
                let f = Failure::from(e);
                Err((f.status, f.message))
            }
            Err(_) => Err((
                cdt_status::CDT_ERR_PANIC,
                "the run's thread panicked".to_string(),
            )),
        };
        *lock(&self.state) = State::Done(done.clone());
        done.map_err(|(s, m)| Failure::new(s, m))
    }
}

struct Made {
    info: RunInfo,
    spec: RolloutSpec,
    driver: DriverSettings,
}

unsafe fn made(
    inventory: &cdt_core::model::Inventory,
    candidates: *const cdt_candidates,
    plan: *const cdt_plan,
    options: &cdt_options,
    info: RunInfo,
) -> Result<Made> {
    let list = args::handle(candidates, "candidates")?.inner.clone();
    let plan = plan.as_ref().map(|p| p.inner.clone());
    let package = match &options.package {
        Some(p) => Some(inventory.resolve_package(p)?),
        None => None,
    };
    let spec = RolloutSpec::build(
        inventory,
        list,
        plan,
        options.config.as_ref(),
        package,
        options.settings.clone().unwrap_or_default(),
    )?;
    let driver = info
        .driver_settings_with(options.poll, options.command_timeout)
        .map_err(|m| Failure::new(CDT_ERR_ARGUMENT, m))?;
    Ok(Made { info, spec, driver })
}

unsafe fn finish_new(
    dir: *const c_char,
    made: Made,
    reach: Reach,
    out: *mut *mut cdt_deployment,
) -> Result<()> {
    let dir = args::path(dir, "dir")?;
    let prepared = Prepared::fresh(&dir, made.info, made.spec)?;
    args::give(out, cdt_deployment::new(prepared, reach, made.driver));
    Ok(())
}

/// A new deployment in the run folder `dir` on the simulated `fleet`: the `candidates` list
/// (validated against the generated one beforehand) with `plan` (Advanced Mode; may be NULL
/// with a Basic-mode configuration in `options`). `options` may be NULL. The run's inputs
/// are journaled now; nothing is sent before [`cdt_deployment_run`] or
/// [`cdt_deployment_start`]. Refused (`CDT_ERR_JOURNAL`) if `dir` holds a run already.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_simulated(
    dir: *const c_char,
    fleet: *const cdt_fleet,
    candidates: *const cdt_candidates,
    plan: *const cdt_plan,
    options: *const cdt_options,
    out: *mut *mut cdt_deployment,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let fleet = &args::handle(fleet, "fleet")?.inner;
        let default = cdt_options::default();
        let options = options.as_ref().unwrap_or(&default);
        let made = made(
            &fleet.inventory(),
            candidates,
            plan,
            options,
            RunInfo::for_fleet(fleet),
        )?;
        let reach = Reach::Simulated {
            fleet: Some(Box::new(fleet.clone())),
            scale: options.scale.unwrap_or(60.0),
            keep: options.keep_fleet_state,
        };
        finish_new(dir, made, reach, out)
    })
}

fn management_of(options: &cdt_options) -> Option<(&str, Option<&str>)> {
    options
        .management
        .as_ref()
        .map(|(n, a)| (n.as_str(), a.as_deref()))
}

/// A new deployment in the run folder `dir` over SSH with `ssh`: each box of `inventory` at
/// its address, and the Management Server `options` names (with its address), for version
/// changes and policy installs. The run folder records how the gateways are reached, never
/// a secret: resuming needs `ssh` again. The other arguments as for
/// [`cdt_deployment_simulated`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_over_ssh(
    dir: *const c_char,
    inventory: *const cdt_inventory,
    candidates: *const cdt_candidates,
    plan: *const cdt_plan,
    ssh: *const cdt_ssh,
    options: *const cdt_options,
    out: *mut *mut cdt_deployment,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let inventory = &args::handle(inventory, "inventory")?.inner;
        let ssh = args::handle(ssh, "ssh")?;
        let default = cdt_options::default();
        let options = options.as_ref().unwrap_or(&default);
        let management = match management_of(options) {
            Some((name, Some(address))) => Some((name, address)),
            Some((name, None)) => {
                return Err(Failure::new(
                    CDT_ERR_ARGUMENT,
                    format!(
                        "the Management Server {name} needs its address to be reached over SSH"
                    ),
                ));
            }
            None => None,
        };
        if ssh.relay() && management.is_none() {
            return Err(Failure::new(
                CDT_ERR_ARGUMENT,
                "relaying reaches the gateways through the Management Server: name it with cdt_options_set_management",
            ));
        }
        let info = RunInfo {
            management: management.map(|(n, _)| n.to_string()),
            policy_package: options.policy_package.clone(),
            ssh: Some(ssh.record(management)?),
        };
        let connector = ssh.profile()?.connector(inventory, management);
        let made = made(inventory, candidates, plan, options, info)?;
        let reach = Reach::Connector {
            connector,
            scale: options.scale.unwrap_or(1.0),
            sockets: true,
        };
        finish_new(dir, made, reach, out)
    })
}

fn c_reach(transport: cdt_transport, driver: &DriverSettings, scale: f64) -> Reach {
    // The time a call may take, in real time.
    let timeout = driver.command_timeout.unsigned_abs().div_f64(scale);
    Reach::Connector {
        connector: Arc::new(CConnector::new(transport, timeout)),
        scale,
        sockets: false,
    }
}

/// A new deployment in the run folder `dir` through `transport`, written in C (see
/// [`cdt_transport`]): each call names the host by its object name (gateway, member, or the
/// Management Server `options` names). On success the deployment owns the transport and
/// calls its `free` when done with it; on failure it does not (the caller still owns its
/// `userdata`). The other arguments as for [`cdt_deployment_simulated`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_over_transport(
    dir: *const c_char,
    inventory: *const cdt_inventory,
    candidates: *const cdt_candidates,
    plan: *const cdt_plan,
    transport: *const cdt_transport,
    options: *const cdt_options,
    out: *mut *mut cdt_deployment,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let inventory = &args::handle(inventory, "inventory")?.inner;
        let transport = *args::handle(transport, "transport")?;
        CConnector::check(&transport)?;
        let default = cdt_options::default();
        let options = options.as_ref().unwrap_or(&default);
        let info = RunInfo {
            management: management_of(options).map(|(n, _)| n.to_string()),
            policy_package: options.policy_package.clone(),
            ssh: Some(serde_json::json!({"face": "c", "transport": "c"})),
        };
        let made = made(inventory, candidates, plan, options, info)?;
        let scale = options.scale.unwrap_or(1.0);
        let dir = args::path(dir, "dir")?;
        let prepared = Prepared::fresh(&dir, made.info, made.spec)?;
        // Only now, with nothing left to fail, the transport is taken over.
        let reach = c_reach(transport, &made.driver, scale);
        args::give(out, cdt_deployment::new(prepared, reach, made.driver));
        Ok(())
    })
}

/// The run in the run folder `dir`, rebuilt from its journal to finish it: finished work is
/// not redone, and steps that were in flight are checked again first. A run on the
/// simulator needs nothing more (it finds its gateways as they went on); a run over SSH
/// needs `inventory` and `ssh` again (secrets are never kept); one through a C transport its
/// `transport` (taken over on success, as by [`cdt_deployment_over_transport`]). Pass NULL
/// for what the run does not need; `options` (may be NULL) for the clock and timing only.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_resume(
    dir: *const c_char,
    inventory: *const cdt_inventory,
    ssh: *const cdt_ssh,
    transport: *const cdt_transport,
    options: *const cdt_options,
    out: *mut *mut cdt_deployment,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let dir = args::path(dir, "dir")?;
        let default = cdt_options::default();
        let options = options.as_ref().unwrap_or(&default);
        let prepared = Prepared::resume(&dir)?;
        let driver = prepared
            .info()
            .driver_settings_with(options.poll, options.command_timeout)
            .map_err(|m| Failure::new(CDT_ERR_ARGUMENT, m))?;
        let record = prepared.info().ssh.clone();
        let is_transport = record
            .as_ref()
            .is_some_and(|r| r.get("transport").is_some());
        let scale = options.scale.unwrap_or(1.0);
        let state = |m: &str| Err(Failure::new(CDT_ERR_STATE, m.to_string()));
        let reach = match (record, ssh.as_ref(), transport.as_ref()) {
            (None, None, None) => Reach::Simulated {
                fleet: None,
                scale: 1.0,
                keep: true,
            },
            (None, ..) => {
                return state(
                    "this run was on the simulator: resume it without SSH settings or a transport",
                );
            }
            (Some(_), None, Some(t)) if is_transport => {
                CConnector::check(t)?;
                c_reach(*t, &driver, scale)
            }
            (Some(_), ..) if is_transport => {
                return state(
                    "this run went through a transport: give the transport (not SSH settings)",
                );
            }
            (Some(r), Some(ssh), None) => {
                let inventory = &args::handle(inventory, "inventory")?.inner;
                let m = ::cdt_ssh::Profile::recorded_management(&r);
                let pair = m.as_ref().map(|(n, a)| (n.as_str(), a.as_str()));
                Reach::Connector {
                    connector: ssh.profile()?.connector(inventory, pair),
                    scale,
                    sockets: true,
                }
            }
            (Some(_), ..) => {
                return state(
                    "this run reached its gateways over SSH: give the SSH settings and the inventory; secrets are not kept in a run folder",
                );
            }
        };
        args::give(out, cdt_deployment::new(prepared, reach, driver));
        Ok(())
    })
}

/// Runs the deployment to its end on the calling thread's behalf (it waits), passing each
/// event to `on_event` (may be NULL) with `userdata`, and writes its report to `*out` (may be
/// NULL when the report is not wanted; the run folder has `report.json` either way).
/// `CDT_ERR_STATE` if the deployment was started already.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_run(
    deployment: *const cdt_deployment,
    on_event: cdt_event_fn,
    userdata: *mut c_void,
    out: *mut *mut cdt_report,
) -> cdt_status {
    call(|| {
        let d = args::handle(deployment, "deployment")?;
        // Without a callback no event is forwarded at all.
        let keep: Option<fn(&DriverEvent) -> bool> =
            on_event.map(|_| (|_| true) as fn(&DriverEvent) -> bool);
        d.launch(QUEUE, keep)?;
        if let Some(callback) = on_event {
            let mut listening = true;
            loop {
                let batch = match lock(&d.events).as_ref() {
                    Some(rx) => run::next_batch(rx, 256, Some(Duration::from_millis(50))),
                    None => Batch::Closed,
                };
                match batch {
                    Batch::Events(events) => {
                        for e in &events {
                            if !listening {
                                break;
                            }
                            let event = cdt_event::new(e, &d.targets);
                            // The callback's contract: `userdata` is the caller's own.
                            if callback(userdata, &event) != 0 {
                                d.control.cancel();
                                listening = false;
                            }
                        }
                    }
                    Batch::Empty => {}
                    Batch::Closed => break,
                }
            }
        }
        let report = d.finish()?;
        if !out.is_null() {
            args::give(out, cdt_report { inner: report });
        }
        Ok(())
    })
}

/// Starts the deployment on its own thread and returns at once; its events wait in a queue
/// of `queue` events (0: 4,096) for [`cdt_deployment_next_event`]. A consumer that is slow
/// holds the run back rather than losing events; [`cdt_deployment_wait`] stops listening.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_start(
    deployment: *const cdt_deployment,
    queue: usize,
) -> cdt_status {
    call(|| {
        let d = args::handle(deployment, "deployment")?;
        d.launch(if queue == 0 { QUEUE } else { queue }, Some(|_| true))
    })
}

/// The next event of a started deployment, waiting up to `timeout_ms` for it (0: not at
/// all): `CDT_OK` with a new event in `*out` (release it with [`cdt_event_free`]),
/// `CDT_NO_EVENT` when none came in time, `CDT_FINISHED` when none will come (the run has
/// ended, or [`cdt_deployment_wait`] stopped listening). `CDT_ERR_STATE` before
/// [`cdt_deployment_start`]. Neither of the last two is an error kept as the last error.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_next_event(
    deployment: *const cdt_deployment,
    timeout_ms: u32,
    out: *mut *mut cdt_event,
) -> cdt_status {
    let mut found = cdt_status::CDT_OK;
    let status = call(|| {
        args::out(out, "out")?;
        let d = args::handle(deployment, "deployment")?;
        if matches!(&*lock(&d.state), State::Ready { .. }) {
            return Err(Failure::new(
                CDT_ERR_STATE,
                "this deployment is not started",
            ));
        }
        let batch = match lock(&d.events).as_ref() {
            Some(rx) => run::next_batch(rx, 1, Some(Duration::from_millis(timeout_ms.into()))),
            None => Batch::Closed,
        };
        match batch {
            Batch::Events(mut events) => match events.pop() {
                Some(e) => args::give(out, cdt_event::new(&e, &d.targets)),
                None => found = cdt_status::CDT_NO_EVENT,
            },
            Batch::Empty => found = cdt_status::CDT_NO_EVENT,
            Batch::Closed => found = cdt_status::CDT_FINISHED,
        }
        Ok(())
    });
    if status == cdt_status::CDT_OK {
        found
    } else {
        status
    }
}

/// Waits for a started deployment's end (no longer listening for events) and writes its
/// report to `*out` (may be NULL). Called again, gives the same report.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_wait(
    deployment: *const cdt_deployment,
    out: *mut *mut cdt_report,
) -> cdt_status {
    call(|| {
        let report = args::handle(deployment, "deployment")?.finish()?;
        if !out.is_null() {
            args::give(out, cdt_report { inner: report });
        }
        Ok(())
    })
}

/// Cancels the deployment: nothing new starts, installs in flight finish, and the run ends
/// with what it did (a resumed run can go on later). Before it starts, it ends at once when
/// started. Any thread, any time before `cdt_deployment_free`; harmless when repeated.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_cancel(deployment: *const cdt_deployment) -> cdt_status {
    call(|| {
        args::handle(deployment, "deployment")?.control.cancel();
        Ok(())
    })
}

/// Lets a deployment paused after a batch (`pause_after_batch` in the settings) go on to the
/// next one. Any thread, any time before `cdt_deployment_free`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_approve(deployment: *const cdt_deployment) -> cdt_status {
    call(|| {
        args::handle(deployment, "deployment")?.control.approve();
        Ok(())
    })
}

/// Whether the deployment's run has ended (false for NULL, or one not started).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_finished(deployment: *const cdt_deployment) -> bool {
    guard(false, || {
        deployment.as_ref().is_some_and(|d| match &*lock(&d.state) {
            State::Done(_) => true,
            State::Running(worker) => worker.is_finished(),
            State::Ready { .. } | State::Busy => false,
        })
    })
}

/// How many targets the deployment has (0 for NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_targets(deployment: *const cdt_deployment) -> usize {
    guard(0, || deployment.as_ref().map_or(0, |d| d.targets.len()))
}

/// How many steps a resumed deployment checks again before going on (0 for a new one).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_in_flight(deployment: *const cdt_deployment) -> usize {
    guard(0, || deployment.as_ref().map_or(0, |d| d.in_flight))
}

/// The run folder, a new string in `*out` and its length in `*len` (may be NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_dir(
    deployment: *const cdt_deployment,
    out: *mut *mut c_char,
    len: *mut usize,
) -> cdt_status {
    call(|| {
        let d = args::handle(deployment, "deployment")?;
        args::give_string(d.dir.display().to_string(), out, len)
    })
}

/// Releases a deployment (NULL accepted). A deployment still running is cancelled first,
/// and this waits for its run to stop (installs in flight finish; a transport call the
/// driver gave up on is not waited for).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_deployment_free(deployment: *mut cdt_deployment) {
    if deployment.is_null() {
        return;
    }
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let d = Box::from_raw(deployment);
        if matches!(&*lock(&d.state), State::Running(_)) {
            d.control.cancel();
            let _ = d.finish();
        }
        drop(d);
    }));
}

/// The event's kind (`target_started`, `step_finished`, `failover`, `log`, ...), borrowed
/// from the event; "" for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_event_kind(event: *const cdt_event) -> *const c_char {
    guard(c"".as_ptr(), || {
        event.as_ref().map_or(c"".as_ptr(), |e| e.kind.as_ptr())
    })
}

/// The event's target by name, borrowed from the event; NULL when it concerns no target.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_event_target(event: *const cdt_event) -> *const c_char {
    guard(std::ptr::null(), || {
        event
            .as_ref()
            .and_then(|e| e.target.as_ref())
            .map_or(std::ptr::null(), |t| t.as_ptr())
    })
}

/// The whole event as JSON, borrowed from the event, its length in `*len` (may be NULL);
/// "" for NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_event_json(event: *const cdt_event, len: *mut usize) -> *const c_char {
    guard(c"".as_ptr(), || {
        let json = event.as_ref().map_or(c"", |e| e.json.as_c_str());
        if !len.is_null() {
            *len = json.count_bytes();
        }
        json.as_ptr()
    })
}

/// Releases an event from [`cdt_deployment_next_event`] (NULL accepted). Events passed to a
/// callback are not the caller's to free.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_event_free(event: *mut cdt_event) {
    args::free(event);
}

/// The report as JSON (`targets`, `clusters`, `totals`; as `report.json`), a new string in
/// `*out` and its length in `*len` (may be NULL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_report_json(
    report: *const cdt_report,
    out: *mut *mut c_char,
    len: *mut usize,
) -> cdt_status {
    call(|| {
        let json = args::handle(report, "report")?.inner.to_json();
        args::give_string(json, out, len)
    })
}

/// The report as `results.csv` (one row per target), a new string.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_report_results_csv(
    report: *const cdt_report,
    out: *mut *mut c_char,
    len: *mut usize,
) -> cdt_status {
    call(|| {
        let csv = args::handle(report, "report")?.inner.results_csv();
        args::give_string(csv, out, len)
    })
}

/// Writes the report's files into the folder `dir` (created if needed): `report.json`,
/// `results.csv`, `CDT_status.txt` and `CDT_status_brief.txt`, each atomically.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_report_save(
    report: *const cdt_report,
    dir: *const c_char,
) -> cdt_status {
    call(|| {
        let r = &args::handle(report, "report")?.inner;
        r.save(&args::path(dir, "dir")?)?;
        Ok(())
    })
}

/// Writes the report's totals to `*out`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_report_totals(
    report: *const cdt_report,
    out: *mut cdt_totals,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        *out = cdt_totals::from(&args::handle(report, "report")?.inner.totals);
        Ok(())
    })
}

/// Releases a report (NULL accepted).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_report_free(report: *mut cdt_report) {
    args::free(report);
}
