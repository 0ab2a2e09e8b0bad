//! The ground truth a simulated fleet keeps: when each member was out of service and why,
//! when a cluster served no traffic, failovers, every command delivered, and the Management
//! Server's changes. Invariant tests read this record, not the engine's own events.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A span of time, open while `to` is `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// Start.
    pub from: Timestamp,
    /// End, or `None` while it lasts.
    pub to: Option<Timestamp>,
    /// Why (`installing`, `rebooting`, `admin_down`, `unreachable`, `no_active_member`, …).
    pub why: String,
}

impl Span {
    /// Whether the span covers instant `at`.
    pub fn covers(&self, at: Timestamp) -> bool {
        self.from <= at && self.to.is_none_or(|to| at < to)
    }
}

/// A failover that happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failover {
    /// When.
    pub at: Timestamp,
    /// The cluster.
    pub cluster: String,
    /// The member that stopped being active.
    pub from: String,
    /// The member that became active.
    pub to: String,
    /// For VSX VSLS, the Virtual System.
    pub vs: Option<u32>,
}

/// A command a gateway received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {
    /// When.
    pub at: Timestamp,
    /// The host.
    pub host: String,
    /// The command line.
    pub command: String,
}

/// What the simulated fleet recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Per host, the spans it was out of service.
    pub out_of_service: BTreeMap<String, Vec<Span>>,
    /// Per cluster, the spans it served no traffic (for VSLS: some Virtual System had no
    /// active member).
    pub cluster_down: BTreeMap<String, Vec<Span>>,
    /// Failovers, in order.
    pub failovers: Vec<Failover>,
    /// Every command delivered, in order, when asked for with
    /// [`crate::sim::Sim::log_commands`] (kept in memory only: [`crate::sim::Sim::save`] does not
    /// write this log, which grows with every command).
    #[serde(skip)]
    pub commands: Vec<Delivered>,
    /// Installs started, per host and package (CPUSE name), to prove none is delivered twice.
    pub installs: BTreeMap<String, Vec<(Timestamp, String)>>,
    /// Management changes: versions set (`object`, `version`), in order.
    pub versions_set: Vec<(Timestamp, String, String)>,
    /// Management publishes.
    pub publishes: Vec<Timestamp>,
    /// Policy installs: (when, policy package, targets).
    pub policy_installs: Vec<(Timestamp, String, Vec<String>)>,
}

impl Record {
    pub(crate) fn open(spans: &mut Vec<Span>, at: Timestamp, why: &str) {
        if spans.last().is_none_or(|s| s.to.is_some()) {
            spans.push(Span {
                from: at,
                to: None,
                why: why.to_string(),
            });
        }
    }

    pub(crate) fn close(spans: &mut [Span], at: Timestamp) {
        if let Some(last) = spans.last_mut()
            && last.to.is_none()
        {
            last.to = Some(at);
        }
    }

    /// Whether `host` was out of service at `at`.
    pub fn host_out_of_service_at(&self, host: &str, at: Timestamp) -> bool {
        self.out_of_service
            .get(host)
            .is_some_and(|spans| spans.iter().any(|s| s.covers(at)))
    }
}
