//! The direct SSH connector against real OpenSSH servers (the test fleet): commands, copies,
//! host keys and credentials.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cdt_core::model::inventory::InventoryFormat;
use cdt_core::sim::FleetFile;
use cdt_core::transport::{Connector, Session, TransportError};
use cdt_ssh::{Auth, HostKeyPolicy, SshConnector, SshSettings, Target};
use cdt_testfleet::TestFleet;

const FLEET: &str = r#"
start = "2026-12-01T01:00:00Z"

[latency]
command = 0.5

[[gateways]]
name = "gw-1"
address = "192.0.2.1"
version = "R81.20"
take = 41

[[gateways]]
name = "gw-2"
address = "192.0.2.2"
version = "R81.20"
"#;

fn fleet() -> TestFleet {
    let file = FleetFile::parse(FLEET, InventoryFormat::Toml, None).unwrap();
    TestFleet::start(&file, 60.0).unwrap()
}

fn settings(fleet: &TestFleet, known_hosts: &Path) -> SshSettings {
    let targets: BTreeMap<String, Target> = fleet
        .addresses()
        .into_iter()
        .map(|(name, addr)| (name, Target::new(addr.ip().to_string())))
        .collect();
    common::settings(targets, common::key(&fleet.client_key()), known_hosts)
}

/// Connects to `host`, failing the test if that takes more than 20 seconds (nothing hangs).
async fn connect(settings: SshSettings, host: &str) -> Result<Arc<dyn Session>, TransportError> {
    let connector = SshConnector::new(settings);
    tokio::time::timeout(Duration::from_secs(20), connector.connect(host))
        .await
        .expect("the connection attempt ended")
}

#[tokio::test]
async fn commands_run_with_their_output_and_exit_status() {
    let fleet = fleet();
    let session = connect(settings(&fleet, &fleet.known_hosts()), "gw-1")
        .await
        .unwrap();
    let out = session.exec("fw ver").await.unwrap();
    assert_eq!(out.exit, Some(0), "{out:?}");
    assert!(
        out.stdout
            .starts_with("This is Check Point's software version R81.20")
    );
    let out = session.exec("clish -c 'show nonsense'").await.unwrap();
    assert_eq!(out.exit, Some(1));
    assert!(out.stderr.contains("CLINFR0329"), "{out:?}");
    // Calls on one session overlap: each has its own channel.
    let (a, b) = tokio::join!(session.exec("fw ver"), session.exec("cpwd_admin list"));
    assert_eq!(a.unwrap().exit, Some(0));
    assert!(b.unwrap().stdout.contains("FWD"));
}

#[tokio::test]
async fn files_copy_both_ways_over_exec_when_there_is_no_sftp() {
    let fleet = fleet();
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("script.sh");
    let content: Vec<u8> = (0..=255u8).cycle().take(300_000).collect();
    std::fs::write(&local, &content).unwrap();
    let session = connect(settings(&fleet, &fleet.known_hosts()), "gw-2")
        .await
        .unwrap();
    session.put(&local, "/var/tmp/cdt/script.sh").await.unwrap();
    let sum = session
        .exec("sha256sum /var/tmp/cdt/script.sh")
        .await
        .unwrap();
    assert!(
        sum.stdout
            .starts_with(&cdt_core::digest::sha256_hex(&content)),
        "{sum:?}"
    );
    let back = dir.path().join("back.bin");
    session.get("/var/tmp/cdt/script.sh", &back).await.unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), content);
    let missing = session.get("/var/tmp/nothing", &dir.path().join("x")).await;
    assert!(
        matches!(missing, Err(TransportError::Transfer { .. })),
        "{missing:?}"
    );
    assert!(!dir.path().join("x").exists());
}

#[tokio::test]
async fn an_unknown_host_key_is_refused_naming_the_host() {
    let fleet = fleet();
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("known_hosts");
    let Err(e) = connect(settings(&fleet, &empty), "gw-1").await else {
        panic!("connected to an unknown host")
    };
    let TransportError::HostKey { host, message } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(host, "gw-1");
    assert!(message.contains("SHA256:"), "{message}");
    assert!(
        !empty.exists(),
        "nothing is learnt without trust on first use"
    );
}

#[tokio::test]
async fn trust_on_first_use_learns_the_key_only_when_asked() {
    let fleet = fleet();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("known_hosts");
    let mut s = settings(&fleet, &file);
    s.host_keys = HostKeyPolicy::TrustOnFirstUse;
    let session = connect(s, "gw-1").await.unwrap();
    assert_eq!(session.exec("fw ver").await.unwrap().exit, Some(0));
    let learnt = std::fs::read_to_string(&file).unwrap();
    let address = fleet.address("gw-1").unwrap().ip().to_string();
    assert!(
        learnt.starts_with(&format!("{address} ssh-ed25519 ")),
        "{learnt}"
    );
    // Now known: a strict connector accepts it.
    assert!(connect(settings(&fleet, &file), "gw-1").await.is_ok());
}

#[tokio::test]
async fn a_changed_key_is_refused_with_both_fingerprints_unless_that_host_is_rekeyed() {
    let fleet = fleet();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("known_hosts");
    // gw-1's address listed with gw-2's key: as if gw-1 had been replaced.
    let real = std::fs::read_to_string(fleet.known_hosts()).unwrap();
    let gw1 = fleet.address("gw-1").unwrap().ip().to_string();
    let gw2 = fleet.address("gw-2").unwrap().ip().to_string();
    let gw2_key = real
        .lines()
        .find(|l| l.starts_with(&format!("{gw2} ")))
        .unwrap()
        .split_once(' ')
        .unwrap()
        .1;
    std::fs::write(&file, format!("{gw1} {gw2_key}\n")).unwrap();
    let Err(TransportError::HostKey { host, message }) =
        connect(settings(&fleet, &file), "gw-1").await
    else {
        panic!("a changed key was accepted")
    };
    assert_eq!(host, "gw-1");
    assert_eq!(message.matches("SHA256:").count(), 2, "{message}");
    assert!(message.contains("changed"), "{message}");
    // TOFU does not accept a changed key.
    let mut tofu = settings(&fleet, &file);
    tofu.host_keys = HostKeyPolicy::TrustOnFirstUse;
    assert!(matches!(
        connect(tofu, "gw-1").await,
        Err(TransportError::HostKey { .. })
    ));
    // A re-key of another host does not either; a re-key of gw-1 does, and replaces the line.
    let mut other = settings(&fleet, &file);
    other.rekey.insert("gw-2".into());
    assert!(connect(other, "gw-1").await.is_err());
    let mut rekey = settings(&fleet, &file);
    rekey.rekey.insert("gw-1".into());
    assert!(connect(rekey, "gw-1").await.is_ok());
    assert!(connect(settings(&fleet, &file), "gw-1").await.is_ok());
    assert_eq!(std::fs::read_to_string(&file).unwrap().lines().count(), 1);
}

#[tokio::test]
async fn a_wrong_key_or_password_is_an_auth_error_naming_the_host() {
    let fleet = fleet();
    let dir = tempfile::tempdir().unwrap();
    let stranger = dir.path().join("stranger");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&stranger)
        .status()
        .unwrap();
    assert!(made.success());
    let mut s = settings(&fleet, &fleet.known_hosts());
    s.auth = Auth::KeyFile {
        path: stranger,
        passphrase: None,
    };
    let Err(TransportError::Auth { host, .. }) = connect(s, "gw-2").await else {
        panic!("a stranger's key was accepted")
    };
    assert_eq!(host, "gw-2");
    let mut s = settings(&fleet, &fleet.known_hosts());
    s.auth = Auth::Password("not-the-password".to_string().into());
    let Err(e) = connect(s, "gw-2").await else {
        panic!("a password was accepted")
    };
    assert!(
        matches!(&e, TransportError::Auth { host, .. } if host == "gw-2"),
        "{e:?}"
    );
    assert!(!format!("{e} {e:?}").contains("not-the-password"));
}

#[tokio::test]
async fn a_host_that_does_not_listen_is_unreachable() {
    let fleet = fleet();
    let mut s = settings(&fleet, &fleet.known_hosts());
    s.targets
        .insert("gone".into(), Target::new("127.0.0.1").with_port(1));
    let Err(TransportError::Unreachable { host, .. }) = connect(s, "gone").await else {
        panic!()
    };
    assert_eq!(host, "gone");
}

#[tokio::test]
async fn a_hung_host_is_given_up_by_keepalive_and_connect_timeout_not_waited_for() {
    let fleet = fleet();
    let mut s = settings(&fleet, &fleet.known_hosts());
    s.keepalive = Duration::from_millis(500);
    s.connect_timeout = Duration::from_secs(3);
    let connector = SshConnector::new(s);
    let session = connector.connect("gw-1").await.unwrap();
    // A first command: the server's post-authentication process exists before the freeze.
    assert_eq!(session.exec("fw ver").await.unwrap().exit, Some(0));
    fleet.freeze("gw-1", true);
    let started = std::time::Instant::now();
    // A command on an open connection: three unanswered keepalives end it.
    let out = tokio::time::timeout(Duration::from_secs(20), session.exec("fw ver"))
        .await
        .expect("the command was given up");
    assert!(
        matches!(
            out,
            Err(TransportError::ConnectionLost { .. })
                | Ok(cdt_core::transport::ExecOutput { exit: None, .. })
        ),
        "{out:?}"
    );
    // A new connection: the server accepts but never greets.
    let Err(TransportError::Unreachable { host, .. }) =
        tokio::time::timeout(Duration::from_secs(20), connector.connect("gw-1"))
            .await
            .expect("the connection attempt was given up")
    else {
        panic!("connected to a hung host")
    };
    assert_eq!(host, "gw-1");
    assert!(started.elapsed() < Duration::from_secs(15));
    fleet.freeze("gw-1", false);
}
