//! The rollout, scenario by scenario: order of work, cluster sequences, failure rules,
//! windows, pauses and cancellation (SPEC 3).

mod common;

use cdt_core::candidates::CandidatesList;
use cdt_core::formats::config::PrimaryConfig;
use cdt_core::formats::plan::Plan;
use cdt_core::model::Package;
use cdt_core::rollout::{
    Event, FailureBudget, Outcome, Rollout, RolloutSpec, Settings, Status, StatusReason,
    StopReason, Work,
};
use common::drive::{Record, drive, drive_with, subject_name, t0};
use jiff::{SignedDuration, Timestamp};

const HEADER: &str = "Object Name,Cluster Name,IP Address,Version/JHF Take,State,Upgrade Order\n";
const JUMBO: &str = "/p/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz";
const UPGRADE_R82: &str = "/p/Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz";
const UPGRADE_R80_30: &str =
    "/p/Check_Point_R80.30_T200_Fresh_Install_and_Upgrade_Security_Gateway.tgz";

fn list(rows: &str) -> CandidatesList {
    CandidatesList::parse_csv(&format!("{HEADER}{rows}"), None).unwrap()
}

/// A plan without agent update that installs `package`, with `extra` actions before it.
fn plan(package: &str, extra: &str) -> Plan {
    Plan::parse(
        &format!(
            r#"<CDT_Deployment_Plan><plan_settings><update_cpuse value="false"/></plan_settings>
               {extra}<install_package path="{package}"/></CDT_Deployment_Plan>"#
        ),
        None,
    )
    .unwrap()
}

fn rollout(rows: &str, package: &str, extra: &str, settings: Settings) -> Rollout {
    Rollout::new(RolloutSpec {
        list: list(rows),
        package: Package::from_path(package).unwrap(),
        work: Work::Plan {
            plan: plan(package, extra),
            cpuse_agent: None,
        },
        settings,
    })
    .unwrap()
}

fn quiet() -> Settings {
    Settings {
        check_state: false,
        ..Settings::default()
    }
}

/// Every action succeeds after `secs` seconds.
fn all_ok(secs: i64) -> impl FnMut(&Rollout, &cdt_core::rollout::Action) -> (Outcome, i64) {
    move |_, _| (Outcome::Ok, secs)
}

/// Actions on `name` whose step is `step` get `outcome`; everything else succeeds in 10 s.
fn fail_on(
    name: &'static str,
    step: &'static str,
    outcome: Outcome,
) -> impl FnMut(&Rollout, &cdt_core::rollout::Action) -> (Outcome, i64) {
    move |r, a| {
        if subject_name(r, a) == name && a.step.name() == step {
            (outcome.clone(), 10)
        } else {
            (Outcome::Ok, 10)
        }
    }
}

fn status_of(r: &Rollout, name: &str) -> (Status, Option<String>) {
    let i = r.targets().iter().position(|t| t.name == name).unwrap();
    let (status, reason) = r.status(cdt_core::rollout::TargetId(i)).unwrap();
    (status, reason.map(|r| r.code().to_string()))
}

fn started_at(record: &Record, r: &Rollout, name: &str) -> Option<Timestamp> {
    record.events.iter().find_map(|e| match e {
        Event::TargetStarted { at, target } if r.targets()[target.0].name == name => Some(*at),
        _ => None,
    })
}

const HA: &str = "ha-a,ha,192.0.2.1,R81.20,Active,1\nha-b,ha,192.0.2.2,R81.20,Standby,1\n";

#[test]
fn a_standalone_target_runs_checks_version_plan_and_policy_in_order() {
    let mut r = rollout(
        "gw,,192.0.2.1,R81.20,,1\n",
        UPGRADE_R82,
        "",
        Settings::default(),
    );
    let record = drive(&mut r, &mut all_ok(5), true);
    assert_eq!(
        record.steps(&r),
        [
            "gw:check_state",
            "gw:set_version",
            "gw:install_package",
            "gw:install_policy",
            "gw:check_state"
        ]
    );
    assert_eq!(status_of(&r, "gw"), (Status::Succeeded, None));
}

#[test]
fn targets_of_a_batch_run_in_parallel_and_batches_in_ascending_order() {
    let rows = "a,,192.0.2.1,R81.20,,2\nb,,192.0.2.2,R81.20,,1\nc,,192.0.2.3,R81.20,,1\n";
    let mut r = rollout(rows, JUMBO, "", quiet());
    let record = drive(&mut r, &mut all_ok(60), true);
    let b = started_at(&record, &r, "b").unwrap();
    assert_eq!(started_at(&record, &r, "c"), Some(b));
    assert_eq!(
        started_at(&record, &r, "a"),
        Some(b + SignedDuration::from_secs(120))
    );
}

#[test]
fn the_concurrency_cap_counts_working_targets() {
    let rows = "a,,192.0.2.1,R81.20,,1\nb,,192.0.2.2,R81.20,,1\nc,,192.0.2.3,R81.20,,1\n";
    let settings = Settings {
        concurrency: std::num::NonZeroUsize::new(2),
        ..quiet()
    };
    let mut r = rollout(rows, JUMBO, "", settings);
    let record = drive(&mut r, &mut all_ok(60), true);
    assert_eq!(started_at(&record, &r, "a"), Some(t0()));
    assert_eq!(started_at(&record, &r, "b"), Some(t0()));
    assert_eq!(
        started_at(&record, &r, "c"),
        Some(t0() + SignedDuration::from_secs(120))
    );
}

#[test]
fn an_ha_upgrade_runs_standby_then_mvc_failover_active_restore_mvc_off() {
    let mut r = rollout(HA, UPGRADE_R82, "", Settings::default());
    let record = drive(&mut r, &mut all_ok(5), true);
    insta::assert_snapshot!("ha_upgrade_with_mvc", record.steps(&r).join("\n"));
    assert_eq!(status_of(&r, "ha-a").0, Status::Succeeded);
    assert_eq!(status_of(&r, "ha-b").0, Status::Succeeded);
}

#[test]
fn an_upgrade_to_r80_30_uses_full_connectivity_upgrade() {
    let rows = "v-a,v,192.0.2.1,R80.10,Master,1\nv-b,v,192.0.2.2,R80.10,Backup,1\n";
    let mut r = rollout(rows, UPGRADE_R80_30, "", quiet());
    let record = drive(&mut r, &mut all_ok(5), true);
    let steps = record.steps(&r);
    assert!(steps.contains(&"v-b:cu_start".to_string()), "{steps:?}");
    assert!(!steps.iter().any(|s| s.contains("mvc")), "{steps:?}");
}

#[test]
fn a_hotfix_fails_over_without_connectivity_upgrade() {
    let mut r = rollout(HA, JUMBO, "", quiet());
    let record = drive(&mut r, &mut all_ok(5), true);
    assert_eq!(
        record.steps(&r),
        [
            "ha-b:install_package",
            "ha-b:install_policy",
            "ha:failover",
            "ha-a:install_package",
            "ha-a:install_policy",
            "ha-a:restore"
        ]
    );
}

#[test]
fn connectivity_upgrade_off_in_the_plan_skips_mvc() {
    let plan = Plan::parse(
        &format!(r#"<CDT_Deployment_Plan><plan_settings><update_cpuse value="false"/><ConnectivityUpgrade value="false"/></plan_settings><install_package path="{UPGRADE_R82}"/></CDT_Deployment_Plan>"#),
        None,
    )
    .unwrap();
    let mut r = Rollout::new(RolloutSpec {
        list: list(HA),
        package: Package::from_path(UPGRADE_R82).unwrap(),
        work: Work::Plan {
            plan,
            cpuse_agent: None,
        },
        settings: quiet(),
    })
    .unwrap();
    let record = drive(&mut r, &mut all_ok(5), true);
    assert!(!record.steps(&r).iter().any(|s| s.contains("mvc")));
}

#[test]
fn a_vsls_cluster_upgrades_its_vsls_members_before_the_active_member() {
    let rows = "v1,vs,192.0.2.1,R81.20,VSLS member,1\nv2,vs,192.0.2.2,R81.20,VSLS active member,1\nv3,vs,192.0.2.3,R81.20,VSLS member,1\n";
    let mut r = rollout(rows, JUMBO, "", quiet());
    let record = drive(&mut r, &mut all_ok(5), true);
    let steps = record.steps(&r);
    let failover = steps.iter().position(|s| s == "vs:failover").unwrap();
    assert!(steps[..failover].contains(&"v1:install_package".to_string()));
    assert!(steps[..failover].contains(&"v3:install_package".to_string()));
    assert!(steps[failover..].contains(&"v2:install_package".to_string()));
}

#[test]
fn a_failed_first_wave_stops_its_cluster_and_the_active_is_never_touched() {
    let mut r = rollout(
        HA,
        JUMBO,
        "",
        Settings {
            failure_budget: FailureBudget::Count(5),
            ..quiet()
        },
    );
    let record = drive(
        &mut r,
        &mut fail_on(
            "ha-b",
            "install_package",
            Outcome::Failed("CPUSE error".into()),
        ),
        true,
    );
    assert!(
        !record
            .steps(&r)
            .iter()
            .any(|s| s.starts_with("ha-a") || s == "ha:failover")
    );
    assert_eq!(
        status_of(&r, "ha-b"),
        (Status::Failed, Some("step_failed".into()))
    );
    assert_eq!(
        status_of(&r, "ha-a"),
        (Status::Skipped, Some("cluster_stopped".into()))
    );
}

#[test]
fn a_failed_failover_brings_the_old_active_back_and_fails_it() {
    let mut r = rollout(
        HA,
        JUMBO,
        "",
        Settings {
            failure_budget: FailureBudget::Count(5),
            ..quiet()
        },
    );
    let record = drive(
        &mut r,
        &mut fail_on(
            "ha",
            "failover",
            Outcome::Failed("no member became Active".into()),
        ),
        true,
    );
    let steps = record.steps(&r);
    assert_eq!(
        steps.last().map(String::as_str),
        Some("ha-a:restore"),
        "{steps:?}"
    );
    assert!(!steps.contains(&"ha-a:install_package".to_string()));
    assert_eq!(
        status_of(&r, "ha-a"),
        (Status::Failed, Some("cluster_step_failed".into()))
    );
    assert_eq!(status_of(&r, "ha-b").0, Status::Succeeded);
}

#[test]
fn the_semi_automatic_first_run_upgrades_only_the_standbys() {
    let rows = "ha-a,ha,192.0.2.1,R81.20,Active,-\nha-b,ha,192.0.2.2,R81.20,Standby,1\n";
    let mut r = rollout(rows, UPGRADE_R82, "", quiet());
    let record = drive(&mut r, &mut all_ok(5), true);
    assert_eq!(
        record.steps(&r),
        [
            "ha:set_version",
            "ha-b:install_package",
            "ha-b:install_policy"
        ]
    );
    assert_eq!(
        status_of(&r, "ha-a"),
        (Status::Skipped, Some("excluded".into()))
    );
}

#[test]
fn the_semi_automatic_second_run_fails_over_to_the_installed_members() {
    let rows = "ha-a,ha,192.0.2.1,R81.20,Active,1\nha-b,ha,192.0.2.2,R82,Standby,Installed\n";
    let mut r = rollout(rows, UPGRADE_R82, "", quiet());
    let record = drive(&mut r, &mut all_ok(5), true);
    assert_eq!(
        record.steps(&r),
        [
            "ha:set_version",
            "ha-b:mvc_on",
            "ha:failover",
            "ha-a:install_package",
            "ha-a:install_policy",
            "ha-a:restore",
            "ha-a:mvc_off",
            "ha-b:mvc_off"
        ]
    );
}

#[test]
fn a_critical_failure_skips_later_steps_but_runs_execute_always_scripts() {
    let extra = r#"<execute_command command="fw stat"/><execute_script path="/s/cleanup.sh" execute_always="true"/><create_snapshot name="s"/>"#;
    let mut r = rollout(
        "gw,,192.0.2.1,R81.20,,1\n",
        JUMBO,
        extra,
        Settings {
            failure_budget: FailureBudget::Count(5),
            ..quiet()
        },
    );
    let record = drive(
        &mut r,
        &mut fail_on("gw", "execute_command", Outcome::Exited(1)),
        true,
    );
    assert_eq!(
        record.steps(&r),
        ["gw:execute_command", "gw:execute_script"]
    );
    assert_eq!(
        status_of(&r, "gw"),
        (Status::Failed, Some("step_failed".into()))
    );
}

#[test]
fn a_non_critical_failure_lets_the_plan_go_on() {
    let extra = r#"<execute_command command="fw stat" iscritical="false"/>"#;
    let mut r = rollout("gw,,192.0.2.1,R81.20,,1\n", JUMBO, extra, quiet());
    let record = drive(
        &mut r,
        &mut fail_on("gw", "execute_command", Outcome::Exited(3)),
        true,
    );
    assert_eq!(
        record.steps(&r),
        [
            "gw:execute_command",
            "gw:install_package",
            "gw:install_policy"
        ]
    );
    assert_eq!(status_of(&r, "gw").0, Status::Succeeded);
}

#[test]
fn a_script_exiting_222_reboots_the_target_then_the_plan_goes_on() {
    let extra = r#"<execute_script path="/s/prep.sh"/>"#;
    let mut r = rollout("gw,,192.0.2.1,R81.20,,1\n", JUMBO, extra, quiet());
    let record = drive(
        &mut r,
        &mut fail_on("gw", "execute_script", Outcome::Exited(222)),
        true,
    );
    assert_eq!(
        record.steps(&r),
        [
            "gw:execute_script",
            "gw:reboot",
            "gw:install_package",
            "gw:install_policy"
        ]
    );
    assert_eq!(status_of(&r, "gw").0, Status::Succeeded);
}

#[test]
fn policy_is_not_installed_after_a_failed_non_critical_install() {
    let plan_text = format!(
        r#"<CDT_Deployment_Plan><plan_settings><update_cpuse value="false"/></plan_settings><install_package path="{JUMBO}" iscritical="false"/><create_snapshot name="after"/></CDT_Deployment_Plan>"#
    );
    let mut r = Rollout::new(RolloutSpec {
        list: list("gw,,192.0.2.1,R81.20,,1\n"),
        package: Package::from_path(JUMBO).unwrap(),
        work: Work::Plan {
            plan: Plan::parse(&plan_text, None).unwrap(),
            cpuse_agent: None,
        },
        settings: quiet(),
    })
    .unwrap();
    let record = drive(
        &mut r,
        &mut fail_on("gw", "install_package", Outcome::Failed("x".into())),
        true,
    );
    assert_eq!(
        record.steps(&r),
        ["gw:install_package", "gw:create_snapshot"]
    );
}

#[test]
fn an_unreachable_target_ends_at_once() {
    let extra = r#"<execute_script path="/s/cleanup.sh" execute_always="true"/>"#;
    let mut r = rollout("gw,,192.0.2.1,R81.20,,1\n", JUMBO, extra, quiet());
    let record = drive(
        &mut r,
        &mut fail_on(
            "gw",
            "execute_script",
            Outcome::Unreachable("no route".into()),
        ),
        true,
    );
    assert_eq!(record.steps(&r), ["gw:execute_script"]);
    assert_eq!(
        status_of(&r, "gw"),
        (Status::Unreachable, Some("unreachable".into()))
    );
}

#[test]
fn by_default_the_first_failure_stops_new_work_and_work_in_flight_finishes() {
    let rows = "a,,192.0.2.1,R81.20,,1\nb,,192.0.2.2,R81.20,,1\nc,,192.0.2.3,R81.20,,2\n";
    let mut r = rollout(rows, JUMBO, "", quiet());
    let record = drive(
        &mut r,
        &mut |r, a| {
            let name = subject_name(r, a);
            (
                if name == "a" {
                    Outcome::Failed("x".into())
                } else {
                    Outcome::Ok
                },
                if name == "a" { 1 } else { 30 },
            )
        },
        true,
    );
    assert_eq!(status_of(&r, "a").0, Status::Failed);
    assert_eq!(
        status_of(&r, "b").0,
        Status::Succeeded,
        "in flight: finishes"
    );
    assert_eq!(
        status_of(&r, "c"),
        (Status::NotStarted, Some("run_stopped".into()))
    );
    let stop = record.events.iter().find_map(|e| match e {
        Event::RunStopping { reason, .. } => Some(reason.clone()),
        _ => None,
    });
    assert_eq!(
        stop,
        Some(StopReason::FailureBudgetExceeded {
            failures: 1,
            started: 2,
            allowed: 0
        })
    );
}

#[test]
fn a_budget_that_is_reached_but_not_exceeded_lets_the_run_go_on() {
    let rows = "a,,192.0.2.1,R81.20,,1\nb,,192.0.2.2,R81.20,,2\n";
    let settings = Settings {
        failure_budget: FailureBudget::Count(1),
        ..quiet()
    };
    let mut r = rollout(rows, JUMBO, "", settings);
    drive(
        &mut r,
        &mut fail_on("a", "install_package", Outcome::Failed("x".into())),
        true,
    );
    assert_eq!(status_of(&r, "b").0, Status::Succeeded);
}

#[test]
fn a_cluster_past_its_first_wave_completes_after_the_run_stopped() {
    // gw fails while ha-b (first wave) is installing: the run stops, but ha's first wave
    // succeeds, so the cluster fails over and upgrades ha-a.
    let rows = format!("gw,,192.0.2.9,R81.20,,1\n{HA}");
    let mut r = rollout(&rows, JUMBO, "", quiet());
    drive(
        &mut r,
        &mut |r, a| match subject_name(r, a).as_str() {
            "gw" => (Outcome::Failed("x".into()), 1),
            _ => (Outcome::Ok, 30),
        },
        true,
    );
    assert!(r.stop_reason().is_some());
    assert_eq!(status_of(&r, "ha-b").0, Status::Succeeded);
    assert_eq!(status_of(&r, "ha-a").0, Status::Succeeded);
}

#[test]
fn first_wave_members_waiting_for_a_slot_do_not_start_after_the_run_stopped() {
    let rows = "gw,,192.0.2.9,R81.20,,1\nv1,vs,192.0.2.1,R81.20,VSLS member,1\nv2,vs,192.0.2.2,R81.20,VSLS member,1\nv3,vs,192.0.2.3,R81.20,VSLS active member,1\n";
    // One slot: first-wave members go before standalone gateways, so v1 starts first.
    let settings = Settings {
        concurrency: std::num::NonZeroUsize::new(1),
        ..quiet()
    };
    let mut r = rollout(rows, JUMBO, "", settings);
    drive(
        &mut r,
        &mut fail_on("v1", "install_package", Outcome::Failed("x".into())),
        true,
    );
    assert_eq!(status_of(&r, "v1").0, Status::Failed);
    assert_eq!(
        status_of(&r, "gw"),
        (Status::NotStarted, Some("run_stopped".into()))
    );
    assert_eq!(
        status_of(&r, "v2"),
        (Status::NotStarted, Some("run_stopped".into()))
    );
    assert_eq!(
        status_of(&r, "v3"),
        (Status::NotStarted, Some("run_stopped".into()))
    );
}

#[test]
fn no_batch_starts_at_or_after_the_cut_off() {
    let rows = "a,,192.0.2.1,R81.20,,1\nb,,192.0.2.2,R81.20,,2\n";
    let settings = Settings {
        not_after: Some(t0() + SignedDuration::from_secs(60)),
        ..quiet()
    };
    let mut r = rollout(rows, JUMBO, "", settings);
    let record = drive(&mut r, &mut all_ok(30), true);
    assert_eq!(status_of(&r, "a").0, Status::Succeeded);
    assert_eq!(
        status_of(&r, "b"),
        (Status::NotStarted, Some("window_closed".into()))
    );
    assert!(
        record
            .events
            .iter()
            .any(|e| matches!(e, Event::WindowClosed { batches, .. } if batches == &[2]))
    );
}

#[test]
fn a_batch_started_before_the_cut_off_finishes_with_its_clusters() {
    let settings = Settings {
        not_after: Some(t0() + SignedDuration::from_secs(1)),
        ..quiet()
    };
    let mut r = rollout(HA, JUMBO, "", settings);
    drive(&mut r, &mut all_ok(600), true);
    assert_eq!(status_of(&r, "ha-a").0, Status::Succeeded);
}

#[test]
fn the_first_batch_waits_for_the_start_not_before_time() {
    let start = t0() + SignedDuration::from_secs(3600);
    let settings = Settings {
        not_before: Some(start),
        ..quiet()
    };
    let mut r = rollout("a,,192.0.2.1,R81.20,,1\n", JUMBO, "", settings);
    let record = drive(&mut r, &mut all_ok(5), true);
    assert_eq!(started_at(&record, &r, "a"), Some(start));
}

#[test]
fn a_paused_run_waits_for_approval_between_batches() {
    let rows = "a,,192.0.2.1,R81.20,,1\nb,,192.0.2.2,R81.20,,2\n";
    let settings = Settings {
        pause_after_batch: true,
        ..quiet()
    };
    let mut r = rollout(rows, JUMBO, "", settings.clone());
    let record = drive(&mut r, &mut all_ok(5), false);
    assert!(!r.is_finished());
    assert!(matches!(
        record.events.last(),
        Some(Event::AwaitingApproval { next_batch: 2, .. })
    ));
    assert!(r.status(cdt_core::rollout::TargetId(1)).is_none());
    let mut r = rollout(rows, JUMBO, "", settings);
    drive(&mut r, &mut all_ok(5), true);
    assert_eq!(r.totals().succeeded, 2);
}

#[test]
fn cancel_stops_new_work_and_lets_work_in_flight_finish() {
    let rows = "a,,192.0.2.1,R81.20,,1\nb,,192.0.2.2,R81.20,,2\n";
    let mut r = rollout(rows, JUMBO, "", quiet());
    drive_with(
        &mut r,
        &mut all_ok(5),
        &mut |e, _| matches!(e, Event::TargetStarted { .. }),
        true,
    );
    assert_eq!(status_of(&r, "a").0, Status::Succeeded);
    assert_eq!(
        status_of(&r, "b"),
        (Status::NotStarted, Some("cancelled".into()))
    );
}

#[test]
fn basic_mode_runs_scripts_agent_update_send_import_install_policy() {
    let config = PrimaryConfig::parse(
        &format!(r#"<CentralDeploymentTool><PackageToInstall Path="{JUMBO}"/><CPUSE Path="/p/agent.tgz"/>
            <PreInstallationScript Path="/s/pre.sh" IsBlocking="false"/><PostInstallationScript Path="/s/post.sh"/></CentralDeploymentTool>"#),
        None,
    )
    .unwrap();
    let mut r = Rollout::new(RolloutSpec {
        list: list("gw,,192.0.2.1,R81.20,,1\n"),
        package: Package::from_path(JUMBO).unwrap(),
        work: Work::from_config(&config, None).unwrap(),
        settings: quiet(),
    })
    .unwrap();
    let record = drive(
        &mut r,
        &mut fail_on("gw", "execute_script", Outcome::Exited(1)),
        true,
    );
    assert_eq!(
        record.steps(&r),
        [
            "gw:execute_script",
            "gw:update_cpuse",
            "gw:send_package",
            "gw:import_package",
            "gw:install_package",
            "gw:install_policy",
            "gw:execute_script"
        ]
    );
    assert_eq!(
        status_of(&r, "gw"),
        (Status::Failed, Some("step_failed".into())),
        "the blocking post-script failed"
    );
}

#[test]
fn rows_without_a_batch_are_skipped_with_their_reason() {
    let rows = "a,,192.0.2.1,R81.20,,-\nb,,192.0.2.2,R81.10,,N/A\nc,,192.0.2.3,R81.20 Take 89,,Installed\n";
    let mut r = rollout(rows, JUMBO, "", quiet());
    drive(&mut r, &mut all_ok(5), true);
    assert_eq!(
        status_of(&r, "a"),
        (Status::Skipped, Some("excluded".into()))
    );
    assert_eq!(
        status_of(&r, "b"),
        (Status::Skipped, Some("not_applicable".into()))
    );
    assert_eq!(
        status_of(&r, "c"),
        (Status::Skipped, Some("already_installed".into()))
    );
    assert!(r.is_finished());
}

#[test]
fn clusters_the_rules_cannot_keep_safe_are_refused() {
    let build = |rows: &str| {
        Rollout::new(RolloutSpec {
            list: list(rows),
            package: Package::from_path(JUMBO).unwrap(),
            work: Work::Plan {
                plan: plan(JUMBO, ""),
                cpuse_agent: None,
            },
            settings: quiet(),
        })
        .map(drop)
        .unwrap_err()
        .to_string()
    };
    let e = build("ha-a,ha,192.0.2.1,R81.20,Active,1\nha-b,ha,192.0.2.2,R81.20,Standby,-\n");
    assert!(e.contains("first-wave member is excluded"), "{e}");
    let e = build("ha-a,ha,192.0.2.1,R81.20,Active,1\nha-b,ha,192.0.2.2,R81.20,Standby,2\n");
    assert!(e.contains("different batches"), "{e}");
    let e = build("ha-a,ha,192.0.2.1,R81.20,Active,1\nha-b,ha,192.0.2.2,R81.20,Active,1\n");
    assert!(e.contains("exactly one Active"), "{e}");
    let e = build("ha-a,ha,192.0.2.1,R81.20,Active,1\nha-b,ha,192.0.2.2,R81.20,Down,1\n");
    assert!(e.contains("Down"), "{e}");
}

#[test]
fn an_outcome_for_an_unknown_action_is_an_error() {
    let mut r = rollout("a,,192.0.2.1,R81.20,,1\n", JUMBO, "", quiet());
    r.start(t0());
    let action = r.poll_action().unwrap();
    r.handle_outcome(action.id, Outcome::Ok, t0()).unwrap();
    assert!(r.handle_outcome(action.id, Outcome::Ok, t0()).is_err());
}

#[test]
fn the_event_stream_of_a_small_run_reads_as_a_story() {
    let rows = format!("gw,,192.0.2.9,R81.20,,1\n{HA}gw2,,192.0.2.8,R81.10,,N/A\n");
    let mut r = rollout(&rows, JUMBO, "", quiet());
    let record = drive(&mut r, &mut all_ok(5), true);
    let lines: Vec<String> = record
        .events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    insta::assert_snapshot!("small_run_events", lines.join("\n"));
    assert_eq!(r.totals().succeeded, 3);
    assert_eq!(r.totals().skipped, 1);
}

#[test]
fn unknown_status_reasons_are_stable_codes() {
    assert_eq!(StatusReason::WindowClosed.code(), "window_closed");
    assert_eq!(StatusReason::ClusterStopped.code(), "cluster_stopped");
}
