//! The primary configuration `CentralDeploymentTool.xml` (SPEC 2.1): every element and path
//! spelling, mode selection, unknown elements, every refusal with its location, comments and
//! canonical writing.

// Helpers outside #[test] functions panic on purpose: a failed expectation is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use cdt_core::formats::config::{
    BatchEndTime, LogLevel, Logging, Mode, PackageToInstall, PrimaryConfig, UserScript,
};
use cdt_core::{Error, ErrorKind};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures");

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

fn load_good(name: &str) -> PrimaryConfig {
    PrimaryConfig::load(&fixture(&format!("configs/good/{name}"))).expect("good fixture parses")
}

/// A configuration whose root holds `body`; the body starts on line 3.
fn config_xml(body: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<CentralDeploymentTool>\n{body}</CentralDeploymentTool>\n"
    )
}

fn parse(body: &str) -> PrimaryConfig {
    PrimaryConfig::parse(&config_xml(body), None).expect("config parses")
}

/// Parses and expects an error: (kind, line, column, message).
fn error_of(text: &str) -> (ErrorKind, u32, u32, String) {
    let err = PrimaryConfig::parse(text, None).expect_err("input must be refused");
    let d = err.diagnostics().first().expect("error is located").clone();
    (
        err.kind(),
        d.location.line,
        d.location.column.unwrap_or(0),
        d.message,
    )
}

#[test]
fn every_known_element_parses() {
    let c = load_good("basic.xml");
    assert_eq!(
        c.package_to_install,
        Some(PackageToInstall {
            path: "/home/admin/CDT/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T99.tar".into(),
            connectivity_upgrade: Some(false),
            comments: vec![" Jumbo take 99; CU off for this maintenance window ".into()],
        })
    );
    assert_eq!(
        c.cpuse,
        Some("/home/admin/CDT/DeploymentAgent_000002600_1.tgz".into())
    );
    let pre: Vec<(&Path, bool)> = c
        .pre_installation_scripts
        .iter()
        .map(|s| (s.path.as_path(), s.is_blocking))
        .collect();
    assert_eq!(
        pre,
        [
            (Path::new("/home/admin/CDT/pre_check.sh"), true),
            (Path::new("/home/admin/CDT/pre_backup.sh"), false)
        ]
    );
    assert_eq!(
        c.post_installation_scripts,
        [UserScript::new("/home/admin/CDT/post_check.sh")]
    );
    assert_eq!(
        c.logging,
        Some(Logging {
            file_level: Some(LogLevel::Debug),
            screen_level: Some(LogLevel::Normal),
            syslog_level: Some(LogLevel::Error),
            colors: Some(true),
            comments: vec![],
        })
    );
    assert!(c.debug.as_ref().unwrap().cu_sync_for_vrrp);
    let end = c.batch_end_time.as_ref().unwrap();
    assert_eq!(end.timestamp, "2026-12-01T05:00:00Z".parse().unwrap());
    assert_eq!(end.to_string(), "2026-12-01T06:00:00+01:00");
    assert!(c.unknown_elements.is_empty());
    assert!(c.warnings().is_empty());
}

#[test]
fn mode_is_basic_when_a_package_is_configured() {
    assert_eq!(load_good("basic.xml").mode(), Mode::Basic);
    assert_eq!(
        parse("  <PackageToInstall Path=\"/p.tar\"/>\n").mode(),
        Mode::Basic
    );
}

#[test]
fn mode_is_basic_when_only_a_pre_installation_script_is_configured() {
    assert_eq!(
        parse("  <PreInstallationScript Path=\"/pre.sh\"/>\n").mode(),
        Mode::Basic
    );
}

#[test]
fn mode_is_advanced_without_package_or_pre_installation_script() {
    assert_eq!(load_good("advanced.xml").mode(), Mode::Advanced);
    assert_eq!(load_good("minimal.xml").mode(), Mode::Advanced);
    assert_eq!(
        parse("  <PostInstallationScript Path=\"/post.sh\"/>\n").mode(),
        Mode::Advanced
    );
}

#[test]
fn cpuse_path_is_accepted_as_path_attribute_value_attribute_or_element_text() {
    for body in [
        "  <CPUSE Path=\"/a/cpuse.tgz\"/>\n",
        "  <CPUSE value=\"/a/cpuse.tgz\"/>\n",
        "  <CPUSE>/a/cpuse.tgz</CPUSE>\n",
        "  <CPUSE>\n     /a/cpuse.tgz\n  </CPUSE>\n",
    ] {
        assert_eq!(parse(body).cpuse, Some("/a/cpuse.tgz".into()), "{body}");
    }
}

#[test]
fn script_paths_are_accepted_as_path_attribute_value_attribute_or_element_text() {
    for element in ["PreInstallationScript", "PostInstallationScript"] {
        for body in [
            format!("  <{element} Path=\"/s.sh\" IsBlocking=\"false\"/>\n"),
            format!("  <{element} value=\"/s.sh\" IsBlocking=\"false\"/>\n"),
            format!("  <{element} IsBlocking=\"false\">/s.sh</{element}>\n"),
        ] {
            let c = parse(&body);
            let scripts = if element.starts_with("Pre") {
                &c.pre_installation_scripts
            } else {
                &c.post_installation_scripts
            };
            assert_eq!(scripts.len(), 1, "{body}");
            assert_eq!(
                (scripts[0].path.as_path(), scripts[0].is_blocking),
                (Path::new("/s.sh"), false)
            );
        }
    }
}

#[test]
fn path_given_two_ways_is_an_error_at_the_second() {
    let e = error_of(&config_xml("  <CPUSE value=\"/a.tgz\">/b.tgz</CPUSE>\n"));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Config, 3, 25));
    assert!(e.3.contains("more than one way"));
}

#[test]
fn is_blocking_defaults_to_true() {
    let c = parse("  <PostInstallationScript Path=\"/s.sh\"/>\n");
    assert!(c.post_installation_scripts[0].is_blocking);
}

#[test]
fn connectivity_upgrade_accepts_both_spellings_and_defaults_to_true() {
    assert!(
        !parse("  <PackageToInstall Path=\"/p\" ConnectivityUpgrade=\"false\"/>\n")
            .connectivity_upgrade()
    );
    assert!(
        !parse("  <PackageToInstall Path=\"/p\" connectivityupgrade=\"FALSE\"/>\n")
            .connectivity_upgrade()
    );
    assert!(parse("  <PackageToInstall Path=\"/p\"/>\n").connectivity_upgrade());
    assert!(PrimaryConfig::default().connectivity_upgrade());
}

#[test]
fn log_levels_are_case_insensitive_and_serialise_in_upper_case() {
    let c = parse("  <Logging FileLevel=\"always\" ScreenLevel=\"Debug\"/>\n");
    let logging = c.logging.unwrap();
    assert_eq!(
        (logging.file_level, logging.screen_level),
        (Some(LogLevel::Always), Some(LogLevel::Debug))
    );
    assert_eq!(logging.syslog_level, None);
    assert_eq!(
        serde_json::to_string(&LogLevel::Error).unwrap(),
        "\"ERROR\""
    );
    assert_eq!(
        serde_json::from_str::<LogLevel>("\"normal\"").unwrap(),
        LogLevel::Normal
    );
    assert!(serde_json::from_str::<LogLevel>("\"LOUD\"").is_err());
}

#[test]
fn unknown_elements_are_kept_verbatim_and_reported_as_located_warnings() {
    let path = fixture("configs/good/advanced.xml");
    let c = PrimaryConfig::load(&path).unwrap();
    assert_eq!(c.unknown_elements.len(), 1);
    let u = &c.unknown_elements[0];
    assert_eq!(u.name(), "MaxParallelTargets");
    assert_eq!(
        u.raw_xml(),
        "<MaxParallelTargets value=\"20\"><!-- inner note --></MaxParallelTargets>"
    );
    assert_eq!(u.comments, [" a setting of a newer CDT "]);
    let warnings = c.warnings();
    assert_eq!(warnings.len(), 1);
    assert_eq!(
        warnings[0].to_string(),
        format!(
            "{}:8:5: unknown element <MaxParallelTargets> is kept but not used",
            path.display()
        )
    );
    assert!(c.to_xml().contains(
        "    <MaxParallelTargets value=\"20\"><!-- inner note --></MaxParallelTargets>\n"
    ));
}

#[test]
fn element_names_are_case_sensitive_so_a_misspelling_is_an_unknown_element() {
    let c = parse("  <batchEndTime value=\"2026-12-01T06:00:00Z\"/>\n");
    assert!(c.batch_end_time.is_none());
    assert_eq!(c.unknown_elements[0].name(), "batchEndTime");
}

#[test]
fn execute_refuses_unknown_elements_unless_allowed() {
    let c = parse("  <CPUSE Path=\"/c.tgz\"/>\n  <batchEndTime value=\"2026-12-01T06:00:00Z\"/>\n");
    let err = c.check_for_execute(false).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Config);
    let d = &err.diagnostics()[0];
    assert_eq!((d.location.line, d.location.column), (4, Some(3)));
    assert!(d.message.contains("<batchEndTime>"));
    assert!(c.check_for_execute(true).is_ok());
    assert!(load_good("basic.xml").check_for_execute(false).is_ok());
}

#[test]
fn good_fixtures_parse_and_round_trip() {
    let mut count = 0;
    for entry in std::fs::read_dir(fixture("configs/good")).unwrap() {
        let path = entry.unwrap().path();
        let c = PrimaryConfig::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let written = c.to_xml();
        let again = PrimaryConfig::parse(&written, None).unwrap();
        assert_eq!(again, c, "{}", path.display());
        assert_eq!(again.to_xml(), written);
        count += 1;
    }
    assert!(count >= 3);
}

#[test]
fn malformed_xml_is_a_located_xml_error() {
    let e = error_of(&config_xml("  <CPUSE Path=\"/a\"></Cpuse>\n"));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Xml, 3, 20));
    let e = error_of(&config_xml("  <CPUSE Path=/a/>\n"));
    assert_eq!((e.0, e.1), (ErrorKind::Xml, 3));
}

#[test]
fn wrong_root_is_a_located_config_error() {
    let e = error_of("<CDT_Deployment_Plan>\n</CDT_Deployment_Plan>\n");
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Config, 1, 1));
}

#[test]
fn unknown_attribute_on_a_known_element_is_an_error_at_the_attribute() {
    let e = error_of(&config_xml(
        "  <Logging FileLevel=\"DEBUG\" Colour=\"true\"/>\n",
    ));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Config, 3, 30));
    assert!(e.3.contains("unknown attribute \"Colour\" on <Logging>"));
}

#[test]
fn missing_required_attribute_is_an_error_at_the_element() {
    let e = error_of(&config_xml("  <BatchEndTime/>\n"));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Config, 3, 3));
    assert!(e.3.contains("needs a value attribute"));
}

#[test]
fn single_valued_element_given_twice_is_an_error_at_the_second() {
    for element in [
        "CPUSE Path=\"/c\"",
        "Debug",
        "Logging",
        "PackageToInstall Path=\"/p\"",
    ] {
        let e = error_of(&config_xml(&format!("  <{element}/>\n  <{element}/>\n")));
        assert_eq!((e.0, e.1, e.2), (ErrorKind::Config, 4, 3), "{element}");
        assert!(
            e.3.contains("given twice (first at line 3, column 3)"),
            "{}",
            e.3
        );
    }
}

#[test]
fn non_boolean_in_a_boolean_is_an_error_at_the_attribute() {
    let e = error_of(&config_xml(
        "  <PreInstallationScript Path=\"/s\" IsBlocking=\"no\"/>\n",
    ));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Config, 3, 36));
    assert!(e.3.contains("IsBlocking must be \"true\" or \"false\", not \"no\""));
}

#[test]
fn relative_path_is_an_error_at_the_attribute() {
    let e = error_of(&config_xml("  <PackageToInstall Path=\"jhf.tar\"/>\n"));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Config, 3, 21));
    assert!(e.3.contains("must be an absolute path, not \"jhf.tar\""));
}

#[test]
fn batch_end_time_without_offset_is_a_located_error() {
    let e = error_of(&config_xml(
        "  <BatchEndTime value=\"2026-12-01T06:00:00\"/>\n",
    ));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Config, 3, 17));
    assert!(e.3.contains("has no UTC offset"));
}

#[test]
fn batch_end_time_keeps_the_offset_as_written() {
    let c = parse("  <BatchEndTime value=\"2026-12-01T06:00:00-05:00\"/>\n");
    assert!(
        c.to_xml()
            .contains("<BatchEndTime value=\"2026-12-01T06:00:00-05:00\"/>")
    );
    let end = BatchEndTime::parse("2026-12-01T06:00:00-05:00").unwrap();
    assert_eq!(c.batch_end_time, Some(end));
}

#[test]
fn doctype_with_entity_declarations_is_refused_at_the_doctype() {
    let e = error_of(
        "<?xml version=\"1.0\"?>\n<!DOCTYPE c [<!ENTITY x \"/a\">]>\n<CentralDeploymentTool/>",
    );
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Xml, 2, 1));
}

#[test]
fn billion_laughs_entity_bomb_is_refused_without_expansion() {
    let text = std::fs::read_to_string(fixture("configs/bad/billion_laughs.xml")).unwrap();
    let e = error_of(&text);
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Xml, 2, 1));
    assert!(e.3.contains("DOCTYPE"));
}

#[test]
fn undefined_entity_reference_is_refused_at_the_reference() {
    let e = error_of(&config_xml("  <CPUSE Path=\"&base;/a.tgz\"/>\n"));
    assert_eq!((e.0, e.1, e.2), (ErrorKind::Xml, 3, 16));
    assert!(e.3.contains("&base;"));
}

#[test]
fn file_over_the_16_mib_cap_is_refused_before_parsing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("CentralDeploymentTool.xml");
    let mut text = config_xml("");
    text.push_str(&" ".repeat(16 * 1024 * 1024 + 1 - text.len()));
    std::fs::write(&path, &text).unwrap();
    assert_eq!(
        PrimaryConfig::load(&path).unwrap_err().kind(),
        ErrorKind::TooLarge
    );
    assert_eq!(
        PrimaryConfig::parse(&text, None).unwrap_err().kind(),
        ErrorKind::TooLarge
    );
}

#[test]
fn comments_survive_parse_write_parse() {
    let c = load_good("basic.xml");
    assert_eq!(
        c.comments.before_root,
        [" CDT primary configuration, site A "]
    );
    assert_eq!(
        c.pre_installation_scripts[0].comments,
        [" runs first, must succeed "]
    );
    assert_eq!(
        c.batch_end_time.as_ref().unwrap().comments,
        [" no new batch after 06:00 Paris time "]
    );
    assert_eq!(c.comments.end_of_root, [" trailing note "]);
    let written = c.to_xml();
    for comment in [
        "<!-- runs first, must succeed -->",
        "<!-- trailing note -->",
    ] {
        assert!(written.contains(comment), "{comment}");
    }
    assert_eq!(PrimaryConfig::parse(&written, None).unwrap(), c);

    let c = parse("  <!-- a -->\n  <CPUSE><!-- b -->/c.tgz</CPUSE>\n  <!-- z -->\n");
    assert_eq!(c.cpuse_comments, [" a ", " b "]);
    assert_eq!(PrimaryConfig::parse(&c.to_xml(), None).unwrap(), c);
}

#[test]
fn save_refuses_values_that_cannot_be_written_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("CentralDeploymentTool.xml");
    let mut c = PrimaryConfig {
        cpuse: Some("relative.tgz".into()),
        ..PrimaryConfig::default()
    };
    assert_eq!(c.save(&target).unwrap_err().kind(), ErrorKind::Config);
    c.cpuse = Some("/ok.tgz".into());
    c.comments.end_of_root.push("a--b".into());
    assert!(c.save(&target).is_err());
    assert!(!target.exists());
    // to_xml stays well-formed even so.
    assert!(PrimaryConfig::parse(&c.to_xml(), None).is_ok());
    c.comments.end_of_root.clear();
    c.save(&target).unwrap();
    assert_eq!(PrimaryConfig::load(&target).unwrap(), c);
}

#[test]
fn written_full_config_snapshot() {
    let mut c = load_good("basic.xml");
    let advanced = load_good("advanced.xml");
    c.unknown_elements = advanced.unknown_elements;
    insta::assert_snapshot!("full_config_written", c.to_xml());
}

#[test]
fn error_display_snapshot() {
    let path = Path::new("/home/admin/CDT/CentralDeploymentTool.xml");
    let inputs = [
        config_xml("  <CPUSE Path=\"/a\"></Cpuse>\n"),
        config_xml("  <PackageToInstall Path=\"jhf.tar\"/>\n"),
        config_xml("  <BatchEndTime value=\"2026-12-01T06:00:00\"/>\n"),
        config_xml("  <Logging/>\n  <Logging/>\n"),
        config_xml("  <Debug CUSyncForVRRP=\"yes\"/>\n"),
        config_xml("  <CPUSE Path=\"&base;/a.tgz\"/>\n"),
    ];
    let shown: Vec<String> = inputs
        .iter()
        .map(|t| PrimaryConfig::parse(t, Some(path)).unwrap_err().to_string())
        .collect();
    insta::assert_snapshot!("config_error_display", shown.join("\n"));
}

#[test]
fn random_mutations_of_a_valid_config_never_panic() {
    // A deterministic sweep: delete each single character of the fixture, and cut it at every
    // position. Every result is Ok or Err.
    let text = std::fs::read_to_string(fixture("configs/good/basic.xml")).unwrap();
    let chars: Vec<char> = text.chars().collect();
    for i in 0..chars.len() {
        let deleted: String = chars
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != i)
            .map(|(_, c)| c)
            .collect();
        let _ = PrimaryConfig::parse(&deleted, None);
        let cut: String = chars[..i].iter().collect();
        assert!(matches!(
            PrimaryConfig::parse(&cut, None),
            Err(Error::Xml(_)) | Ok(_)
        ));
    }
}
