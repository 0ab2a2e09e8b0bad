//! The SSH transport against real OpenSSH servers on loopback (the test fleet; needs root and
//! `openssh-server`), each measure the median of five runs, with the reference run the same way
//! in the same session:
//!
//! - (a) one command on every one of 100 hosts (the command is `true`, run by the account's shell) over new
//!   connections: the client's CPU per connection, the wall time against the server-side floor
//!   (the servers' CPU ÷ cores, measured in the same run) and against the OpenSSH client run
//!   100-wide, both with `curve25519-sha256`;
//! - (b) commands over connections kept open: commands per second, with a channel per command
//!   and with kept shells (`Commands::KeptShells`), against the rate the servers' CPU allows;
//! - (c) a 256 MiB file to 4 hosts with its digest checked, against `scp` plus
//!   `ssh host sha256sum` doing the same work.
//!
//! `CDT_BENCH_HOSTS` changes the number of hosts of (a) and (b); `CDT_BENCH_FILE_MIB` the size
//! of (c)'s file.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cdt_core::model::inventory::InventoryFormat;
use cdt_core::sim::FleetFile;
use cdt_core::transport::{Connector, Session};
use cdt_ssh::{Algorithms, Auth, SshConnector, SshSettings, Target};
use cdt_testfleet::{Options, PlainServer, TestFleet, USER, process_cpu};

const RUNS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn cores() -> f64 {
    std::thread::available_parallelism().map_or(1.0, |n| n.get() as f64)
}

fn settings(targets: BTreeMap<String, Target>, key: &Path, known_hosts: &Path) -> SshSettings {
    let mut s = SshSettings::new(
        targets,
        USER,
        Auth::KeyFile {
            path: key.to_path_buf(),
            passphrase: None,
        },
        known_hosts,
    );
    s.max_handshakes = 256;
    s.connect_timeout = Duration::from_secs(60);
    s
}

fn openssh(address: &str, key: &Path, known_hosts: &Path) -> Command {
    let mut c = Command::new("ssh");
    c.arg("-i")
        .arg(key)
        .arg("-o")
        .arg(format!("UserKnownHostsFile={}", known_hosts.display()))
        .args([
            "-o",
            "BatchMode=yes",
            "-o",
            "IdentitiesOnly=yes",
            "-o",
            "KexAlgorithms=curve25519-sha256",
            "-F",
            "/dev/null",
        ])
        .arg(format!("{USER}@{address}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn fan_out(runtime: &tokio::runtime::Runtime, hosts: usize) {
    let mut text = String::from("start = \"2026-12-01T01:00:00Z\"\n");
    for i in 0..hosts {
        text.push_str(&format!(
            "[[gateways]]\nname = \"h{i:03}\"\naddress = \"192.0.2.{}\"\nversion = \"R81.20\"\n",
            i % 250 + 1
        ));
    }
    let file = FleetFile::parse(&text, InventoryFormat::Toml, None).expect("fleet");
    // The account's shell runs what is sent: `true` over a channel of its own runs as
    // `/bin/sh -c true`, as under `ForceCommand true`, and kept shells can be started.
    let options = Options {
        shell: true,
        ..Options::default()
    };
    let fleet = TestFleet::start_with(&file, 1.0, &options).expect("the test fleet starts");
    let targets: BTreeMap<String, Target> = fleet
        .addresses()
        .into_iter()
        .map(|(name, a)| {
            let mut t = Target::new(a.ip().to_string());
            t.algorithms = Algorithms::Curve25519;
            (name, t)
        })
        .collect();
    let names: Vec<String> = targets.keys().cloned().collect();
    let (key, known) = (fleet.client_key(), fleet.known_hosts());
    let me = std::process::id();
    let (mut client_ms, mut wall_ms, mut floor_ms, mut openssh_ms) =
        (vec![], vec![], vec![], vec![]);
    for _ in 0..RUNS {
        // cdt: a new connector (new connections) each run.
        let connector = SshConnector::new(settings(targets.clone(), &key, &known));
        // The servers first: reading their processes costs this process CPU time.
        let server0 = fleet.server_cpu();
        let cpu0 = process_cpu(me);
        let t0 = Instant::now();
        runtime.block_on(async {
            let mut tasks = Vec::new();
            for name in &names {
                let (c, name) = (connector.clone(), name.clone());
                tasks.push(tokio::spawn(async move {
                    let s = c.connect(&name).await.expect("connect");
                    let out = s.exec("true").await.expect("exec");
                    assert_eq!(out.exit, Some(0));
                }));
            }
            for t in tasks {
                t.await.expect("task");
            }
        });
        let wall = t0.elapsed();
        drop(connector);
        // Let the servers reap their sessions before reading their CPU.
        std::thread::sleep(Duration::from_millis(300));
        let client = process_cpu(me).saturating_sub(cpu0);
        let server = fleet.server_cpu().saturating_sub(server0);
        client_ms.push(client.as_secs_f64() * 1000.0 / hosts as f64);
        wall_ms.push(wall.as_secs_f64() * 1000.0);
        floor_ms.push(server.as_secs_f64() * 1000.0 / cores());
        // OpenSSH, 100-wide.
        let t0 = Instant::now();
        let children: Vec<_> = names
            .iter()
            .map(|n| {
                let address = fleet.address(n).expect("address").ip().to_string();
                openssh(&address, &key, &known)
                    .arg("true")
                    .spawn()
                    .expect("ssh")
            })
            .collect();
        for mut c in children {
            assert!(c.wait().expect("ssh").success());
        }
        openssh_ms.push(t0.elapsed().as_secs_f64() * 1000.0);
        std::thread::sleep(Duration::from_millis(300));
    }
    let (client, wall, floor, ossh) = (
        median(client_ms),
        median(wall_ms),
        median(floor_ms),
        median(openssh_ms),
    );
    println!("(a) {hosts} hosts, one command each over new connections (medians of {RUNS}):");
    println!("    cdt client CPU per connection: {client:.2} ms");
    println!(
        "    cdt wall {wall:.0} ms; server-side floor {floor:.0} ms (ratio {:.2}); OpenSSH 100-wide {ossh:.0} ms (ratio {:.2})",
        wall / floor,
        wall / ossh
    );

    // (b) Connections kept open: commands per second, a channel per command and kept shells.
    let kept: BTreeMap<String, Target> = targets
        .iter()
        .map(|(n, t)| (n.clone(), t.clone().with_kept_shells()))
        .collect();
    for (label, targets) in [("a channel per command", &targets), ("kept shells", &kept)] {
        let connector = SshConnector::new(settings(targets.clone(), &key, &known));
        let (rate, floor, client) = kept_connections(runtime, &connector, &names, &fleet);
        println!(
            "(b) {label}: {} commands over {} open connections: {rate:.0} commands/s; the servers' CPU allows {floor:.0}/s; client CPU {client:.0} µs a command (medians of {RUNS})",
            20 * names.len(),
            names.len(),
        );
    }
}

/// Runs 20 commands one after another on each of `names`'s connections, all hosts at once,
/// [`RUNS`] times: the medians of the commands per second, the rate the servers' CPU allows
/// and the client's CPU per command.
fn kept_connections(
    runtime: &tokio::runtime::Runtime,
    connector: &SshConnector,
    names: &[String],
    fleet: &TestFleet,
) -> (f64, f64, f64) {
    let me = std::process::id();
    let sessions: Vec<Arc<dyn Session>> = runtime.block_on(async {
        let mut v = Vec::new();
        for n in names {
            let s = connector.connect(n).await.expect("connect");
            // A first command: a kept shell is started before the measure.
            assert_eq!(s.exec("true").await.expect("exec").exit, Some(0));
            v.push(s);
        }
        v
    });
    let per_run = 20 * sessions.len();
    let (mut rates, mut floors, mut client_us) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let server0 = fleet.server_cpu();
        let cpu0 = process_cpu(me);
        let t0 = Instant::now();
        runtime.block_on(async {
            let mut tasks = Vec::new();
            for s in &sessions {
                let s = s.clone();
                tasks.push(tokio::spawn(async move {
                    for _ in 0..20 {
                        assert_eq!(s.exec("true").await.expect("exec").exit, Some(0));
                    }
                }));
            }
            for t in tasks {
                t.await.expect("task");
            }
        });
        rates.push(per_run as f64 / t0.elapsed().as_secs_f64());
        client_us.push(process_cpu(me).saturating_sub(cpu0).as_secs_f64() * 1e6 / per_run as f64);
        // The servers reap each command's session process as it ends.
        std::thread::sleep(Duration::from_millis(300));
        let server = fleet.server_cpu().saturating_sub(server0).as_secs_f64();
        floors.push(per_run as f64 / (server / cores()).max(f64::MIN_POSITIVE));
    }
    (median(rates), median(floors), median(client_us))
}

fn file_copy(runtime: &tokio::runtime::Runtime, mib: usize) {
    let servers: Vec<PlainServer> = (0..4)
        .map(|_| PlainServer::start().expect("server"))
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let local = dir.path().join("package.tgz");
    let mut content = vec![0u8; mib << 20];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in content.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(&local, &content).expect("write");
    let digest = cdt_core::digest::sha256_hex(&content);
    drop(content);
    let remote = format!("/tmp/cdt-bench-{}.tgz", std::process::id());
    let (mut cdt_s, mut ref_s) = (vec![], vec![]);
    for _ in 0..RUNS {
        let t0 = Instant::now();
        runtime.block_on(async {
            let mut tasks = Vec::new();
            for (i, s) in servers.iter().enumerate() {
                let name = format!("p{i}");
                let targets =
                    BTreeMap::from([(name.clone(), Target::new(s.address().ip().to_string()))]);
                let connector =
                    SshConnector::new(settings(targets, &s.client_key(), &s.known_hosts()));
                let (local, remote, digest) = (local.clone(), remote.clone(), digest.clone());
                tasks.push(tokio::spawn(async move {
                    let session = connector.connect(&name).await.expect("connect");
                    session.put(&local, &remote).await.expect("put");
                    let out = session
                        .exec(&format!("sha256sum {remote}"))
                        .await
                        .expect("sum");
                    assert!(out.stdout.starts_with(&digest));
                }));
            }
            for t in tasks {
                t.await.expect("task");
            }
        });
        cdt_s.push(t0.elapsed().as_secs_f64());
        let t0 = Instant::now();
        let children: Vec<_> = servers
            .iter()
            .map(|s| {
                let address = s.address().ip().to_string();
                let script = format!(
                    "scp -q -i {key} -o UserKnownHostsFile={kh} -o BatchMode=yes -F /dev/null {local} {USER}@{address}:{remote} && ssh -i {key} -o UserKnownHostsFile={kh} -o BatchMode=yes -F /dev/null {USER}@{address} sha256sum {remote} | grep -q {digest}",
                    key = s.client_key().display(),
                    kh = s.known_hosts().display(),
                    local = local.display(),
                );
                Command::new("sh").arg("-c").arg(script).spawn().expect("sh")
            })
            .collect();
        for mut c in children {
            assert!(c.wait().expect("scp").success());
        }
        ref_s.push(t0.elapsed().as_secs_f64());
    }
    let (c, r) = (median(cdt_s), median(ref_s));
    let total = (4 * mib) as f64;
    println!(
        "(c) {mib} MiB to 4 hosts with the digest checked: cdt {:.0} MiB/s, scp + ssh sha256sum {:.0} MiB/s (ratio {:.2}; medians of {RUNS})",
        total / c,
        total / r,
        r / c
    );
    let _ = Command::new("rm").arg("-f").arg(&remote).status();
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument selects the parts to run.
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |part: &str| filter.is_empty() || filter.iter().any(|f| part.contains(f.as_str()));
    let hosts = std::env::var("CDT_BENCH_HOSTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100);
    let mib = std::env::var("CDT_BENCH_FILE_MIB")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    if wanted("fan_out") {
        fan_out(&runtime, hosts);
    }
    if wanted("file_copy") {
        file_copy(&runtime, mib);
    }
}
