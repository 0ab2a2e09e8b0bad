//! Deployments in a run folder, on the simulated fleet, over SSH or through a transport written
//! in Python: run blocking (the GIL released), with events to a callback or an iterator, or
//! under asyncio; cancel and approve from another thread; resume.
//!
//! The run goes on a thread of its own with its own runtime. Events reach Python through a
//! bounded queue: a consumer that is slow holds the run back rather than losing events; one
//! that stops listening (its iterator dropped, or `wait()` called) no longer holds it.

use std::path::PathBuf;
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use cdt_core::driver::{Control, ControlHandle, DriverEvent, DriverSettings};
use cdt_core::model::Inventory as CoreInventory;
use cdt_core::rollout::{RolloutSpec, Settings};
use cdt_core::run::{self, Batch, Finished, Prepared, RunInfo};
use cdt_core::sim::FleetFile;
use cdt_core::transport::Connector;
use pyo3::exceptions::{PyStopIteration, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::convert;
use crate::errors::{self, IntoPy};
use crate::files::{Config, Plan};
use crate::fleet::{CandidatesList, Fleet, Inventory, Package};
use crate::reach::{PyConnector, SshSettings};

/// Events waiting for Python at most; beyond, the run waits for the consumer.
const QUEUE: usize = 4096;

/// How often a waiting call looks at Python's signals (Ctrl-C).
const TICK: Duration = Duration::from_millis(50);

type Outcome = cdt_core::Result<Finished>;

/// How a deployment reaches its gateways.
enum Reach {
    /// The simulated fleet: a new one from `fleet`, or the one its run folder keeps; kept in
    /// the run folder, or in memory only.
    Simulated {
        fleet: Option<Box<FleetFile>>,
        scale: f64,
        keep: bool,
    },
    /// Over SSH (or any connector built in Rust), the driver's clock `scale` times real time.
    Connector {
        connector: Arc<dyn Connector>,
        scale: f64,
    },
    /// Through a transport written in Python; an asynchronous one runs its coroutines on the
    /// event loop `run_async` runs on.
    Python {
        connector: PyConnector,
        is_async: bool,
        scale: f64,
    },
}

enum State {
    /// Prepared, not started.
    Ready {
        prepared: Box<Prepared>,
        reach: Reach,
        settings: Box<DriverSettings>,
    },
    /// Running on its thread.
    Running(JoinHandle<Outcome>),
    /// Finished: the report, or why it stopped.
    Done(Result<cdt_core::report::Report, String>),
    /// Being waited for by another call.
    Waiting,
}

/// A deployment in a run folder: on the simulated fleet, over SSH, or through a transport
/// written in Python.
#[pyclass(module = "cdt._cdt")]
pub struct Deployment {
    dir: PathBuf,
    targets: Arc<Vec<String>>,
    in_flight: usize,
    state: Mutex<State>,
    control: ControlHandle,
    /// The run's end of `control`, until the run starts.
    run_control: Mutex<Option<Control>>,
    events: Arc<Mutex<Option<Receiver<DriverEvent>>>>,
    /// The event loop an asynchronous Python transport's coroutines run on.
    event_loop: Mutex<Option<Py<PyAny>>>,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Deployment {
    fn new(prepared: Prepared, reach: Reach, settings: DriverSettings) -> Deployment {
        let (control, run_control) = Control::new();
        Deployment {
            dir: prepared.dir().to_path_buf(),
            targets: Arc::new(prepared.targets().to_vec()),
            in_flight: prepared.in_flight(),
            state: Mutex::new(State::Ready {
                prepared: Box::new(prepared),
                reach,
                settings: Box::new(settings),
            }),
            control,
            run_control: Mutex::new(Some(run_control)),
            events: Arc::new(Mutex::new(None)),
            event_loop: Mutex::new(None),
        }
    }

    /// A new run in `dir` (its inputs journaled now), reaching its gateways by `reach`, the
    /// driver's `poll` and `command_timeout` as given.
    fn fresh(
        py: Python<'_>,
        dir: &std::path::Path,
        info: RunInfo,
        spec: RolloutSpec,
        reach: Reach,
        poll: Option<f64>,
        command_timeout: Option<f64>,
    ) -> PyResult<Deployment> {
        let driver = driver_settings(&info, poll, command_timeout)?;
        let prepared = py.detach(|| Prepared::fresh(dir, info, spec)).py()?;
        Ok(Deployment::new(prepared, reach, driver))
    }

    /// Starts the run on its thread, its events (every one, or only `log` actions) going to
    /// a queue of `queue` events.
    fn launch(&self, queue: usize, logs_only: bool) -> PyResult<()> {
        let mut state = lock(&self.state);
        let (prepared, mut reach, settings) = match std::mem::replace(&mut *state, State::Waiting) {
            State::Ready {
                prepared,
                reach,
                settings,
            } => (prepared, reach, settings),
            other => {
                *state = other;
                return Err(errors::rollout("this deployment was started already"));
            }
        };
        if let Reach::Python {
            connector,
            is_async: true,
            ..
        } = &mut reach
        {
            match lock(&self.event_loop).take() {
                Some(event_loop) => *connector = connector.on_loop(event_loop),
                None => {
                    *state = State::Ready {
                        prepared,
                        reach,
                        settings,
                    };
                    return Err(errors::rollout(
                        "this transport's methods are coroutines: run it with run_async() \
                         or events_async()",
                    ));
                }
            }
        }
        let control = lock(&self.run_control).take().unwrap_or_else(Control::none);
        let reach = match reach {
            Reach::Simulated { fleet, scale, keep } => run::Reach::Simulated { fleet, scale, keep },
            Reach::Connector { connector, scale } => run::Reach::Connector {
                connector,
                scale,
                sockets: true,
            },
            Reach::Python {
                connector, scale, ..
            } => run::Reach::Connector {
                connector: Arc::new(connector),
                scale,
                sockets: false,
            },
        };
        // Without a callback only `log` actions cross to Python (for its logging).
        let keep: fn(&DriverEvent) -> bool = if logs_only {
            |e| matches!(e, DriverEvent::Log { .. })
        } else {
            |_| true
        };
        let (worker, rx) =
            run::spawn(*prepared, reach, *settings, control, queue, Some(keep)).py()?;
        *lock(&self.events) = Some(rx);
        *state = State::Running(worker);
        Ok(())
    }

    /// Waits for the run's end (the GIL released, Ctrl-C cancels it); its report.
    fn finish(&self, py: Python<'_>) -> PyResult<Report> {
        let worker = {
            let mut state = lock(&self.state);
            match std::mem::replace(&mut *state, State::Waiting) {
                State::Running(worker) => worker,
                State::Done(done) => {
                    *state = State::Done(done.clone());
                    return done.map(|inner| Report { inner }).map_err(errors::rollout);
                }
                other => {
                    *state = other;
                    return Err(errors::rollout(
                        "this deployment is not running (start it first)",
                    ));
                }
            }
        };
        let mut interrupted = None;
        while !worker.is_finished() {
            py.detach(|| std::thread::sleep(TICK));
            if let Err(e) = py.check_signals() {
                self.control.cancel();
                interrupted.get_or_insert(e);
            }
        }
        // Nobody listens any more: the run must not wait for a consumer.
        lock(&self.events).take();
        let outcome = worker
            .join()
            .unwrap_or_else(|_| Err(cdt_core::Error::Rollout("the run's thread panicked".into())));
        let done = match outcome {
            Ok(finished) => Ok(finished.report),
            Err(e) => {
                let message = e.to_string();
                *lock(&self.state) = State::Done(Err(message));
                return Err(errors::to_py(e));
            }
        };
        *lock(&self.state) = State::Done(done.clone());
        if let Some(e) = interrupted {
            return Err(e);
        }
        done.map(|inner| Report { inner }).map_err(errors::rollout)
    }

    fn event(&self, event: DriverEvent) -> Event {
        Event {
            inner: event,
            targets: self.targets.clone(),
        }
    }
}

/// The driver's settings for `info`'s run: its Management Server, and the waits and
/// timeouts given (seconds, in the driver's clock).
fn driver_settings(
    info: &RunInfo,
    poll: Option<f64>,
    command_timeout: Option<f64>,
) -> PyResult<DriverSettings> {
    info.driver_settings_with(poll, command_timeout)
        .map_err(PyValueError::new_err)
}

fn positive(name: &str, value: f64) -> PyResult<f64> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(PyValueError::new_err(format!(
            "{name} must be a positive number"
        )))
    }
}

/// The run information of a run that reaches real gateways: its Management Server and how
/// it reaches them.
fn info_of(management: Option<&str>, policy_package: &str, reach: serde_json::Value) -> RunInfo {
    RunInfo {
        management: management.map(str::to_string),
        policy_package: policy_package.to_string(),
        ssh: Some(reach),
    }
}

fn spec_of(
    inventory: &CoreInventory,
    candidates: &CandidatesList,
    plan: Option<&Plan>,
    config: Option<&Config>,
    package: Option<&Package>,
    settings: Option<&Bound<'_, PyAny>>,
) -> PyResult<RolloutSpec> {
    let settings = match settings {
        Some(s) => serde_json::from_str::<Settings>(&convert::py_to_json_text(s)?)
            .map_err(|e| PyValueError::new_err(format!("settings: {e}")))?,
        None => Settings::default(),
    };
    RolloutSpec::build(
        inventory,
        candidates.inner.clone(),
        plan.map(|p| p.inner.clone()),
        config.map(|c| &c.inner),
        package.map(|p| p.inner.clone()),
        settings,
    )
    .py()
}

#[pymethods]
impl Deployment {
    /// A new deployment in the run folder `dir` on the simulated `fleet`: the `candidates`
    /// list (validated against the generated one beforehand), and a `plan` (Advanced Mode)
    /// or a Basic-mode `config`. `package` is the plan's first package unless given;
    /// `settings` (`concurrency`, `not_before`, `not_after`, `failure_budget`,
    /// `pause_after_batch`, `check_state`) as in the journal. The fleet's clock runs `scale`
    /// simulated seconds per real second. The fleet's state is kept in the run folder (so a
    /// resumed run finds the gateways as they went on) unless `keep_fleet_state=False`, which
    /// keeps it in memory only, for large dry runs. `poll` (how often steps poll a gateway
    /// while waiting, 10 by default) and `command_timeout` (5,400 by default) are seconds of
    /// the fleet's clock. The run's inputs are journaled now; nothing is sent before `run` or
    /// `start`.
    #[staticmethod]
    #[pyo3(signature = (dir, fleet, candidates, plan = None, *, config = None, package = None, settings = None, scale = 60.0, keep_fleet_state = true, poll = None, command_timeout = None))]
    #[allow(clippy::too_many_arguments)]
    fn simulated(
        py: Python<'_>,
        dir: PathBuf,
        fleet: PyRef<'_, Fleet>,
        candidates: PyRef<'_, CandidatesList>,
        plan: Option<PyRef<'_, Plan>>,
        config: Option<PyRef<'_, Config>>,
        package: Option<PyRef<'_, Package>>,
        settings: Option<&Bound<'_, PyAny>>,
        scale: f64,
        keep_fleet_state: bool,
        poll: Option<f64>,
        command_timeout: Option<f64>,
    ) -> PyResult<Deployment> {
        let scale = positive("scale", scale)?;
        let spec = spec_of(
            &fleet.inner.inventory(),
            &candidates,
            plan.as_deref(),
            config.as_deref(),
            package.as_deref(),
            settings,
        )?;
        let reach = Reach::Simulated {
            fleet: Some(Box::new(fleet.inner.clone())),
            scale,
            keep: keep_fleet_state,
        };
        let info = RunInfo::for_fleet(&fleet.inner);
        Deployment::fresh(py, &dir, info, spec, reach, poll, command_timeout)
    }

    /// A new deployment in the run folder `dir` over SSH with `ssh`: each gateway of
    /// `inventory` at its address, the Management Server `management` (its object name) at
    /// `management_address`, for version changes and installing `policy_package`. The other
    /// arguments as for `simulated`; `clock_scale` runs the driver's clock faster, for
    /// simulated gateways behind SSH only (a test fleet), never for real ones. The run folder
    /// records how the gateways are reached, never the secrets: resuming needs `ssh` again.
    #[staticmethod]
    #[pyo3(signature = (dir, inventory, candidates, plan = None, *, ssh, management = None, management_address = None, policy_package = "Standard".to_string(), config = None, package = None, settings = None, poll = None, command_timeout = None, clock_scale = 1.0))]
    #[allow(clippy::too_many_arguments)]
    fn over_ssh(
        py: Python<'_>,
        dir: PathBuf,
        inventory: PyRef<'_, Inventory>,
        candidates: PyRef<'_, CandidatesList>,
        plan: Option<PyRef<'_, Plan>>,
        ssh: PyRef<'_, SshSettings>,
        management: Option<String>,
        management_address: Option<String>,
        policy_package: String,
        config: Option<PyRef<'_, Config>>,
        package: Option<PyRef<'_, Package>>,
        settings: Option<&Bound<'_, PyAny>>,
        poll: Option<f64>,
        command_timeout: Option<f64>,
        clock_scale: f64,
    ) -> PyResult<Deployment> {
        let scale = positive("clock_scale", clock_scale)?;
        let management = match (management, management_address) {
            (Some(name), Some(address)) => Some((name, address)),
            (None, None) => None,
            _ => {
                return Err(PyValueError::new_err(
                    "management= and management_address= go together",
                ));
            }
        };
        if ssh.relay() && management.is_none() {
            return Err(PyValueError::new_err(
                "relay=True reaches the gateways through the Management Server: give \
                 management= and management_address=",
            ));
        }
        let spec = spec_of(
            &inventory.inner,
            &candidates,
            plan.as_deref(),
            config.as_deref(),
            package.as_deref(),
            settings,
        )?;
        let pair = management.as_ref().map(|(n, a)| (n.as_str(), a.as_str()));
        let info = info_of(pair.map(|(n, _)| n), &policy_package, ssh.record(pair));
        let reach = Reach::Connector {
            connector: ssh.connector(&inventory.inner, pair),
            scale,
        };
        Deployment::fresh(py, &dir, info, spec, reach, poll, command_timeout)
    }

    /// A new deployment in the run folder `dir` through `transport`, written in Python: any
    /// object with `exec(host, command)` returning `(exit, stdout, stderr)` (`exit` an int,
    /// or `None` when the connection dropped before the command ended, as a reboot does;
    /// the streams `str` or `bytes`), `put(host, local, remote)` and `get(host, remote,
    /// local)`; `host` is the object name (gateway, member or the Management Server
    /// `management`). Plain methods run with `run()` (each call on one of the run's worker
    /// threads, holding the GIL while it runs), coroutine functions with `run_async()` (on
    /// the event loop it runs on). Calls overlap, for different hosts and for one host (the
    /// Management Server serves every target's version and policy steps): a transport that
    /// cannot serve calls at once guards itself with a lock. An exception a call raises fails
    /// that step, its text in the step's error. As the SSH transport reports them,
    /// `ConnectionRefusedError` and `TimeoutError` are an unreachable host, other
    /// `ConnectionError`s a lost connection, and `cdt.errors.HostKeyError` and `AuthError` a
    /// refused host key or credentials: the engine treats them as it treats SSH's. The other
    /// arguments as for `over_ssh`.
    #[staticmethod]
    #[pyo3(signature = (dir, inventory, candidates, plan = None, *, transport, management = None, policy_package = "Standard".to_string(), config = None, package = None, settings = None, poll = None, command_timeout = None, clock_scale = 1.0))]
    #[allow(clippy::too_many_arguments)]
    fn over_transport(
        py: Python<'_>,
        dir: PathBuf,
        inventory: PyRef<'_, Inventory>,
        candidates: PyRef<'_, CandidatesList>,
        plan: Option<PyRef<'_, Plan>>,
        transport: &Bound<'_, PyAny>,
        management: Option<String>,
        policy_package: String,
        config: Option<PyRef<'_, Config>>,
        package: Option<PyRef<'_, Package>>,
        settings: Option<&Bound<'_, PyAny>>,
        poll: Option<f64>,
        command_timeout: Option<f64>,
        clock_scale: f64,
    ) -> PyResult<Deployment> {
        let scale = positive("clock_scale", clock_scale)?;
        let (connector, is_async) = PyConnector::new(transport)?;
        let spec = spec_of(
            &inventory.inner,
            &candidates,
            plan.as_deref(),
            config.as_deref(),
            package.as_deref(),
            settings,
        )?;
        let info = info_of(
            management.as_deref(),
            &policy_package,
            transport_record(transport)?,
        );
        let reach = Reach::Python {
            connector,
            is_async,
            scale,
        };
        Deployment::fresh(py, &dir, info, spec, reach, poll, command_timeout)
    }

    /// The run in the run folder `dir`, rebuilt from its journal to finish it: finished work
    /// is not redone, and steps that were in flight are checked again first. A run on the
    /// simulator finds its gateways as they went on meanwhile; a run over SSH needs `ssh`
    /// and `inventory` again (secrets are never kept), one through a Python transport its
    /// `transport`. `poll`, `command_timeout` and `clock_scale` as for a new run.
    #[staticmethod]
    #[pyo3(signature = (dir, *, inventory = None, ssh = None, transport = None, poll = None, command_timeout = None, clock_scale = 1.0))]
    #[allow(clippy::too_many_arguments)]
    fn resume(
        py: Python<'_>,
        dir: PathBuf,
        inventory: Option<PyRef<'_, Inventory>>,
        ssh: Option<PyRef<'_, SshSettings>>,
        transport: Option<&Bound<'_, PyAny>>,
        poll: Option<f64>,
        command_timeout: Option<f64>,
        clock_scale: f64,
    ) -> PyResult<Deployment> {
        let scale = positive("clock_scale", clock_scale)?;
        let prepared = py.detach(|| Prepared::resume(&dir)).py()?;
        let driver = driver_settings(prepared.info(), poll, command_timeout)?;
        let recorded = match &prepared.info().ssh {
            None => Recorded::Simulated,
            Some(r) if r.get("transport").is_some() => Recorded::Transport,
            Some(r) => Recorded::Ssh(cdt_ssh::Profile::recorded_management(r)),
        };
        let reach = match (recorded, ssh, transport) {
            (Recorded::Simulated, None, None) => Reach::Simulated {
                fleet: None,
                scale: 1.0,
                keep: true,
            },
            (Recorded::Simulated, ..) => {
                return Err(errors::rollout(
                    "this run was on the simulator: resume it without ssh= or transport=",
                ));
            }
            (Recorded::Transport, None, Some(transport)) => {
                let (connector, is_async) = PyConnector::new(transport)?;
                Reach::Python {
                    connector,
                    is_async,
                    scale,
                }
            }
            (Recorded::Transport, ..) => {
                return Err(errors::rollout(
                    "this run went through a Python transport: give transport= (not ssh=)",
                ));
            }
            (Recorded::Ssh(management), Some(ssh), None) => {
                let inventory = inventory.ok_or_else(|| {
                    PyValueError::new_err("a run over SSH needs inventory= to be resumed")
                })?;
                let pair = management.as_ref().map(|(n, a)| (n.as_str(), a.as_str()));
                Reach::Connector {
                    connector: ssh.connector(&inventory.inner, pair),
                    scale,
                }
            }
            (Recorded::Ssh(_), ..) => {
                return Err(errors::rollout(
                    "this run reached its gateways over SSH: give ssh= (and inventory=); \
                     secrets are not kept in a run folder",
                ));
            }
        };
        Ok(Deployment::new(prepared, reach, driver))
    }

    /// Used by `cdt._aio`: the event loop an asynchronous transport's coroutines run on.
    fn _use_loop(&self, event_loop: Py<PyAny>) {
        *lock(&self.event_loop) = Some(event_loop);
    }

    /// The run folder.
    #[getter]
    fn dir(&self) -> String {
        self.dir.display().to_string()
    }

    /// The targets' names, in list order.
    #[getter]
    fn targets(&self) -> Vec<String> {
        self.targets.as_ref().clone()
    }

    /// How many steps a resumed run checks again before going on (0 for a new run).
    #[getter]
    fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Runs the deployment to its end, the GIL released, and returns its report. With
    /// `on_event`, each event is passed to it (on this thread); an exception it raises
    /// cancels the run (nothing new starts, installs in flight finish) and is raised here once
    /// the run has stopped. Ctrl-C cancels the same way.
    #[pyo3(signature = (on_event = None))]
    fn run(&self, py: Python<'_>, on_event: Option<Py<PyAny>>) -> PyResult<Report> {
        // Without a callback only `log` actions cross to Python (for its logging).
        self.launch(QUEUE, on_event.is_none())?;
        let logger = py.import("logging")?.call_method1("getLogger", ("cdt",))?;
        let mut failure: Option<PyErr> = None;
        let events = self.events.clone();
        loop {
            let batch = py.detach(|| next_batch(&events, 1024, Some(TICK)));
            match batch {
                Batch::Events(batch) => {
                    for e in batch {
                        if let DriverEvent::Log {
                            target,
                            level,
                            message,
                            ..
                        } = &e
                        {
                            log(&logger, *level, &format!("{target}: {message}"));
                        }
                        if let Some(callback) = &on_event
                            && failure.is_none()
                            && let Err(err) = callback.call1(py, (self.event(e),))
                        {
                            self.control.cancel();
                            failure = Some(err);
                        }
                    }
                }
                Batch::Empty => {}
                Batch::Closed => break,
            }
            if failure.is_none()
                && let Err(err) = py.check_signals()
            {
                self.control.cancel();
                failure = Some(err);
            }
        }
        let report = self.finish(py);
        match failure {
            Some(err) => Err(err),
            None => report,
        }
    }

    /// Runs the deployment under asyncio (a coroutine): as `run`, the events passed to
    /// `on_event` (a function or a coroutine function) on the event loop's thread; an
    /// exception it raises cancels the run and is raised once the run has stopped, and
    /// cancelling the task cancels the run the same way.
    #[pyo3(signature = (on_event = None))]
    fn run_async<'py>(
        slf: Bound<'py, Self>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.import("cdt._aio")?
            .getattr("run_async")?
            .call1((slf, on_event))
    }

    /// Starts the deployment and returns its events as an asynchronous iterator (for
    /// `async for`); then `await wait_async()` for the report.
    fn events_async<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.import("cdt._aio")?
            .getattr("events_async")?
            .call1((slf,))
    }

    /// Waits for a started deployment under asyncio (a coroutine); its report.
    fn wait_async<'py>(slf: Bound<'py, Self>) -> PyResult<Bound<'py, PyAny>> {
        let py = slf.py();
        py.import("cdt._aio")?.getattr("wait_async")?.call1((slf,))
    }

    /// Starts the deployment on its own thread and returns its events, to iterate (each
    /// `next` waits with the GIL released); call `wait()` for the report. At most `queue`
    /// events wait to be taken (4,096 by default): beyond, the run waits for the consumer,
    /// so none is lost; a larger queue lets a run go ahead of a slow consumer, at the cost of
    /// the memory its events take.
    #[pyo3(signature = (queue = QUEUE))]
    fn start(&self, queue: usize) -> PyResult<Events> {
        self.launch(queue, false)?;
        Ok(Events {
            queue: self.events.clone(),
            targets: self.targets.clone(),
        })
    }

    /// Waits for a started deployment to end (the GIL released) and returns its report;
    /// events not taken yet are dropped.
    fn wait(&self, py: Python<'_>) -> PyResult<Report> {
        self.finish(py)
    }

    /// Stops new work: nothing new starts, installs in flight are never aborted (a resumed
    /// run checks them). From any thread.
    fn cancel(&self) {
        self.control.cancel();
    }

    /// Lets a run paused between batches (`settings={"pause_after_batch": True}`) start its
    /// next batch. From any thread.
    fn approve(&self) {
        self.control.approve();
    }

    /// The simulated fleet's ground truth, as it stands in the run folder: `record` (per
    /// host the spans it was out of service, per cluster the spans it served no traffic,
    /// failovers, installs started, versions set, publishes, policy installs) and
    /// `installed` (each host's version now). Kept by the simulator, not by the engine:
    /// what safety checks read.
    fn fleet_state<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        fleet_state_in(py, &self.dir.join("fleet"))
    }

    /// Whether the run has ended.
    #[getter]
    fn finished(&self) -> bool {
        match &*lock(&self.state) {
            State::Done(_) => true,
            State::Running(worker) => worker.is_finished(),
            State::Ready { .. } | State::Waiting => false,
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "Deployment({:?}, {} targets)",
            self.dir.display().to_string(),
            self.targets.len()
        )
    }
}

/// The ground truth of the simulated fleet whose state is kept in `dir` (see
/// `Deployment.fleet_state`).
pub(crate) fn fleet_state_in<'py>(
    py: Python<'py>,
    dir: &std::path::Path,
) -> PyResult<Bound<'py, PyDict>> {
    let sim = py.detach(|| cdt_core::sim::Sim::load(dir)).py()?;
    let d = PyDict::new(py);
    d.set_item("record", convert::to_py(py, sim.record())?)?;
    let installed = PyDict::new(py);
    for host in sim.hosts() {
        if let Some(v) = sim.installed(host) {
            installed.set_item(host, v.to_string())?;
        }
    }
    d.set_item("installed", installed)?;
    Ok(d)
}

/// What a run folder records of a Python transport: its class.
fn transport_record(transport: &Bound<'_, PyAny>) -> PyResult<serde_json::Value> {
    let class = transport.get_type();
    Ok(serde_json::json!({
        "face": "python",
        "transport": format!("{}.{}", class.module()?, class.qualname()?),
    }))
}

/// How a run folder says its gateways were reached.
enum Recorded {
    Simulated,
    /// Over SSH, with the Management Server's name and address if it had one.
    Ssh(Option<(String, String)>),
    Transport,
}

/// Passes a plan's `log` action to Python's logging (logger `cdt`).
fn log(logger: &Bound<'_, PyAny>, level: cdt_core::formats::config::LogLevel, message: &str) {
    use cdt_core::formats::config::LogLevel;
    // ALWAYS is shown whatever the level: WARNING, which Python shows by default.
    let level = match level {
        LogLevel::Debug => 10,
        LogLevel::Normal => 20,
        LogLevel::Always => 30,
        LogLevel::Error => 40,
    };
    // Logging that fails (a handler raising) must not stop the run.
    let _ = logger.call_method1("log", (level, message));
}

fn next_batch(
    queue: &Mutex<Option<Receiver<DriverEvent>>>,
    max: usize,
    wait: Option<Duration>,
) -> Batch {
    match lock(queue).as_ref() {
        Some(rx) => run::next_batch(rx, max, wait),
        None => Batch::Closed,
    }
}

/// The events of a started deployment, in order; the iteration ends with the run.
#[pyclass(module = "cdt._cdt")]
pub struct Events {
    queue: Arc<Mutex<Option<Receiver<DriverEvent>>>>,
    targets: Arc<Vec<String>>,
}

#[pymethods]
impl Events {
    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    fn __next__(&self, py: Python<'_>) -> PyResult<Event> {
        loop {
            match py.detach(|| next_batch(&self.queue, 1, Some(TICK))) {
                Batch::Events(mut batch) => {
                    if let Some(e) = batch.pop() {
                        return Ok(Event {
                            inner: e,
                            targets: self.targets.clone(),
                        });
                    }
                }
                Batch::Empty => py.check_signals()?,
                Batch::Closed => return Err(PyStopIteration::new_err(())),
            }
        }
    }

    /// Up to `max` events: waits at most `timeout` seconds for the first (for ever when
    /// `None`); an empty list when none came in time; `None` once the run has ended and
    /// every event was taken. For event loops (`asyncio`) that poll in a worker thread.
    #[pyo3(signature = (max = 1024, timeout = None))]
    fn next_batch(
        &self,
        py: Python<'_>,
        max: usize,
        timeout: Option<f64>,
    ) -> PyResult<Option<Vec<Event>>> {
        let wait = timeout
            .map(|t| {
                Duration::try_from_secs_f64(t.max(0.0))
                    .map_err(|e| PyValueError::new_err(format!("timeout: {e}")))
            })
            .transpose()?;
        let batch = py.detach(|| next_batch(&self.queue, max.max(1), wait));
        Ok(match batch {
            Batch::Events(batch) => Some(
                batch
                    .into_iter()
                    .map(|e| Event {
                        inner: e,
                        targets: self.targets.clone(),
                    })
                    .collect(),
            ),
            Batch::Empty => Some(Vec::new()),
            Batch::Closed => None,
        })
    }
}

/// One event of a run: a rollout event (`run_started`, `batch_started`, `target_started`,
/// `step_started`, `step_finished`, `step_skipped`, `target_finished`, ...), a `log` or
/// `send_email` action, or a `failover`.
#[pyclass(module = "cdt._cdt", frozen)]
pub struct Event {
    inner: DriverEvent,
    targets: Arc<Vec<String>>,
}

impl Event {
    fn json(&self) -> serde_json::Value {
        run::event_json(&self.inner, &self.targets)
    }
}

#[pymethods]
impl Event {
    /// What happened (`target_finished`, `failover`, `log`, ...).
    #[getter]
    fn kind(&self) -> String {
        self.json()
            .get("kind")
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    }

    /// The target it concerns, by name, when it concerns one.
    #[getter]
    fn target(&self) -> Option<String> {
        self.json()
            .get("target")
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    }

    /// The event as plain Python data (`kind`, `at` and its fields).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::json_to_py(py, &self.json())
    }

    fn __repr__(&self) -> String {
        format!("Event({})", self.json())
    }
}

/// The report of a run, as written to `report.json`: per target its status, reason and
/// steps; per cluster its failovers; the totals.
#[pyclass(module = "cdt._cdt", frozen, eq)]
#[derive(PartialEq)]
pub struct Report {
    inner: cdt_core::report::Report,
}

#[pymethods]
impl Report {
    /// Targets by status: `succeeded`, `failed`, `unreachable`, `skipped`, `not_started`.
    #[getter]
    fn totals<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.inner.totals)
    }

    /// Every target, as in `report.json`.
    #[getter]
    fn targets<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.inner.targets)
    }

    /// Every cluster, with its kind and failovers.
    #[getter]
    fn clusters<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.inner.clusters)
    }

    /// The report of the target `name`.
    fn target<'py>(&self, py: Python<'py>, name: &str) -> PyResult<Bound<'py, PyAny>> {
        let t = self
            .inner
            .targets
            .iter()
            .find(|t| t.name == name)
            .ok_or_else(|| PyValueError::new_err(format!("no target {name:?}")))?;
        convert::to_py(py, t)
    }

    /// The report as plain Python data (the content of `report.json`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.inner)
    }

    /// `report.json`'s text.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// `results.csv`'s text (one row per target).
    fn results_csv(&self) -> String {
        self.inner.results_csv()
    }

    /// `CDT_status.txt`'s text.
    fn status_text(&self) -> String {
        self.inner.status_text()
    }

    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let totals = self.totals(py)?;
        let d = totals.cast::<PyDict>()?;
        Ok(format!("Report({})", d.repr()?))
    }
}
