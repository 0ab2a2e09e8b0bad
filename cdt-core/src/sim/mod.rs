//! A simulated Gaia fleet: gateways, clusters and a Management Server that interpret the same
//! commands the engine sends to real ones, print their replies in the real formats, and keep
//! the ground truth of what happened.
//!
//! The simulator is a Gaia emulator, not a mock: it models versions, imported and installed
//! packages, processes, cluster roles per kind (and per Virtual System for VSX VSLS), MVC,
//! Full Connectivity Upgrade and admin-down state, reboots, snapshots, and the management
//! database (object versions, publishes, policy installs). It behaves like the real thing where
//! an engine could cheat: installing on an Active member takes the cluster's traffic down in the
//! [`Record`]; a failover only happens through `clusterXL_admin down`.
//!
//! Time is virtual: every call says when it happens ([`Sim::exec`]'s `at`), operations take
//! the [`Latency`] of their kind, and what is scheduled (an install finishing, a reboot ending)
//! happens when time passes it, whether or not anyone is watching: like real gateways,
//! simulated ones go on when the orchestrator dies. [`Sim::save`] and [`Sim::load`] keep the
//! state on disk between processes.
//!
//! ```
//! use cdt_core::sim::{Sim, FleetFile, ReplyKind};
//! use cdt_core::model::inventory::InventoryFormat;
//!
//! let fleet = FleetFile::parse(r#"
//!     [[gateways]]
//!     name = "gw-1"
//!     address = "192.0.2.1"
//!     version = "R81.20"
//! "#, InventoryFormat::Toml, None)?;
//! let mut sim = Sim::new(&fleet);
//! let at = sim.now();
//! let reply = sim.exec("gw-1", "fw ver", at)?;
//! assert_eq!(reply.kind, ReplyKind::Exited(0));
//! assert!(reply.stdout.starts_with("This is Check Point's software version R81.20"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod cluster;
#[cfg(feature = "driver")]
mod connect;
mod cpuse;
mod exec;
pub mod fleet;
mod mgmt;
mod print;
pub mod record;
mod state;

use std::collections::BTreeMap;
use std::path::Path;

use jiff::{SignedDuration, Timestamp};

#[cfg(feature = "driver")]
pub use connect::{SimClock, SimConnector, clock_in_dir};
pub use fleet::{Fault, FleetFile, Latency, ManagementSpec, UserCommand, UserScriptReply};
pub use record::{Delivered, Failover, Record, Span};

use crate::error::{Error, Result};
use crate::model::{ClusterKind, MemberRole};
use state::{ClusterSim, FileInfo, Host, MgmtState, Pending, PendingEvent, SimState};

/// Files up to this size keep their content on a simulated host (scripts, pulled files);
/// larger ones (packages) only their size and SHA-256.
const KEPT_CONTENT: u64 = 1 << 20;

/// A local file as a simulated host receives it: its size and SHA-256, and its content when
/// it is small enough to keep ([`Sim::put_file`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalFile {
    size: u64,
    sha256: std::sync::Arc<str>,
    content: Option<std::sync::Arc<[u8]>>,
}

impl LocalFile {
    /// The file whose content is `bytes`.
    pub fn from_bytes(bytes: &[u8]) -> LocalFile {
        let size = bytes.len() as u64;
        LocalFile {
            size,
            sha256: crate::digest::sha256_hex(bytes).into(),
            content: (size <= KEPT_CONTENT).then(|| bytes.into()),
        }
    }

    /// Reads the file at `path`: a small one whole, a larger one streamed through the hash
    /// (its content is not kept, so it is never held in memory).
    pub fn read(path: &Path) -> std::io::Result<LocalFile> {
        let mut file = std::fs::File::open(path)?;
        let size = file.metadata()?.len();
        if size <= KEPT_CONTENT {
            let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
            std::io::Read::read_to_end(&mut file, &mut bytes)?;
            return Ok(LocalFile::from_bytes(&bytes));
        }
        let (sha256, size) = crate::digest::sha256_hex_and_size_of(file)?;
        Ok(LocalFile {
            size,
            sha256: sha256.into(),
            content: None,
        })
    }

    /// Its size in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Its SHA-256, as `sha256sum` prints it.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// The processes a Management Server's `cpwd` runs.
const MANAGEMENT_PROCESSES: [&str; 4] = ["CPD", "FWM", "CPM", "CPSEAD"];

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    /// It exited with this status.
    Exited(i32),
    /// The connection dropped before the exit status arrived (a reboot, a fault).
    Dropped,
    /// It never returns (the caller's timeout decides).
    Hangs,
}

/// A command's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// How it ended.
    pub kind: ReplyKind,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// How long it took (until the exit status, or until the connection dropped); [`NEVER`]
    /// for a command that hangs.
    pub duration: SignedDuration,
}

impl Reply {
    pub(crate) fn ok(stdout: impl Into<String>, seconds: f64) -> Reply {
        Reply {
            kind: ReplyKind::Exited(0),
            stdout: stdout.into(),
            stderr: String::new(),
            duration: secs(seconds),
        }
    }

    /// The connection drops after `seconds` (the gateway reboots), having printed `stdout`.
    pub(crate) fn dropped(stdout: impl Into<String>, seconds: f64) -> Reply {
        Reply {
            kind: ReplyKind::Dropped,
            stdout: stdout.into(),
            stderr: String::new(),
            duration: secs(seconds),
        }
    }

    pub(crate) fn fail(exit: i32, stderr: impl Into<String>, seconds: f64) -> Reply {
        Reply {
            kind: ReplyKind::Exited(exit),
            stdout: String::new(),
            stderr: stderr.into(),
            duration: secs(seconds),
        }
    }
}

/// How long a hanging command "takes": a century, far beyond any timeout, yet safe to add to
/// any timestamp the simulator uses.
pub const NEVER: SignedDuration = SignedDuration::from_hours(24 * 365 * 100);

pub(crate) fn secs(seconds: f64) -> SignedDuration {
    SignedDuration::try_from_secs_f64(seconds.max(0.0))
        .unwrap_or(NEVER)
        .min(NEVER)
}

/// Why a host could not be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// No such host in the fleet.
    #[error("no host named {0:?} in the simulated fleet")]
    UnknownHost(String),
    /// The host does not answer (rebooting, down, or a fault).
    #[error("host {0} does not answer")]
    Unreachable(String),
    /// A file to get does not exist.
    #[error("{host}: {path}: no such file")]
    NoSuchFile {
        /// The host.
        host: String,
        /// The path.
        path: String,
    },
}

/// A simulated fleet. See the [module documentation](self).
#[derive(Debug, Clone)]
pub struct Sim {
    state: SimState,
}

impl Sim {
    /// A fleet in its initial state, its clock at the fleet's start (or 2026-01-01 UTC).
    pub fn new(fleet: &FleetFile) -> Sim {
        let start = fleet.start.unwrap_or_else(|| {
            Timestamp::from_second(1_767_225_600).unwrap_or(Timestamp::UNIX_EPOCH)
        });
        let mut hosts = crate::FastMap::default();
        let mut add = |g: &crate::model::Gateway, cluster: Option<&str>, down: bool| {
            let mut h = Host::new(&g.name, g.address.to_string(), g.version, g.take, start);
            h.platform = g.platform;
            h.cpuse_build = g.cpuse_build.unwrap_or(h.cpuse_build);
            h.hotfixes = g
                .installed_hotfixes
                .iter()
                .map(|n| crate::model::package::cpuse_name(n).to_string())
                .collect();
            h.cluster = cluster.map(str::to_string);
            if down {
                h.processes.remove(state::FIREWALL);
            }
            hosts.insert(g.name.clone(), h);
        };
        for g in &fleet.gateways {
            add(g, None, false);
        }
        let mut clusters = BTreeMap::new();
        for c in &fleet.clusters {
            for m in &c.members {
                add(&m.gateway, Some(&c.name), m.role == MemberRole::Down);
            }
            let last = c
                .members
                .iter()
                .find(|m| m.role.is_last())
                .map(|m| m.gateway.name.clone());
            let vs_count = fleet.virtual_systems.get(&c.name).copied().unwrap_or(2);
            let vs_active = if c.kind == ClusterKind::VsxVsls {
                (1..=vs_count).map(|vs| (vs, last.clone())).collect()
            } else {
                BTreeMap::new()
            };
            clusters.insert(
                c.name.clone(),
                ClusterSim {
                    name: c.name.clone(),
                    kind: c.kind,
                    members: c.members.iter().map(|m| m.gateway.name.clone()).collect(),
                    active: if c.kind == ClusterKind::VsxVsls {
                        None
                    } else {
                        last
                    },
                    vs_active,
                    failovers: 0,
                },
            );
        }
        let mut mgmt = MgmtState {
            policy_package: "Standard".into(),
            ..MgmtState::default()
        };
        if let Some(m) = &fleet.management {
            let mut h = Host::new(
                &m.name,
                m.address.to_string(),
                crate::model::Version::R81_20,
                None,
                start,
            );
            h.management = true;
            h.processes = state::Processes::new(&MANAGEMENT_PROCESSES);
            hosts.insert(m.name.clone(), h);
            mgmt.host = Some(m.name.clone());
            mgmt.policy_package = m.policy_package.clone();
        }
        for g in fleet.gateways.iter().chain(
            fleet
                .clusters
                .iter()
                .flat_map(|c| c.members.iter().map(|m| &m.gateway)),
        ) {
            mgmt.versions.insert(g.name.clone(), g.version.to_string());
        }
        for c in &fleet.clusters {
            if let Some(m) = c.members.first() {
                mgmt.versions
                    .insert(c.name.clone(), m.gateway.version.to_string());
            }
        }
        let mut sim = Sim {
            state: SimState {
                start,
                now: start,
                hosts,
                clusters,
                mgmt,
                latency: fleet.latency.clone(),
                faults: fleet.faults.iter().cloned().map(|f| (f, 0)).collect(),
                commands: fleet.commands.clone(),
                scripts: fleet.scripts.clone(),
                packages: fleet.packages.clone(),
                pending: state::PendingQueue::default(),
                next_seq: 0,
                record: Record::default(),
                log_commands: false,
                in_service: crate::FastMap::default(),
                serving: crate::FastMap::default(),
            },
        };
        sim.observe();
        sim
    }

    /// Logs every command delivered from now on in [`Record::commands`] (off by default: the
    /// log grows with every command and stays in memory).
    pub fn log_commands(&mut self, on: bool) {
        self.state.log_commands = on;
    }

    /// The simulated clock.
    pub fn now(&self) -> Timestamp {
        self.state.now
    }

    /// The ground truth recorded so far.
    pub fn record(&self) -> &Record {
        &self.state.record
    }

    /// The names of the fleet's hosts (gateways, members and the Management Server).
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        let mut names: Vec<&str> = self.state.hosts.keys().map(String::as_str).collect();
        names.sort_unstable();
        names.into_iter()
    }

    /// A host's version and Jumbo take now.
    pub fn installed(&self, host: &str) -> Option<crate::model::InstalledVersion> {
        self.state.hosts.get(host).map(Host::installed)
    }

    /// The active member of an HA or VRRP cluster now (for VSLS, of Virtual System 1).
    pub fn active_member(&self, cluster: &str) -> Option<&str> {
        let c = self.state.clusters.get(cluster)?;
        match c.kind {
            ClusterKind::VsxVsls => c.vs_active.values().next().and_then(|a| a.as_deref()),
            _ => c.active.as_deref(),
        }
    }

    /// Lets time pass until `to`: scheduled operations whose time has come happen, in order.
    pub fn advance(&mut self, to: Timestamp) {
        while let Some(p) = self.state.pending.pop_due(to) {
            if p.at > self.state.now {
                self.state.now = p.at;
            }
            let host = p.host.clone();
            self.complete(p);
            self.observe_host(&host);
        }
        if to > self.state.now {
            self.state.now = to;
        }
        self.observe_timed_faults();
    }

    /// Runs `command` on `host` at `at` (after letting time pass until then). The reply's
    /// `duration` says how long the caller waits for it; effects that take time are scheduled.
    pub fn exec(&mut self, host: &str, command: &str, at: Timestamp) -> Result<Reply, SimError> {
        self.advance(at);
        let before = Some(self.reachable_host(host)?.service_inputs());
        let now = self.state.now;
        if self.state.log_commands {
            self.state.record.commands.push(Delivered {
                at: now,
                host: host.to_string(),
                command: command.to_string(),
            });
        }
        let reply = exec::run(self, host, command);
        // Most commands only read: the host's service (and its cluster's) can only have
        // changed if what they are computed from did.
        if self.state.hosts.get(host).map(Host::service_inputs) != before {
            self.observe_host(host);
        }
        Ok(reply)
    }

    /// Copies `content` to `path` on `host` at `at`; returns how long the copy takes.
    pub fn put(
        &mut self,
        host: &str,
        path: &str,
        content: &[u8],
        at: Timestamp,
    ) -> Result<SignedDuration, SimError> {
        self.put_file(host, path, &LocalFile::from_bytes(content), at)
    }

    /// Copies a local file read once ([`LocalFile`]) to `path` on `host` at `at`; returns how
    /// long the copy takes. The same file copied to many hosts is read and hashed once.
    pub fn put_file(
        &mut self,
        host: &str,
        path: &str,
        file: &LocalFile,
        at: Timestamp,
    ) -> Result<SignedDuration, SimError> {
        self.advance(at);
        self.reachable(host)?;
        let info = FileInfo {
            sha256: file.sha256.clone(),
            size: file.size,
            content: file.content.clone(),
        };
        let per_mib = self.state.latency.copy_per_mib;
        if let Some(h) = self.state.hosts.get_mut(host) {
            h.files.insert(path.to_string(), info);
        }
        Ok(secs(per_mib * file.size as f64 / 1_048_576.0))
    }

    /// Copies `path` from `host` at `at`: its content and how long the copy takes.
    pub fn get(
        &mut self,
        host: &str,
        path: &str,
        at: Timestamp,
    ) -> Result<(Vec<u8>, SignedDuration), SimError> {
        self.advance(at);
        self.reachable(host)?;
        let per_mib = self.state.latency.copy_per_mib;
        let file = self
            .state
            .hosts
            .get(host)
            .and_then(|h| h.files.get(path))
            .and_then(|f| f.content.as_deref().map(<[u8]>::to_vec))
            .ok_or_else(|| SimError::NoSuchFile {
                host: host.to_string(),
                path: path.to_string(),
            })?;
        let d = secs(per_mib * file.len() as f64 / 1_048_576.0);
        Ok((file, d))
    }

    /// Writes the whole state (clock, hosts, pending operations, record) to `dir/sim.json`:
    /// a new file renamed over the old one, so a reader never sees half a state. Not synced to
    /// disk: a killed process loses nothing the kernel already has.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_vec(&self.state)
            .map_err(|e| Error::Rollout(format!("cannot serialise the simulator: {e}")))?;
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| Error::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let tmp = dir.join(format!(".sim.json.{}", std::process::id()));
        std::fs::write(&tmp, &json).map_err(io(&tmp))?;
        std::fs::rename(&tmp, dir.join("sim.json")).map_err(io(dir))
    }

    /// Reads a state written by [`Sim::save`].
    pub fn load(dir: &Path) -> Result<Sim> {
        let path = dir.join("sim.json");
        let text = crate::input::read_text_capped(&path, 256 * 1024 * 1024)?;
        let state = serde_json::from_str(&text).map_err(|e| {
            Error::Inventory(crate::error::Diagnostic::new(
                crate::error::Location::new(
                    Some(&path),
                    u32::try_from(e.line()).unwrap_or(0),
                    Some(u32::try_from(e.column()).unwrap_or(0)),
                ),
                e.to_string(),
            ))
        })?;
        Ok(Sim { state })
    }

    /// Runs one command on `host` of the fleet whose state is kept in `dir` (see
    /// [`Sim::save`]): the state is locked against other processes, loaded, advanced to `at`,
    /// the command run, and the state written back. This is what a simulated gateway behind a
    /// real SSH server runs for each command it receives.
    pub fn exec_in_dir(
        dir: &Path,
        host: &str,
        command: &str,
        at: Timestamp,
    ) -> Result<Result<Reply, SimError>> {
        Sim::in_dir(dir, |sim| sim.exec(host, command, at))
    }

    /// Works on the fleet whose state is kept in `dir`: locks it against other processes
    /// (a kernel lock on `dir/sim.lock`, released if the process dies), loads it, runs `work`,
    /// and writes it back.
    pub fn in_dir<T>(dir: &Path, work: impl FnOnce(&mut Sim) -> T) -> Result<T> {
        let lock_path = dir.join("sim.lock");
        let io = |source| Error::Io {
            path: lock_path.clone(),
            source,
        };
        let lock = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io)?;
        lock.lock().map_err(io)?;
        let mut sim = Sim::load(dir)?;
        let out = work(&mut sim);
        sim.save(dir)?;
        drop(lock);
        Ok(out)
    }

    /// Whether `host` is rebooting now (it does not answer until the time given).
    pub fn rebooting_until(&self, host: &str) -> Option<Timestamp> {
        match self.state.hosts.get(host)?.busy {
            Some((state::Busy::Rebooting, until)) => Some(until),
            _ => None,
        }
    }

    /// Whether `host` answers at `at` (after letting time pass until then).
    pub fn check_reachable(&mut self, host: &str, at: Timestamp) -> Result<(), SimError> {
        self.advance(at);
        self.reachable(host)
    }

    fn reachable(&self, host: &str) -> Result<(), SimError> {
        self.reachable_host(host).map(|_| ())
    }

    /// The host, if it answers now.
    fn reachable_host(&self, host: &str) -> Result<&Host, SimError> {
        let h = self
            .state
            .hosts
            .get(host)
            .ok_or_else(|| SimError::UnknownHost(host.to_string()))?;
        if matches!(h.busy, Some((state::Busy::Rebooting, _))) || self.unreachable_fault(host) {
            return Err(SimError::Unreachable(host.to_string()));
        }
        Ok(h)
    }

    fn unreachable_fault(&self, host: &str) -> bool {
        let elapsed = self
            .state
            .now
            .duration_since(self.state.start)
            .as_secs_f64();
        self.state.faults.iter().any(|(f, _)| match f {
            Fault::Unreachable {
                host: h,
                from,
                until,
            } => h == host && elapsed >= *from && until.is_none_or(|u| elapsed < u),
            _ => false,
        })
    }

    /// Schedules `event` on `host` after `seconds`.
    fn schedule(&mut self, host: &str, seconds: f64, event: PendingEvent) {
        let seq = self.state.next_seq;
        self.state.next_seq += 1;
        let p = Pending {
            at: self.state.now + secs(seconds),
            seq,
            host: host.to_string(),
            event,
        };
        self.state.pending.push(p);
    }

    /// Why `host` is out of service now, if it is.
    fn out_of_service(&self, host: &Host) -> Option<&'static str> {
        if self.unreachable_fault(&host.name) {
            return Some("unreachable");
        }
        if let Some(why) = host.busy.as_ref().and_then(|(b, _)| b.out_of_service()) {
            return Some(why);
        }
        if host.admin_down {
            return Some("admin_down");
        }
        if !host.processes.firewall() && !host.management {
            return Some("down");
        }
        None
    }

    /// Settles every cluster and opens or closes the record's spans for every host.
    fn observe(&mut self) {
        let mut hosts: Vec<String> = self.state.hosts.keys().cloned().collect();
        hosts.sort_unstable();
        for host in hosts {
            self.observe_host(&host);
        }
    }

    /// Hosts whose service depends on time alone (an unreachable window).
    fn observe_timed_faults(&mut self) {
        let hosts: Vec<String> = self
            .state
            .faults
            .iter()
            .filter_map(|(f, _)| match f {
                Fault::Unreachable { host, .. } => Some(host.clone()),
                _ => None,
            })
            .collect();
        for host in hosts {
            self.observe_host(&host);
        }
    }

    /// After something may have changed on `host`: settles its cluster and opens or closes the
    /// record's spans for it and its cluster.
    fn observe_host(&mut self, name: &str) {
        let now = self.state.now;
        let Some(host) = self.state.hosts.get(name) else {
            return;
        };
        let cluster = host.cluster.clone();
        if let Some(c) = &cluster {
            cluster::settle_one(self, c);
            // A failover changes the members' service too (admin-down, active).
            if let Some(cs) = self.state.clusters.get(c) {
                for m in &cs.members {
                    let Some(why) = self.state.hosts.get(m).map(|h| self.out_of_service(h)) else {
                        continue;
                    };
                    span_change(
                        &mut self.state.in_service,
                        &mut self.state.record,
                        m,
                        why,
                        now,
                    );
                }
            }
            let why = self
                .state
                .clusters
                .get(c)
                .and_then(|cs| cluster::not_serving(self, cs));
            let serving = why.is_none();
            let was = match self.state.serving.get_mut(c) {
                Some(known) if *known == serving => None,
                Some(known) => Some(Some(std::mem::replace(known, serving))),
                None => Some(self.state.serving.insert(c.clone(), serving)),
            };
            if let Some(was) = was {
                let spans = self.state.record.cluster_down.entry(c.clone()).or_default();
                match (was, why) {
                    (Some(true) | None, Some(why)) => record::Record::open(spans, now, why),
                    (Some(false), None) => record::Record::close(spans, now),
                    _ => {}
                }
            }
        } else {
            self.update_host_span(name, now);
        }
    }

    fn update_host_span(&mut self, name: &str, now: Timestamp) {
        let Some(why) = self.state.hosts.get(name).map(|h| self.out_of_service(h)) else {
            return;
        };
        span_change(
            &mut self.state.in_service,
            &mut self.state.record,
            name,
            why,
            now,
        );
    }

    /// Applies a scheduled event.
    fn complete(&mut self, p: Pending) {
        let reboot = self.state.latency.reboot;
        let Some(h) = self.state.hosts.get_mut(&p.host) else {
            return;
        };
        match p.event {
            PendingEvent::InstallFinished {
                package,
                success,
                reboot: needs_reboot,
            } => {
                h.busy = None;
                if success {
                    cpuse::apply_install(&self.state.packages, h, &package);
                }
                if success && needs_reboot {
                    h.busy = Some((state::Busy::Rebooting, p.at + secs(reboot)));
                    self.schedule(&p.host, reboot, PendingEvent::BackFromReboot);
                }
            }
            PendingEvent::UninstallFinished { package } => {
                cpuse::apply_uninstall(h, &package);
                h.busy = Some((state::Busy::Rebooting, p.at + secs(reboot)));
                self.schedule(&p.host, reboot, PendingEvent::BackFromReboot);
            }
            PendingEvent::BackFromReboot => {
                h.busy = None;
                h.admin_down = false;
                h.last_boot = p.at;
                h.processes = state::Processes::new(if h.management {
                    &MANAGEMENT_PROCESSES
                } else {
                    &state::DEFAULT_PROCESSES
                });
                let name = h.name.clone();
                for (f, _) in &self.state.faults {
                    if let Fault::ProcessDown { host, process } = f
                        && *host == name
                        && let Some(h) = self.state.hosts.get_mut(&name)
                    {
                        h.processes.remove(process);
                    }
                }
            }
            PendingEvent::CpuseIdle => h.busy = None,
        }
    }
}

/// Opens or closes `name`'s out-of-service span when its service changed since last observed.
fn span_change(
    in_service: &mut crate::FastMap<String, bool>,
    record: &mut Record,
    name: &str,
    why: Option<&'static str>,
    now: Timestamp,
) {
    let serving = why.is_none();
    let was = match in_service.get_mut(name) {
        // Most commands change nothing: no allocation then.
        Some(known) if *known == serving => return,
        Some(known) => Some(std::mem::replace(known, serving)),
        None => in_service.insert(name.to_string(), serving),
    };
    let spans = record.out_of_service.entry(name.to_string()).or_default();
    match (was, why) {
        (Some(true) | None, Some(why)) => record::Record::open(spans, now, why),
        (Some(false), None) => record::Record::close(spans, now),
        _ => {}
    }
}
