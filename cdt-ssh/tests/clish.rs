//! Gateways whose login shell is clish (the test fleet emulates Gaia's prompts): the transport
//! types `expert` and its password over a terminal, and callers see the same results as on an
//! Expert login.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cdt_core::model::inventory::InventoryFormat;
use cdt_core::sim::FleetFile;
use cdt_core::transport::{Connector, Session, TransportError};
use cdt_ssh::{SshConnector, SshSettings, Target};
use cdt_testfleet::{EXPERT_PASSWORD, Options, TestFleet};

const FLEET: &str = r#"
start = "2026-12-01T01:00:00Z"

[latency]
command = 0.5

[[gateways]]
name = "gw-1"
address = "192.0.2.1"
version = "R81.20"
take = 41
"#;

fn fleet() -> TestFleet {
    let file = FleetFile::parse(FLEET, InventoryFormat::Toml, None).unwrap();
    let options = Options {
        clish: vec!["gw-1".into()],
        ..Options::default()
    };
    TestFleet::start_with(&file, 60.0, &options).unwrap()
}

fn settings(fleet: &TestFleet, expert: Option<&str>) -> SshSettings {
    let targets = BTreeMap::from([(
        "gw-1".to_string(),
        Target::new(fleet.address("gw-1").unwrap().ip().to_string()).with_clish(),
    )]);
    let mut s = common::settings(
        targets,
        common::key(&fleet.client_key()),
        &fleet.known_hosts(),
    );
    s.expert_password = expert.map(|p| p.to_string().into());
    s
}

async fn connect(settings: SshSettings) -> Result<Arc<dyn Session>, TransportError> {
    tokio::time::timeout(
        Duration::from_secs(30),
        SshConnector::new(settings).connect("gw-1"),
    )
    .await
    .expect("the connection attempt ended")
}

#[tokio::test]
async fn commands_run_in_the_expert_shell_with_their_exit_status() {
    let fleet = fleet();
    let session = connect(settings(&fleet, Some(EXPERT_PASSWORD)))
        .await
        .unwrap();
    let out = session.exec("fw ver").await.unwrap();
    assert_eq!(out.exit, Some(0), "{out:?}");
    // Exactly what the command printed: no prompt, no echo, no carriage return.
    let text = out.stdout.trim_start();
    assert!(
        text.starts_with("This is Check Point's software version R81.20 - Build "),
        "{text:?}"
    );
    assert_eq!(text.lines().count(), 1, "{text:?}");
    assert!(
        !text.contains('\r') && !text.contains("Expert@"),
        "{text:?}"
    );
    let out = session.exec("clish -c 'show nonsense'").await.unwrap();
    assert_eq!(out.exit, Some(1), "{out:?}");
    assert!(out.stdout.contains("CLINFR0329"), "{out:?}");
    // Calls take turns on the one terminal.
    let (a, b, c) = tokio::join!(
        session.exec("fw ver"),
        session.exec("cpwd_admin list"),
        session.exec("sha256sum /nonexistent")
    );
    assert_eq!(a.unwrap().exit, Some(0));
    assert!(b.unwrap().stdout.contains("FWD"));
    assert_eq!(c.unwrap().exit, Some(1));
}

#[tokio::test]
async fn files_copy_both_ways_in_base64_over_the_terminal() {
    let fleet = fleet();
    let session = connect(settings(&fleet, Some(EXPERT_PASSWORD)))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("blob");
    let content: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 256) as u8).collect();
    std::fs::write(&local, &content).unwrap();
    session.put(&local, "/var/tmp/blob").await.unwrap();
    let sum = session.exec("sha256sum /var/tmp/blob").await.unwrap();
    assert!(
        sum.stdout.contains(&cdt_core::digest::sha256_hex(&content)),
        "{sum:?}"
    );
    let back = dir.path().join("back");
    session.get("/var/tmp/blob", &back).await.unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), content);
}

#[tokio::test]
async fn a_wrong_or_missing_expert_password_is_an_auth_error() {
    let fleet = fleet();
    for password in [Some("not-it"), None] {
        let Err(e) = connect(settings(&fleet, password)).await else {
            panic!("reached the Expert shell with {password:?}")
        };
        assert!(
            matches!(&e, TransportError::Auth { host, .. } if host == "gw-1"),
            "{e:?}"
        );
        assert!(!format!("{e:?}").contains("not-it"));
    }
}
