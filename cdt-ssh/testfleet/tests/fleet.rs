//! The test bed itself: real OpenSSH clients reach the emulated hosts, which share one fleet
//! state, and a reboot closes a host's server for the reboot's time.

use std::process::{Command, Output};
use std::time::{Duration, Instant};

use cdt_core::model::inventory::InventoryFormat;
use cdt_core::sim::FleetFile;
use cdt_testfleet::{TestFleet, USER};

const FLEET: &str = r#"
start = "2026-12-01T01:00:00Z"

[latency]
command = 0.5
reboot = 60

[management]
name = "mgmt"
address = "192.0.2.250"

[[gateways]]
name = "gw-1"
address = "192.0.2.1"
version = "R81.20"
take = 41

[[clusters]]
name = "ha"
kind = "clusterxl_ha"
[[clusters.members]]
name = "ha-a"
address = "198.51.100.1"
version = "R81.20"
role = "Active"
[[clusters.members]]
name = "ha-b"
address = "198.51.100.2"
version = "R81.20"
role = "Standby"
"#;

fn fleet() -> TestFleet {
    let file = FleetFile::parse(FLEET, InventoryFormat::Toml, None).unwrap();
    // 60 simulated seconds per real second: a reboot lasts one second.
    TestFleet::start(&file, 60.0).unwrap()
}

/// Runs `command` on `host` with the OpenSSH client, strict host key checking on.
fn ssh(fleet: &TestFleet, host: &str, command: &str) -> Output {
    let address = fleet.address(host).unwrap();
    Command::new("ssh")
        .arg("-i")
        .arg(fleet.client_key())
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            fleet.known_hosts().display()
        ))
        .args([
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            "BatchMode=yes",
            "-o",
            "ConnectTimeout=5",
            "-o",
            "IdentitiesOnly=yes",
            "-F",
            "/dev/null",
        ])
        .arg(format!("{USER}@{}", address.ip()))
        .arg(command)
        .output()
        .unwrap()
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn an_openssh_client_runs_gaia_commands_on_each_host() {
    let fleet = fleet();
    let out = ssh(&fleet, "gw-1", "fw ver");
    assert!(out.status.success(), "{out:?}\n{}", fleet.log("gw-1"));
    assert!(
        text(&out).starts_with("This is Check Point's software version R81.20"),
        "{out:?}"
    );
    let out = ssh(&fleet, "gw-1", "clish -c 'show nothing'");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("CLINFR0329"));
}

#[test]
fn cluster_members_see_each_others_state() {
    let fleet = fleet();
    let out = ssh(&fleet, "ha-a", "clusterXL_admin down");
    assert!(out.status.success(), "{out:?}");
    let state = text(&ssh(&fleet, "ha-b", "cphaprob state"));
    let local = state.lines().find(|l| l.contains("(local)")).unwrap();
    assert!(local.contains("ACTIVE"), "{state}");
}

#[test]
fn a_copy_over_exec_is_stored_on_that_host_only() {
    let fleet = fleet();
    let address = fleet.address("gw-1").unwrap();
    let mut child = Command::new("ssh")
        .arg("-i")
        .arg(fleet.client_key())
        .arg("-o")
        .arg(format!(
            "UserKnownHostsFile={}",
            fleet.known_hosts().display()
        ))
        .args(["-o", "BatchMode=yes", "-F", "/dev/null"])
        .arg(format!("{USER}@{}", address.ip()))
        .arg("cat > /var/tmp/note.txt")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"hello\x00world")
        .unwrap();
    assert!(child.wait().unwrap().success());
    let out = ssh(&fleet, "gw-1", "cat /var/tmp/note.txt");
    assert_eq!(out.stdout, b"hello\x00world");
    let digest = text(&ssh(&fleet, "gw-1", "sha256sum /var/tmp/note.txt"));
    assert!(digest.starts_with(&cdt_core::digest::sha256_hex(b"hello\x00world")));
    let out = ssh(&fleet, "ha-a", "cat /var/tmp/note.txt");
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_reboot_closes_the_server_until_the_host_is_back() {
    let fleet = fleet();
    let out = ssh(&fleet, "gw-1", "reboot");
    // The connection drops: no exit status.
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    let started = Instant::now();
    let mut refused = false;
    loop {
        let out = ssh(&fleet, "gw-1", "fw ver");
        if out.status.success() {
            break;
        }
        refused = true;
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "gw-1 is not back: {out:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(refused, "the host answered during its reboot");
    // Back after the reboot's time (60 simulated seconds: one real second).
    assert!(started.elapsed() >= Duration::from_millis(500));
    assert!(fleet.sim().unwrap().rebooting_until("gw-1").is_none());
}
