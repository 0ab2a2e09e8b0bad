//! The journal: a run killed at any instant resumes where it stopped, never repeating an
//! install that completed or was running, and reaches the same fleet state as a run that was
//! never interrupted. Checked on the simulator's own record.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use cdt_core::candidates::generate::{GenerateOptions, generate};
use cdt_core::driver::{Control, Driver, DriverSettings};
use cdt_core::formats::plan::Plan;
use cdt_core::gaia::steps::ManagementInfo;
use cdt_core::journal::{JOURNAL_FILE, Journal};
use cdt_core::model::inventory::InventoryFormat;
use cdt_core::model::{Package, Version};
use cdt_core::rollout::{Rollout, RolloutSpec, Settings, Totals, Work};
use cdt_core::sim::{FleetFile, Sim, SimConnector};
use common::fleets::{SMALL_FLEET, SMALL_FLEET_HOSTS};
use jiff::SignedDuration;

const UPGRADE: &str = "Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz";

struct Setup {
    _dir: tempfile::TempDir,
    run_dir: PathBuf,
    spec: RolloutSpec,
    connector: SimConnector,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let package_path = dir.path().join(UPGRADE);
    std::fs::write(&package_path, "fake upgrade").unwrap();
    let script = dir.path().join("pre.sh");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
    let fleet = FleetFile::parse(SMALL_FLEET, InventoryFormat::Toml, None).unwrap();
    let package = Package::from_path(&package_path).unwrap();
    let list = generate(&fleet.inventory(), &package, &GenerateOptions::default()).list;
    let plan = Plan::parse(
        &format!(
            r#"<CDT_Deployment_Plan><plan_settings><update_cpuse value="false"/></plan_settings>
               <execute_script path="{}" iscritical="false"/><install_package path="{}"/></CDT_Deployment_Plan>"#,
            script.display(),
            package_path.display()
        ),
        None,
    )
    .unwrap();
    let settings = Settings {
        failure_budget: cdt_core::rollout::FailureBudget::Count(10),
        ..Settings::default()
    };
    let spec = RolloutSpec {
        list,
        package,
        work: Work::Plan {
            plan,
            cpuse_agent: None,
        },
        settings,
    };
    let connector = SimConnector::new(Sim::new(&fleet), 1.0);
    let run_dir = dir.path().join("run");
    Setup {
        _dir: dir,
        run_dir,
        spec,
        connector,
    }
}

fn driver(connector: &SimConnector) -> Driver {
    let settings = DriverSettings {
        management: Some(ManagementInfo {
            host: "mgmt".into(),
            policy_package: "Standard".into(),
            domain: None,
        }),
        ..DriverSettings::default()
    };
    Driver::new(
        Arc::new(connector.clone()),
        Arc::new(connector.clock()),
        settings,
    )
}

async fn drain() -> tokio::sync::mpsc::Sender<cdt_core::driver::DriverEvent> {
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(async move { while rx.recv().await.is_some() {} });
    tx
}

/// Runs, killing the orchestrator after `kill_after` (simulated) if given, then resumes from
/// the journal until the run ends. Says whether the kill happened before the run ended.
async fn run(setup: &Setup, kill_after: Option<SignedDuration>) -> (Totals, bool) {
    let mut journal = Journal::create(&setup.run_dir, &setup.spec).unwrap();
    let rollout = Rollout::new(setup.spec.clone()).unwrap();
    let d = driver(&setup.connector);
    let first = d.run_journaled(rollout, &mut journal, drain().await, Control::none());
    match kill_after {
        None => return (first.await.unwrap(), false),
        Some(after) => {
            let real = setup.connector.clock().real(after);
            if let Ok(done) = tokio::time::timeout(real, first).await {
                return (done.unwrap(), false);
            }
        }
    }
    // The orchestrator died: its journal lock goes with it; the gateways go on.
    drop(journal);
    let resumed = Journal::resume(&setup.run_dir).unwrap();
    let totals = driver(&setup.connector)
        .resume(resumed, drain().await, Control::none())
        .await
        .unwrap();
    (totals, true)
}

fn check_fleet(setup: &Setup, totals: Totals) {
    assert_eq!(totals.succeeded, SMALL_FLEET_HOSTS.len(), "{totals:?}");
    let sim = setup.connector.fleet();
    for host in SMALL_FLEET_HOSTS {
        assert_eq!(
            sim.installed(host).map(|v| v.version),
            Some(Version::R82),
            "{host}"
        );
        let installs = sim.record().installs.get(host).map_or(0, Vec::len);
        assert_eq!(installs, 1, "{host}: an install delivered {installs} times");
    }
    assert!(
        sim.record().cluster_down.values().all(Vec::is_empty),
        "{:?}",
        sim.record().cluster_down
    );
}

#[tokio::test(start_paused = true)]
async fn an_uninterrupted_journaled_run_upgrades_the_fleet() {
    let setup = setup();
    let (totals, _) = run(&setup, None).await;
    check_fleet(&setup, totals);
    let journal = std::fs::read_to_string(setup.run_dir.join(JOURNAL_FILE)).unwrap();
    assert!(
        journal
            .lines()
            .next()
            .unwrap()
            .contains("\"entry\":\"inputs\"")
    );
    assert!(journal.lines().any(|l| l.contains("\"entry\":\"sent\"")));
}

#[tokio::test(start_paused = true)]
async fn a_run_killed_at_any_instant_resumes_to_the_same_fleet_state() {
    // Kill instants spread over the whole run (it takes about 80 simulated minutes),
    // including mid-install, mid-reboot and mid-failover.
    for minutes in [
        0, 1, 3, 7, 12, 20, 29, 31, 33, 36, 38, 40, 43, 47, 50, 52, 58, 64, 66, 69, 71,
    ] {
        let setup = setup();
        let (totals, killed) =
            run(&setup, Some(SignedDuration::from_secs(minutes * 60 + 17))).await;
        assert!(killed, "the run ended before {minutes} min");
        check_fleet(&setup, totals);
    }
}

#[tokio::test(start_paused = true)]
async fn a_finished_run_resumes_as_finished() {
    let setup = setup();
    run(&setup, None).await;
    let resumed = Journal::resume(&setup.run_dir).unwrap();
    assert!(resumed.rollout.is_finished());
    assert!(resumed.in_flight.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_torn_last_line_is_ignored() {
    let setup = setup();
    let _ = run(&setup, Some(SignedDuration::from_mins(10))).await;
    let path = setup.run_dir.join(JOURNAL_FILE);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str("{\"entry\":\"outco");
    std::fs::write(&path, text).unwrap();
    assert!(Journal::resume(&setup.run_dir).is_ok());
}

#[tokio::test(start_paused = true)]
async fn two_runs_cannot_hold_one_run_folder() {
    let setup = setup();
    let _first = Journal::create(&setup.run_dir, &setup.spec).unwrap();
    let e = Journal::resume(&setup.run_dir).unwrap_err();
    assert!(e.to_string().contains("another run holds"), "{e}");
    assert!(
        Journal::create(&setup.run_dir, &setup.spec).is_err(),
        "a second journal in one folder"
    );
}

#[test]
fn a_damaged_journal_is_an_error_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(JOURNAL_FILE),
        "not json\n{\"entry\":\"start\",\"at\":\"2026-12-01T01:00:00Z\"}\n",
    )
    .unwrap();
    let e = Journal::resume(dir.path()).unwrap_err();
    assert!(
        e.to_string().contains(":1: unreadable journal entry"),
        "{e}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_run_stopped_at_every_journal_position_resumes_to_the_same_fleet_state() {
    let reference = setup();
    run(&reference, None).await;
    let total = std::fs::read_to_string(reference.run_dir.join(JOURNAL_FILE))
        .unwrap()
        .lines()
        .count();
    assert!(total > 50, "a run writes {total} journal lines");
    println!(
        "stopping the run at each of {} journal positions",
        total - 1
    );
    for position in 1..total {
        let setup = setup();
        let mut journal = Journal::create(&setup.run_dir, &setup.spec).unwrap();
        // The journal stops after `position` lines: the process died there; what had been
        // sent goes on at the gateways.
        journal.stop_writing_after(position);
        let rollout = Rollout::new(setup.spec.clone()).unwrap();
        let first = driver(&setup.connector)
            .run_journaled(rollout, &mut journal, drain().await, Control::none())
            .await;
        assert!(
            first.is_err(),
            "position {position} of {total}: the run did not stop"
        );
        drop(journal);
        let resumed = Journal::resume(&setup.run_dir).unwrap();
        let totals = driver(&setup.connector)
            .resume(resumed, drain().await, Control::none())
            .await
            .unwrap();
        check_fleet(&setup, totals);
    }
}
