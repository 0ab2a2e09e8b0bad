//! The simulated Gaia fleet: command vocabulary, CPUSE, cluster roles and failovers, faults,
//! the ground-truth record, the Management Server, and state kept on disk.

mod common;

use cdt_core::model::inventory::InventoryFormat;
use cdt_core::model::{InstalledVersion, Version};
use cdt_core::sim::{FleetFile, ReplyKind, Sim, SimError};
use common::fleets::SMALL_FLEET;
use jiff::{SignedDuration, Timestamp};

const JUMBO: &str = "/var/log/upload/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz";
const UPGRADE: &str =
    "/var/log/upload/Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz";

fn fleet(extra: &str) -> Sim {
    let text = format!("{SMALL_FLEET}\n{extra}");
    Sim::new(&FleetFile::parse(&text, InventoryFormat::Toml, None).unwrap())
}

fn later(sim: &Sim, seconds: i64) -> Timestamp {
    sim.now() + SignedDuration::from_secs(seconds)
}

/// `mgmt_cli login -r true` on the Management Server: its JSON reply.
fn login(sim: &mut Sim) -> serde_json::Value {
    serde_json::from_str(&ok(sim, "mgmt", "mgmt_cli login -r true --format json")).unwrap()
}

fn ok(sim: &mut Sim, host: &str, command: &str) -> String {
    common::fleets::run_ok(sim, host, command)
}

/// Copies a small fake package and imports it.
fn stage(sim: &mut Sim, host: &str, path: &str) {
    let at = sim.now();
    sim.put(host, path, b"package bytes", at).unwrap();
    ok(
        sim,
        host,
        &format!("clish -c 'installer import local {path} not-interactive'"),
    );
}

/// Installs (or upgrades) and lets the install and the reboot finish.
fn install(sim: &mut Sim, host: &str, path: &str, verb: &str) {
    stage(sim, host, path);
    let name = path.rsplit('/').next().unwrap();
    let at = sim.now();
    let r = sim
        .exec(
            host,
            &format!("clish -c 'installer {verb} {name} not-interactive'"),
            at,
        )
        .unwrap();
    assert_eq!(r.kind, ReplyKind::Dropped, "{}{}", r.stdout, r.stderr);
    let done = at + r.duration + SignedDuration::from_secs(3600);
    sim.advance(done);
}

#[test]
fn fw_ver_and_show_version_all_print_the_version() {
    let mut sim = fleet("");
    assert_eq!(
        ok(&mut sim, "gw-1", "fw ver"),
        format!(
            "This is Check Point's software version R81.20 - Build {}\n",
            100 + 81 * 3 + 20
        )
    );
    assert!(
        ok(&mut sim, "gw-1", "clish -c 'show version all'")
            .starts_with("Product version Check Point Gaia R81.20\n")
    );
}

#[test]
fn the_command_log_is_kept_only_when_asked_for() {
    let mut sim = fleet("");
    ok(&mut sim, "gw-1", "fw ver");
    assert!(sim.record().commands.is_empty());
    sim.log_commands(true);
    ok(&mut sim, "gw-2", "clish -c 'show version all'");
    let log: Vec<(&str, &str)> = sim
        .record()
        .commands
        .iter()
        .map(|d| (d.host.as_str(), d.command.as_str()))
        .collect();
    assert_eq!(log, [("gw-2", "clish -c 'show version all'")]);
}

#[test]
fn an_unknown_clish_command_is_a_clinfr0329_error() {
    let mut sim = fleet("");
    let at = sim.now();
    let r = sim.exec("gw-1", "clish -c 'show magic'", at).unwrap();
    assert_eq!(r.kind, ReplyKind::Exited(1));
    assert_eq!(r.stderr, "CLINFR0329  Invalid command:'show magic'.\n");
    let r = sim.exec("gw-1", "frobnicate", at).unwrap();
    assert_eq!(r.kind, ReplyKind::Exited(127));
}

#[test]
fn sha256sum_reports_the_digest_of_a_copied_file() {
    let mut sim = fleet("");
    let at = sim.now();
    sim.put("gw-1", "/var/log/upload/x.tgz", b"abc", at)
        .unwrap();
    assert_eq!(
        ok(&mut sim, "gw-1", "sha256sum /var/log/upload/x.tgz"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  /var/log/upload/x.tgz\n"
    );
    let r = sim.exec("gw-1", "sha256sum /nope", at).unwrap();
    assert_eq!(r.kind, ReplyKind::Exited(1));
}

#[test]
fn a_jumbo_install_takes_the_gateway_out_of_service_reboots_it_and_changes_its_take() {
    let mut sim = fleet("");
    stage(&mut sim, "gw-1", JUMBO);
    ok(
        &mut sim,
        "gw-1",
        "clish -c 'installer verify 1 not-interactive'",
    );
    let at = sim.now();
    let r = sim
        .exec("gw-1", "clish -c 'installer install 1 not-interactive'", at)
        .unwrap();
    assert_eq!(r.kind, ReplyKind::Dropped);
    assert_eq!(r.duration, SignedDuration::from_secs(600));
    assert!(
        sim.record()
            .host_out_of_service_at("gw-1", at + SignedDuration::from_secs(10))
    );
    let rebooting = at + SignedDuration::from_secs(700);
    assert_eq!(
        sim.exec("gw-1", "fw ver", rebooting),
        Err(SimError::Unreachable("gw-1".into()))
    );
    let back = at + SignedDuration::from_secs(1000);
    sim.advance(back);
    assert_eq!(
        sim.installed("gw-1"),
        Some(InstalledVersion::new(Version::R81_20, Some(89)))
    );
    assert!(!sim.record().host_out_of_service_at("gw-1", back));
    assert!(
        ok(&mut sim, "gw-1", "cpinfo -y all").contains("HOTFIX_R81_20_JUMBO_HF_MAIN     Take:  89")
    );
    assert_eq!(sim.record().installs["gw-1"].len(), 1);
}

#[test]
fn cpuse_refuses_a_package_that_does_not_apply() {
    let mut sim = fleet("");
    install(&mut sim, "gw-1", JUMBO, "install");
    stage(&mut sim, "gw-1", JUMBO);
    let at = sim.now();
    let r = sim
        .exec("gw-1", "clish -c 'installer verify 1 not-interactive'", at)
        .unwrap();
    assert_eq!(r.kind, ReplyKind::Exited(1), "the same take is installed");
    let r = sim
        .exec("gw-1", "clish -c 'installer install 1 not-interactive'", at)
        .unwrap();
    assert_eq!(r.kind, ReplyKind::Exited(1));
}

#[test]
fn a_major_version_needs_installer_upgrade() {
    let mut sim = fleet("");
    stage(&mut sim, "gw-1", UPGRADE);
    let at = sim.now();
    let r = sim
        .exec("gw-1", "clish -c 'installer install 1 not-interactive'", at)
        .unwrap();
    assert_eq!(r.kind, ReplyKind::Exited(1));
    install(&mut sim, "gw-1", UPGRADE, "upgrade");
    assert_eq!(sim.installed("gw-1").map(|v| v.version), Some(Version::R82));
}

#[test]
fn installing_on_the_active_member_takes_the_cluster_traffic_down() {
    let mut sim = fleet("");
    install(&mut sim, "ha-a", JUMBO, "install");
    let down = &sim.record().cluster_down["ha"];
    assert_eq!(down.len(), 1, "{down:?}");
    let span = down[0].to.unwrap().duration_since(down[0].from);
    assert_eq!(
        span,
        SignedDuration::from_secs(600 + 300),
        "the install, then the reboot"
    );
    assert!(
        sim.record().failovers.is_empty(),
        "an install does not fail over"
    );
}

#[test]
fn the_proper_sequence_keeps_the_cluster_serving() {
    let mut sim = fleet("");
    install(&mut sim, "ha-b", UPGRADE, "upgrade");
    assert!(
        ok(&mut sim, "ha-a", "cphaprob state").contains("READY"),
        "a new version without MVC is Ready"
    );
    ok(&mut sim, "ha-b", "cphaconf mvc on");
    assert_eq!(ok(&mut sim, "ha-b", "cphaprob mvc"), "MVC: on\n");
    assert!(ok(&mut sim, "ha-a", "cphaprob state").contains("STANDBY"));
    let out = ok(&mut sim, "ha-a", "clusterXL_admin down");
    assert!(out.contains("Member current state is DOWN"), "{out}");
    assert_eq!(sim.active_member("ha"), Some("ha-b"));
    install(&mut sim, "ha-a", UPGRADE, "upgrade");
    ok(&mut sim, "ha-a", "clusterXL_admin up");
    assert!(
        sim.record()
            .cluster_down
            .get("ha")
            .is_none_or(Vec::is_empty),
        "{:?}",
        sim.record().cluster_down
    );
    assert_eq!(sim.record().failovers.len(), 1);
    assert_eq!(sim.record().failovers[0].to, "ha-b");
    assert!(ok(&mut sim, "ha-a", "cphaprob state").contains("STANDBY"));
}

#[test]
fn admin_down_on_the_vsls_active_member_moves_every_virtual_system() {
    let mut sim = fleet("");
    ok(&mut sim, "vs-3", "clusterXL_admin down");
    let moved: Vec<_> = sim
        .record()
        .failovers
        .iter()
        .filter(|f| f.cluster == "vs")
        .collect();
    assert_eq!(moved.len(), 3);
    assert!(moved.iter().all(|f| f.to == "vs-1"));
    assert!(
        sim.record()
            .cluster_down
            .get("vs")
            .is_none_or(Vec::is_empty)
    );
}

#[test]
fn a_failover_that_does_not_happen_leaves_the_cluster_down() {
    let mut sim = fleet("[[faults]]\nkind = \"failover_does_not_happen\"\ncluster = \"ha\"\n");
    ok(&mut sim, "ha-a", "clusterXL_admin down");
    assert_eq!(sim.active_member("ha"), Some("ha-a"));
    assert_eq!(sim.record().cluster_down["ha"].len(), 1);
    ok(&mut sim, "ha-a", "clusterXL_admin up");
    assert!(sim.record().cluster_down["ha"][0].to.is_some());
}

#[test]
fn a_command_fault_fails_the_first_times_then_clears() {
    let mut sim = fleet(
        "[[faults]]\nkind = \"command_fails\"\nhost = \"gw-1\"\ncommand = \"fw ver\"\ntimes = 2\nmessage = \"boom\"\n",
    );
    let at = sim.now();
    for _ in 0..2 {
        let r = sim.exec("gw-1", "fw ver", at).unwrap();
        assert_eq!(
            (r.kind, r.stderr.as_str()),
            (ReplyKind::Exited(1), "boom\n")
        );
    }
    ok(&mut sim, "gw-1", "fw ver");
}

#[test]
fn a_hanging_command_never_returns() {
    let mut sim =
        fleet("[[faults]]\nkind = \"command_hangs\"\nhost = \"gw-1\"\ncommand = \"cpwd_admin\"\n");
    let at = sim.now();
    assert_eq!(
        sim.exec("gw-1", "cpwd_admin list", at).unwrap().kind,
        ReplyKind::Hangs
    );
}

#[test]
fn an_unreachable_window_refuses_connections_and_is_recorded() {
    let mut sim =
        fleet("[[faults]]\nkind = \"unreachable\"\nhost = \"gw-1\"\nfrom = 60\nuntil = 120\n");
    let at = later(&sim, 90);
    assert_eq!(
        sim.exec("gw-1", "fw ver", at),
        Err(SimError::Unreachable("gw-1".into()))
    );
    let at = later(&sim, 40);
    sim.exec("gw-1", "fw ver", at).unwrap();
    assert!(
        sim.record()
            .host_out_of_service_at("gw-1", at - SignedDuration::from_secs(30))
    );
}

#[test]
fn a_failing_package_rolls_back_and_keeps_the_version() {
    let mut sim =
        fleet("[[faults]]\nkind = \"package_fails\"\nhost = \"gw-1\"\npackage = \"JUMBO\"\n");
    stage(&mut sim, "gw-1", JUMBO);
    let at = sim.now();
    let r = sim
        .exec("gw-1", "clish -c 'installer install 1 not-interactive'", at)
        .unwrap();
    assert_eq!(r.kind, ReplyKind::Exited(1));
    sim.advance(at + SignedDuration::from_secs(4000));
    assert_eq!(sim.installed("gw-1").and_then(|v| v.take), Some(41));
}

#[test]
fn a_process_that_does_not_come_back_takes_the_member_down() {
    let mut sim =
        fleet("[[faults]]\nkind = \"process_down\"\nhost = \"ha-b\"\nprocess = \"FWD\"\n");
    install(&mut sim, "ha-b", JUMBO, "install");
    assert!(!ok(&mut sim, "ha-b", "cpwd_admin list").contains("\nFWD "));
    assert!(ok(&mut sim, "ha-a", "cphaprob state").contains("DOWN"));
}

#[test]
fn a_standalone_gateway_is_not_a_cluster_member() {
    let mut sim = fleet("");
    assert_eq!(
        ok(&mut sim, "gw-1", "cphaprob state"),
        "HA module not started.\n"
    );
}

#[test]
fn an_install_in_progress_finishes_after_the_orchestrator_died() {
    let mut sim = fleet("");
    stage(&mut sim, "gw-1", JUMBO);
    let at = sim.now();
    sim.exec("gw-1", "clish -c 'installer install 1 not-interactive'", at)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    sim.save(dir.path()).unwrap();
    drop(sim);
    let mut sim = Sim::load(dir.path()).unwrap();
    assert_eq!(
        sim.installed("gw-1").and_then(|v| v.take),
        Some(41),
        "still installing"
    );
    sim.advance(at + SignedDuration::from_secs(2000));
    assert_eq!(sim.installed("gw-1").and_then(|v| v.take), Some(89));
}

#[test]
fn the_management_server_publishes_versions_and_installs_policy_in_one_session() {
    let mut sim = fleet("");
    let sid = login(&mut sim)["sid"].as_str().unwrap().to_string();
    ok(
        &mut sim,
        "mgmt",
        &format!(
            "mgmt_cli set-simple-cluster name ha version R82 --session-id {sid} --format json"
        ),
    );
    assert!(
        sim.record().versions_set.is_empty(),
        "not visible before publish"
    );
    ok(
        &mut sim,
        "mgmt",
        &format!("mgmt_cli publish --session-id {sid} --format json"),
    );
    assert_eq!(sim.record().versions_set.len(), 1);
    let task: serde_json::Value = serde_json::from_str(&ok(&mut sim, "mgmt", &format!("mgmt_cli install-policy policy-package Standard targets.1 ha --session-id {sid} --format json"))).unwrap();
    let id = task["task-id"].as_str().unwrap().to_string();
    let show = ok(
        &mut sim,
        "mgmt",
        &format!("mgmt_cli show-task task-id {id} --format json"),
    );
    assert!(show.contains("in progress"), "{show}");
    sim.advance(later(&sim, 120));
    let show = ok(
        &mut sim,
        "mgmt",
        &format!("mgmt_cli show-task task-id {id} --format json"),
    );
    assert!(show.contains("succeeded"), "{show}");
    assert_eq!(sim.record().policy_installs[0].2, ["ha"]);
    ok(
        &mut sim,
        "mgmt",
        &format!("mgmt_cli logout --session-id {sid} --format json"),
    );
}

#[test]
fn a_management_call_without_a_session_is_an_api_error() {
    let mut sim = fleet("");
    let at = sim.now();
    let r = sim
        .exec("mgmt", "mgmt_cli publish --format json", at)
        .unwrap();
    assert_eq!(r.kind, ReplyKind::Exited(1));
    assert!(r.stdout.contains("generic_err_wrong_session_id"));
}

#[test]
fn a_management_session_idle_for_longer_than_its_timeout_is_gone() {
    let mut sim = fleet("");
    let login = login(&mut sim);
    assert_eq!(login["session-timeout"], 600);
    let sid = login["sid"].as_str().unwrap().to_string();
    let show = format!("mgmt_cli show-task task-id none --session-id {sid} --format json");
    // A call within the timeout keeps the session alive for another 600 s.
    let r = sim.exec("mgmt", &show, later(&sim, 590)).unwrap();
    assert!(!r.stdout.contains("wrong_session"), "{}", r.stdout);
    let r = sim.exec("mgmt", &show, later(&sim, 590)).unwrap();
    assert!(!r.stdout.contains("wrong_session"), "{}", r.stdout);
    // Idle for 601 s after that call: even a read names the session unknown, and it stays
    // unknown.
    let r = sim.exec("mgmt", &show, later(&sim, 601)).unwrap();
    assert_eq!(r.kind, ReplyKind::Exited(1));
    assert!(
        r.stdout.contains("generic_err_wrong_session_id"),
        "{}",
        r.stdout
    );
    let publish = format!("mgmt_cli publish --session-id {sid} --format json");
    let r = sim.exec("mgmt", &publish, later(&sim, 1)).unwrap();
    assert!(
        r.stdout.contains("generic_err_wrong_session_id"),
        "{}",
        r.stdout
    );
}

#[test]
fn the_fleet_file_refuses_unknown_fields() {
    let e = FleetFile::parse("latency = { instal = 5 }", InventoryFormat::Toml, None).unwrap_err();
    assert!(e.to_string().contains("instal"), "{e}");
}

#[test]
fn a_script_exits_as_the_fleet_file_says() {
    let mut sim = fleet("[[scripts]]\nname = \"prep.sh\"\nexit = 222\n");
    let at = sim.now();
    sim.put("gw-1", "/home/admin/prep.sh", b"#!/bin/sh\n", at)
        .unwrap();
    assert_eq!(
        sim.exec("gw-1", "sh /home/admin/prep.sh", at).unwrap().kind,
        ReplyKind::Exited(222)
    );
    sim.put("gw-1", "/home/admin/other.sh", b"#!/bin/sh\n", at)
        .unwrap();
    assert_eq!(
        sim.exec("gw-1", "sh /home/admin/other.sh", at)
            .unwrap()
            .kind,
        ReplyKind::Exited(0)
    );
}

#[test]
fn a_command_run_against_a_state_folder_changes_the_kept_state() {
    let sim = fleet("");
    let dir = tempfile::tempdir().unwrap();
    sim.save(dir.path()).unwrap();
    let at = sim.now();
    let reply = Sim::exec_in_dir(dir.path(), "ha-a", "clusterXL_admin down", at)
        .unwrap()
        .unwrap();
    assert_eq!(reply.kind, ReplyKind::Exited(0));
    let reply = Sim::exec_in_dir(dir.path(), "ha-b", "cphaprob state", at)
        .unwrap()
        .unwrap();
    assert!(
        reply
            .stdout
            .contains("1          198.51.100.1    0%              DOWN"),
        "{}",
        reply.stdout
    );
    assert_eq!(
        Sim::load(dir.path()).unwrap().active_member("ha"),
        Some("ha-b")
    );
    assert_eq!(
        Sim::exec_in_dir(dir.path(), "nope", "fw ver", at).unwrap(),
        Err(SimError::UnknownHost("nope".into()))
    );
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    const VOCABULARY: [&str; 22] = [
        "fw ver",
        "cpwd_admin list",
        "cpinfo -y all",
        "cphaprob state",
        "cphaprob mvc",
        "cphaconf mvc on",
        "cphaconf mvc off",
        "cphacu start",
        "cphacu stat",
        "clusterXL_admin down",
        "clusterXL_admin up",
        "reboot",
        "clish -c 'show version all'",
        "clish -c 'show vrrp'",
        "clish -c 'show installer packages imported'",
        "clish -c 'show installer packages installed'",
        "clish -c 'installer import local /var/log/upload/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz not-interactive'",
        "clish -c 'installer install 1 not-interactive'",
        "clish -c 'installer upgrade 1 not-interactive'",
        "clish -c 'installer uninstall Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz not-interactive'",
        "clish -c 'add snapshot s desc \"before\"'",
        "sha256sum /var/log/upload/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz",
    ];
    const HOSTS: [&str; 6] = ["gw-1", "ha-a", "ha-b", "vs-1", "vs-3", "mgmt"];

    proptest! {
        #![proptest_config(ProptestConfig::default())]

        /// Any command line, on any host, gives a reply or a typed error, never a panic.
        #[test]
        fn any_command_line_gets_a_reply(line in "(?s).{0,80}", host in 0usize..6) {
            let mut sim = fleet("");
            let at = sim.now();
            let _ = sim.exec(HOSTS[host], &line, at);
        }

        /// Random sequences of real commands keep the record coherent: every span starts before
        /// it ends, and a host's spans do not overlap.
        #[test]
        fn the_record_stays_coherent(steps in prop::collection::vec((0usize..22, 0usize..6, 0i64..900), 1..40)) {
            let mut sim = fleet("");
            let mut at = sim.now();
            let _ = sim.put("gw-1", JUMBO, b"j", at);
            let _ = sim.put("ha-b", JUMBO, b"j", at);
            for (command, host, wait) in steps {
                at += SignedDuration::from_secs(wait);
                let _ = sim.exec(HOSTS[host], VOCABULARY[command], at);
            }
            sim.advance(at + SignedDuration::from_secs(7200));
            for spans in sim.record().out_of_service.values().chain(sim.record().cluster_down.values()) {
                for w in spans.windows(2) {
                    prop_assert!(w[0].to.is_some_and(|to| to <= w[1].from), "{:?}", spans);
                }
                for s in spans {
                    prop_assert!(s.to.is_none_or(|to| s.from <= to), "{:?}", s);
                }
            }
        }
    }
}

#[test]
fn cprid_util_on_the_management_server_runs_commands_on_gateways() {
    use cdt_core::gaia::commands;
    let mut sim = fleet("");
    let line = commands::cprid_rexec("192.0.2.1", "fw ver").unwrap();
    assert!(
        ok(&mut sim, "mgmt", &line).starts_with("This is Check Point's software version R81.20")
    );
    // By object name too; the gateway's exit status comes back.
    let line = commands::cprid_rexec("gw-2", "clish -c 'show nonsense'").unwrap();
    let at = sim.now();
    let reply = sim.exec("mgmt", &line, at).unwrap();
    assert_eq!(reply.kind, ReplyKind::Exited(1));
    assert!(reply.stderr.contains("CLINFR0329"));
    // Only the Management Server has cprid_util.
    let reply = sim.exec("gw-1", &line, at).unwrap();
    assert_eq!(reply.kind, ReplyKind::Exited(127));
}

#[test]
fn cprid_util_copies_files_between_the_management_server_and_a_gateway() {
    use cdt_core::gaia::commands;
    let mut sim = fleet("");
    let at = sim.now();
    sim.put("mgmt", "/var/tmp/stage/a.sh", b"echo hi\n", at)
        .unwrap();
    let put = commands::cprid_putfile("192.0.2.1", "/var/tmp/stage/a.sh", "/var/tmp/a.sh").unwrap();
    ok(&mut sim, "mgmt", &put);
    let sum = ok(&mut sim, "gw-1", "sha256sum /var/tmp/a.sh");
    assert!(sum.starts_with(&cdt_core::digest::sha256_hex(b"echo hi\n")));
    let get = commands::cprid_getfile("192.0.2.1", "/var/tmp/a.sh", "/var/tmp/back.sh").unwrap();
    ok(&mut sim, "mgmt", &get);
    let at = sim.now();
    assert_eq!(
        sim.get("mgmt", "/var/tmp/back.sh", at).unwrap().0,
        b"echo hi\n"
    );
    let missing = commands::cprid_getfile("192.0.2.1", "/nope", "/var/tmp/x").unwrap();
    let reply = sim.exec("mgmt", &missing, at).unwrap();
    assert_eq!(reply.kind, ReplyKind::Exited(1));
}

#[test]
fn cprid_util_reports_a_gateway_that_reboots_or_does_not_answer() {
    use cdt_core::gaia::commands::{self, CPRID_DROPPED, CPRID_UNREACHABLE};
    let mut sim = fleet("");
    let at = sim.now();
    let reboot = commands::cprid_rexec("192.0.2.2", "reboot").unwrap();
    let reply = sim.exec("mgmt", &reboot, at).unwrap();
    assert_eq!(reply.kind, ReplyKind::Exited(1));
    assert!(reply.stderr.contains(CPRID_DROPPED), "{reply:?}");
    assert!(sim.rebooting_until("gw-2").is_some());
    let fw = commands::cprid_rexec("192.0.2.2", "fw ver").unwrap();
    let reply = sim.exec("mgmt", &fw, later(&sim, 1)).unwrap();
    assert!(reply.stderr.contains(CPRID_UNREACHABLE), "{reply:?}");
    // The reboot shows in the record, as for a direct command.
    assert!(
        sim.record()
            .out_of_service
            .get("gw-2")
            .is_some_and(|s| !s.is_empty())
    );
}

#[test]
fn cprid_util_refuses_an_address_two_gateways_share() {
    let mut sim =
        fleet("[[gateways]]\nname = \"gw-dup\"\naddress = \"192.0.2.1\"\nversion = \"R81.20\"\n");
    let line = cdt_core::gaia::commands::cprid_rexec("192.0.2.1", "fw ver").unwrap();
    let at = sim.now();
    let reply = sim.exec("mgmt", &line, at).unwrap();
    assert_eq!(reply.kind, ReplyKind::Exited(1));
    assert!(reply.stderr.contains("gw-1, gw-dup"), "{reply:?}");
}

#[test]
fn a_large_local_file_keeps_its_size_and_digest_but_not_its_content() {
    let dir = tempfile::tempdir().unwrap();
    let small = dir.path().join("small.sh");
    let large = dir.path().join("large.tgz");
    std::fs::write(&small, b"abc").unwrap();
    let big = vec![7u8; (1 << 20) + 1];
    std::fs::write(&large, &big).unwrap();
    let small_file = cdt_core::sim::LocalFile::read(&small).unwrap();
    assert_eq!(small_file, cdt_core::sim::LocalFile::from_bytes(b"abc"));
    let large_file = cdt_core::sim::LocalFile::read(&large).unwrap();
    assert_eq!(large_file.size(), big.len() as u64);
    assert_eq!(large_file.sha256(), cdt_core::digest::sha256_hex(&big));
    let mut sim = fleet("");
    let at = sim.now();
    sim.put_file("gw-1", "/var/log/upload/large.tgz", &large_file, at)
        .unwrap();
    assert_eq!(
        ok(&mut sim, "gw-1", "sha256sum /var/log/upload/large.tgz"),
        format!("{}  /var/log/upload/large.tgz\n", large_file.sha256())
    );
    // Only small files keep their content on the gateway.
    let r = sim
        .exec("gw-1", "cat /var/log/upload/large.tgz", at)
        .unwrap();
    assert_eq!(r.kind, ReplyKind::Exited(1));
}

#[tokio::test]
async fn a_local_file_changed_between_two_copies_arrives_changed() {
    use cdt_core::sim::SimConnector;
    use cdt_core::transport::Connector as _;
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("note.txt");
    std::fs::write(&local, b"first").unwrap();
    let connector = SimConnector::new(fleet(""), 1.0);
    let session = connector.connect("gw-1").await.unwrap();
    session.put(&local, "/var/tmp/note.txt").await.unwrap();
    session.put(&local, "/var/tmp/note2.txt").await.unwrap();
    // The connector compares the file's size and time again once a millisecond has passed
    // since it last did.
    std::thread::sleep(std::time::Duration::from_millis(5));
    std::fs::write(&local, b"second, longer").unwrap();
    session.put(&local, "/var/tmp/note.txt").await.unwrap();
    let cat = |path: &str| {
        let mut sim = connector.fleet();
        let at = sim.now();
        sim.exec("gw-1", &format!("cat {path}"), at).unwrap().stdout
    };
    assert_eq!(cat("/var/tmp/note2.txt"), "first");
    assert_eq!(cat("/var/tmp/note.txt"), "second, longer");
}
