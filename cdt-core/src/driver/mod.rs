//! The driver: runs a [`Rollout`] over a [`Connector`], carrying out each action through the
//! Gaia steps ([`crate::gaia::steps`]) with a timeout on every remote call, and publishing one
//! stream of [`DriverEvent`]s.
//!
//! The event channel is bounded and the driver waits for room: a slow consumer slows the run
//! down, it never loses an event. Cancelling (through [`Control`]) stops new work as the
//! rollout's cancel does; a step in flight, an install above all, is never aborted.
//!
//! ```no_run
//! # async fn demo(rollout: cdt_core::rollout::Rollout, connector: cdt_core::sim::SimConnector) {
//! use cdt_core::driver::{Driver, DriverSettings, Control, SystemClock};
//! use std::sync::Arc;
//! let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
//! let driver = Driver::new(Arc::new(connector), Arc::new(SystemClock), DriverSettings::default());
//! let run = tokio::spawn(async move { driver.run(rollout, tx, Control::none()).await });
//! while let Some(event) = rx.recv().await {
//!     println!("{event:?}");
//! }
//! let totals = run.await.unwrap();
//! # }
//! ```

mod hosts;

use hosts::DriverHosts;

use std::sync::Arc;

use futures_util::FutureExt as _;
use futures_util::stream::{FuturesUnordered, StreamExt as _};
use jiff::{SignedDuration, Timestamp};
use tokio::sync::{mpsc, watch};

use crate::error::{Error, Result};
use crate::formats::config::LogLevel;
use crate::formats::plan;
use crate::gaia::steps::{self, ClusterInfo, ManagementInfo, StepContext, TargetMemory, Waits};
use crate::journal::{Journal, Resumed};
use crate::model::PackageKind;
use crate::rollout::{
    Action, ActionId, ClusterId, Event, Outcome, Rollout, Step, Subject, TargetId, Totals,
};
use crate::transport::Connector;

/// Where the driver's time comes from.
pub trait Clock: Send + Sync {
    /// The time now.
    fn now(&self) -> Timestamp;
    /// How long to wait, in tokio time, for a duration in this clock's time.
    fn real(&self, d: SignedDuration) -> std::time::Duration;
}

/// The wall clock: real gateways.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }

    fn real(&self, d: SignedDuration) -> std::time::Duration {
        std::time::Duration::try_from(d).unwrap_or_default()
    }
}

impl Clock for crate::sim::SimClock {
    fn now(&self) -> Timestamp {
        crate::sim::SimClock::now(self)
    }

    fn real(&self, d: SignedDuration) -> std::time::Duration {
        crate::sim::SimClock::real(self, d)
    }
}

/// What the driver publishes.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum DriverEvent {
    /// A rollout event (run, batch, target, step, failover, finish).
    Rollout {
        /// The event.
        event: Event,
    },
    /// A `log` action of the plan.
    Log {
        /// When.
        at: Timestamp,
        /// The target it ran for.
        target: String,
        /// Its level.
        level: LogLevel,
        /// The message.
        message: String,
    },
    /// A cluster failed over to an upgraded member.
    Failover {
        /// When.
        at: Timestamp,
        /// The cluster.
        cluster: String,
        /// The member that stopped being active.
        from: String,
        /// The member that became active.
        to: String,
    },
    /// A `send_email` action: the embedding program's notifier sends it.
    Email {
        /// When.
        at: Timestamp,
        /// The target it ran for.
        target: String,
        /// Recipients.
        to: String,
        /// Subject.
        subject: String,
        /// Body.
        body: String,
    },
}

/// Timeouts and waits.
#[derive(Debug, Clone)]
pub struct DriverSettings {
    /// Waits inside steps (reboot grace, polling, cluster changes, management tasks).
    pub waits: Waits,
    /// The longest any one command may take (installs included).
    pub command_timeout: SignedDuration,
    /// The longest opening a session may take, in real time: a connection takes the time
    /// the network and the server take, whatever the pace of the driver's clock.
    pub connect_timeout: SignedDuration,
    /// The Management Server, for version changes and policy installs.
    pub management: Option<ManagementInfo>,
}

impl Default for DriverSettings {
    fn default() -> Self {
        DriverSettings {
            waits: Waits::default(),
            command_timeout: SignedDuration::from_mins(90),
            connect_timeout: SignedDuration::from_secs(30),
            management: None,
        }
    }
}

/// Controls a run from another task or thread: cancel, and approve the next batch when the
/// run pauses between batches.
#[derive(Debug, Clone)]
pub struct Control {
    cancel: watch::Receiver<bool>,
    approvals: watch::Receiver<u64>,
}

/// The other end of a [`Control`].
#[derive(Debug)]
pub struct ControlHandle {
    cancel: watch::Sender<bool>,
    approvals: watch::Sender<u64>,
}

impl Control {
    /// A control and the handle that drives it.
    pub fn new() -> (ControlHandle, Control) {
        let (cancel_tx, cancel) = watch::channel(false);
        let (approvals_tx, approvals) = watch::channel(0);
        (
            ControlHandle {
                cancel: cancel_tx,
                approvals: approvals_tx,
            },
            Control { cancel, approvals },
        )
    }

    /// A control nobody drives: the run is never cancelled, and a run that pauses between
    /// batches waits for ever (so use it only without pauses).
    pub fn none() -> Control {
        Control::new().1
    }
}

impl ControlHandle {
    /// Stops new work (see [`Rollout::cancel`]).
    pub fn cancel(&self) {
        let _ = self.cancel.send(true);
    }

    /// Lets a paused run start its next batch (see [`Rollout::approve`]).
    pub fn approve(&self) {
        self.approvals.send_modify(|n| *n += 1);
    }
}

/// Runs rollouts over a connector.
pub struct Driver {
    hosts: Arc<DriverHosts>,
    settings: DriverSettings,
    /// The Management Server and its shared session, in every step's context.
    management: Option<Arc<steps::ManagementLink>>,
}

impl Driver {
    /// A driver over `connector`, timed by `clock`.
    pub fn new(
        connector: Arc<dyn Connector>,
        clock: Arc<dyn Clock>,
        settings: DriverSettings,
    ) -> Driver {
        Driver {
            hosts: Arc::new(DriverHosts::new(
                connector,
                clock,
                settings.command_timeout,
                settings.connect_timeout,
            )),
            management: settings
                .management
                .clone()
                .map(|m| Arc::new(steps::ManagementLink::new(m))),
            settings,
        }
    }

    /// Reads the fleet from the Management Server and the boxes (see
    /// [`steps::discover`]), over this driver's connector.
    pub async fn discover(&self, management: &ManagementInfo) -> Result<steps::Discovered> {
        steps::discover(self.hosts.as_ref(), management)
            .await
            .map_err(Error::Management)
    }

    /// Reads the gateways and clusters in the Management Server's database (see
    /// [`steps::read_database`]); [`Driver::inspect`] then asks the boxes.
    pub async fn read_management_database(
        &self,
        management: &ManagementInfo,
    ) -> Result<steps::Discovered> {
        steps::read_database(self.hosts.as_ref(), management)
            .await
            .map_err(Error::Management)
    }

    /// Asks every box of `inventory` its Jumbo take and, for members, its role now (see
    /// [`steps::inspect`]); returns a warning for each box that did not answer.
    pub async fn inspect(&self, inventory: &mut crate::model::Inventory) -> Vec<String> {
        steps::inspect(self.hosts.as_ref(), inventory).await
    }

    /// Runs `rollout` to its end, publishing every event on `events`; returns the totals.
    pub async fn run(
        &self,
        rollout: Rollout,
        events: mpsc::Sender<DriverEvent>,
        control: Control,
    ) -> Totals {
        match self
            .run_inner(rollout, None, Vec::new(), false, events, control)
            .await
        {
            Ok(totals) | Err((totals, _)) => totals,
        }
    }

    /// Runs `rollout` with a journal: every input the rollout gets is recorded, and every
    /// action is durable in the journal before it is sent. Stops (after the steps in flight
    /// finish) if the journal cannot be written.
    pub async fn run_journaled(
        &self,
        rollout: Rollout,
        journal: &mut Journal,
        events: mpsc::Sender<DriverEvent>,
        control: Control,
    ) -> Result<Totals> {
        self.run_inner(rollout, Some(journal), Vec::new(), false, events, control)
            .await
            .map_err(|(_, e)| e)
    }

    /// Finishes a run rebuilt from its journal: the steps that were in flight run again (each
    /// checks first what is already done), then the run goes on.
    pub async fn resume(
        &self,
        resumed: Resumed,
        events: mpsc::Sender<DriverEvent>,
        control: Control,
    ) -> Result<Totals> {
        let Resumed {
            mut journal,
            rollout,
            in_flight,
            started,
            ..
        } = resumed;
        let actions = in_flight.into_iter().map(|(a, _)| a).collect();
        self.run_inner(
            rollout,
            Some(&mut journal),
            actions,
            started,
            events,
            control,
        )
        .await
        .map_err(|(_, e)| e)
    }

    async fn run_inner(
        &self,
        mut rollout: Rollout,
        mut journal: Option<&mut Journal>,
        resumed: Vec<Action>,
        started: bool,
        events: mpsc::Sender<DriverEvent>,
        mut control: Control,
    ) -> Result<Totals, (Totals, Error)> {
        let package_kind = rollout.package_kind();
        let clock = self.hosts.clock();
        // What each target's steps remember between them. A target runs one step at a time:
        // its memory goes with the step and comes back with the outcome. (A step that panics
        // loses it, and the target's later steps start from nothing, as on a resumed run.)
        let mut memories: Vec<Option<TargetMemory>> = (0..rollout.targets().len())
            .map(|_| Some(TargetMemory::default()))
            .collect();
        // The steps in flight, polled here rather than spawned as tasks of their own: a step
        // mostly waits on its transport, and spawning moved each step's future (over a
        // kilobyte) several times and registered it with the runtime. Each future lives in the
        // set's own node, not boxed again. A step that panics ends as a failed step, as a
        // panicking task did.
        let mut tasks = steps_in_flight(step_task);
        let mut names = Names::new(&rollout);
        let mut ready = Vec::new();
        let mut failovers: crate::FastMap<ActionId, (String, String)> = crate::FastMap::default();
        let mut cancelled = false;
        let mut approvals_closed = false;
        // Steps that were in flight when an earlier run died: their gateways may be rebooting.
        let recheck: std::collections::HashSet<ActionId> = resumed.iter().map(|a| a.id).collect();
        let mut pending = resumed;
        let mut failure: Option<Error> = None;
        // A cancel given before the run began: nothing starts (journaled first, so a
        // resumed run replays it the same way).
        if *control.cancel.borrow_and_update() {
            cancelled = true;
            let now = clock.now();
            if let Some(j) = journal.as_deref_mut()
                && let Err(e) = j.cancel(now)
            {
                return Err((rollout.totals(), e));
            }
            rollout.cancel(now);
        }
        if !started {
            let now = clock.now();
            if let Some(j) = journal.as_deref_mut()
                && let Err(e) = j.start(now)
            {
                return Err((rollout.totals(), e));
            }
            rollout.start(now);
        }
        // Takes in one finished step: its failover note, its journal entry, its outcome.
        macro_rules! take_in {
            ($joined:expr) => {{
                let taken = match $joined {
                    Some((_, Ok((id, outcome, failed_over_to, memory)))) => {
                        if let Some((t, memory)) = memory
                            && let Some(slot) = memories.get_mut(t.0)
                        {
                            *slot = Some(memory);
                        }
                        Some((id, outcome, failed_over_to))
                    }
                    Some((id, Err(panic))) => Some((
                        id,
                        Outcome::Failed(format!(
                            "the step stopped unexpectedly: {}",
                            panic_message(panic.as_ref())
                        )),
                        None,
                    )),
                    None => None,
                };
                if let Some((id, outcome, failed_over_to)) = taken {
                    let now = clock.now();
                    if let (Some(to), Some((cluster, from))) =
                        (failed_over_to, failovers.remove(&id))
                    {
                        let _ = events
                            .send(DriverEvent::Failover {
                                at: now,
                                cluster,
                                from,
                                to,
                            })
                            .await;
                    }
                    if failure.is_none()
                        && let Some(j) = journal.as_deref_mut()
                        && let Err(e) = j.outcome(id, &outcome, now)
                    {
                        failure = Some(e);
                    }
                    let _ = rollout.handle_outcome(id, outcome, now);
                    if failure.is_some() {
                        rollout.cancel(now);
                    }
                }
            }};
        }
        loop {
            // Waiting for room: a slow consumer slows the run, it never loses events.
            publish(&mut rollout, &events, &mut ready).await;
            while let Some(action) = rollout.poll_action() {
                pending.push(action);
            }
            if failure.is_none() && !pending.is_empty() && !tasks.is_empty() {
                // Before syncing, let the steps that can finish at once (a fast transport)
                // finish, so the actions they lead to join this commit.
                if let Some(more) = tasks.next().now_or_never().flatten() {
                    take_in!(Some(more));
                    while let Some(more) = tasks.next().now_or_never().flatten() {
                        take_in!(Some(more));
                    }
                    continue;
                }
            }
            if failure.is_none() && !pending.is_empty() {
                // Group commit: every action issued now is durable before any is sent.
                if let Some(j) = journal.as_deref_mut() {
                    let now = clock.now();
                    let written = pending
                        .iter()
                        .try_for_each(|a| j.sent(a, now))
                        .and_then(|()| j.sync());
                    if let Err(e) = written {
                        failure = Some(e);
                        rollout.cancel(clock.now());
                    }
                }
            }
            if failure.is_some() {
                pending.clear();
            }
            for action in pending.drain(..) {
                let now = clock.now();
                if let Some(event) = self.inline_event(&rollout, &action, now) {
                    let _ = events.send(event).await;
                }
                let ctx = self.context(&rollout, &mut names, &action, package_kind);
                let memory = match action.subject {
                    Subject::Target(t) => Some((
                        t,
                        memories
                            .get_mut(t.0)
                            .and_then(Option::take)
                            .unwrap_or_default(),
                    )),
                    Subject::Cluster(_) => None,
                };
                let hosts = self.hosts.clone();
                let id = action.id;
                if let (Subject::Cluster(c), Step::Failover { from }) =
                    (action.subject, &action.step)
                {
                    failovers.insert(
                        id,
                        (
                            names.cluster(c).to_string(),
                            names.target(*from).to_string(),
                        ),
                    );
                }
                let wait_first = recheck.contains(&id).then(|| ctx.host.clone()).flatten();
                tasks.push(step_task(hosts, action, ctx, memory, wait_first));
            }
            if tasks.is_empty() && (rollout.is_finished() || failure.is_some()) {
                publish(&mut rollout, &events, &mut ready).await;
                if let Some(j) = journal.as_deref_mut()
                    && let Err(e) = j.sync()
                {
                    failure.get_or_insert(e);
                }
                if let Some(link) = &self.management {
                    link.close(self.hosts.as_ref()).await;
                }
                return match failure {
                    None => Ok(rollout.totals()),
                    Some(e) => Err((rollout.totals(), e)),
                };
            }
            // Outcomes taken in so far reach the operating system in one write before waiting.
            if failure.is_none()
                && let Some(j) = journal.as_deref_mut()
                && let Err(e) = j.flush()
            {
                failure = Some(e);
                rollout.cancel(clock.now());
                continue;
            }
            let wake = rollout.poll_timeout().map(|at| {
                let wait = clock.real(at.duration_since(clock.now()));
                tokio::time::Instant::now() + wait
            });
            tokio::select! {
                joined = tasks.next(), if !tasks.is_empty() => {
                    take_in!(joined);
                    // Take in every step that has finished by now, not only the first: the
                    // actions they lead to then share one journal sync (group commit).
                    while let Some(more) = tasks.next().now_or_never().flatten() {
                        take_in!(Some(more));
                    }
                }
                () = sleep_until(wake), if wake.is_some() && failure.is_none() => {
                    let now = clock.now();
                    if let Some(j) = journal.as_deref_mut()
                        && let Err(e) = j.timeout(now) {
                            failure = Some(e);
                        }
                    rollout.handle_timeout(now);
                }
                changed = control.approvals.changed(), if !approvals_closed => {
                    if changed.is_err() {
                        approvals_closed = true;
                    } else if failure.is_none() {
                        let now = clock.now();
                        if let Some(j) = journal.as_deref_mut()
                            && let Err(e) = j.approve(now) {
                                failure = Some(e);
                            }
                        rollout.approve(now);
                    }
                }
                changed = control.cancel.changed(), if !cancelled => {
                    cancelled = true;
                    if changed.is_ok() && *control.cancel.borrow() {
                        let now = clock.now();
                        if let Some(j) = journal.as_deref_mut()
                            && let Err(e) = j.cancel(now) {
                                failure = Some(e);
                            }
                        rollout.cancel(now);
                    }
                }
            }
        }
    }

    /// The events of actions that run on the orchestrator itself (`log`, `send_email`).
    fn inline_event(
        &self,
        rollout: &Rollout,
        action: &Action,
        at: Timestamp,
    ) -> Option<DriverEvent> {
        let Subject::Target(t) = action.subject else {
            return None;
        };
        let Step::Run { action: run, .. } = &action.step else {
            return None;
        };
        if !matches!(
            **run,
            plan::Action::Log { .. } | plan::Action::SendEmail { .. }
        ) {
            return None;
        }
        let target = rollout.targets().get(t.0)?.name.clone();
        match &**run {
            plan::Action::Log { level, value } => Some(DriverEvent::Log {
                at,
                target,
                level: *level,
                message: value.clone(),
            }),
            plan::Action::SendEmail { to, subject, body } => Some(DriverEvent::Email {
                at,
                target,
                to: to.clone(),
                subject: subject.clone(),
                body: body.clone(),
            }),
            _ => None,
        }
    }

    /// What the Gaia step needs to know about an action.
    fn context(
        &self,
        rollout: &Rollout,
        names: &mut Names,
        action: &Action,
        package_kind: PackageKind,
    ) -> StepContext {
        let (host, object, cluster) = match (action.subject, &action.step) {
            (Subject::Target(t), _) => {
                let cluster = rollout.targets().get(t.0).and_then(|t| t.cluster);
                let object = match cluster {
                    Some(c) => names.cluster(c),
                    None => names.target(t),
                };
                (
                    Some(names.target(t)),
                    object,
                    cluster.and_then(|c| names.cluster_info(rollout, c)),
                )
            }
            (Subject::Cluster(c), Step::Failover { from }) => (
                Some(names.target(*from)),
                names.cluster(c),
                names.cluster_info(rollout, c),
            ),
            (Subject::Cluster(c), _) => (None, names.cluster(c), names.cluster_info(rollout, c)),
        };
        StepContext {
            host,
            object,
            cluster,
            package_kind,
            management: self.management.clone(),
            waits: self.settings.waits,
        }
    }
}

/// The names and cluster descriptions the steps are given, made once and shared by every step
/// rather than copied for each.
struct Names {
    targets: Vec<Arc<str>>,
    clusters: Vec<Arc<str>>,
    /// Each cluster's description as last given, with the upgraded members it was made with
    /// (made again when they change).
    infos: Vec<Option<(Vec<TargetId>, Arc<ClusterInfo>)>>,
}

impl Names {
    fn new(rollout: &Rollout) -> Names {
        let clusters: Vec<Arc<str>> = (0..)
            .map_while(|c| rollout.cluster_name(ClusterId(c)).map(Arc::from))
            .collect();
        Names {
            targets: rollout
                .targets()
                .iter()
                .map(|t| Arc::from(&*t.name))
                .collect(),
            infos: vec![None; clusters.len()],
            clusters,
        }
    }

    fn target(&self, t: TargetId) -> Arc<str> {
        self.targets
            .get(t.0)
            .cloned()
            .unwrap_or_else(|| Arc::from(""))
    }

    fn cluster(&self, c: ClusterId) -> Arc<str> {
        self.clusters
            .get(c.0)
            .cloned()
            .unwrap_or_else(|| Arc::from(""))
    }

    fn cluster_info(&mut self, rollout: &Rollout, c: ClusterId) -> Option<Arc<ClusterInfo>> {
        let view = rollout.cluster(c)?;
        let slot = self.infos.get_mut(c.0)?;
        if let Some((upgraded, info)) = slot
            && upgraded.as_slice() == view.upgraded
        {
            return Some(info.clone());
        }
        let name = |t: &TargetId| {
            rollout
                .targets()
                .get(t.0)
                .map(|t| t.name.clone())
                .unwrap_or_default()
        };
        let info = Arc::new(ClusterInfo {
            name: view.name.to_string(),
            kind: view.kind,
            members: view
                .members
                .iter()
                .map(|m| (name(m), rollout.targets().get(m.0).and_then(|t| t.role)))
                .collect(),
            upgraded: view.upgraded.iter().map(name).collect(),
        });
        *slot = Some((view.upgraded.to_vec(), info.clone()));
        Some(info)
    }
}

/// An empty set for the futures `make` returns (named this way because their type cannot be
/// written).
fn steps_in_flight<A, B, C, D, E, F: std::future::Future>(
    _make: fn(A, B, C, D, E) -> F,
) -> FuturesUnordered<F> {
    FuturesUnordered::new()
}

/// One step as the driver polls it: first, for a step that was in flight when an earlier run
/// died, waiting until its gateway answers (it may be rebooting); then the Gaia step, with the
/// target's memory (or a scratch one for cluster steps). A step that panics ends as a failed
/// step with the panic's message, as a panicking task did.
fn step_task(
    hosts: Arc<DriverHosts>,
    action: Action,
    ctx: StepContext,
    memory: Option<(TargetId, TargetMemory)>,
    wait_first: Option<Arc<str>>,
) -> impl std::future::Future<Output = StepDone> + Send + 'static {
    let id = action.id;
    let step = async move {
        if let Some(host) = wait_first
            && let Some(outcome) = steps::wait_reachable(hosts.as_ref(), &host, &ctx.waits).await
        {
            return (id, outcome, None, memory);
        }
        match memory {
            Some((t, mut m)) => {
                let outcome = steps::run_step(hosts.as_ref(), &action.step, &ctx, &mut m).await;
                (id, outcome, None, Some((t, m)))
            }
            None => {
                let mut scratch = TargetMemory::default();
                let outcome =
                    steps::run_step(hosts.as_ref(), &action.step, &ctx, &mut scratch).await;
                (id, outcome, scratch.failed_over_to, None)
            }
        }
    };
    // Unconstrained: the driver's task polls every step, and tokio's per-task budget would
    // otherwise make the later ones wait for no reason (the set itself yields to the runtime
    // every few dozen steps).
    std::panic::AssertUnwindSafe(tokio::task::unconstrained(step))
        .catch_unwind()
        .map(move |done| (id, done))
}

/// Publishes every event the rollout has ready, in order, reserving room for them together
/// (one wait for the channel's capacity per batch rather than one per event). A closed
/// receiver drops them, as a failed `send` did.
async fn publish(
    rollout: &mut Rollout,
    events: &mpsc::Sender<DriverEvent>,
    ready: &mut Vec<crate::rollout::Event>,
) {
    ready.extend(std::iter::from_fn(|| rollout.poll_event()));
    let mut ready = ready.drain(..);
    while ready.len() > 0 {
        let Ok(permits) = events
            .reserve_many(ready.len().min(events.max_capacity()))
            .await
        else {
            return;
        };
        for (permit, event) in permits.zip(ready.by_ref()) {
            permit.send(DriverEvent::Rollout { event });
        }
    }
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// A finished step: its action, and what it returned (with the target's memory, for a target
/// step) or how it panicked.
type StepDone = (
    ActionId,
    std::thread::Result<(
        ActionId,
        Outcome,
        Option<String>,
        Option<(TargetId, TargetMemory)>,
    )>,
);

/// The message a panic carried, when it was text.
fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("it panicked")
}
