//! The simulated Management Server's `mgmt_cli`: login, version changes, publish, policy
//! installation, tasks and the objects it knows, with replies in the Management API's JSON.
//!
//! Arguments are `mgmt_cli <command> [key value]… [--session-id SID] [--format json]
//! [-d DOMAIN] [-r true]`; changes made in a session become visible only when it publishes.
//! A session is forgotten after `session-timeout` seconds without a call (600 unless its
//! login asked for 10 to 3600) or when the API restarts ([`super::Fault::ApiRestarts`]).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::{Reply, Sim};

fn api_error(code: &str, message: impl Into<String>) -> Reply {
    let body = json!({ "code": code, "message": message.into() });
    Reply {
        kind: super::ReplyKind::Exited(1),
        stdout: pretty(&body),
        stderr: String::new(),
        duration: super::secs(0.5),
    }
}

/// `body` as `mgmt_cli --format json` prints it: indented, with a final newline.
fn pretty(body: &Value) -> String {
    // The same text as `{body:#}`, written straight into the string.
    let mut text = serde_json::to_string_pretty(body).unwrap_or_default();
    text.push('\n');
    text
}

fn reply(body: Value, seconds: f64) -> Reply {
    Reply::ok(pretty(&body), seconds)
}

/// Runs `mgmt_cli` with `args`.
pub(crate) fn run(sim: &mut Sim, args: &[&str]) -> Reply {
    let Some((&command, rest)) = args.split_first() else {
        return api_error("generic_err_invalid_syntax", "no command");
    };
    let mut params: Vec<(&str, &str)> = Vec::new();
    let mut session = None;
    let mut i = 0;
    while i < rest.len() {
        let key = rest[i];
        let value = rest.get(i + 1).copied().unwrap_or("");
        match key {
            "--session-id" => session = Some(value.to_string()),
            "--format" | "-f" | "-d" | "--domain" | "-r" | "--root" | "-u" | "--user" | "-p"
            | "--password" => {}
            _ => params.push((key, value)),
        }
        i += 2;
    }
    let param = |name: &str| params.iter().find(|(k, _)| *k == name).map(|(_, v)| *v);
    let latency = sim.state.latency.command;
    let now = sim.state.now;
    let start = sim.state.start;
    let restarts: Vec<Timestamp> = sim
        .state
        .faults
        .iter()
        .filter_map(|(f, _)| match f {
            super::Fault::ApiRestarts { at } => jiff::SignedDuration::try_from_secs_f64(*at)
                .ok()
                .and_then(|d| start.checked_add(d).ok()),
            _ => None,
        })
        .collect();
    let mgmt = &mut sim.state.mgmt;
    let needs_session = !matches!(
        command,
        "login"
            | "show-gateways-and-servers"
            | "show-simple-cluster"
            | "show-simple-gateway"
            | "show-task"
    );
    // A session idle for longer than its timeout is gone; a call in a live one keeps it.
    let live = match session.as_deref() {
        Some(sid) => match mgmt.sessions.get_mut(sid) {
            Some(s) if s.alive(now, &restarts) => {
                s.last_used = now;
                true
            }
            Some(_) => {
                mgmt.sessions.remove(sid);
                false
            }
            None => false,
        },
        None => false,
    };
    if (needs_session || session.is_some()) && !live {
        return api_error(
            "generic_err_wrong_session_id",
            "Wrong session id. Session may be expired. Please check session id and resend the request",
        );
    }
    match command {
        "login" => {
            let timeout = match param("session-timeout").map(str::parse::<u64>) {
                None => super::state::SESSION_TIMEOUT,
                Some(Ok(t)) if (10..=3600).contains(&t) => t,
                Some(_) => {
                    return api_error(
                        "generic_err_invalid_parameter",
                        "Invalid parameter: [session-timeout] must be between 10 and 3600",
                    );
                }
            };
            mgmt.next_id += 1;
            let sid = format!("sid-{:08x}", mgmt.next_id);
            mgmt.sessions.insert(
                sid.clone(),
                super::state::MgmtSession {
                    changes: Default::default(),
                    since: now,
                    last_used: now,
                    timeout,
                },
            );
            reply(
                json!({ "sid": sid, "url": "https://127.0.0.1:443/web_api", "session-timeout": timeout, "api-server-version": "1.9.1" }),
                latency,
            )
        }
        "logout" => {
            if let Some(s) = &session {
                mgmt.sessions.remove(s);
            }
            reply(json!({ "message": "OK" }), latency)
        }
        "set-simple-gateway" | "set-simple-cluster" => {
            let (Some(name), Some(version)) = (param("name"), param("version")) else {
                return api_error(
                    "generic_err_missing_required_parameters",
                    "Missing parameter: [name] or [version]",
                );
            };
            if !mgmt.versions.contains_key(name) {
                return api_error(
                    "generic_err_object_not_found",
                    format!("Requested object [{name}] not found"),
                );
            }
            if let Some(s) = session.as_ref().and_then(|s| mgmt.sessions.get_mut(s)) {
                s.changes.insert(name.to_string(), version.to_string());
            }
            let kind = if command == "set-simple-gateway" {
                "simple-gateway"
            } else {
                "simple-cluster"
            };
            reply(
                json!({ "uid": uid(name), "name": name, "type": kind, "version": version }),
                latency,
            )
        }
        "publish" => {
            let changes = session
                .as_ref()
                .and_then(|s| mgmt.sessions.get_mut(s))
                .map(|s| std::mem::take(&mut s.changes))
                .unwrap_or_default();
            for (object, version) in changes {
                mgmt.versions.insert(object.clone(), version.clone());
                sim.state.record.versions_set.push((now, object, version));
            }
            sim.state.record.publishes.push(now);
            let task = new_task(sim, 1.0, "Publish operation");
            reply(json!({ "task-id": task }), latency)
        }
        "install-policy" => {
            let package = param("policy-package")
                .unwrap_or(&sim.state.mgmt.policy_package)
                .to_string();
            let targets: Vec<String> = params
                .iter()
                .filter(|(k, _)| *k == "targets" || k.starts_with("targets."))
                .map(|(_, v)| v.to_string())
                .collect();
            if targets.is_empty() {
                return api_error(
                    "generic_err_missing_required_parameters",
                    "Missing parameter: [targets]",
                );
            }
            if let Some(t) = targets
                .iter()
                .find(|t| !sim.state.mgmt.versions.contains_key(t.as_str()))
            {
                return api_error(
                    "generic_err_object_not_found",
                    format!("Requested object [{t}] not found"),
                );
            }
            sim.state
                .record
                .policy_installs
                .push((now, package.clone(), targets));
            let policy = sim.state.latency.policy;
            let task = new_task(sim, policy, &format!("Installing policy {package}"));
            reply(json!({ "task-id": task }), latency)
        }
        "show-task" => {
            let Some(id) = param("task-id") else {
                return api_error(
                    "generic_err_missing_required_parameters",
                    "Missing parameter: [task-id]",
                );
            };
            let Some((done_at, _, name)) = mgmt.tasks.get(id).cloned() else {
                return api_error(
                    "generic_err_object_not_found",
                    format!("Requested object [{id}] not found"),
                );
            };
            let done = now >= done_at;
            reply(
                json!({ "tasks": [{
                    "task-id": id,
                    "task-name": name,
                    "status": if done { "succeeded" } else { "in progress" },
                    "progress-percentage": if done { 100 } else { 50 },
                    "suppressed": false,
                    "task-details": []
                }]}),
                latency,
            )
        }
        "show-gateways-and-servers" => {
            let objects = objects(sim);
            let total = objects.len();
            reply(
                json!({ "objects": objects, "from": 1, "to": total, "total": total }),
                latency,
            )
        }
        "show-simple-cluster" => {
            let Some(name) = param("name") else {
                return api_error(
                    "generic_err_missing_required_parameters",
                    "Missing parameter: [name]",
                );
            };
            let Some(c) = sim.state.clusters.get(name) else {
                return api_error(
                    "generic_err_object_not_found",
                    format!("Requested object [{name}] not found"),
                );
            };
            let members: Vec<Value> = c
                .members
                .iter()
                .filter_map(|m| sim.state.hosts.get(m))
                .map(|h| json!({ "name": h.name, "ip-address": h.address }))
                .collect();
            reply(
                json!({
                    "uid": uid(name),
                    "name": name,
                    "type": "simple-cluster",
                    "cluster-mode": cluster_mode(c.kind),
                    "version": sim.state.mgmt.versions.get(name),
                    "cluster-members": members
                }),
                latency,
            )
        }
        other => api_error(
            "generic_err_command_not_found",
            format!("Unknown command \"{other}\""),
        ),
    }
}

fn cluster_mode(kind: crate::model::ClusterKind) -> &'static str {
    use crate::model::ClusterKind::*;
    match kind {
        ClusterXlHa => "cluster-xl-ha",
        ClusterXlLoadSharing => "cluster-xl-ls-multicast",
        Vrrp => "vrrp",
        VsxVsls => "vsx-vsls",
        VsxHa => "vsx-ha",
        Maestro => "maestro",
        ElasticXl => "elasticxl",
    }
}

fn new_task(sim: &mut Sim, seconds: f64, name: &str) -> String {
    let mgmt = &mut sim.state.mgmt;
    mgmt.next_id += 1;
    let id = format!("01234567-89ab-cdef-0000-{:012x}", mgmt.next_id);
    let done = sim.state.now + super::secs(seconds);
    mgmt.tasks
        .insert(id.clone(), (done, "in progress".into(), name.into()));
    id
}

/// A stable, UUID-shaped identifier for an object name.
fn uid(name: &str) -> String {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    });
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xffff,
        (h >> 48) & 0xffff,
        h & 0xffff_ffff_ffff
    )
}

fn objects(sim: &Sim) -> Vec<Value> {
    let mut out = Vec::new();
    for c in sim.state.clusters.values() {
        out.push(json!({
            "uid": uid(&c.name),
            "name": c.name,
            "type": "CpmiGatewayCluster",
            "cluster-mode": cluster_mode(c.kind),
            "version": sim.state.mgmt.versions.get(&c.name),
        }));
    }
    let mut hosts: Vec<&super::state::Host> = sim.state.hosts.values().collect();
    hosts.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    for h in hosts {
        let kind = match (&h.cluster, h.management) {
            (_, true) => "CpmiHostCkp",
            (Some(_), _) => "CpmiClusterMember",
            (None, _) => "simple-gateway",
        };
        out.push(json!({
            "uid": uid(&h.name),
            "name": h.name,
            "type": kind,
            "ipv4-address": h.address,
            "version": sim.state.mgmt.versions.get(&h.name).cloned().unwrap_or_else(|| h.version.to_string()),
        }));
    }
    out
}
