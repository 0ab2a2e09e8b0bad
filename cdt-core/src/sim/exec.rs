//! The simulated gateway's shell: splits a command line and runs the Gaia command it names
//! (Expert-mode commands, `clish -c "…"`, `mgmt_cli` on the Management Server), after applying
//! the fault schedule.

use super::state::Busy;
use super::{Fault, Reply, ReplyKind, Sim, cluster, cpuse, mgmt, print, secs};
use crate::gaia::quote;

/// Runs one command line on `host`.
pub(crate) fn run(sim: &mut Sim, host: &str, line: &str) -> Reply {
    if let Some(reply) = faulty(sim, host, line) {
        return reply;
    }
    let mut reply = run_clean(sim, host, line);
    if drops(sim, host, line) {
        reply.kind = ReplyKind::Dropped;
    }
    reply
}

/// A fault that replaces the command's reply.
fn faulty(sim: &mut Sim, host: &str, line: &str) -> Option<Reply> {
    let latency = sim.state.latency.command;
    for (fault, used) in &mut sim.state.faults {
        match fault {
            Fault::CommandFails {
                host: h,
                command,
                exit,
                message,
                times,
            } if h == host
                && line.contains(command.as_str())
                && times.is_none_or(|t| *used < t) =>
            {
                *used += 1;
                return Some(Reply::fail(*exit, format!("{message}\n"), latency));
            }
            Fault::CommandHangs { host: h, command }
                if h == host && line.contains(command.as_str()) =>
            {
                return Some(Reply {
                    kind: ReplyKind::Hangs,
                    stdout: String::new(),
                    stderr: String::new(),
                    duration: super::NEVER,
                });
            }
            _ => {}
        }
    }
    None
}

/// Whether the connection drops during this command (its effect still happens).
fn drops(sim: &mut Sim, host: &str, line: &str) -> bool {
    for (fault, used) in &mut sim.state.faults {
        if let Fault::ConnectionDrops {
            host: h,
            command,
            times,
        } = fault
            && h == host
            && line.contains(command.as_str())
            && times.is_none_or(|t| *used < t)
        {
            *used += 1;
            return true;
        }
    }
    false
}

fn run_clean(sim: &mut Sim, host: &str, line: &str) -> Reply {
    let latency = sim.state.latency.command;
    if let Some(c) = sim.state.commands.iter().find(|c| c.command == line.trim()) {
        return Reply {
            kind: ReplyKind::Exited(c.exit),
            stdout: c.stdout.clone(),
            stderr: String::new(),
            duration: secs(latency),
        };
    }
    let words = match quote::split_borrowed(line) {
        Ok(w) => w,
        Err(e) => return Reply::fail(2, format!("sh: syntax error: {e}\n"), latency),
    };
    // The words as `&str`, on the stack for any command line of up to 16 words.
    let mut small = [""; 16];
    let large: Vec<&str>;
    let w: &[&str] = if words.len() <= small.len() {
        for (slot, word) in small.iter_mut().zip(&words) {
            *slot = word;
        }
        &small[..words.len()]
    } else {
        large = words.iter().map(|w| w.as_ref()).collect();
        &large
    };
    let Some((&program, args)) = w.split_first() else {
        return Reply::ok("", 0.0);
    };
    let program = program.rsplit('/').next().unwrap_or(program);
    let Some(h) = sim.state.hosts.get(host) else {
        return Reply::fail(127, "", 0.0);
    };
    // The host's cluster, looked up only by the commands that need it.
    let member = || {
        h.cluster
            .as_ref()
            .and_then(|c| sim.state.clusters.get(c.as_str()))
    };
    match (program, args) {
        ("sh" | "bash", ["-c", inner]) => run(sim, host, inner),
        ("sh" | "bash", [script, ..]) => script_reply(sim, host, script),
        ("clish", ["-c", command]) => clish(sim, host, command),
        ("fw", ["ver"]) => Reply::ok(print::fw_ver(h), latency),
        ("cpwd_admin", ["list"]) => Reply::ok(print::cpwd_list(h), latency),
        ("cpinfo", ["-y", "all"]) => Reply::ok(print::cpinfo(h), latency * 5.0),
        ("cphaprob", ["state" | "stat"]) => match member() {
            Some(c) => {
                let rows: Vec<(String, String, &str)> = c
                    .members
                    .iter()
                    .map(|m| {
                        let address = sim
                            .state
                            .hosts
                            .get(m)
                            .map(|h| h.address.clone())
                            .unwrap_or_default();
                        (m.clone(), address, cluster::ha_state(sim, c, m))
                    })
                    .collect();
                let pnotes: Vec<&str> = if h.admin_down {
                    vec!["admin_down"]
                } else {
                    Vec::new()
                };
                Reply::ok(
                    print::cphaprob_state(c, host, &rows, &pnotes, c.failovers, h.last_boot),
                    latency,
                )
            }
            None => Reply::ok("HA module not started.\n", latency),
        },
        ("cphaprob", ["mvc"]) => Reply::ok(print::mvc(h.mvc), latency),
        ("cphaconf", ["mvc", on @ ("on" | "off")]) => {
            if member().is_none() {
                return Reply::fail(1, "HA module not started.\n", latency);
            }
            if let Some(h) = sim.state.hosts.get_mut(host) {
                h.mvc = *on == "on";
            }
            Reply::ok("", latency)
        }
        ("cphacu", ["start"]) => {
            if let Some(h) = sim.state.hosts.get_mut(host) {
                h.fcu_ready = true;
            }
            Reply::ok("Connectivity upgrade started\n", latency)
        }
        ("cphacu", ["stat" | "state"]) => Reply::ok(print::cphacu_stat(h.fcu_ready), latency),
        ("clusterXL_admin", [direction @ ("down" | "up"), rest @ ..])
            if rest.is_empty() || rest == ["-p"] =>
        {
            let Some(c) = member().cloned() else {
                return Reply::fail(1, "HA module not started.\n", latency);
            };
            let down = *direction == "down";
            if let Some(h) = sim.state.hosts.get_mut(host) {
                h.admin_down = down;
            }
            super::cluster::settle_one(sim, &c.name);
            let c = sim.state.clusters.get(&c.name).cloned().unwrap_or(c);
            let state = cluster::ha_state(sim, &c, host);
            let duration = if down {
                sim.state.latency.failover
            } else {
                latency
            };
            Reply::ok(print::clusterxl_admin(down, state), duration)
        }
        ("sha256sum", [path]) => match h.files.get(*path) {
            Some(f) => Reply::ok(format!("{}  {path}\n", f.sha256), latency),
            None => Reply::fail(
                1,
                format!("sha256sum: {path}: No such file or directory\n"),
                latency,
            ),
        },
        ("test", ["-f", path]) => {
            if h.files.contains_key(*path) {
                Reply::ok("", latency)
            } else {
                Reply::fail(1, "", latency)
            }
        }
        ("cat", [path]) => match h.files.get(*path).and_then(|f| f.content.as_deref()) {
            Some(c) => Reply::ok(String::from_utf8_lossy(c).into_owned(), latency),
            None => Reply::fail(
                1,
                format!("cat: {path}: No such file or directory\n"),
                latency,
            ),
        },
        ("rm", ["-f", path]) => {
            if let Some(h) = sim.state.hosts.get_mut(host) {
                h.files.remove(*path);
            }
            Reply::ok("", latency)
        }
        ("mkdir", ["-p", _]) => Reply::ok("", latency),
        ("reboot", []) | ("shutdown", ["-r", "now"]) => reboot(sim, host),
        ("mgmt_cli", rest) if h.management => mgmt::run(sim, rest),
        ("cprid_util", rest) if h.management => cprid(sim, host, rest),
        (_, _) if program.ends_with(".sh") => script_reply(sim, host, w[0]),
        _ => Reply::fail(127, format!("sh: {program}: command not found\n"), latency),
    }
}

/// `cprid_util` on the Management Server: runs a command on a gateway, or copies a file to
/// or from it, over Check Point's trusted channel. The command's exit status comes back as
/// `cprid_util`'s; an unreachable gateway or a dropped one is reported on standard error with
/// [`commands::CPRID_UNREACHABLE`] or [`commands::CPRID_DROPPED`].
///
/// [`commands::CPRID_UNREACHABLE`]: crate::gaia::commands::CPRID_UNREACHABLE
/// [`commands::CPRID_DROPPED`]: crate::gaia::commands::CPRID_DROPPED
fn cprid(sim: &mut Sim, mgmt: &str, args: &[&str]) -> Reply {
    use crate::gaia::commands::{CPRID_DROPPED, CPRID_UNREACHABLE};
    let latency = sim.state.latency.command;
    let usage = || {
        Reply::fail(
            1,
            "Usage: cprid_util -server <ip> [-verbose] <command>\n",
            latency,
        )
    };
    let mut rest = args;
    let mut server = None;
    loop {
        match rest {
            ["-server", s, tail @ ..] => {
                server = Some(*s);
                rest = tail;
            }
            ["-verbose", tail @ ..] => rest = tail,
            _ => break,
        }
    }
    let Some(server) = server else {
        return usage();
    };
    // The gateway by its address (as cprid_util takes it) or its object name.
    let mut matching: Vec<String> = sim
        .state
        .hosts
        .values()
        .filter(|h| (h.address == server || h.name == server) && !h.management)
        .map(|h| h.name.clone())
        .collect();
    matching.sort_unstable();
    let target = match matching.as_slice() {
        [one] => one.clone(),
        [] => {
            let message = format!("{CPRID_UNREACHABLE} {server}: unknown host\n");
            return Reply::fail(1, message, latency);
        }
        several => {
            // A fleet file giving two gateways one address: refuse rather than pick one.
            let message = format!(
                "cprid_util: {server} is the address of {}\n",
                several.join(", ")
            );
            return Reply::fail(1, message, latency);
        }
    };
    if sim.reachable(&target).is_err() {
        return Reply::fail(1, format!("{CPRID_UNREACHABLE} {server}\n"), latency);
    }
    let reply = match rest {
        ["rexec", "-rcmd", program, command @ ..] => {
            let line = match quote::command(program, command) {
                Ok(line) => line,
                Err(e) => return Reply::fail(1, format!("cprid_util: {e}\n"), latency),
            };
            let mut reply = run(sim, &target, &line);
            if reply.kind == ReplyKind::Dropped {
                reply.kind = ReplyKind::Exited(1);
                reply
                    .stderr
                    .push_str(&format!("{CPRID_DROPPED} {server}\n"));
            }
            reply
        }
        ["putfile", "-local_file", local, "-remote_file", remote, ..] => {
            copy_file(sim, (mgmt, local), (&target, remote))
        }
        ["getfile", "-remote_file", remote, "-local_file", local, ..] => {
            copy_file(sim, (&target, remote), (mgmt, local))
        }
        _ => return usage(),
    };
    // The gateway's service may have changed (an install, a reboot, a failover).
    sim.observe_host(&target);
    reply
}

/// Copies a file between two simulated hosts, taking the copy's time.
fn copy_file(sim: &mut Sim, from: (&str, &str), to: (&str, &str)) -> Reply {
    let latency = sim.state.latency.command;
    let Some(file) = sim
        .state
        .hosts
        .get(from.0)
        .and_then(|h| h.files.get(from.1))
        .cloned()
    else {
        return Reply::fail(
            1,
            format!("cprid_util: {}: No such file or directory\n", from.1),
            latency,
        );
    };
    let seconds = latency + sim.state.latency.copy_per_mib * file.size as f64 / 1_048_576.0;
    if let Some(h) = sim.state.hosts.get_mut(to.0) {
        h.files.insert(to.1.to_string(), file);
    }
    Reply::ok("", seconds)
}

/// A user script pushed earlier: its exit status comes from the fleet file (default 0).
fn script_reply(sim: &mut Sim, host: &str, path: &str) -> Reply {
    let latency = sim.state.latency.command;
    let Some(h) = sim.state.hosts.get(host) else {
        return Reply::fail(127, "", 0.0);
    };
    if !h.files.contains_key(path) {
        return Reply::fail(
            127,
            format!("sh: {path}: No such file or directory\n"),
            latency,
        );
    }
    let name = path.rsplit('/').next().unwrap_or(path);
    let reply = sim
        .state
        .scripts
        .iter()
        .find(|s| s.name == name && (s.hosts.is_empty() || s.hosts.iter().any(|h| h == host)));
    match reply {
        Some(s) => Reply {
            kind: ReplyKind::Exited(s.exit),
            stdout: s.stdout.clone(),
            stderr: String::new(),
            duration: secs(latency),
        },
        None => Reply::ok("", latency),
    }
}

/// `reboot`: the connection drops and the gateway is back after the reboot latency.
fn reboot(sim: &mut Sim, host: &str) -> Reply {
    let latency = sim.state.latency.reboot;
    let now = sim.state.now;
    if let Some(h) = sim.state.hosts.get_mut(host) {
        h.busy = Some((Busy::Rebooting, now + secs(latency)));
    }
    sim.schedule(host, latency, super::state::PendingEvent::BackFromReboot);
    Reply::dropped("", 0.5)
}

/// A clish command.
fn clish(sim: &mut Sim, host: &str, command: &str) -> Reply {
    let latency = sim.state.latency.command;
    let words = quote::split_borrowed(command).unwrap_or_default();
    let w: smallvec::SmallVec<[&str; 8]> = words
        .iter()
        .map(|w| w.as_ref())
        .filter(|w| *w != "not-interactive")
        .collect();
    let Some(h) = sim.state.hosts.get(host) else {
        return Reply::fail(1, "", 0.0);
    };
    match w.as_slice() {
        ["show", "version", "all"] => Reply::ok(print::show_version_all(h), latency),
        ["show", "cluster", "state"] => run(sim, host, "cphaprob state"),
        ["show", "vrrp"] => {
            let c = h.cluster.as_ref().and_then(|c| sim.state.clusters.get(c));
            match c {
                Some(c) if c.kind == crate::model::ClusterKind::Vrrp => {
                    let master = c.active.as_deref() == Some(host);
                    Reply::ok(
                        print::show_vrrp(master, cluster::serving_problem(h).is_none()),
                        latency,
                    )
                }
                _ => Reply::ok(
                    "VRRP State\n  Flags: Off\n  0 interfaces enabled\n",
                    latency,
                ),
            }
        }
        ["show", "installer", "packages"] => cpuse::show_packages(sim, host, "all"),
        [
            "show",
            "installer",
            "packages",
            which @ ("imported" | "installed" | "all"),
        ] => cpuse::show_packages(sim, host, which),
        ["show", "installer", "package", name] => cpuse::show_package(sim, host, name),
        ["show", "installer", "status", "build" | "all"] => {
            Reply::ok(print::installer_build(h.cpuse_build), latency)
        }
        ["installer", "import", "local", path] => cpuse::import(sim, host, path),
        ["installer", "verify", name] => cpuse::verify(sim, host, name),
        ["installer", "download", name] => cpuse::download(sim, host, name),
        ["installer", "install", name] => cpuse::install(sim, host, name, false),
        ["installer", "upgrade", name] => cpuse::install(sim, host, name, true),
        ["installer", "uninstall", name] => cpuse::uninstall(sim, host, name),
        ["installer", "agent", "install", path] => cpuse::agent(sim, host, path),
        ["add", "snapshot", name, "desc", desc] => {
            let latency = sim.state.latency.snapshot;
            if let Some(h) = sim.state.hosts.get_mut(host) {
                h.snapshots.push((name.to_string(), desc.to_string()));
            }
            Reply::ok(
                format!("Creating snapshot {name}\nSnapshot {name} created successfully\n"),
                latency,
            )
        }
        ["show", "snapshots"] => {
            let mut out = String::from("Restore points:\n");
            for (name, _) in &h.snapshots {
                out.push_str(name);
                out.push('\n');
            }
            Reply::ok(out, latency)
        }
        ["add", "backup", "local"] => {
            let latency = sim.state.latency.backup;
            let file = format!(
                "backup_{host}_{}.tgz",
                sim.state.now.strftime("%d_%m_%Y_%H_%M")
            );
            if let Some(h) = sim.state.hosts.get_mut(host) {
                h.backups.push(file);
            }
            Reply::ok(
                "Creating backup package. Use the command 'show backups' to monitor creation progress.\n",
                latency,
            )
        }
        ["show", "backups"] => {
            let mut out = String::new();
            for b in &h.backups {
                out.push_str(&format!("/var/log/CPbackup/backups/{b}\n"));
            }
            Reply::ok(out, latency)
        }
        ["lock", "database", "override"] => Reply::ok("", latency),
        ["reboot"] => reboot(sim, host),
        _ => Reply::fail(
            1,
            format!("CLINFR0329  Invalid command:'{command}'.\n"),
            latency,
        ),
    }
}
