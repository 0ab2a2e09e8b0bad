//! The driver's side of the Gaia steps' [`Hosts`]: sessions kept per host, timeouts on every
//! call, local file digests, and waiting in the driver's clock.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex as StdMutex, PoisonError};
use std::task::Poll;

use async_trait::async_trait;
use jiff::SignedDuration;

use super::Clock;
use crate::gaia::steps::Hosts;
use crate::transport::{Connector, ExecOutput, Session, TransportError};

/// A session shared by the steps that use its host (calls may overlap).
type SharedSession = Arc<dyn Session>;

/// The driver's side of [`Hosts`]: one session per host, reused; a broken one is dropped and
/// reopened on the next call; every call bounded by its timeout.
pub(super) struct DriverHosts {
    connector: Arc<dyn Connector>,
    clock: Arc<dyn Clock>,
    sessions: StdMutex<crate::FastMap<String, SharedSession>>,
    digests: StdMutex<crate::FastMap<PathBuf, String>>,
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

    async fn digest(&self, local: &Path) -> Result<String, TransportError> {
        if let Some(d) = self
            .digests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(local)
        {
            return Ok(d.clone());
        }
        let path = local.to_path_buf();
        let digest = tokio::task::spawn_blocking(move || {
            crate::digest::sha256_hex_of(std::fs::File::open(&path)?)
        })
        .await
        .map_err(|e| TransportError::Other {
            host: "localhost".into(),
            message: e.to_string(),
        })?
        .map_err(|e| TransportError::Transfer {
            host: "localhost".into(),
            message: format!("{}: {e}", local.display()),
        })?;
        self.digests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(local.to_path_buf(), digest.clone());
        Ok(digest)
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
