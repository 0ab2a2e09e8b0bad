//! Cluster roles in the simulator: who is active, failovers, and whether the cluster serves.
//!
//! A member *serves* when it is not installing or rebooting, not admin-down, and its firewall
//! (`FWD`) runs. The active member changes only when it stops serving through
//! `clusterXL_admin down` or a failure (not an install or a reboot the engine started on it:
//! that takes the cluster's traffic down, as the record then shows). A member can take over
//! when it serves; members in sync with the old active (same version, or MVC on, or FCU ready)
//! are preferred. For VSX VSLS the same rules apply to each Virtual System.

use super::state::{Busy, ClusterSim, Host};
use super::{Fault, Sim};
use crate::model::ClusterKind;

/// Why `h` does not serve traffic, if it does not.
pub(crate) fn serving_problem(h: &Host) -> Option<&'static str> {
    match &h.busy {
        Some((Busy::Installing { .. }, _)) => return Some("installing"),
        Some((Busy::Rebooting, _)) => return Some("rebooting"),
        _ => {}
    }
    if h.admin_down {
        return Some("admin_down");
    }
    if !h.processes.firewall() {
        return Some("down");
    }
    None
}

/// Whether an active member that stopped serving for this reason hands over to another.
fn hands_over(h: &Host) -> bool {
    h.admin_down || (h.busy.is_none() && !h.processes.firewall())
}

/// Whether `candidate` keeps connections in sync with `from` (same version, MVC, FCU).
fn in_sync(candidate: &Host, from: &Host) -> bool {
    candidate.version == from.version || candidate.mvc || candidate.fcu_ready
}

/// Settles one cluster's active member(s), recording failovers.
pub(crate) fn settle_one(sim: &mut Sim, name: &str) {
    let Some(c) = sim.state.clusters.get(name) else {
        return;
    };
    let blocked = sim
        .state
        .faults
        .iter()
        .any(|(f, _)| matches!(f, Fault::FailoverDoesNotHappen { cluster } if cluster == name));
    let mut changes: Vec<(Option<u32>, Option<String>)> = Vec::new();
    match c.kind {
        ClusterKind::VsxVsls => {
            for (vs, active) in &c.vs_active {
                let next = next_active(sim, c, active.as_deref(), blocked);
                if next != *active {
                    changes.push((Some(*vs), next));
                }
            }
        }
        _ => {
            let next = next_active(sim, c, c.active.as_deref(), blocked);
            if next != c.active {
                changes.push((None, next));
            }
        }
    }
    if changes.is_empty() {
        return;
    }
    let c = c.clone();
    let mut updated = c.clone();
    for (vs, next) in changes {
        let current = match vs {
            Some(vs) => c.vs_active.get(&vs).cloned().flatten(),
            None => c.active.clone(),
        };
        record(sim, &c, current.as_deref(), next.as_deref(), vs);
        match vs {
            Some(vs) => {
                updated.vs_active.insert(vs, next);
            }
            None => updated.active = next,
        }
        updated.failovers += 1;
    }
    sim.state.clusters.insert(name.to_string(), updated);
}

fn record(sim: &mut Sim, c: &ClusterSim, from: Option<&str>, to: Option<&str>, vs: Option<u32>) {
    if let (Some(from), Some(to)) = (from, to) {
        sim.state.record.failovers.push(super::Failover {
            at: sim.state.now,
            cluster: c.name.clone(),
            from: from.to_string(),
            to: to.to_string(),
            vs,
        });
    }
}

/// The members of `c` other than `exclude` that serve now.
fn candidates<'a>(
    sim: &'a Sim,
    c: &'a ClusterSim,
    exclude: Option<&'a str>,
) -> impl Iterator<Item = &'a Host> {
    c.members
        .iter()
        .filter(move |m| Some(m.as_str()) != exclude)
        .filter_map(|m| sim.state.hosts.get(m))
        .filter(|h| serving_problem(h).is_none())
}

/// The member that should be active, given the current one.
fn next_active(sim: &Sim, c: &ClusterSim, active: Option<&str>, blocked: bool) -> Option<String> {
    match active.and_then(|a| sim.state.hosts.get(a)) {
        Some(a) if serving_problem(a).is_none() => Some(a.name.clone()),
        Some(a) if !hands_over(a) || blocked => Some(a.name.clone()),
        Some(a) => candidates(sim, c, Some(&a.name))
            .find(|h| in_sync(h, a))
            .or_else(|| candidates(sim, c, Some(&a.name)).next())
            .map(|h| h.name.clone())
            .or_else(|| Some(a.name.clone())),
        None => candidates(sim, c, None).next().map(|h| h.name.clone()),
    }
}

/// Why a cluster serves no traffic now, if it does not.
pub(crate) fn not_serving(sim: &Sim, c: &ClusterSim) -> Option<&'static str> {
    let problem =
        |active: &Option<String>| match active.as_deref().and_then(|a| sim.state.hosts.get(a)) {
            None => Some("no_active_member"),
            Some(h) => serving_problem(h),
        };
    match c.kind {
        ClusterKind::VsxVsls => c.vs_active.values().find_map(problem),
        _ => problem(&c.active),
    }
}

/// A member's state as `cphaprob state` prints it.
pub(crate) fn ha_state(sim: &Sim, c: &ClusterSim, member: &str) -> &'static str {
    let Some(h) = sim.state.hosts.get(member) else {
        return "LOST";
    };
    let active = match c.kind {
        ClusterKind::VsxVsls => c.vs_active.values().next().cloned().flatten(),
        _ => c.active.clone(),
    };
    if active.as_deref() == Some(member) {
        return if serving_problem(h).is_some() {
            "ACTIVE(!)"
        } else {
            "ACTIVE"
        };
    }
    if serving_problem(h).is_some() {
        return "DOWN";
    }
    let active_version = active
        .as_deref()
        .and_then(|a| sim.state.hosts.get(a))
        .map(|a| a.version);
    match active_version {
        Some(v) if v != h.version && !h.mvc => "READY",
        _ => "STANDBY",
    }
}
