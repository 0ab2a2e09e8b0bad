//! Kept shells (`Commands::KeptShells`) against a plain OpenSSH server (OpenSSH's default
//! `MaxSessions 10`): each command gives the result a channel of its own would, and the
//! shells are reused.

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use cdt_core::transport::{Connector, Session};
use cdt_ssh::{SshConnector, SshSettings, Target};
use cdt_testfleet::PlainServer;

fn settings(server: &PlainServer) -> SshSettings {
    let targets = BTreeMap::from([(
        "gw".to_string(),
        Target::new(server.address().ip().to_string()).with_kept_shells(),
    )]);
    common::settings(
        targets,
        common::key(&server.client_key()),
        &server.known_hosts(),
    )
}

async fn connect(settings: SshSettings) -> Arc<dyn Session> {
    tokio::time::timeout(
        Duration::from_secs(20),
        SshConnector::new(settings).connect("gw"),
    )
    .await
    .expect("the connection attempt ended")
    .expect("connected")
}

/// How many sessions the server started (its log at `LogLevel VERBOSE`).
fn sessions_started(server: &PlainServer) -> usize {
    server.log().matches("Starting session:").count()
}

#[tokio::test]
async fn a_command_gives_its_output_streams_and_exit_status() {
    let server = PlainServer::start().unwrap();
    let session = connect(settings(&server)).await;
    let out = session
        .exec("echo out; echo err >&2; exit 3")
        .await
        .unwrap();
    assert_eq!(out.exit, Some(3), "{out:?}");
    assert_eq!(out.stdout, "out\n");
    assert_eq!(out.stderr, "err\n");
    let out = session.exec("printf 'no line end'").await.unwrap();
    assert_eq!((out.exit, out.stdout.as_str()), (Some(0), "no line end"));
    let out = session.exec("printf '\\n\\n'").await.unwrap();
    assert_eq!(out.stdout, "\n\n");
    let out = session.exec("it's not a command").await.unwrap();
    assert_ne!(out.exit, Some(0), "{out:?}");
    assert!(!out.stderr.is_empty(), "{out:?}");
    let out = session.exec("echo \"it's\" quoted 'a|b;c'").await.unwrap();
    assert_eq!(out.stdout, "it's quoted a|b;c\n");
}

#[tokio::test]
async fn commands_do_not_share_state_or_read_what_follows_them() {
    let server = PlainServer::start().unwrap();
    let session = connect(settings(&server)).await;
    let home = session.exec("pwd").await.unwrap().stdout;
    session
        .exec("cd /tmp; export CDT_X=1; trap 'echo trapped' EXIT")
        .await
        .unwrap();
    let out = session.exec("pwd; echo \"x=$CDT_X\"").await.unwrap();
    assert_eq!(out.stdout, format!("{home}x=\n"));
    // A command that reads its input gets an empty one, not the next command.
    let out = session.exec("cat; echo read").await.unwrap();
    assert_eq!(out.stdout, "read\n");
    // Output that looks like an end marker does not end the command.
    let out = session
        .exec("echo; echo __CDT_DONE_0000000000000000_0_0; echo after")
        .await
        .unwrap();
    assert_eq!(out.stdout, "\n__CDT_DONE_0000000000000000_0_0\nafter\n");
}

#[tokio::test]
async fn shells_are_reused_and_overlapping_calls_stay_under_max_sessions() {
    let server = PlainServer::start().unwrap();
    let session = connect(settings(&server)).await;
    for i in 0..20 {
        let out = session.exec(&format!("echo {i}")).await.unwrap();
        assert_eq!(out.stdout, format!("{i}\n"));
    }
    assert_eq!(sessions_started(&server), 1, "{}", server.log());
    // 30 calls at once against MaxSessions 10: at most 4 shells, and a copy still gets a
    // channel meanwhile.
    let dir = tempfile::tempdir().unwrap();
    let local = dir.path().join("note.txt");
    std::fs::write(&local, "kept\n").unwrap();
    let remote = format!("/tmp/cdt-kept-{}.txt", std::process::id());
    let calls: Vec<_> = (0..30)
        .map(|i| {
            let s = session.clone();
            tokio::spawn(async move { s.exec(&format!("sleep 0.1; echo {i}")).await })
        })
        .collect();
    session.put(&local, &remote).await.unwrap();
    for (i, call) in calls.into_iter().enumerate() {
        let out = call.await.unwrap().unwrap();
        assert_eq!((out.exit, out.stdout), (Some(0), format!("{i}\n")));
    }
    assert!(sessions_started(&server) <= 4 + 1 + 1, "{}", server.log());
    let out = session.exec(&format!("cat {remote}; rm {remote}")).await;
    assert_eq!(out.unwrap().stdout, "kept\n");
}

#[tokio::test]
async fn a_shell_that_ends_or_is_abandoned_is_replaced() {
    let server = PlainServer::start().unwrap();
    let session = connect(settings(&server)).await;
    // The command kills its shell: no exit status, as for a channel that closed.
    let out = session.exec("echo bye; kill -KILL $$").await.unwrap();
    assert_eq!(out.exit, None, "{out:?}");
    assert_eq!(session.exec("echo again").await.unwrap().stdout, "again\n");
    // A call given up by its caller (a timeout) leaves its shell closed, not reused busy.
    let slow = tokio::time::timeout(Duration::from_millis(300), session.exec("sleep 30")).await;
    assert!(slow.is_err());
    let started = std::time::Instant::now();
    let out = session.exec("echo quick").await.unwrap();
    assert_eq!(out.stdout, "quick\n");
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn output_beyond_the_cap_is_dropped_and_the_shell_goes_on() {
    let server = PlainServer::start().unwrap();
    let mut settings = settings(&server);
    settings.max_output = 1000;
    let session = connect(settings).await;
    let out = session.exec("seq 1 100000; echo done >&2").await.unwrap();
    assert_eq!(out.exit, Some(0));
    assert_eq!(out.stdout.len(), 1000);
    assert!(out.stdout.starts_with("1\n2\n3\n"));
    assert!(out.stderr.starts_with("done\n"), "{:?}", out.stderr);
    assert!(out.stderr.contains("output beyond 1000 bytes was dropped"));
    assert_eq!(session.exec("echo next").await.unwrap().stdout, "next\n");
}
