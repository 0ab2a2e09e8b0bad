//! The SSH transport against a plain OpenSSH server (no emulator, OpenSSH's default limits):
//! SFTP copies, every authentication method, and more overlapping calls than the server's
//! `MaxSessions`.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cdt_core::transport::{Connector, Session, TransportError};
use cdt_ssh::{Auth, SshConnector, SshSettings, Target};
use cdt_testfleet::{PASSWORD, PlainServer, USER};

fn settings(server: &PlainServer, auth: Auth) -> SshSettings {
    let targets = BTreeMap::from([(
        "gw".to_string(),
        Target::new(server.address().ip().to_string()),
    )]);
    common::settings(targets, auth, &server.known_hosts())
}

fn key(server: &PlainServer) -> Auth {
    common::key(&server.client_key())
}

async fn connect(settings: SshSettings) -> Result<Arc<dyn Session>, TransportError> {
    tokio::time::timeout(
        Duration::from_secs(20),
        SshConnector::new(settings).connect("gw"),
    )
    .await
    .expect("the connection attempt ended")
}

#[tokio::test]
async fn copies_use_sftp_when_the_server_offers_it() {
    let server = PlainServer::start().unwrap();
    let session = connect(settings(&server, key(&server))).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("package.tgz");
    let content: Vec<u8> = (0..2_000_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&local, &content).unwrap();
    let remote = format!("/tmp/cdt-sftp-{}.tgz", std::process::id());
    session.put(&local, &remote).await.unwrap();
    let sum = session.exec(&format!("sha256sum {remote}")).await.unwrap();
    assert!(
        sum.stdout
            .starts_with(&cdt_core::digest::sha256_hex(&content)),
        "{sum:?}"
    );
    let back = dir.path().join("back.tgz");
    session.get(&remote, &back).await.unwrap();
    assert_eq!(std::fs::read(&back).unwrap(), content);
    let _ = session.exec(&format!("rm -f {remote}")).await;
    assert!(
        server.log().contains("subsystem 'sftp'"),
        "{}",
        server.log()
    );
}

#[tokio::test]
async fn a_file_larger_than_the_cap_is_refused_and_not_written() {
    let server = PlainServer::start().unwrap();
    let mut s = settings(&server, key(&server));
    s.max_file = 1000;
    let session = connect(s).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("big");
    let out = session.get("/etc/services", &local).await;
    assert!(
        matches!(&out, Err(TransportError::Transfer { message, .. }) if message.contains("cap")),
        "{out:?}"
    );
    assert!(!local.exists());
}

#[tokio::test]
async fn password_and_keyboard_interactive_log_in() {
    let server = PlainServer::start().unwrap();
    for auth in [
        Auth::Password(PASSWORD.to_string().into()),
        Auth::KeyboardInteractive(PASSWORD.to_string().into()),
    ] {
        let what = format!("{auth:?}");
        assert!(!what.contains(PASSWORD), "a secret was formatted: {what}");
        let session = connect(settings(&server, auth)).await.unwrap();
        let out = session.exec("id -un").await.unwrap();
        assert_eq!(out.stdout.trim(), USER, "{what}");
    }
    let Err(e) = connect(settings(
        &server,
        Auth::KeyboardInteractive("wrong".to_string().into()),
    ))
    .await
    else {
        panic!("a wrong password was accepted")
    };
    assert!(
        matches!(&e, TransportError::Auth { host, .. } if host == "gw"),
        "{e:?}"
    );
}

#[tokio::test]
async fn a_key_with_a_passphrase_needs_it() {
    let server = PlainServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("id_ed25519");
    let made = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "open sesame", "-f"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(made.success());
    server
        .authorize(&dir.path().join("id_ed25519.pub"))
        .unwrap();
    let with = |passphrase: Option<&str>| Auth::KeyFile {
        path: path.clone(),
        passphrase: passphrase.map(|p| p.to_string().into()),
    };
    let session = connect(settings(&server, with(Some("open sesame"))))
        .await
        .unwrap();
    assert_eq!(session.exec("true").await.unwrap().exit, Some(0));
    for wrong in [None, Some("nope")] {
        let Err(e) = connect(settings(&server, with(wrong))).await else {
            panic!("the key opened with {wrong:?}")
        };
        assert!(matches!(e, TransportError::Auth { .. }), "{e:?}");
        assert!(!format!("{e}").contains("nope"));
    }
}

#[tokio::test]
async fn more_calls_at_once_than_max_sessions_all_finish() {
    let server = PlainServer::start().unwrap();
    let session = connect(settings(&server, key(&server))).await.unwrap();
    // OpenSSH refuses the 11th channel on one connection by default: the transport waits and
    // tries again instead of failing a step.
    let calls = (0..30).map(|i| {
        let session = session.clone();
        async move { session.exec(&format!("sleep 0.2; echo {i}")).await }
    });
    let outs = futures_join_all(calls).await;
    for (i, out) in outs.into_iter().enumerate() {
        let out = out.unwrap();
        assert_eq!(out.exit, Some(0));
        assert_eq!(out.stdout.trim(), i.to_string());
    }
}

/// Runs futures concurrently and collects their results in order.
async fn futures_join_all<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn more_handshakes_at_once_than_max_startups_all_connect() {
    let server = PlainServer::start().unwrap();
    // OpenSSH's default MaxStartups 10:30:100 drops some of 40 simultaneous unauthenticated
    // connections before its banner: the transport tries again instead of failing.
    let mut s = settings(&server, key(&server));
    s.max_handshakes = 64;
    let connector = SshConnector::new(s);
    let tasks: Vec<_> = (0..40)
        .map(|_| {
            let c = connector.clone();
            tokio::spawn(async move {
                let session = c.connect("gw").await?;
                session.exec("true").await
            })
        })
        .collect();
    for t in tasks {
        let out = t.await.unwrap().unwrap();
        assert_eq!(out.exit, Some(0));
    }
    assert!(
        server.log().contains("past MaxStartups"),
        "the server dropped nothing: the test did not test the retry"
    );
}

#[tokio::test]
async fn legacy_key_exchange_is_used_only_for_a_host_that_asks_for_it() {
    let server = PlainServer::start_with("KexAlgorithms diffie-hellman-group14-sha1").unwrap();
    let Err(e) = connect(settings(&server, key(&server))).await else {
        panic!("a SHA-1 key exchange was accepted by default")
    };
    assert!(e.to_string().contains("legacy"), "{e}");
    let mut s = settings(&server, key(&server));
    if let Some(t) = s.targets.get_mut("gw") {
        t.algorithms = cdt_ssh::Algorithms::Legacy;
    }
    let session = connect(s).await.unwrap();
    assert_eq!(session.exec("true").await.unwrap().exit, Some(0));
}

#[tokio::test]
async fn a_known_hosts_file_edited_between_connections_is_read_again() {
    let server = PlainServer::start().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let known = dir.path().join("known_hosts");
    std::fs::copy(server.known_hosts(), &known).unwrap();
    let mut s = settings(&server, key(&server));
    s.known_hosts = known.clone();
    let connector = SshConnector::new(s);
    connector.connect("gw").await.unwrap();
    // The operator removes the host's key: the same connector refuses the next connection.
    std::fs::write(&known, "").unwrap();
    let refused = tokio::time::timeout(Duration::from_secs(20), connector.connect("gw"))
        .await
        .expect("the connection attempt ended");
    assert!(
        matches!(refused, Err(TransportError::HostKey { .. })),
        "{:?}",
        refused.err()
    );
}
