//! The simulated fleet's state: hosts, clusters, the Management Server, pending operations.
//! Serialisable, so a fleet outlives the process driving it (state kept on disk).

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::fleet::{Fault, Latency, UserCommand, UserScriptReply};
use super::record::Record;
use crate::model::{ClusterKind, InstalledVersion, Package, Platform, Version};

/// The Check Point processes a gateway runs under `cpwd` when nothing is wrong.
pub(crate) const DEFAULT_PROCESSES: [&str; 8] = [
    "CPD",
    "FWD",
    "RTMD",
    "CPVIEWD",
    "HISTORYD",
    "CPHAMCSET",
    "DASERVICE",
    "CI_CLEANUP",
];

/// A file on a simulated host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct FileInfo {
    pub(crate) sha256: std::sync::Arc<str>,
    pub(crate) size: u64,
    /// The content, for small files (scripts, pulled files): shared with every other host the
    /// same file was copied to.
    pub(crate) content: Option<std::sync::Arc<[u8]>>,
}

/// What keeps a host busy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Busy {
    /// CPUSE installs or uninstalls a package (the gateway is out of service).
    Installing { package: String },
    /// Rebooting (the gateway does not answer).
    Rebooting,
    /// CPUSE imports, verifies or updates its agent (the gateway stays in service).
    Cpuse { operation: String },
}

impl Busy {
    /// Whether the host is out of service meanwhile.
    pub(crate) fn out_of_service(&self) -> Option<&'static str> {
        match self {
            Busy::Installing { .. } => Some("installing"),
            Busy::Rebooting => Some("rebooting"),
            Busy::Cpuse { .. } => None,
        }
    }
}

/// A simulated gateway (or the Management Server).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Host {
    pub(crate) name: String,
    pub(crate) address: String,
    pub(crate) version: Version,
    pub(crate) take: Option<u32>,
    pub(crate) build: u32,
    pub(crate) platform: Platform,
    pub(crate) cpuse_build: u32,
    pub(crate) hotfixes: BTreeSet<String>,
    /// CPUSE names imported, in import order (their position + 1 is their number).
    pub(crate) imported: Vec<String>,
    pub(crate) files: BTreeMap<String, FileInfo>,
    pub(crate) processes: Processes,
    pub(crate) snapshots: Vec<(String, String)>,
    pub(crate) backups: Vec<String>,
    pub(crate) busy: Option<(Busy, Timestamp)>,
    pub(crate) admin_down: bool,
    pub(crate) mvc: bool,
    pub(crate) fcu_ready: bool,
    pub(crate) cluster: Option<String>,
    pub(crate) management: bool,
    pub(crate) last_boot: Timestamp,
}

impl Host {
    pub(crate) fn new(
        name: &str,
        address: String,
        version: Version,
        take: Option<u32>,
        now: Timestamp,
    ) -> Host {
        Host {
            name: name.to_string(),
            address,
            version,
            take,
            build: build_of(version),
            platform: Platform::Gaia,
            cpuse_build: 2412,
            hotfixes: BTreeSet::new(),
            imported: Vec::new(),
            files: BTreeMap::new(),
            processes: Processes::new(&DEFAULT_PROCESSES),
            snapshots: Vec::new(),
            backups: Vec::new(),
            busy: None,
            admin_down: false,
            mvc: false,
            fcu_ready: false,
            cluster: None,
            management: false,
            last_boot: now,
        }
    }

    /// Everything on the host that its service, its cluster's active member and its cluster's
    /// service are computed from (with time, faults and the other members): when a command
    /// leaves this unchanged, it changed nothing the record follows.
    pub(crate) fn service_inputs(&self) -> impl PartialEq + use<> {
        (
            self.busy
                .as_ref()
                .map(|(b, until)| (std::mem::discriminant(b), *until)),
            self.admin_down,
            self.processes.firewall(),
            self.mvc,
            self.fcu_ready,
            self.version,
            self.take,
        )
    }

    pub(crate) fn installed(&self) -> InstalledVersion {
        InstalledVersion::new(self.version, self.take)
    }
}

/// The build number Gaia prints for a version (plausible, stable values).
pub(crate) fn build_of(v: Version) -> u32 {
    100 + u32::from(v.major()) * 3 + u32::from(v.minor())
}

/// The processes a host's `cpwd` runs, by `APP` name. Whether the firewall (`FWD`) is among
/// them is asked on every command (it decides the host's service), so it is kept beside the
/// set rather than looked up in it. Written as the set of names alone. The standard names are
/// borrowed, not copied: every reboot starts them all again.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(from = "BTreeSet<String>")]
pub(crate) struct Processes {
    names: BTreeSet<Cow<'static, str>>,
    firewall: bool,
}

impl Processes {
    /// The processes named.
    pub(crate) fn new(names: &[&'static str]) -> Processes {
        Processes::of(names.iter().map(|n| Cow::Borrowed(*n)).collect())
    }

    /// The processes `names`, with the firewall's flag worked out from them.
    fn of(names: BTreeSet<Cow<'static, str>>) -> Processes {
        Processes {
            firewall: names.contains(FIREWALL),
            names,
        }
    }

    /// Whether the firewall (`FWD`) runs.
    pub(crate) fn firewall(&self) -> bool {
        self.firewall
    }

    /// Stops `name`.
    pub(crate) fn remove(&mut self, name: &str) {
        self.names.remove(name);
        self.firewall = self.names.contains(FIREWALL);
    }

    /// The names, in order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|n| &**n)
    }

    /// How many.
    pub(crate) fn len(&self) -> usize {
        self.names.len()
    }
}

/// The firewall's `APP` name under `cpwd`.
pub(crate) const FIREWALL: &str = "FWD";

impl From<BTreeSet<String>> for Processes {
    fn from(names: BTreeSet<String>) -> Processes {
        Processes::of(names.into_iter().map(Cow::Owned).collect())
    }
}

impl Serialize for Processes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.names.serialize(serializer)
    }
}

/// A simulated cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ClusterSim {
    pub(crate) name: String,
    pub(crate) kind: ClusterKind,
    pub(crate) members: Vec<String>,
    /// HA and VRRP: the active (Master) member.
    pub(crate) active: Option<String>,
    /// VSX VSLS: the member each Virtual System is active on.
    pub(crate) vs_active: BTreeMap<u32, Option<String>>,
    pub(crate) failovers: u32,
}

/// The Management Server's database and sessions.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MgmtState {
    pub(crate) host: Option<String>,
    pub(crate) policy_package: String,
    /// Object name → version, as published.
    pub(crate) versions: BTreeMap<String, String>,
    /// Session id → the session: its changes not yet published, when it was last used.
    pub(crate) sessions: BTreeMap<String, MgmtSession>,
    /// Task id → (finishes at, status, description).
    pub(crate) tasks: BTreeMap<String, (Timestamp, String, String)>,
    pub(crate) next_id: u64,
}

/// A Management API session.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct MgmtSession {
    /// Object name → version, not yet published.
    pub(crate) changes: BTreeMap<String, String>,
    /// When it was logged into.
    pub(crate) since: Timestamp,
    /// The last call made in it: it expires `timeout` seconds after that.
    pub(crate) last_used: Timestamp,
    /// The `session-timeout` its login asked for (10 to 3600 s), else [`SESSION_TIMEOUT`].
    pub(crate) timeout: u64,
}

impl MgmtSession {
    /// Whether the session is still known at `now`: not idle for longer than its timeout,
    /// and opened after every API restart up to `now`.
    pub(crate) fn alive(&self, now: Timestamp, restarts: &[Timestamp]) -> bool {
        let timeout =
            jiff::SignedDuration::from_secs(i64::try_from(self.timeout).unwrap_or(i64::MAX));
        now.duration_since(self.last_used) <= timeout
            && !restarts.iter().any(|r| self.since < *r && *r <= now)
    }
}

/// How long a Management API session may stay idle, in seconds (the API's default
/// `session-timeout`).
pub(crate) const SESSION_TIMEOUT: u64 = 600;

/// Something scheduled to happen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Pending {
    pub(crate) at: Timestamp,
    pub(crate) seq: u64,
    pub(crate) host: String,
    pub(crate) event: PendingEvent,
}

/// Scheduled operations in the order they happen: by time, then by order of scheduling.
/// Written to disk as a list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "Vec<Pending>", into = "Vec<Pending>")]
pub(crate) struct PendingQueue(BTreeMap<(Timestamp, u64), Pending>);

impl PendingQueue {
    pub(crate) fn push(&mut self, p: Pending) {
        self.0.insert((p.at, p.seq), p);
    }

    /// The first operation, if its time has come by `to`.
    pub(crate) fn pop_due(&mut self, to: Timestamp) -> Option<Pending> {
        let entry = self.0.first_entry()?;
        (entry.key().0 <= to).then(|| entry.remove())
    }
}

impl From<Vec<Pending>> for PendingQueue {
    fn from(list: Vec<Pending>) -> PendingQueue {
        let mut q = PendingQueue::default();
        for p in list {
            q.push(p);
        }
        q
    }
}

impl From<PendingQueue> for Vec<Pending> {
    fn from(q: PendingQueue) -> Vec<Pending> {
        q.0.into_values().collect()
    }
}

/// What happens when a pending operation ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub(crate) enum PendingEvent {
    /// An install ends: on success the gateway changes version, then reboots if asked.
    InstallFinished {
        package: String,
        success: bool,
        reboot: bool,
    },
    /// An uninstall ends, then the gateway reboots.
    UninstallFinished { package: String },
    /// A reboot ends: the gateway answers again, its processes restarted.
    BackFromReboot,
    /// A CPUSE operation that keeps the gateway in service ends.
    CpuseIdle,
}

/// Serializes a map sorted by key.
fn sorted<S: serde::Serializer, V: Serialize>(
    map: &crate::FastMap<String, V>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let sorted: BTreeMap<&String, &V> = map.iter().collect();
    sorted.serialize(serializer)
}

/// Everything the simulator keeps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct SimState {
    pub(crate) start: Timestamp,
    pub(crate) now: Timestamp,
    /// By name; hashed, as every command looks its host up. Written sorted by name, and
    /// every walk over it sorts first, so nothing depends on the hash order.
    #[serde(serialize_with = "sorted")]
    pub(crate) hosts: crate::FastMap<String, Host>,
    pub(crate) clusters: BTreeMap<String, ClusterSim>,
    pub(crate) mgmt: MgmtState,
    pub(crate) latency: Latency,
    pub(crate) faults: Vec<(Fault, u32)>,
    pub(crate) commands: Vec<UserCommand>,
    pub(crate) scripts: Vec<UserScriptReply>,
    pub(crate) packages: Vec<Package>,
    pub(crate) pending: PendingQueue,
    pub(crate) next_seq: u64,
    pub(crate) record: Record,
    /// Whether [`Record::commands`] logs every command delivered.
    #[serde(skip)]
    pub(crate) log_commands: bool,
    /// Whether each host was in service when last observed (to open and close spans).
    #[serde(serialize_with = "sorted")]
    pub(crate) in_service: crate::FastMap<String, bool>,
    /// Whether each cluster served traffic when last observed.
    #[serde(serialize_with = "sorted")]
    pub(crate) serving: crate::FastMap<String, bool>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_firewall_flag_follows_the_process_set_through_changes_and_the_state_file() {
        let mut p = Processes::new(&DEFAULT_PROCESSES);
        assert!(p.firewall());
        p.remove("CPD");
        assert!(
            p.firewall(),
            "another process stopping leaves the firewall up"
        );
        p.remove("FWD");
        assert!(!p.firewall());
        let json = serde_json::to_string(&p).unwrap();
        assert!(json.starts_with("[\"CI_CLEANUP\""), "{json}");
        let read: Processes = serde_json::from_str(&json).unwrap();
        assert_eq!(read, p);
        let up: Processes = serde_json::from_str(r#"["CPD","FWD"]"#).unwrap();
        assert!(up.firewall());
    }
}
