//! Whole deployments: the rollout, driven over the simulated fleet through the Gaia steps.
//! The invariants are checked on the simulator's own record, not on the engine's events.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use cdt_core::candidates::generate::{GenerateOptions, generate};
use cdt_core::driver::{Control, Driver, DriverEvent, DriverSettings};
use cdt_core::formats::plan::Plan;
use cdt_core::gaia::steps::ManagementInfo;
use cdt_core::model::inventory::InventoryFormat;
use cdt_core::model::{Package, Version};
use cdt_core::rollout::{Event, Rollout, RolloutSpec, Settings, Totals, Work};
use cdt_core::sim::{FleetFile, Sim, SimConnector};
use common::fleets::{SMALL_FLEET, SMALL_FLEET_HOSTS};

const UPGRADE: &str = "Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz";
const JUMBO: &str = "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz";

struct Run {
    totals: Totals,
    events: Vec<DriverEvent>,
    connector: SimConnector,
    rollout_targets: Vec<String>,
}

fn package_file(dir: &Path, name: &str, bytes: Option<usize>) -> PathBuf {
    let path = dir.join(name);
    match bytes {
        Some(n) => std::fs::write(&path, vec![b'p'; n]).unwrap(),
        None => std::fs::write(&path, format!("fake package {name}")).unwrap(),
    }
    path
}

async fn deploy(package_name: &str, faults: &str, extra_plan: &str) -> Run {
    deploy_with(package_name, faults, extra_plan, |_| {}, Reach::Direct).await
}

/// How the driver reaches the simulated fleet.
#[derive(Clone, Copy)]
enum Reach {
    /// Straight to every box.
    Direct,
    /// Every box through the Management Server.
    Relayed,
    /// Straight, but the transport panics when it connects to this host (a transport's bug).
    PanickingOn(&'static str),
}

/// A connector that panics when asked for a session to one host (a transport's bug).
struct Panicking {
    inner: SimConnector,
    host: &'static str,
}

#[async_trait::async_trait]
impl cdt_core::transport::Connector for Panicking {
    async fn connect(
        &self,
        host: &str,
    ) -> Result<Arc<dyn cdt_core::transport::Session>, cdt_core::transport::TransportError> {
        assert!(host != self.host, "a transport bug connecting to {host}");
        self.inner.connect(host).await
    }
}

/// Like [`deploy`], with the generated list edited first.
async fn deploy_with(
    package_name: &str,
    faults: &str,
    extra_plan: &str,
    edit: impl FnOnce(&mut cdt_core::candidates::CandidatesList),
    reach: Reach,
) -> Run {
    deploy_heard(
        package_name,
        faults,
        extra_plan,
        edit,
        reach,
        None,
        Listener::default(),
    )
    .await
}

/// How the run's events are listened to: through a channel of `capacity`, by a consumer that
/// lets the runtime run other tasks a few times before each event it takes when `slow`.
struct Listener {
    capacity: usize,
    slow: bool,
}

impl Default for Listener {
    fn default() -> Self {
        Listener {
            capacity: 16,
            slow: false,
        }
    }
}

/// Like [`deploy_with`], with a package file of `bytes` bytes when given and the events heard
/// by `listener`.
async fn deploy_heard(
    package_name: &str,
    faults: &str,
    extra_plan: &str,
    edit: impl FnOnce(&mut cdt_core::candidates::CandidatesList),
    reach: Reach,
    bytes: Option<usize>,
    listener: Listener,
) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let package_path = package_file(dir.path(), package_name, bytes);
    let fleet = FleetFile::parse(
        &format!("{SMALL_FLEET}\n{faults}"),
        InventoryFormat::Toml,
        None,
    )
    .unwrap();
    let package = Package::from_path(&package_path).unwrap();
    let mut list = generate(&fleet.inventory(), &package, &GenerateOptions::default()).list;
    edit(&mut list);
    let extra_plan = extra_plan.replace("{package}", &package_path.display().to_string());
    let plan = Plan::parse(
        &format!(
            r#"<CDT_Deployment_Plan><plan_settings><update_cpuse value="false"/></plan_settings>
               {extra_plan}<install_package path="{}"/></CDT_Deployment_Plan>"#,
            package_path.display()
        ),
        None,
    )
    .unwrap();
    let rollout = Rollout::new(RolloutSpec {
        list,
        package,
        work: Work::Plan {
            plan,
            cpuse_agent: None,
        },
        settings: Settings {
            failure_budget: cdt_core::rollout::FailureBudget::Count(10),
            ..Settings::default()
        },
    })
    .unwrap();
    let rollout_targets = rollout.targets().iter().map(|t| t.name.clone()).collect();
    let mut sim = Sim::new(&fleet);
    sim.log_commands(true);
    let connector = SimConnector::new(sim, 1.0);
    let settings = DriverSettings {
        management: Some(ManagementInfo {
            host: "mgmt".into(),
            policy_package: "Standard".into(),
            domain: None,
        }),
        ..DriverSettings::default()
    };
    let transport: Arc<dyn cdt_core::transport::Connector> = if let Reach::PanickingOn(host) = reach
    {
        Arc::new(Panicking {
            inner: connector.clone(),
            host,
        })
    } else if matches!(reach, Reach::Relayed) {
        // Every gateway through the Management Server, by its address.
        let servers = fleet
            .inventory()
            .boxes()
            .map(|g| (g.name.clone(), g.address.to_string()))
            .collect();
        Arc::new(cdt_core::transport::RelayedConnector::new(
            Arc::new(connector.clone()),
            "mgmt",
            servers,
        ))
    } else {
        Arc::new(connector.clone())
    };
    let driver = Driver::new(transport, Arc::new(connector.clock()), settings);
    let (tx, mut rx) = tokio::sync::mpsc::channel(listener.capacity);
    let collector = tokio::spawn(async move {
        let mut events = Vec::new();
        loop {
            if listener.slow {
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
            }
            let Some(e) = rx.recv().await else { break };
            events.push(e);
        }
        events
    });
    let totals = driver.run(rollout, tx, Control::none()).await;
    let events = collector.await.unwrap();
    drop(dir);
    Run {
        totals,
        events,
        connector,
        rollout_targets,
    }
}

#[tokio::test(start_paused = true)]
async fn a_consumer_slower_than_the_run_hears_every_event_in_order_through_a_one_slot_channel() {
    let heard = |capacity, slow| {
        deploy_heard(
            UPGRADE,
            "",
            "",
            |_| {},
            Reach::Direct,
            None,
            Listener { capacity, slow },
        )
    };
    let roomy = heard(100_000, false).await;
    let narrow = heard(1, true).await;
    // Each run keeps its package in a folder of its own: its name is left out.
    let rollout_events = |run: &Run| -> Vec<String> {
        run.events
            .iter()
            .filter_map(|e| match e {
                DriverEvent::Rollout { event } => Some(
                    format!("{event:?}")
                        .split('"')
                        .map(|part| part.rsplit('/').next().unwrap_or(part))
                        .collect::<Vec<_>>()
                        .join("\""),
                ),
                _ => None,
            })
            .collect()
    };
    assert!(rollout_events(&roomy).len() > 100);
    assert_eq!(rollout_events(&narrow), rollout_events(&roomy));
    assert_eq!(
        format!("{:?}", narrow.totals),
        format!("{:?}", roomy.totals)
    );
}

fn members() -> [(&'static str, &'static [&'static str]); 3] {
    [
        ("ha", &["ha-a", "ha-b"]),
        ("vr", &["vr-a", "vr-b"]),
        ("vs", &["vs-1", "vs-2", "vs-3"]),
    ]
}

#[tokio::test(start_paused = true)]
async fn a_version_upgrade_of_the_whole_fleet_keeps_every_cluster_serving() {
    let run = deploy(UPGRADE, "", "").await;
    let failures: Vec<String> = run
        .events
        .iter()
        .filter_map(|e| match e {
            DriverEvent::Rollout {
                event:
                    Event::TargetFinished {
                        target,
                        status,
                        reason,
                        ..
                    },
            } if *status != cdt_core::rollout::Status::Succeeded => Some(format!(
                "{} {status:?} {reason:?}",
                run.rollout_targets[target.0]
            )),
            DriverEvent::Rollout {
                event:
                    Event::StepFinished {
                        step,
                        outcome,
                        subject,
                        ..
                    },
            } if outcome.word() != "ok" => Some(format!("{subject:?} {step} {outcome:?}")),
            _ => None,
        })
        .collect();
    assert_eq!(run.totals.succeeded, 9, "{failures:#?}");
    let sim = run.connector.fleet();
    let record = sim.record();
    for (cluster, _) in members() {
        assert!(
            record.cluster_down.get(cluster).is_none_or(Vec::is_empty),
            "{cluster}: {:?}",
            record.cluster_down.get(cluster)
        );
    }
    for (host, installs) in &record.installs {
        assert_eq!(installs.len(), 1, "{host} installed {installs:?}");
    }
    for host in SMALL_FLEET_HOSTS {
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
    for object in ["gw-1", "gw-2", "ha", "vr", "vs"] {
        assert!(
            objects.contains(&object),
            "{object} version not set: {objects:?}"
        );
    }
    assert!(!record.policy_installs.is_empty());
    assert!(
        record
            .failovers
            .iter()
            .any(|f| f.cluster == "ha" && f.from == "ha-a")
    );
}

#[tokio::test(start_paused = true)]
async fn a_deployment_relayed_through_the_management_server_matches_the_direct_one() {
    let direct = deploy(UPGRADE, "", "").await;
    let relayed = deploy_with(UPGRADE, "", "", |_| {}, Reach::Relayed).await;
    assert_eq!(relayed.totals, direct.totals);
    assert_eq!(relayed.totals.succeeded, 9);
    let outcomes = |run: &Run| -> Vec<String> {
        run.events
            .iter()
            .filter_map(|e| match e {
                DriverEvent::Rollout {
                    event:
                        Event::StepFinished {
                            subject,
                            step,
                            outcome,
                            ..
                        },
                } => Some(format!("{subject:?} {step} {}", outcome.word())),
                _ => None,
            })
            .collect()
    };
    let (mut a, mut b) = (outcomes(&direct), outcomes(&relayed));
    a.sort();
    b.sort();
    assert_eq!(a, b);
    let sim = relayed.connector.fleet();
    let record = sim.record();
    for (cluster, spans) in &record.cluster_down {
        assert!(spans.is_empty(), "{cluster}: {spans:?}");
    }
    for host in SMALL_FLEET_HOSTS {
        assert_eq!(
            sim.installed(host).map(|v| v.version),
            Some(Version::R82),
            "{host}"
        );
        assert_eq!(record.installs[host].len(), 1, "{host}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_jumbo_everywhere_succeeds_and_installs_once_per_box() {
    let run = deploy(JUMBO, "", "").await;
    assert_eq!(run.totals.succeeded, 9, "{:#?}", run.totals);
    let sim = run.connector.fleet();
    for host in ["gw-1", "gw-2", "ha-a", "vs-3"] {
        assert_eq!(sim.installed(host).and_then(|v| v.take), Some(89), "{host}");
    }
    assert!(
        sim.record().cluster_down.values().all(Vec::is_empty),
        "{:?}",
        sim.record().cluster_down
    );
}

/// The commands delivered to `host` that start with `prefix`.
fn delivered(run: &Run, host: &str, prefix: &str) -> usize {
    let sim = run.connector.fleet();
    sim.record()
        .commands
        .iter()
        .filter(|d| d.host == host && d.command.starts_with(prefix))
        .count()
}

const SEND_IMPORT_VERIFY: &str = r#"<send_package path="{package}"/><import_package path="{package}"/><verify_package path="{package}"/>"#;

#[tokio::test(start_paused = true)]
async fn a_package_sent_imported_verified_and_installed_is_listed_twice_and_checked_once() {
    let run = deploy_heard(
        JUMBO,
        "",
        SEND_IMPORT_VERIFY,
        |_| {},
        Reach::Direct,
        None,
        Listener::default(),
    )
    .await;
    assert_eq!(run.totals.succeeded, 9, "{:#?}", run.totals);
    // One listing before the import and one after; verify and install use the number found.
    assert_eq!(
        delivered(&run, "gw-1", "clish -c 'show installer packages imported'"),
        2
    );
    // A small package is sent without asking first and checked once it is there; the import
    // does not check it again.
    assert_eq!(delivered(&run, "gw-1", "sha256sum /var/log/upload/"), 1);
    assert_eq!(delivered(&run, "gw-1", "clish -c 'installer install 1"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_package_over_one_mebibyte_is_looked_for_before_it_is_sent() {
    let run = deploy_heard(
        JUMBO,
        "",
        SEND_IMPORT_VERIFY,
        |_| {},
        Reach::Direct,
        Some(1024 * 1024 + 1),
        Listener::default(),
    )
    .await;
    assert_eq!(run.totals.succeeded, 9, "{:#?}", run.totals);
    // Asked for before the copy, checked after it; not again for the import.
    assert_eq!(delivered(&run, "gw-1", "sha256sum /var/log/upload/"), 2);
}

#[tokio::test(start_paused = true)]
async fn a_package_failing_on_a_standby_stops_its_cluster_and_the_active_is_untouched() {
    let faults = "[[faults]]\nkind = \"package_fails\"\nhost = \"ha-b\"\npackage = \"JUMBO\"\n";
    let run = deploy(JUMBO, faults, "").await;
    assert_eq!(run.totals.failed, 1);
    let sim = run.connector.fleet();
    assert_eq!(
        sim.installed("ha-a").and_then(|v| v.take),
        Some(41),
        "the Active was not touched"
    );
    assert!(!sim.record().installs.contains_key("ha-a"));
    assert!(
        sim.record()
            .cluster_down
            .get("ha")
            .is_none_or(Vec::is_empty)
    );
    assert_eq!(sim.active_member("ha"), Some("ha-a"));
}

#[tokio::test(start_paused = true)]
async fn a_gateway_that_does_not_come_back_is_unreachable() {
    let faults = "[[faults]]\nkind = \"unreachable\"\nhost = \"gw-2\"\nfrom = 1\n";
    let run = deploy(JUMBO, faults, "").await;
    assert_eq!(run.totals.unreachable, 1, "{:?}", run.totals);
}

#[tokio::test(start_paused = true)]
async fn a_step_whose_transport_panics_fails_its_target_and_the_run_goes_on() {
    let run = deploy_with(JUMBO, "", "", |_| {}, Reach::PanickingOn("gw-2")).await;
    assert_eq!(run.totals.failed, 1, "{:?}", run.totals);
    assert_eq!(
        run.totals.succeeded,
        run.rollout_targets.len() - 1 - run.totals.skipped,
        "{:?}",
        run.totals
    );
    let failed = run.events.iter().any(|e| {
        matches!(e, DriverEvent::Rollout { event: Event::StepFinished { outcome, .. } }
            if format!("{outcome:?}").contains("the step stopped unexpectedly: a transport bug"))
    });
    assert!(failed, "no step ended with the panic's message");
}

#[tokio::test(start_paused = true)]
async fn plan_log_actions_reach_the_event_stream() {
    let run = deploy(JUMBO, "", r#"<log level="NORMAL" value="starting"/>"#).await;
    let logs = run
        .events
        .iter()
        .filter(|e| matches!(e, DriverEvent::Log { message, .. } if message == "starting"))
        .count();
    assert_eq!(logs, 9);
}

#[tokio::test(start_paused = true)]
async fn the_run_takes_the_simulated_time_its_steps_take() {
    let run = deploy(UPGRADE, "", "").await;
    let started = run.events.iter().find_map(|e| match e {
        DriverEvent::Rollout {
            event: Event::RunStarted {
                at, planned_steps, ..
            },
        } => Some((*at, *planned_steps)),
        _ => None,
    });
    let finished = run.events.iter().find_map(|e| match e {
        DriverEvent::Rollout {
            event: Event::RunFinished { at, .. },
        } => Some(*at),
        _ => None,
    });
    let ((start, planned), end) = (started.unwrap(), finished.unwrap());
    // One batch: the first waves' upgrades (30 min) and reboots (5 min) in parallel, then
    // the last members' the same: over an hour of simulated time.
    let took = end.duration_since(start);
    assert!(took >= jiff::SignedDuration::from_mins(70), "{took:?}");
    assert!(took <= jiff::SignedDuration::from_hours(4), "{took:?}");
    let steps = run
        .events
        .iter()
        .filter(|e| {
            matches!(
                e,
                DriverEvent::Rollout {
                    event: Event::StepFinished { .. }
                }
            )
        })
        .count();
    assert_eq!(steps, planned, "every planned step ran once");
}

/// The run's makespan: from its start to its end, in simulated time.
fn makespan(run: &Run) -> jiff::SignedDuration {
    let at = |want_start: bool| {
        run.events.iter().find_map(|e| match e {
            DriverEvent::Rollout {
                event: Event::RunStarted { at, .. },
            } if want_start => Some(*at),
            DriverEvent::Rollout {
                event: Event::RunFinished { at, .. },
            } if !want_start => Some(*at),
            _ => None,
        })
    };
    at(false).unwrap().duration_since(at(true).unwrap())
}

#[tokio::test(start_paused = true)]
async fn in_virtual_time_the_makespan_is_the_critical_path() {
    use cdt_core::candidates::UpgradeOrder;
    // Three batches of different shapes: a gateway and the HA pair, then a gateway and the
    // VRRP pair, then the VSLS cluster; a plan whose steps take different times.
    let units = [("gw-1", 1), ("ha", 1), ("gw-2", 2), ("vr", 2), ("vs", 3)];
    let plan = r#"<create_snapshot name="before"/><execute_command command="fw ver"/>"#;
    // `only`: run that unit alone (the others excluded), in batch 1.
    let deploy_units = |only: Option<&'static str>| {
        deploy_with(
            UPGRADE,
            "",
            plan,
            move |list| {
                for row in &mut list.rows {
                    let unit = row.cluster_name.clone().unwrap_or(row.object_name.clone());
                    let batch = units.iter().find(|(u, _)| *u == unit).map(|(_, b)| *b);
                    if let (UpgradeOrder::Batch(_), Some(batch)) = (row.order, batch) {
                        row.order = match only {
                            None => UpgradeOrder::batch(batch),
                            Some(u) if u == unit => UpgradeOrder::batch(1),
                            Some(_) => UpgradeOrder::Excluded,
                        };
                    }
                }
            },
            Reach::Direct,
        )
    };
    let logins = |run: &Run| delivered(run, "mgmt", "mgmt_cli login ");
    let whole = deploy_units(None).await;
    assert_eq!(whole.totals.succeeded, 9, "{:?}", whole.totals);
    // The critical path: batch after batch, the unit that takes longest when run alone.
    let mut slowest = std::collections::BTreeMap::<u32, jiff::SignedDuration>::new();
    let mut alone_logins = 0;
    for (unit, batch) in units {
        let alone = deploy_units(Some(unit)).await;
        assert!(alone.totals.succeeded >= 1, "{unit}: {:?}", alone.totals);
        alone_logins += logins(&alone);
        let took = makespan(&alone);
        let longest = slowest.entry(batch).or_default();
        *longest = (*longest).max(took);
    }
    let critical: jiff::SignedDuration = slowest.values().copied().sum();
    let whole_took = makespan(&whole);
    assert!(
        critical > jiff::SignedDuration::from_mins(60),
        "{critical:?}"
    );
    // Run together, the units share one Management session for their policy installs and
    // tasks, where each unit alone logs in for itself: the run is never slower than the
    // critical path, and faster by at most the logins sharing saves, one per batch (each
    // costs one command's latency).
    assert!(
        logins(&whole) < alone_logins,
        "{alone_logins} logins alone, {} together",
        logins(&whole)
    );
    let login = jiff::SignedDuration::try_from_secs_f64(
        cdt_core::sim::Latency::default().command * slowest.len() as f64,
    )
    .unwrap();
    let second = jiff::SignedDuration::from_secs(1);
    assert!(
        whole_took <= critical + second && whole_took >= critical - login - second,
        "makespan {whole_took:?}, critical path {critical:?} (per batch {slowest:?})"
    );
}

/// The inventory read from `fleet`'s Management Server and boxes, in-process.
async fn discover(fleet: &FleetFile) -> cdt_core::gaia::steps::Discovered {
    let connector = SimConnector::new(Sim::new(fleet), 1.0);
    let driver = Driver::new(
        Arc::new(connector.clone()),
        Arc::new(connector.clock()),
        DriverSettings::default(),
    );
    let management = ManagementInfo {
        host: "mgmt".into(),
        policy_package: "Standard".into(),
        domain: None,
    };
    driver.discover(&management).await.unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_inventory_read_from_the_management_server_is_the_fleets() {
    let fleet = FleetFile::parse(SMALL_FLEET, InventoryFormat::Toml, None).unwrap();
    let found = discover(&fleet).await;
    assert!(found.warnings.is_empty(), "{:?}", found.warnings);
    let mut want = fleet.inventory();
    let mut got = found.inventory;
    // Compared as sets: the Management Server lists objects in its own order.
    for inv in [&mut want, &mut got] {
        inv.gateways.sort_by(|a, b| a.name.cmp(&b.name));
        inv.clusters.sort_by(|a, b| a.name.cmp(&b.name));
        for c in &mut inv.clusters {
            c.members
                .sort_by(|a, b| a.gateway.name.cmp(&b.gateway.name));
        }
    }
    assert_eq!(got, want);
}

#[tokio::test(start_paused = true)]
async fn a_box_that_does_not_answer_is_listed_unreachable_with_a_warning() {
    let fleet = FleetFile::parse(
        &format!("{SMALL_FLEET}\n[[faults]]\nkind = \"unreachable\"\nhost = \"ha-b\"\nfrom = 0\n"),
        InventoryFormat::Toml,
        None,
    )
    .unwrap();
    let found = discover(&fleet).await;
    assert_eq!(found.warnings.len(), 1, "{:?}", found.warnings);
    assert!(found.warnings[0].starts_with("ha-b: does not answer"));
    let ha = found
        .inventory
        .clusters
        .iter()
        .find(|c| c.name == "ha")
        .unwrap();
    let b = ha
        .members
        .iter()
        .find(|m| m.gateway.name == "ha-b")
        .unwrap();
    assert_eq!(b.role, cdt_core::model::MemberRole::Down);
    assert_eq!(
        b.gateway.reachability,
        cdt_core::model::inventory::Reachability::Unreachable
    );
}

#[tokio::test(start_paused = true)]
async fn the_policy_installs_of_a_run_share_one_session_logged_into_again_only_after_it_expired() {
    // Installs of over an hour: a cluster's two waves leave the session (which asks for the
    // API's longest idle time, an hour) idle for longer than that.
    let run = deploy(JUMBO, "[latency]\ninstall = 4000\n", "").await;
    assert_eq!(run.totals.succeeded, 9, "{:#?}", run.totals);
    let sim = run.connector.fleet();
    let calls: Vec<_> = sim
        .record()
        .commands
        .iter()
        .filter(|d| d.host == "mgmt")
        .collect();
    let named = |name: &str| {
        calls
            .iter()
            .filter(|d| d.command.starts_with(&format!("mgmt_cli {name} ")))
            .count()
    };
    // Every target's policy was installed; each task was followed in the session.
    assert!(named("install-policy") >= 9);
    assert!(
        calls
            .iter()
            .filter(|d| !d.command.starts_with("mgmt_cli login "))
            .all(|d| d.command.contains("--session-id sid-")),
        "{calls:#?}"
    );
    // Every login asks for an hour of idle time.
    assert!(
        calls
            .iter()
            .filter(|d| d.command.starts_with("mgmt_cli login "))
            .all(|d| d.command.contains(" session-timeout 3600 ")),
        "{calls:#?}"
    );
    // One login, and one more each time the session sat idle for (nearly) its timeout
    // between two calls.
    let expiries = calls
        .windows(2)
        .filter(|w| w[1].at.duration_since(w[0].at) > jiff::SignedDuration::from_mins(54))
        .count();
    assert!(expiries >= 1, "this fleet's waves leave the session idle");
    assert_eq!(named("login"), 1 + expiries, "{calls:#?}");
    // The run ends by logging its session out.
    assert_eq!(named("logout"), 1);
    let last = calls.last().unwrap();
    assert!(last.command.starts_with("mgmt_cli logout "), "{last:?}");
}

#[tokio::test(start_paused = true)]
async fn a_policy_install_whose_session_the_server_forgot_logs_in_again_and_goes_on() {
    let calls = |run: &Run| -> Vec<cdt_core::sim::Delivered> {
        let sim = run.connector.fleet();
        let calls = sim.record().commands.iter();
        calls.filter(|d| d.host == "mgmt").cloned().collect()
    };
    let base = deploy(JUMBO, "", "").await;
    let before = calls(&base);
    // The API restarts between two calls of the shared session that are close enough for
    // the session to be still alive.
    let pair = before
        .windows(2)
        .find(|w| {
            w[0].command.contains("show-task")
                && w[1].at > w[0].at
                && w[1].at.duration_since(w[0].at) < jiff::SignedDuration::from_secs(60)
        })
        .expect("a task followed in the session");
    let start: jiff::Timestamp = "2026-12-01T01:00:00Z".parse().unwrap();
    let restart = pair[0].at.duration_since(start).as_secs_f64() + 0.5;
    let run = deploy(
        JUMBO,
        &format!("[[faults]]\nkind = \"api_restarts\"\nat = {restart}\n"),
        "",
    )
    .await;
    assert_eq!(run.totals.succeeded, 9, "{:#?}", run.totals);
    let after = calls(&run);
    let logins = |c: &[cdt_core::sim::Delivered]| {
        c.iter()
            .filter(|d| d.command.starts_with("mgmt_cli login "))
            .count()
    };
    assert_eq!(logins(&after), logins(&before) + 1, "{after:#?}");
    // Every task still reached its end in the new session, and the session is logged out.
    let sid = |d: &cdt_core::sim::Delivered| {
        d.command
            .split_whitespace()
            .skip_while(|w| *w != "--session-id")
            .nth(1)
            .map(str::to_string)
    };
    let restart_at = start + jiff::SignedDuration::try_from_secs_f64(restart).unwrap();
    let first_after = after.iter().find(|d| d.at > restart_at).unwrap();
    let old = sid(first_after).unwrap();
    let with_old_after: Vec<_> = after
        .iter()
        .filter(|d| d.at > restart_at && sid(d).as_deref() == Some(old.as_str()))
        .collect();
    assert!(
        with_old_after.len() <= 2,
        "only the calls in flight at the restart used the forgotten session: {with_old_after:#?}"
    );
    assert!(
        after
            .last()
            .unwrap()
            .command
            .starts_with("mgmt_cli logout ")
    );
}

#[tokio::test(start_paused = true)]
async fn a_process_that_ran_before_and_not_after_the_install_fails_the_state_check() {
    let faults = "[[faults]]\nkind = \"process_down\"\nhost = \"gw-2\"\nprocess = \"FWD\"\n";
    let run = deploy(JUMBO, faults, "").await;
    assert_eq!(run.totals.failed, 1, "{:?}", run.totals);
    let events = format!("{:?}", run.events);
    assert!(
        events.contains("gw-2: processes that ran before are not running: FWD"),
        "{events}"
    );
}
