//! Reports built from a run's events: report.json's shape, skipped steps, results.csv and the
//! status files.

mod common;

use cdt_core::candidates::CandidatesList;
use cdt_core::formats::plan::Plan;
use cdt_core::model::Package;
use cdt_core::report::ReportBuilder;
use cdt_core::rollout::{FailureBudget, Outcome, Rollout, RolloutSpec, Settings, Work};
use common::drive::{drive, subject_name};

const JUMBO: &str = "/p/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz";

fn rollout() -> Rollout {
    let list = CandidatesList::parse_csv(
        "Object Name,Cluster Name,IP Address,Version/JHF Take,State,Upgrade Order\n\
         gw-1,,192.0.2.1,R81.20,,1\n\
         gw-2,,192.0.2.2,R81.20,,1\n\
         ha-a,ha,192.0.2.3,R81.20,Active,1\n\
         ha-b,ha,192.0.2.4,R81.20,Standby,1\n\
         gw-3,,192.0.2.5,R81.10,,N/A\n",
        None,
    )
    .unwrap();
    let plan = Plan::parse(
        &format!(
            r#"<CDT_Deployment_Plan><plan_settings><update_cpuse value="false"/></plan_settings>
               <execute_command command="fw stat"/><create_snapshot name="s"/><install_package path="{JUMBO}"/></CDT_Deployment_Plan>"#
        ),
        None,
    )
    .unwrap();
    Rollout::new(RolloutSpec {
        list,
        package: Package::from_path(JUMBO).unwrap(),
        work: Work::Plan {
            plan,
            cpuse_agent: None,
        },
        settings: Settings {
            failure_budget: FailureBudget::Count(5),
            check_state: false,
            ..Settings::default()
        },
    })
    .unwrap()
}

fn report() -> cdt_core::report::Report {
    let mut r = rollout();
    let mut builder = ReportBuilder::new(&r);
    let record = drive(
        &mut r,
        &mut |r, a| {
            if subject_name(r, a) == "gw-2" && a.step.name() == "execute_command" {
                (Outcome::Exited(3), 10)
            } else {
                (Outcome::Ok, 10)
            }
        },
        true,
    );
    for e in &record.events {
        builder.record_rollout(e);
    }
    builder.report().clone()
}

#[test]
fn report_json_is_the_report_with_one_line_per_target_and_per_cluster() {
    let report = report();
    let text = report.to_json();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json, serde_json::to_value(&report).unwrap());
    for t in &report.targets {
        let name = format!("{{\"name\":\"{}\",", t.name);
        let lines: Vec<&str> = text.lines().filter(|l| l.contains(&name)).collect();
        assert_eq!(lines.len(), 1, "{}: {lines:?}", t.name);
        let line = lines[0].trim().trim_end_matches(',');
        let alone: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(alone, serde_json::to_value(t).unwrap());
    }
    assert!(!report.clusters.is_empty());
    assert_eq!(
        text.lines()
            .filter(|l| l.trim_start().starts_with("{\"name\"") && l.contains("\"kind\""))
            .count(),
        report.clusters.len()
    );
}

#[test]
fn each_target_line_of_report_json_is_the_target_as_serde_writes_it() {
    let mut report = report();
    // Every kind of field: nulls, a step not finished, quotes and control characters.
    let mut odd = report.targets[0].clone();
    odd.name = "gw \"odd\"\\ ü".into();
    odd.cluster = None;
    odd.batch = None;
    odd.role = Some("Active\tnow".into());
    odd.status = None;
    odd.reason = Some("line\nbreak".into());
    if let Some(step) = odd.steps.first_mut() {
        step.finished_at = None;
        step.error = Some("said \"no\"\u{1}".into());
    }
    report.targets.push(odd);
    let text = report.to_json();
    for t in &report.targets {
        let line = serde_json::to_string(t).unwrap();
        assert!(
            text.lines()
                .any(|l| l.trim_start().trim_end_matches(',') == line),
            "{}: no line {line}",
            t.name
        );
    }
}

#[test]
fn report_json_has_targets_clusters_and_totals() {
    let json: serde_json::Value = serde_json::from_str(&report().to_json()).unwrap();
    let keys: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in ["targets", "clusters", "totals"] {
        assert!(keys.contains(&key), "{keys:?}");
    }
    let gw1 = &json["targets"][0];
    assert_eq!(gw1["name"], "gw-1");
    assert_eq!(gw1["cluster"], serde_json::Value::Null);
    assert_eq!(gw1["status"], "succeeded");
    assert_eq!(gw1["steps"][0]["action"], "execute_command");
    assert_eq!(gw1["steps"][0]["attempts"], 1);
    assert!(
        gw1["steps"][0]["started_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-12-01T01:00:00")
    );
    let ha_a = &json["targets"][2];
    assert_eq!(
        (ha_a["cluster"].as_str(), ha_a["role"].as_str()),
        (Some("ha"), Some("Active"))
    );
    assert_eq!(json["clusters"][0]["kind"], "clusterxl_ha");
    assert_eq!(json["clusters"][0]["steps"][0]["action"], "failover");
    assert_eq!(json["totals"]["succeeded"], 3);
    assert_eq!(json["targets"][4]["reason"], "not_applicable");
}

#[test]
fn steps_after_a_critical_failure_are_reported_skipped() {
    let r = report();
    let gw2 = &r.targets[1];
    let steps: Vec<(&str, &str)> = gw2
        .steps
        .iter()
        .map(|s| (&*s.action, &*s.outcome))
        .collect();
    assert_eq!(
        steps,
        [
            ("execute_command", "failed"),
            ("create_snapshot", "skipped"),
            ("install_package", "skipped"),
            ("install_policy", "skipped")
        ]
    );
    assert_eq!(gw2.steps[0].error.as_deref(), Some("exit status 3"));
    assert_eq!(gw2.reason.as_deref(), Some("step_failed"));
}

#[test]
fn results_csv_has_one_row_per_target() {
    let csv = report().results_csv();
    let lines: Vec<&str> = csv.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 6, "{csv}");
    assert!(lines[0].starts_with("Object Name,Cluster Name,Batch,Role,Status,Reason"));
    assert!(
        lines[2].starts_with("gw-2,,1,,failed,step_failed,"),
        "{}",
        lines[2]
    );
}

#[test]
fn the_status_files_count_and_list_every_target() {
    let r = report();
    assert_eq!(
        r.status_brief(),
        "succeeded 3 failed 1 unreachable 0 skipped 1 not_started 0 running 0 waiting 0\n"
    );
    let text = r.status_text();
    assert_eq!(text.lines().count(), 6);
    assert!(text.contains("gw-2    1      failed"), "{text}");
}

#[test]
fn a_step_started_but_not_finished_says_so() {
    let mut r = rollout();
    let mut builder = ReportBuilder::new(&r);
    r.start(common::drive::t0());
    while let Some(e) = r.poll_event() {
        builder.record_rollout(&e);
    }
    let report = builder.report();
    let started: Vec<_> = report.targets.iter().flat_map(|t| &t.steps).collect();
    assert!(!started.is_empty());
    for step in started {
        assert_eq!(step.finished_at, None);
        assert_eq!(
            step.error.as_deref(),
            Some("not finished when this report was written"),
            "{step:?}"
        );
    }
}
