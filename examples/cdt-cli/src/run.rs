//! `cdt demo`, `cdt execute --sim` and `cdt resume`: whole deployments on a simulated fleet,
//! journaled in a run folder, with live progress, status files and reports.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use cdt_core::candidates::generate::{GenerateOptions, generate};
use cdt_core::candidates::{CandidatesList, UpgradeOrder};
use cdt_core::driver::{Clock, Control, Driver, DriverEvent, DriverSettings};
use cdt_core::formats::plan::Plan;
use cdt_core::gaia::steps::ManagementInfo;
use cdt_core::model::Package;
use cdt_core::model::inventory::InventoryFormat;
use cdt_core::rollout::{Event, RolloutSpec, Status};
use cdt_core::run::{Prepared, RunInfo, clock};
use cdt_core::sim::FleetFile;
use cdt_core::transport::Connector;

type CliResult = Result<(), Box<dyn std::error::Error>>;

/// The fleet `cdt demo` deploys to.
const DEMO_FLEET: &str = include_str!("../../../fixtures/fleets/demo-fleet.toml");
const DEMO_PACKAGE: &str = "Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz";

fn write(path: &Path, text: &str) -> CliResult {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()).into())
}

/// `cdt demo --out DIR`: a version upgrade with Connectivity Upgrade of the built-in fleet
/// of 61 targets, in three batches, in scaled real time.
pub(crate) fn demo(out: &Path, scale: f64, quiet: bool) -> CliResult {
    let fleet = FleetFile::parse(
        DEMO_FLEET,
        InventoryFormat::Toml,
        Some(Path::new("demo-fleet.toml")),
    )?;
    std::fs::create_dir_all(out.join("packages"))?;
    let package_path = out.join("packages").join(DEMO_PACKAGE);
    write(&package_path, "a simulated major version package\n")?;
    let package = Package::from_path(&package_path)?;
    let mut list = generate(&fleet.inventory(), &package, &GenerateOptions::default()).list;
    // Three batches: by the number in the gateway's or cluster's name.
    for row in &mut list.rows {
        if let UpgradeOrder::Batch(_) = row.order {
            let name = row.cluster_name.as_deref().unwrap_or(&row.object_name);
            let n: u32 = name
                .rsplit('-')
                .next()
                .and_then(|d| d.parse().ok())
                .unwrap_or(0);
            row.order = UpgradeOrder::batch(n % 3 + 1);
        }
    }
    list.save(&out.join("candidates.csv"))?;
    let plan = Plan::parse(
        &format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<CDT_Deployment_Plan>
    <plan_settings>
        <name value="R82 upgrade with Connectivity Upgrade"/>
        <update_cpuse value="false"/>
    </plan_settings>
    <create_snapshot name="before_r82" description="taken by cdt demo"/>
    <install_package path="{}"/>
</CDT_Deployment_Plan>
"#,
            package_path.display()
        ),
        None,
    )?;
    plan.save(&out.join("plan.xml"))?;
    let spec = RolloutSpec::with_plan(list, package, plan);
    start(out, &fleet, spec, scale, quiet)
}

/// `cdt execute --sim FLEET --list LIST --plan PLAN --out DIR`.
pub(crate) fn execute_sim(
    fleet_path: &Path,
    list_path: &Path,
    plan_path: &Path,
    out: &Path,
    scale: f64,
    quiet: bool,
) -> CliResult {
    let fleet = FleetFile::load(fleet_path)?;
    let plan = Plan::load(plan_path)?;
    let list = CandidatesList::load(list_path)?;
    let first = plan.first_package().ok_or("the plan names no package")?;
    let package = fleet.inventory().resolve_package(first)?;
    let spec = RolloutSpec::with_plan(list, package, plan);
    start(out, &fleet, spec, scale, quiet)
}

fn start(out: &Path, fleet: &FleetFile, spec: RolloutSpec, scale: f64, quiet: bool) -> CliResult {
    let prepared = Prepared::fresh(out, RunInfo::for_fleet(fleet), spec)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    runtime.block_on(async {
        let connector = cdt_core::run::simulated(out, Some(fleet), scale)?;
        drive(
            prepared,
            Arc::new(connector.clone()),
            Arc::new(connector.clock()),
            quiet,
        )
        .await
    })
}

/// `cdt execute --inventory INVENTORY --list LIST --plan PLAN --out DIR` with SSH options:
/// a deployment to real gateways.
#[allow(clippy::too_many_arguments)]
pub(crate) fn execute_ssh(
    inventory_path: &Path,
    list_path: &Path,
    plan_path: &Path,
    out: &Path,
    ssh: &crate::ssh::SshArgs,
    management: Option<&str>,
    policy_package: &str,
    quiet: bool,
) -> CliResult {
    let ssh = crate::ssh::SshRun::from_args(ssh, Some(inventory_path), management)?;
    let inventory = ssh.inventory()?;
    let plan = Plan::load(plan_path)?;
    let list = CandidatesList::load(list_path)?;
    let first = plan.first_package().ok_or("the plan names no package")?;
    let package = inventory.resolve_package(first)?;
    let spec = RolloutSpec::with_plan(list, package, plan);
    // Credentials are read (and prompted for) before anything is written.
    let connector = ssh.connector(&inventory)?;
    let scale = ssh.clock_scale;
    let info = RunInfo {
        management: management.map(str::to_string),
        policy_package: policy_package.to_string(),
        ssh: Some(serde_json::to_value(&ssh)?),
    };
    let prepared = Prepared::fresh(out, info, spec)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(drive(prepared, connector, clock(scale), quiet))
}

/// `cdt discover --management NAME --management-address ADDR --output FILE`: reads the fleet
/// from the Management Server's database, then asks each box its Jumbo take and, for members,
/// its role; writes the inventory (JSON for `.json`, TOML otherwise).
pub(crate) fn discover(
    ssh: &crate::ssh::SshArgs,
    management: &str,
    domain: Option<&str>,
    output: &Path,
) -> CliResult {
    let run = crate::ssh::SshRun::from_args(ssh, None, Some(management))?;
    let Some((host, _)) = run.management() else {
        return Err("give --management-address".into());
    };
    let info = ManagementInfo {
        host: host.to_string(),
        policy_package: "Standard".into(),
        domain: domain.map(str::to_string),
    };
    let credentials = run.credentials()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let (inventory, warnings) = runtime.block_on(async {
        let settings = DriverSettings::default();
        // The database first, over a connection to the Management Server only; then the
        // boxes, at the addresses the database gave.
        let empty = cdt_core::model::Inventory::default();
        let driver = Driver::new(
            run.connector_with(&empty, credentials.clone()),
            clock(run.clock_scale),
            settings.clone(),
        );
        let mut found = driver.read_management_database(&info).await?;
        let driver = Driver::new(
            run.connector_with(&found.inventory, credentials),
            clock(run.clock_scale),
            settings,
        );
        let more = driver.inspect(&mut found.inventory).await;
        found.warnings.extend(more);
        Ok::<_, cdt_core::Error>((found.inventory, found.warnings))
    })?;
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let text = if output.extension().is_some_and(|e| e == "json") {
        inventory.to_json()
    } else {
        inventory.to_toml()?
    };
    write(output, &text)?;
    println!(
        "{} gateways and {} clusters ({} members) written to {}",
        inventory.gateways.len(),
        inventory.clusters.len(),
        inventory
            .clusters
            .iter()
            .map(|c| c.members.len())
            .sum::<usize>(),
        output.display()
    );
    Ok(())
}

/// `cdt resume DIR`: finishes an interrupted run and rewrites its reports.
pub(crate) fn resume(out: &Path, quiet: bool) -> CliResult {
    let prepared = Prepared::resume(out)?;
    if let Some(face) = prepared
        .info()
        .ssh
        .as_ref()
        .and_then(|s| s.get("face"))
        .and_then(serde_json::Value::as_str)
    {
        let how = match face {
            "python" => " (cdt.Deployment.resume)",
            "c" => " (cdt_deployment_resume)",
            _ => "",
        };
        return Err(format!(
            "{}: this run was made from {face}, which keeps its SSH settings or transport \
             (never their secrets): resume it from there{how}",
            out.display()
        )
        .into());
    }
    let ssh: Option<crate::ssh::SshRun> = prepared
        .info()
        .ssh
        .clone()
        .map(serde_json::from_value)
        .transpose()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let (connector, clock): (Arc<dyn Connector>, Arc<dyn Clock>) = match &ssh {
            Some(ssh) => (ssh.connector(&ssh.inventory()?)?, clock(ssh.clock_scale)),
            None => {
                let sim = cdt_core::run::simulated(out, None, 1.0)?;
                (Arc::new(sim.clone()), Arc::new(sim.clock()))
            }
        };
        if !quiet {
            println!("resuming: {} steps to check again", prepared.in_flight());
        }
        drive(prepared, connector, clock, quiet).await
    })
}

/// Drives a prepared run, printing progress; the reports are written by the run.
async fn drive(
    prepared: Prepared,
    connector: Arc<dyn Connector>,
    clock: Arc<dyn Clock>,
    quiet: bool,
) -> CliResult {
    let names = prepared.targets().to_vec();
    let report_path = prepared.dir().join("report.json");
    let (tx, mut rx) = tokio::sync::mpsc::channel(1024);
    let started = Instant::now();
    let (finished, ()) = tokio::join!(
        prepared.drive(connector, clock, Some(tx), Control::none()),
        async {
            while let Some(event) = rx.recv().await {
                if !quiet && let Some(line) = progress_line(&event, &names) {
                    println!("[{:>6.1}s] {line}", started.elapsed().as_secs_f64());
                }
            }
        }
    );
    let totals = finished?.totals;
    println!(
        "{}: {} succeeded, {} failed, {} unreachable, {} skipped, {} not started; report in {}",
        if totals.failed + totals.unreachable == 0 {
            "done"
        } else {
            "done with failures"
        },
        totals.succeeded,
        totals.failed,
        totals.unreachable,
        totals.skipped,
        totals.not_started,
        report_path.display()
    );
    Ok(())
}

fn progress_line(event: &DriverEvent, names: &[String]) -> Option<String> {
    let name = |t: &cdt_core::rollout::TargetId| names.get(t.0).cloned().unwrap_or_default();
    match event {
        DriverEvent::Rollout { event } => match event {
            Event::RunStarted {
                targets,
                batched,
                batches,
                planned_steps,
                ..
            } => Some(format!(
                "run started: {targets} targets, {batched} to upgrade in batches {batches:?}, {planned_steps} steps planned"
            )),
            Event::BatchStarted { batch, .. } => Some(format!("batch {batch} started")),
            Event::BatchFinished { batch, .. } => Some(format!("batch {batch} finished")),
            Event::TargetFinished {
                target,
                status,
                reason,
                ..
            } if *status != Status::Skipped => Some(format!(
                "{} {}{}",
                name(target),
                match status {
                    Status::Succeeded => "succeeded",
                    Status::Failed => "FAILED",
                    Status::Unreachable => "UNREACHABLE",
                    Status::Skipped => "skipped",
                    Status::NotStarted => "not started",
                },
                reason
                    .as_ref()
                    .map(|r| format!(" ({})", r.code()))
                    .unwrap_or_default()
            )),
            Event::RunStopping { reason, .. } => Some(format!("run stopping: {reason:?}")),
            Event::WindowClosed { batches, .. } => {
                Some(format!("window closed: batches {batches:?} will not run"))
            }
            _ => None,
        },
        DriverEvent::Failover {
            cluster, from, to, ..
        } => Some(format!("{cluster} failed over from {from} to {to}")),
        DriverEvent::Log {
            target, message, ..
        } => Some(format!("{target}: {message}")),
        DriverEvent::Email { .. } => None,
    }
}
