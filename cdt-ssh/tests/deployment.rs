//! A whole deployment over SSH, on real OpenSSH servers running the Gaia emulator, gives the
//! same report and keeps the same invariants as the same deployment on the in-process
//! simulator.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cdt_core::candidates::generate::{GenerateOptions, generate};
use cdt_core::driver::{Clock, Control, Driver, DriverEvent, DriverSettings};
use cdt_core::formats::plan::Plan;
use cdt_core::gaia::steps::ManagementInfo;
use cdt_core::model::inventory::InventoryFormat;
use cdt_core::model::{Package, Version};
use cdt_core::report::{Report, ReportBuilder};
use cdt_core::rollout::{Rollout, RolloutSpec, Totals};
use cdt_core::sim::{FleetFile, Sim, SimClock, SimConnector, clock_in_dir};
use cdt_core::transport::{Connector, RelayedConnector};
use cdt_ssh::{SshConnector, Target};
use cdt_testfleet::{EXPERT_PASSWORD, Options, TestFleet};

const UPGRADE: &str = "Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz";

/// Simulated seconds per real second on the SSH fleet: an 80-minute deployment in about 16 s.
const SCALE: f64 = 300.0;

/// Twelve gateways: five standalone, an HA pair, a VRRP pair, a three-member VSLS cluster; and
/// a Management Server.
fn fleet_file() -> FleetFile {
    let mut text = String::from(
        r#"
start = "2026-12-01T01:00:00Z"

[management]
name = "mgmt"
address = "192.0.2.250"

[virtual_systems]
vs = 3

# The plan's script asks for a reboot (exit 222) on a gateway and a standby member.
[[scripts]]
name = "prepare.sh"
exit = 222
hosts = ["gw-3", "ha-b"]
"#,
    );
    for i in 1..=5 {
        text.push_str(&format!(
            "\n[[gateways]]\nname = \"gw-{i}\"\naddress = \"192.0.2.{i}\"\nversion = \"R81.20\"\n"
        ));
    }
    // Every member at its own address: cprid_util reaches gateways by address.
    let mut address = 20;
    for (cluster, kind, members) in [
        (
            "ha",
            "clusterxl_ha",
            &[("ha-a", "Active"), ("ha-b", "Standby")][..],
        ),
        ("vr", "vrrp", &[("vr-a", "Master"), ("vr-b", "Backup")][..]),
        (
            "vs",
            "vsx_vsls",
            &[
                ("vs-1", "VSLS member"),
                ("vs-2", "VSLS member"),
                ("vs-3", "VSLS active member"),
            ][..],
        ),
    ] {
        text.push_str(&format!(
            "\n[[clusters]]\nname = \"{cluster}\"\nkind = \"{kind}\"\n"
        ));
        for (name, role) in members.iter() {
            address += 1;
            text.push_str(&format!(
                "[[clusters.members]]\nname = \"{name}\"\naddress = \"198.51.100.{}\"\n\
                 version = \"R81.20\"\nrole = \"{role}\"\n",
                address
            ));
        }
    }
    FleetFile::parse(&text, InventoryFormat::Toml, None).unwrap()
}

fn spec(fleet: &FleetFile, dir: &Path) -> RolloutSpec {
    let path = dir.join(UPGRADE);
    std::fs::write(&path, "the upgrade package").unwrap();
    let package = Package::from_path(&path).unwrap();
    let script = dir.join("prepare.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
    let list = generate(&fleet.inventory(), &package, &GenerateOptions::default()).list;
    let plan = Plan::parse(
        &format!(
            r#"<CDT_Deployment_Plan><plan_settings><update_cpuse value="false"/></plan_settings>
               <create_snapshot name="before"/><execute_script path="{}"/>
               <install_package path="{}"/></CDT_Deployment_Plan>"#,
            script.display(),
            path.display()
        ),
        None,
    )
    .unwrap();
    RolloutSpec::with_plan(list, package, plan)
}

async fn deploy(
    spec: RolloutSpec,
    connector: Arc<dyn Connector>,
    clock: Arc<dyn Clock>,
) -> (Totals, Report) {
    let rollout = Rollout::new(spec).unwrap();
    let mut report = ReportBuilder::new(&rollout);
    let settings = DriverSettings {
        management: Some(ManagementInfo {
            host: "mgmt".into(),
            policy_package: "Standard".into(),
            domain: None,
        }),
        ..DriverSettings::default()
    };
    let driver = Driver::new(connector, clock, settings);
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let collect = async move {
        let mut events = Vec::new();
        while let Some(e) = rx.recv().await {
            events.push(e);
        }
        events
    };
    let (totals, events): (Totals, Vec<DriverEvent>) =
        tokio::join!(driver.run(rollout, tx, Control::none()), collect);
    for e in &events {
        report.record(e);
    }
    (totals, report.report().clone())
}

/// Per target: its status and each step's action and outcome.
fn summary(report: &Report) -> BTreeMap<String, (String, Vec<String>)> {
    report
        .targets
        .iter()
        .map(|t| {
            (
                t.name.clone(),
                (
                    format!("{:?}", t.status),
                    t.steps
                        .iter()
                        .map(|s| format!("{} {}", s.action, s.outcome))
                        .collect(),
                ),
            )
        })
        .collect()
}

/// The failed steps of a report, with their errors.
fn problems(report: &Report) -> Vec<String> {
    let steps = report
        .targets
        .iter()
        .map(|t| (&t.name, &t.steps))
        .chain(report.clusters.iter().map(|c| (&c.name, &c.steps)));
    let failed_steps = steps.flat_map(|(name, steps)| {
        steps
            .iter()
            .filter(|s| s.outcome != "ok")
            .map(move |s| format!("{name} {} {}: {:?}", s.action, s.outcome, s.error))
    });
    let reasons = report
        .targets
        .iter()
        .filter_map(|t| t.reason.as_ref().map(|r| format!("{}: {r}", t.name)));
    failed_steps.chain(reasons).collect()
}

/// The fleet's ground truth after a deployment: every cluster kept serving, one install per
/// box, every box on R82, the Management Server saw the versions, a publish and policy installs.
fn check_invariants(sim: &Sim) {
    let record = sim.record();
    // The script's reboots happened (before the install, whose own reboot shows within its
    // out-of-service span): gw-3 and ha-b were out of service for them.
    for host in ["gw-3", "ha-b"] {
        assert!(
            record
                .out_of_service
                .get(host)
                .is_some_and(|spans| spans.iter().any(|s| s.why == "rebooting")),
            "{host}: {:?}",
            record.out_of_service.get(host)
        );
    }
    for (cluster, spans) in &record.cluster_down {
        assert!(spans.is_empty(), "{cluster} stopped serving: {spans:?}");
    }
    for (host, installs) in &record.installs {
        assert_eq!(installs.len(), 1, "{host} installed {installs:?}");
    }
    for host in sim.hosts().filter(|h| *h != "mgmt") {
        assert_eq!(
            sim.installed(host).map(|v| v.version),
            Some(Version::R82),
            "{host}"
        );
    }
    let objects: Vec<&str> = record
        .versions_set
        .iter()
        .map(|(_, o, _)| o.as_str())
        .collect();
    for object in ["gw-1", "gw-5", "ha", "vr", "vs"] {
        assert!(objects.contains(&object), "{object}: {objects:?}");
    }
    assert!(!record.publishes.is_empty());
    assert!(!record.policy_installs.is_empty());
}

/// The deployment on the in-process simulator, in virtual time: the reference.
fn in_process(fleet: &FleetFile, dir: &Path) -> (Totals, Report) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let (totals, report, sim) = runtime.block_on(async {
        let connector = SimConnector::new(Sim::new(fleet), 1.0);
        let (totals, report) = deploy(
            spec(fleet, dir),
            Arc::new(connector.clone()),
            Arc::new(connector.clock()),
        )
        .await;
        let sim = connector.fleet().clone();
        (totals, report, sim)
    });
    assert_eq!(totals.succeeded, 12, "{totals:?}");
    check_invariants(&sim);
    (totals, report)
}

/// How the deployment over SSH reaches the gateways.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reach {
    /// Directly, a channel per command.
    Direct,
    /// Relayed through the Management Server (SSH reaches that host only).
    Relayed,
    /// Directly, every host's commands sent to kept shells.
    KeptShells,
}

/// The same deployment over SSH, on real servers, in scaled real time, reaching the gateways
/// as `reach` says.
fn over_ssh(
    fleet: &FleetFile,
    dir: &Path,
    reach: Reach,
    options: &Options,
) -> (Totals, Report, Sim) {
    let relayed = reach == Reach::Relayed;
    let ssh_fleet = TestFleet::start_with(fleet, SCALE, options).unwrap();
    let targets = ssh_fleet
        .addresses()
        .into_iter()
        .filter(|(name, _)| !relayed || name == "mgmt")
        .map(|(name, address)| {
            let target = Target::new(address.ip().to_string());
            let target = if options.clish.contains(&name) {
                target.with_clish()
            } else if reach == Reach::KeptShells {
                target.with_kept_shells()
            } else {
                target
            };
            (name, target)
        })
        .collect();
    let mut settings = common::settings(
        targets,
        common::key(&ssh_fleet.client_key()),
        &ssh_fleet.known_hosts(),
    );
    settings.expert_password = Some(EXPERT_PASSWORD.to_string().into());
    let ssh: Arc<dyn Connector> = Arc::new(SshConnector::new(settings));
    let connector: Arc<dyn Connector> = if relayed {
        // cprid_util reaches each gateway at its address (the test fleet's, where the
        // Management Server's database has it).
        let servers = ssh_fleet
            .addresses()
            .into_iter()
            .map(|(name, address)| (name, address.ip().to_string()))
            .collect();
        Arc::new(RelayedConnector::new(ssh, "mgmt", servers))
    } else {
        ssh
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (totals, report) = runtime.block_on(async {
        let (now, scale) = clock_in_dir(&ssh_fleet.state_dir()).unwrap();
        tokio::time::timeout(
            Duration::from_secs(240),
            deploy(
                spec(fleet, dir),
                connector,
                Arc::new(SimClock::new(now, scale)),
            ),
        )
        .await
        .expect("the deployment over SSH finished")
    });
    (totals, report, ssh_fleet.sim().unwrap())
}

/// Deploys the fleet in process and over SSH (as `reach` and `options` say): the same totals
/// and steps, and the invariants hold on the SSH fleet's record.
fn matches_the_in_process_simulator(reach: Reach, options: &Options) {
    let fleet = fleet_file();
    let dir = tempfile::tempdir().unwrap();
    let (sim_totals, sim_report) = in_process(&fleet, dir.path());
    let (totals, report, sim) = over_ssh(&fleet, dir.path(), reach, options);
    assert_eq!(totals, sim_totals, "{:#?}", problems(&report));
    assert_eq!(summary(&report), summary(&sim_report));
    check_invariants(&sim);
}

#[test]
fn a_deployment_over_direct_ssh_matches_the_in_process_simulator() {
    // OpenSSH's default MaxSessions and MaxStartups everywhere, as on real gateways: the
    // Management Server serves every target's version and policy steps at once.
    let options = Options {
        default_limits: true,
        ..Options::default()
    };
    matches_the_in_process_simulator(Reach::Direct, &options);
}

#[test]
fn a_deployment_relayed_through_the_management_server_matches_the_in_process_simulator() {
    matches_the_in_process_simulator(Reach::Relayed, &Options::default());
}

#[test]
fn a_deployment_to_gateways_whose_login_shell_is_clish_matches_the_in_process_simulator() {
    // A standalone gateway, an HA member, a VRRP member and a VSLS member through their
    // Expert shells over a terminal (reboots included); the rest over plain exec.
    let options = Options {
        clish: ["gw-2", "ha-a", "vr-b", "vs-2"].map(String::from).to_vec(),
        ..Options::default()
    };
    matches_the_in_process_simulator(Reach::Direct, &options);
}

#[test]
fn a_deployment_with_kept_shells_matches_the_in_process_simulator() {
    // Every host's commands, the Management Server's included, go to kept shells, at
    // OpenSSH's default limits; reboots close them and new ones open after.
    let options = Options {
        default_limits: true,
        ..Options::default()
    };
    matches_the_in_process_simulator(Reach::KeptShells, &options);
}
