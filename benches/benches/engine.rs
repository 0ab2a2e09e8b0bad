//! The engine at scale, the journal on. Measures the whole run: rollout, Gaia steps,
//! simulator, journal (with its syncs) and events.
//!
//! - `one_batch_10_actions_journal_on`: 10,000 targets in one batch (a third in ClusterXL HA
//!   pairs), a 10-action plan, the zero-latency simulator.
//! - `one_step_50ms_commands_no_state_checks`: 10,000 standalone gateways, a one-action plan,
//!   state checks off, every command taking 50 ms in real time.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cdt_benches::{JUMBO, sim_fleet, ten_action_plan};
use cdt_core::candidates::generate::{GenerateOptions, generate};
use cdt_core::driver::{Control, Driver, DriverSettings};
use cdt_core::formats::plan::Plan;
use cdt_core::gaia::steps::ManagementInfo;
use cdt_core::journal::Journal;
use cdt_core::model::Package;
use cdt_core::rollout::{Rollout, RolloutSpec, Totals};
use cdt_core::sim::{Sim, SimConnector};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

/// With `--features mimalloc`: the allocator the `cdt` command uses.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const TARGETS: usize = 10_000;

struct Prepared {
    dir: tempfile::TempDir,
    spec: RolloutSpec,
    sim: Sim,
}

fn prepare(fleet: &cdt_core::sim::FleetFile) -> Prepared {
    let dir = tempfile::tempdir().expect("tempdir");
    let plan = Plan::parse(&ten_action_plan(dir.path()).expect("plan files"), None).expect("plan");
    let package = Package::from_path(dir.path().join(JUMBO)).expect("package");
    let list = generate(&fleet.inventory(), &package, &GenerateOptions::default()).list;
    let spec = RolloutSpec::with_plan(list, package, plan);
    Prepared {
        dir,
        spec,
        sim: Sim::new(fleet),
    }
}

/// A one-action plan (`execute_command`), state checks off, every command taking 50 ms, on
/// standalone gateways: each target is one command, so the ideal run takes 50 ms and the rest
/// is the engine's own cost. (A cluster's sequence is several commands in a row: with
/// clusters the floor would be their chain, not the engine.)
fn prepare_one_step(fleet: &cdt_core::sim::FleetFile) -> Prepared {
    let dir = tempfile::tempdir().expect("tempdir");
    let package = dir.path().join(JUMBO);
    std::fs::write(&package, "jumbo").expect("write");
    let plan = Plan::parse(
        r#"<CDT_Deployment_Plan><plan_settings><update_cpuse value="false"/></plan_settings>
<execute_command command="fw stat"/></CDT_Deployment_Plan>"#,
        None,
    )
    .expect("plan");
    let package = Package::from_path(&package).expect("package");
    let list = generate(&fleet.inventory(), &package, &GenerateOptions::default()).list;
    let mut spec = RolloutSpec::with_plan(list, package, plan);
    spec.settings.check_state = false;
    let mut fleet = fleet.clone();
    fleet.latency.command = 0.05;
    Prepared {
        dir,
        spec,
        sim: Sim::new(&fleet),
    }
}

fn run(p: Prepared) -> Totals {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let connector = SimConnector::new(p.sim, 1.0);
        // Zero latency: a rebooted gateway is back at once, so poll without waiting.
        let waits = cdt_core::gaia::steps::Waits {
            poll: jiff::SignedDuration::from_millis(1),
            ..Default::default()
        };
        let settings = DriverSettings {
            management: Some(ManagementInfo {
                host: "mgmt".into(),
                policy_package: "Standard".into(),
                domain: None,
            }),
            waits,
            ..DriverSettings::default()
        };
        let driver = Driver::new(
            Arc::new(connector.clone()),
            Arc::new(connector.clock()),
            settings,
        );
        let mut journal = Journal::create(&p.dir.path().join("run"), &p.spec).expect("journal");
        let rollout = Rollout::new(p.spec).expect("rollout");
        let (tx, mut rx) = tokio::sync::mpsc::channel(4096);
        let consumer = async move { while rx.recv().await.is_some() {} };
        let (totals, ()) = tokio::join!(
            driver.run_journaled(rollout, &mut journal, tx, Control::none()),
            consumer
        );
        let totals = totals.expect("run");
        let _: &Path = p.dir.path();
        totals
    })
}

fn benches(c: &mut Criterion) {
    let targets = std::env::var("CDT_BENCH_TARGETS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(TARGETS);
    let fleet = sim_fleet(targets);
    let started = std::time::Instant::now();
    let totals = run(prepare(&fleet));
    eprintln!(
        "one run of {targets} targets: {:.2} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(totals.succeeded, targets, "{totals:?}");
    let mut group = c.benchmark_group("engine_10k");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.bench_function("one_batch_10_actions_journal_on", |b| {
        b.iter_batched(|| prepare(&fleet), run, BatchSize::PerIteration)
    });
    let fleet = cdt_benches::sim_fleet_clustered(targets, 0);
    let started = std::time::Instant::now();
    let totals = run(prepare_one_step(&fleet));
    eprintln!(
        "one-step run of {targets} targets at 50 ms a command: {:.3} s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(totals.succeeded + totals.skipped, targets, "{totals:?}");
    group.bench_function("one_step_50ms_commands_no_state_checks", |b| {
        b.iter_batched(|| prepare_one_step(&fleet), run, BatchSize::PerIteration)
    });
    group.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
