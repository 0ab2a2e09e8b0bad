//! The `cdt` command line: exit statuses and the error formats operators and scripts rely on.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn fixtures() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures"))
}

fn cdt(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cdt"))
        .args(args)
        .output()
        .expect("cdt runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 path")
}

/// Rows of a fixture folder's EXPECTED.tsv.
fn expected(dir: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(dir.join("EXPECTED.tsv"))
        .expect("EXPECTED.tsv")
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// `cdt candidates generate --inventory FLEET ARGS…` on the sample fleet (`fleet` names its file).
fn generate(fleet: &str, args: &[&str]) -> Output {
    let fleet = fixtures().join("inventories").join(fleet);
    let mut all = vec!["candidates", "generate", "--inventory", path_str(&fleet)];
    all.extend_from_slice(args);
    cdt(&all)
}

/// Asserts that the command's standard error contains `needle`.
#[track_caller]
fn assert_stderr_has(out: &Output, needle: &str) {
    let stderr = text(&out.stderr);
    assert!(stderr.contains(needle), "expected {needle:?} in: {stderr}");
}

const JUMBO_89: &str = "/var/packages/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz";

#[test]
fn checking_a_good_plan_exits_0_and_summarises_it() {
    let plan = fixtures().join("plans/good/full.xml");
    let out = cdt(&["plan", "check", path_str(&plan)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("valid plan"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn every_bad_plan_exits_1_with_file_line_column_and_message() {
    for (dir, kind) in [("plans/bad", "plan"), ("configs/bad", "config")] {
        let dir = fixtures().join(dir);
        for row in expected(&dir) {
            let (file, line, column, message) = (&row[0], &row[2], &row[3], &row[4]);
            let path = dir.join(file);
            let out = cdt(&[kind, "check", path_str(&path)]);
            assert_eq!(out.status.code(), Some(1), "{file}");
            let stderr = text(&out.stderr);
            let prefix = format!("{}:{line}:{column}: ", path.display());
            assert!(
                stderr.starts_with(&prefix) && stderr.contains(message.as_str()),
                "{file}: expected {prefix}…{message}…, got {stderr}"
            );
        }
    }
}

#[test]
fn a_config_with_an_unknown_element_warns_and_strict_refuses_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("CentralDeploymentTool.xml");
    std::fs::write(
        &path,
        "<CentralDeploymentTool>\n  <BatchEndTme value=\"2026-12-01T06:00:00+01:00\"/>\n</CentralDeploymentTool>\n",
    )
    .expect("write");
    let out = cdt(&["config", "check", path_str(&path)]);
    assert!(out.status.success());
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!("{}:2:3: ", path.display())),
        "{stderr}"
    );
    assert!(stderr.contains("BatchEndTme"), "{stderr}");
    let strict = cdt(&["config", "check", "--strict", path_str(&path)]);
    assert_eq!(strict.status.code(), Some(1));
}

#[test]
fn generating_prints_the_list_and_a_summary() {
    let out = generate("sample-fleet.toml", &["--package", JUMBO_89]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.starts_with("Object Name , Cluster Name, IP Address"),
        "{stdout}"
    );
    assert!(stdout.contains("\r\n"));
    assert_stderr_has(&out, "17 rows");
}

#[test]
fn generating_from_a_plan_uses_its_first_package() {
    let plan = fixtures().join("plans/good/minimal.xml");
    let out = generate("sample-fleet.toml", &["--plan", path_str(&plan), "--json"]);
    // The minimal plan has no package action: nothing to generate a list for.
    assert_eq!(out.status.code(), Some(1));
    assert_stderr_has(&out, "names no package");
    let full = fixtures().join("plans/good/full.xml");
    let out = generate("sample-fleet.toml", &["--plan", path_str(&full), "--json"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_stderr_has(&out, "R81.20 Jumbo Take 99");
    let json: serde_json::Value = serde_json::from_str(&text(&out.stdout)).expect("JSON list");
    assert_eq!(json["rows"].as_array().map(Vec::len), Some(17));
}

#[test]
fn generating_from_a_basic_mode_config_uses_its_package_to_install() {
    let config = fixtures().join("configs/good/basic.xml");
    let out = generate("sample-fleet.json", &["--config", path_str(&config)]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_stderr_has(&out, "R81.20 Jumbo Take 99");
}

#[test]
fn a_package_name_that_cannot_be_understood_is_refused() {
    let out = generate("sample-fleet.toml", &["--package", "/tmp/mystery.tgz"]);
    assert_eq!(out.status.code(), Some(1));
    assert_stderr_has(&out, "give its kind explicitly");
}

#[test]
fn filter_and_include_only_shape_the_list_and_unknown_names_warn() {
    let dir = tempfile::tempdir().expect("tempdir");
    let filter = dir.path().join("filter.txt");
    std::fs::write(&filter, "# keep these\ngw-paris\ncl-milan\ngw-typo\n").expect("write");
    let out = generate(
        "sample-fleet.toml",
        &["--package", JUMBO_89, "--include-only", path_str(&filter)],
    );
    assert!(out.status.success());
    let names: Vec<String> = text(&out.stdout)
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap_or_default().trim().to_string())
        .collect();
    assert_eq!(names, ["gw-paris", "milan-a", "milan-b"]);
    assert_stderr_has(&out, "\"gw-typo\"");
}

#[test]
fn validating_edits_exits_0_when_allowed_and_1_with_every_problem_when_not() {
    let dir = tempfile::tempdir().expect("tempdir");
    let generated = dir.path().join("candidates.csv");
    let out = generate(
        "sample-fleet.toml",
        &["--package", JUMBO_89, "--output", path_str(&generated)],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let list = std::fs::read_to_string(&generated).expect("list");
    let set_order = |list: &str, name: &str, order: &str| -> String {
        list.split_inclusive("\r\n")
            .map(|l| {
                if l.split(',').next().unwrap_or_default().trim() == name {
                    format!("{}, {order}\r\n", &l[..l.rfind(',').unwrap_or(0)])
                } else {
                    l.to_string()
                }
            })
            .collect()
    };
    let edited = dir.path().join("edited.csv");
    std::fs::write(&edited, set_order(&list, "lyon-a", "-")).expect("write");
    let ok = cdt(&[
        "candidates",
        "validate",
        "--generated",
        path_str(&generated),
        path_str(&edited),
    ]);
    assert!(ok.status.success(), "{}", text(&ok.stderr));

    let bad = set_order(&set_order(&list, "lyon-b", "-"), "gw-rome", "2");
    std::fs::write(&edited, bad).expect("write");
    let out = cdt(&[
        "candidates",
        "validate",
        "--generated",
        path_str(&generated),
        path_str(&edited),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    let e = edited.display();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].starts_with(&format!("{e}:5: object gw-rome: ")),
        "{stderr}"
    );
    assert!(
        lines[1].starts_with(&format!("{e}:9: object lyon-b: ")),
        "{stderr}"
    );
}

#[test]
fn every_bad_candidates_list_is_refused_with_file_line_and_object() {
    let dir = fixtures().join("candidates/bad");
    for row in expected(&dir) {
        let (file, line, object, message) = (&row[0], &row[2], &row[3], &row[4]);
        let path = dir.join(file);
        let out = cdt(&[
            "candidates",
            "validate",
            "--generated",
            path_str(&path),
            path_str(&path),
        ]);
        assert_eq!(out.status.code(), Some(1), "{file}");
        let stderr = text(&out.stderr);
        let prefix = if object == "-" {
            format!("{}:{line}: ", path.display())
        } else {
            format!("{}:{line}: object {object}: ", path.display())
        };
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&prefix) && l.contains(message.as_str())),
            "{file}: expected {prefix}…{message}…, got {stderr}"
        );
    }
}

#[test]
fn a_usage_error_exits_2() {
    assert_eq!(cdt(&["candidates", "validate"]).status.code(), Some(2));
    assert_eq!(cdt(&["plan"]).status.code(), Some(2));
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let out = cdt(&["plan", "check", "/nonexistent/plan.xml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).starts_with("/nonexistent/plan.xml: "),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn resuming_a_run_made_from_another_face_names_that_face_and_how_it_resumes() {
    use cdt_core::candidates::generate::{GenerateOptions, generate};
    use cdt_core::model::Package;
    use cdt_core::rollout::RolloutSpec;
    use cdt_core::run::{Prepared, RunInfo};
    use cdt_core::sim::FleetFile;
    let dir = tempfile::tempdir().unwrap();
    let fleet = FleetFile::load(&fixtures().join("fleets/ssh-fleet.toml")).unwrap();
    let package = dir
        .path()
        .join("Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz");
    std::fs::write(&package, "the package\n").unwrap();
    let package = Package::from_path(&package).unwrap();
    for (face, how) in [
        ("c", "cdt_deployment_resume"),
        ("python", "cdt.Deployment.resume"),
    ] {
        let run = dir.path().join(face);
        let list = generate(&fleet.inventory(), &package, &GenerateOptions::default()).list;
        // What the C library and the Python module record of a transport of their own.
        let info = RunInfo {
            ssh: Some(serde_json::json!({"face": face, "transport": face})),
            ..RunInfo::for_fleet(&fleet)
        };
        let plan = cdt_core::formats::plan::Plan::parse(
            &format!(
                r#"<CDT_Deployment_Plan><plan_settings/><install_package path="/var/tmp/{}"/></CDT_Deployment_Plan>"#,
                package.file_name()
            ),
            None,
        )
        .unwrap();
        let spec = RolloutSpec::with_plan(list, package.clone(), plan);
        Prepared::fresh(&run, info, spec).unwrap();
        let out = cdt(&["resume", path_str(&run)]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert_stderr_has(&out, &format!("this run was made from {face}"));
        assert_stderr_has(&out, how);
    }
}
