//! The driver's side of the Gaia steps' [`Hosts`]: sessions kept per host, timeouts on every
//! call, local file digests, and waiting in the driver's clock.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::task::Poll;

use async_trait::async_trait;
use jiff::SignedDuration;

use super::Clock;
use crate::gaia::steps::{FileDigest, Hosts};
use crate::transport::{Connector, ExecOutput, Session, TransportError};

/// A session shared by the steps that use its host (calls may overlap).
type SharedSession = Arc<dyn Session>;

/// The driver's side of [`Hosts`]: one session per host, reused; a broken one is dropped and
/// reopened on the next call; every call bounded by its timeout.
pub(super) struct DriverHosts {
    connector: Arc<dyn Connector>,
    clock: Arc<dyn Clock>,
    sessions: StdMutex<crate::FastMap<String, SharedSession>>,
    /// Local file digests, each worked out once however many steps ask for it at the same
    /// time: the first caller hashes, the others wait for its result (a failed hash leaves
    /// the cell empty, and the next caller tries again).
    digests: StdMutex<crate::FastMap<PathBuf, Arc<tokio::sync::OnceCell<FileDigest>>>>,
    /// How many times a local file was read for its digest.
    #[cfg(test)]
    readings: std::sync::atomic::AtomicUsize,
    command_timeout: SignedDuration,
    connect_timeout: SignedDuration,
}

impl DriverHosts {
    pub(super) fn new(
        connector: Arc<dyn Connector>,
        clock: Arc<dyn Clock>,
        command_timeout: SignedDuration,
        connect_timeout: SignedDuration,
    ) -> DriverHosts {
        DriverHosts {
            connector,
            clock,
            sessions: StdMutex::new(crate::FastMap::default()),
            digests: StdMutex::new(crate::FastMap::default()),
            #[cfg(test)]
            readings: std::sync::atomic::AtomicUsize::new(0),
            command_timeout,
            connect_timeout,
        }
    }

    /// The clock the driver runs on.
    pub(super) fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    async fn session(&self, host: &str) -> Result<SharedSession, TransportError> {
        if let Some(s) = self
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(host)
        {
            return Ok(s.clone());
        }
        let limit = std::time::Duration::try_from(self.connect_timeout).unwrap_or_default();
        let session = match tokio::time::timeout(limit, self.connector.connect(host)).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(TransportError::Unreachable {
                    host: host.to_string(),
                    message: format!("no connection within {} s", self.connect_timeout.as_secs()),
                });
            }
        };
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(host.to_string(), session.clone());
        Ok(session)
    }

    fn forget(&self, host: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(host);
    }

    async fn bounded<T>(
        &self,
        host: &str,
        what: &str,
        call: impl std::future::Future<Output = Result<T, TransportError>>,
    ) -> Result<T, TransportError> {
        // A call that is done at its first poll (a simulated command) needs no timer: the
        // timeout bounds the waiting, and such a call did not wait.
        let mut call = std::pin::pin!(call);
        let first = std::future::poll_fn(|cx| Poll::Ready(call.as_mut().poll(cx))).await;
        let finished = match first {
            Poll::Ready(result) => Ok(result),
            Poll::Pending => {
                tokio::time::timeout(self.clock.real(self.command_timeout), call).await
            }
        };
        match finished {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if matches!(
                    e,
                    TransportError::Unreachable { .. } | TransportError::ConnectionLost { .. }
                ) {
                    self.forget(host);
                }
                Err(e)
            }
            Err(_) => {
                self.forget(host);
                Err(TransportError::ConnectionLost {
                    host: host.to_string(),
                    message: format!(
                        "{what} did not finish within {} minutes",
                        self.command_timeout.as_mins()
                    ),
                })
            }
        }
    }
}

#[async_trait]
impl Hosts for DriverHosts {
    async fn exec(&self, host: &str, command: &str) -> Result<ExecOutput, TransportError> {
        let session = self.session(host).await?;
        let out = self
            .bounded(host, "the command", async { session.exec(command).await })
            .await?;
        if out.exit.is_none() {
            // The connection dropped (a reboot): the next call opens a new one.
            self.forget(host);
        }
        Ok(out)
    }

    async fn put(&self, host: &str, local: &Path, remote: &str) -> Result<(), TransportError> {
        let session = self.session(host).await?;
        self.bounded(host, "the copy", async { session.put(local, remote).await })
            .await
    }

    async fn get(&self, host: &str, remote: &str, local: &Path) -> Result<(), TransportError> {
        let session = self.session(host).await?;
        self.bounded(host, "the copy", async { session.get(remote, local).await })
            .await
    }

    async fn digest(&self, local: &Path) -> Result<FileDigest, TransportError> {
        let cell = {
            let mut digests = self.digests.lock().unwrap_or_else(PoisonError::into_inner);
            match digests.get(local) {
                Some(cell) => cell.clone(),
                None => digests.entry(local.to_path_buf()).or_default().clone(),
            }
        };
        cell.get_or_try_init(|| async {
            #[cfg(test)]
            self.readings
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let path = local.to_path_buf();
            tokio::task::spawn_blocking(move || {
                let (sha256, size) =
                    crate::digest::sha256_hex_and_size_of(std::fs::File::open(&path)?)?;
                Ok::<_, std::io::Error>(FileDigest { sha256, size })
            })
            .await
            .map_err(|e| TransportError::Other {
                host: "localhost".into(),
                message: e.to_string(),
            })?
            .map_err(|e| TransportError::Transfer {
                host: "localhost".into(),
                message: format!("{}: {e}", local.display()),
            })
        })
        .await
        .cloned()
    }

    async fn sleep(&self, duration: SignedDuration) {
        let real = self.clock.real(duration);
        if !real.is_zero() {
            tokio::time::sleep(real).await;
        }
    }

    fn now(&self) -> jiff::Timestamp {
        self.clock.now()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts() -> DriverHosts {
        let sim = crate::sim::Sim::new(&crate::sim::FleetFile::default());
        let connector = crate::sim::SimConnector::new(sim, 1.0);
        let clock = connector.clock();
        DriverHosts::new(
            Arc::new(connector),
            Arc::new(clock),
            SignedDuration::from_mins(1),
            SignedDuration::from_secs(5),
        )
    }

    #[tokio::test]
    async fn steps_asking_at_once_for_a_files_digest_share_one_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("package.tgz");
        std::fs::write(&path, b"abc").unwrap();
        let hosts = hosts();
        let asked: Vec<_> = (0..64).map(|_| hosts.digest(&path)).collect();
        let digests = futures_util::future::join_all(asked).await;
        let want = FileDigest {
            sha256: crate::digest::sha256_hex(b"abc"),
            size: 3,
        };
        assert!(digests.iter().all(|d| d.as_ref() == Ok(&want)));
        assert_eq!(hosts.readings.load(std::sync::atomic::Ordering::Relaxed), 1);
        // Read once: changing the file afterwards does not change what the run sends for it.
        std::fs::write(&path, b"changed").unwrap();
        assert_eq!(hosts.digest(&path).await, Ok(want));
        assert_eq!(hosts.readings.load(std::sync::atomic::Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_digest_that_failed_is_tried_again_by_the_next_step() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("late.sh");
        let hosts = hosts();
        let missing = hosts.digest(&path).await;
        assert!(
            matches!(&missing, Err(TransportError::Transfer { message, .. }) if message.contains("late.sh")),
            "{missing:?}"
        );
        std::fs::write(&path, b"#!/bin/sh\n").unwrap();
        assert_eq!(
            hosts.digest(&path).await.map(|d| d.size),
            Ok(10),
            "a failure is not remembered"
        );
    }
}
