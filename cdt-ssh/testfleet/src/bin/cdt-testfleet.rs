//! The SSH test bed as a command, for test suites outside Rust (Python's, C's): starts a
//! [`TestFleet`] for a fleet file and serves it until its standard input ends.
//!
//! ```text
//! cdt-testfleet FLEET.toml [--scale S] [--clish HOST]... [--passwords] [--inventory PATH]
//! ```
//!
//! With `--inventory`, the fleet's inventory is written to `PATH` (JSON) first, each box at
//! its server's address, for suites that would rather load a file than edit the JSON below.
//!
//! Once every server is up it prints one line of JSON on standard output: `user`,
//! `client_key`, `known_hosts`, `state` (the shared fleet state folder, for `Sim::load`),
//! `scale`, `expert_password` (of the `--clish` hosts) and `hosts` (each host's name to its
//! `address` and `port`). It then reads commands, one per line, and answers each with `ok`
//! or `error: …`:
//!
//! - `kill HOST SECONDS`: the host's server and every process under it killed, kept down
//!   that long (real time);
//! - `freeze HOST` / `thaw HOST`: the host hung (`SIGSTOP`) or running again.
//!
//! At the end of its standard input (the test suite closed it, or died) it stops every
//! server and removes the fleet's folder.

use std::io::{BufRead, Write};
use std::process::ExitCode;
use std::time::Duration;

use cdt_core::sim::FleetFile;
use cdt_testfleet::{EXPERT_PASSWORD, Options, TestFleet, USER};

fn usage() -> ExitCode {
    eprintln!(
        "usage: cdt-testfleet FLEET.toml [--scale S] [--clish HOST]... [--passwords] [--inventory PATH]"
    );
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut fleet_path = None;
    let mut scale = 60.0;
    let mut options = Options::default();
    let mut inventory_path = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--scale" => match args.next().and_then(|s| s.parse::<f64>().ok()) {
                Some(s) if s.is_finite() && s > 0.0 => scale = s,
                _ => return usage(),
            },
            "--clish" => match args.next() {
                Some(host) => options.clish.push(host),
                None => return usage(),
            },
            "--passwords" => options.passwords = true,
            "--inventory" => match args.next() {
                Some(path) => inventory_path = Some(path),
                None => return usage(),
            },
            _ if fleet_path.is_none() && !arg.starts_with('-') => fleet_path = Some(arg),
            _ => return usage(),
        }
    }
    let Some(fleet_path) = fleet_path else {
        return usage();
    };
    let fleet = match FleetFile::load(std::path::Path::new(&fleet_path)) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cdt-testfleet: {e}");
            return ExitCode::FAILURE;
        }
    };
    let testfleet = match TestFleet::start_with(&fleet, scale, &options) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("cdt-testfleet: {e}");
            return ExitCode::FAILURE;
        }
    };
    let addresses = testfleet.addresses();
    if let Some(path) = &inventory_path {
        let mut inventory = fleet.inventory();
        for g in inventory.gateways.iter_mut().chain(
            inventory
                .clusters
                .iter_mut()
                .flat_map(|c| c.members.iter_mut().map(|m| &mut m.gateway)),
        ) {
            if let Some(a) = addresses.get(&g.name) {
                g.address = a.ip();
            }
        }
        if let Err(e) = std::fs::write(path, inventory.to_json()) {
            eprintln!("cdt-testfleet: {path}: {e}");
            return ExitCode::FAILURE;
        }
    }
    let hosts: serde_json::Map<String, serde_json::Value> = addresses
        .into_iter()
        .map(|(name, a)| {
            (
                name,
                serde_json::json!({"address": a.ip().to_string(), "port": a.port()}),
            )
        })
        .collect();
    let description = serde_json::json!({
        "user": USER,
        "client_key": testfleet.client_key(),
        "known_hosts": testfleet.known_hosts(),
        "state": testfleet.state_dir(),
        "scale": scale,
        "expert_password": EXPERT_PASSWORD,
        "hosts": hosts,
    });
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{description}")
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let words: Vec<&str> = line.split_whitespace().collect();
        let answer = match words.as_slice() {
            ["kill", host, secs] => match secs
                .parse::<f64>()
                .ok()
                .and_then(|s| Duration::try_from_secs_f64(s).ok())
            {
                Some(down) if testfleet.address(host).is_some() => {
                    testfleet.kill(host, down);
                    "ok".to_string()
                }
                Some(_) => format!("error: no host {host}"),
                None => format!("error: not a number of seconds: {secs}"),
            },
            ["freeze" | "thaw", host] if testfleet.address(host).is_some() => {
                testfleet.freeze(host, words[0] == "freeze");
                "ok".to_string()
            }
            [] => continue,
            _ => format!("error: unknown command: {line}"),
        };
        if writeln!(out, "{answer}")
            .and_then(|()| out.flush())
            .is_err()
        {
            break;
        }
    }
    drop(testfleet);
    ExitCode::SUCCESS
}
