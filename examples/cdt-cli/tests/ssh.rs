//! `cdt execute --inventory …` over SSH, on the test fleet (real sshd running the Gaia
//! emulator): direct to every gateway, and relayed through the Management Server.

use std::path::Path;
use std::process::Output;

use cdt_core::model::Version;
use cdt_core::model::inventory::InventoryFormat;
use cdt_core::sim::FleetFile;
use cdt_testfleet::{EXPERT_PASSWORD, Options, PASSWORD, TestFleet, USER};

const UPGRADE: &str = "Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz";
const SCALE: f64 = 300.0;

/// Three gateways and an HA pair, each at `address(name)`.
fn hosts(address: &dyn Fn(&str) -> String) -> String {
    let mut text = String::new();
    for gw in ["gw-1", "gw-2", "gw-3"] {
        text.push_str(&format!(
            "[[gateways]]\nname = \"{gw}\"\naddress = \"{}\"\nversion = \"R81.20\"\n\n",
            address(gw)
        ));
    }
    text.push_str("[[clusters]]\nname = \"ha\"\nkind = \"clusterxl_ha\"\n");
    for (m, role) in [("ha-a", "Active"), ("ha-b", "Standby")] {
        text.push_str(&format!(
            "[[clusters.members]]\nname = \"{m}\"\naddress = \"{}\"\nversion = \"R81.20\"\nrole = \"{role}\"\n",
            address(m)
        ));
    }
    text
}

/// Addresses for the fleet file (the test fleet replaces them with its servers').
fn fleet_address(name: &str) -> String {
    let n = ["gw-1", "gw-2", "gw-3", "ha-a", "ha-b"]
        .iter()
        .position(|g| *g == name)
        .unwrap_or(99);
    format!("192.0.2.{}", n + 1)
}

fn cdt(args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_cdt"))
        .args(args)
        .output()
        .unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A test fleet with its inventory, candidates list and plan (an upgrade of everything) ready,
/// and the `cdt execute` arguments every run gives.
struct Prepared {
    fleet: TestFleet,
    dir: tempfile::TempDir,
    run: std::path::PathBuf,
    args: Vec<String>,
}

fn prepare(options: &Options) -> Prepared {
    let fleet_text = format!(
        "start = \"2026-12-01T01:00:00Z\"\n\n[management]\nname = \"mgmt\"\naddress = \"192.0.2.250\"\n\n{}",
        hosts(&fleet_address)
    );
    let fleet = TestFleet::start_with(
        &FleetFile::parse(&fleet_text, InventoryFormat::Toml, None).unwrap(),
        SCALE,
        options,
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let addresses = fleet.addresses();
    // Each gateway at its server's address (where SSH and cprid_util both reach it).
    let inventory = dir.path().join("inventory.toml");
    std::fs::write(
        &inventory,
        hosts(&|name: &str| addresses[name].ip().to_string()),
    )
    .unwrap();
    let package = dir.path().join(UPGRADE);
    std::fs::write(&package, "the upgrade package").unwrap();
    let list = dir.path().join("list.csv");
    let out = cdt(&[
        "candidates",
        "generate",
        "--inventory",
        path(&inventory),
        "--package",
        path(&package),
        "--output",
        path(&list),
    ]);
    assert!(out.status.success(), "{out:?}");
    let plan = dir.path().join("plan.xml");
    std::fs::write(
        &plan,
        format!(
            r#"<CDT_Deployment_Plan><plan_settings><update_cpuse value="false"/></plan_settings>
<install_package path="{}"/></CDT_Deployment_Plan>"#,
            package.display()
        ),
    )
    .unwrap();
    let run = dir.path().join("run");
    let args = [
        "execute",
        "--inventory",
        path(&inventory),
        "--list",
        path(&list),
        "--plan",
        path(&plan),
        "--out",
        path(&run),
        "--user",
        USER,
        "--known-hosts",
        path(&fleet.known_hosts()),
        "--management",
        "mgmt",
        "--management-address",
        &addresses["mgmt"].ip().to_string(),
        "--clock-scale",
        &SCALE.to_string(),
    ]
    .map(String::from)
    .to_vec();
    Prepared {
        fleet,
        dir,
        run,
        args,
    }
}

/// Deploys with `cdt execute` over SSH. With `secrets`: passwords instead of the key (from the
/// environment), a clish host with its Expert password (from a file), full progress output;
/// then neither secret may appear in anything the run printed or wrote.
fn deploy_over_ssh(relayed: bool, secrets: bool) {
    let options = Options {
        passwords: secrets,
        clish: if secrets {
            vec!["gw-2".into()]
        } else {
            Vec::new()
        },
        ..Options::default()
    };
    let Prepared {
        fleet,
        dir,
        run,
        args,
    } = prepare(&options);
    let key = fleet.client_key();
    let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
    let expert_file = dir.path().join("expert.txt");
    std::fs::write(&expert_file, format!("{EXPERT_PASSWORD}\n")).unwrap();
    if secrets {
        args.extend([
            "--password-env",
            "CDT_TEST_SSH_PASSWORD",
            "--clish",
            "gw-2",
            "--expert-password-file",
            path(&expert_file),
        ]);
    } else {
        args.extend(["--key", path(&key), "--quiet"]);
    }
    if relayed {
        args.push("--relay");
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_cdt"))
        .args(&args)
        .env("CDT_TEST_SSH_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("5 succeeded, 0 failed"),
        "{stdout}\n{}",
        std::fs::read_to_string(run.join("report.json")).unwrap_or_default()
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["totals"]["succeeded"], 5);
    let sim = fleet.sim().unwrap();
    for host in ["gw-1", "gw-2", "gw-3", "ha-a", "ha-b"] {
        assert_eq!(
            sim.installed(host).map(|v| v.version),
            Some(Version::R82),
            "{host}"
        );
    }
    assert!(sim.record().cluster_down.values().all(Vec::is_empty));
    assert!(!sim.record().policy_installs.is_empty());
    // The run folder says how to reach the gateways again (to resume), not with what secret.
    let info = std::fs::read_to_string(run.join("run.json")).unwrap();
    assert!(info.contains("\"user\": \"cdtfleet\""), "{info}");
    if secrets {
        assert!(stdout.lines().count() > 5, "progress was printed: {stdout}");
        let mut texts = vec![
            ("stdout".to_string(), out.stdout.clone()),
            ("stderr".to_string(), out.stderr.clone()),
        ];
        let mut folders = vec![run.clone()];
        while let Some(folder) = folders.pop() {
            for entry in std::fs::read_dir(&folder).unwrap().flatten() {
                let p = entry.path();
                if p.is_dir() {
                    folders.push(p);
                } else {
                    texts.push((p.display().to_string(), std::fs::read(&p).unwrap()));
                }
            }
        }
        assert!(
            texts.len() >= 6,
            "{:?}",
            texts.iter().map(|t| &t.0).collect::<Vec<_>>()
        );
        for (name, bytes) in texts {
            let text = String::from_utf8_lossy(&bytes);
            for secret in [PASSWORD, EXPERT_PASSWORD] {
                assert!(!text.contains(secret), "{name} holds a secret");
            }
        }
    }
}

#[test]
fn execute_deploys_over_direct_ssh() {
    deploy_over_ssh(false, false);
}

#[test]
fn execute_deploys_relayed_through_the_management_server() {
    deploy_over_ssh(true, false);
}

#[test]
fn execute_with_passwords_and_a_clish_host_leaves_no_secret_in_output_journal_or_reports() {
    deploy_over_ssh(false, true);
}

#[test]
fn execute_over_ssh_needs_a_way_to_authenticate() {
    let dir = tempfile::tempdir().unwrap();
    let inventory = dir.path().join("inventory.toml");
    std::fs::write(&inventory, hosts(&fleet_address)).unwrap();
    let out = cdt(&[
        "execute",
        "--inventory",
        path(&inventory),
        "--list",
        "list.csv",
        "--plan",
        "plan.xml",
        "--out",
        path(&dir.path().join("run")),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--key, --agent"));
}

fn discover_over_ssh(relayed: bool) {
    let fleet_text = format!(
        "start = \"2026-12-01T01:00:00Z\"\n\n[management]\nname = \"mgmt\"\naddress = \"192.0.2.250\"\n\n{}",
        hosts(&fleet_address)
    );
    let file = FleetFile::parse(&fleet_text, InventoryFormat::Toml, None).unwrap();
    let fleet = TestFleet::start(&file, SCALE).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let output = dir.path().join("found.toml");
    let addresses = fleet.addresses();
    let management_address = addresses["mgmt"].ip().to_string();
    let (key, known_hosts) = (fleet.client_key(), fleet.known_hosts());
    let scale = SCALE.to_string();
    let mut args = vec![
        "discover",
        "--management",
        "mgmt",
        "--management-address",
        &management_address,
        "--output",
        path(&output),
        "--user",
        USER,
        "--key",
        path(&key),
        "--known-hosts",
        path(&known_hosts),
        "--clock-scale",
        &scale,
    ];
    if relayed {
        args.push("--relay");
    }
    let out = cdt(&args);
    assert!(
        out.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 gateways and 1 clusters (2 members)"));
    let mut found = cdt_core::model::Inventory::load(&output).unwrap();
    // The fleet as the test fleet serves it: every host at its server's address.
    let mut want = FleetFile::parse(
        &hosts(&|name: &str| addresses[name].ip().to_string()),
        InventoryFormat::Toml,
        None,
    )
    .unwrap()
    .inventory();
    for inv in [&mut want, &mut found] {
        inv.gateways.sort_by(|a, b| a.name.cmp(&b.name));
        for c in &mut inv.clusters {
            c.members
                .sort_by(|a, b| a.gateway.name.cmp(&b.gateway.name));
        }
    }
    assert_eq!(found, want);
}

#[test]
fn discover_reads_the_fleet_from_the_management_server_and_the_boxes() {
    discover_over_ssh(false);
}

#[test]
fn discover_works_relayed_through_the_management_server() {
    discover_over_ssh(true);
}

/// Waits until gw-1's install has started on the fleet (and has not finished).
fn wait_for_install(fleet: &TestFleet, child: &mut std::process::Child) {
    let started = std::time::Instant::now();
    loop {
        let sim = fleet.sim().unwrap();
        if sim
            .record()
            .installs
            .get("gw-1")
            .is_some_and(|i| !i.is_empty())
        {
            assert_eq!(
                sim.installed("gw-1").map(|v| v.version),
                Some(Version::R81_20),
                "the install finished before the test could kill the host"
            );
            return;
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before gw-1's install started"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn spawn(args: &[String]) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_cdt"))
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

fn statuses(run: &Path) -> std::collections::BTreeMap<String, String> {
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.join("report.json")).unwrap()).unwrap();
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["name"].as_str().unwrap().to_string(),
                t["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn a_host_killed_mid_install_is_unreachable_after_its_grace_and_the_others_finish() {
    let p = prepare(&Options::default());
    let key = p.fleet.client_key();
    let mut args = p.args.clone();
    args.extend(["--key".into(), path(&key).into(), "--quiet".into()]);
    let mut child = spawn(&args);
    wait_for_install(&p.fleet, &mut child);
    // Down for longer than the upgrade's reboot grace (40 simulated minutes: 8 s here).
    p.fleet.kill("gw-1", std::time::Duration::from_secs(30));
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("1 unreachable"), "{stdout}");
    let statuses = statuses(&p.run);
    assert_eq!(statuses["gw-1"], "unreachable", "{statuses:?}");
    for host in ["gw-2", "gw-3", "ha-a", "ha-b"] {
        assert_eq!(statuses[host], "succeeded", "{statuses:?}");
    }
    let _ = &p.dir;
}

#[test]
fn resume_after_a_killed_host_is_back_does_not_install_again() {
    let p = prepare(&Options::default());
    let key = p.fleet.client_key();
    let mut args = p.args.clone();
    args.extend(["--key".into(), path(&key).into(), "--quiet".into()]);
    let mut child = spawn(&args);
    wait_for_install(&p.fleet, &mut child);
    // The host loses power, and the orchestrator dies too.
    p.fleet.kill("gw-1", std::time::Duration::from_secs(2));
    child.kill().unwrap();
    let _ = child.wait();
    std::thread::sleep(std::time::Duration::from_secs(3));
    // Resume asks for the credentials again: the key, as the run folder says.
    let out = cdt(&["resume", path(&p.run), "--quiet"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("5 succeeded, 0 failed"), "{stdout}");
    let sim = p.fleet.sim().unwrap();
    for (host, installs) in &sim.record().installs {
        assert_eq!(installs.len(), 1, "{host} installed {installs:?}");
    }
    assert_eq!(sim.installed("gw-1").map(|v| v.version), Some(Version::R82));
}
