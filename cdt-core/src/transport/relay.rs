//! Reaching gateways through the Management Server (SPEC 6), as CDT does: one session to the
//! Management Server, and each gateway's commands and copies carried by `cprid_util` over
//! Check Point's trusted channel, so operators need access to one box only.
//!
//! [`RelayedConnector`] works over any [`Connector`] to the Management Server (SSH, the
//! simulated fleet, a transport written in Python or C): the relay is Gaia vocabulary
//! ([`commands::cprid_rexec`], [`commands::cprid_putfile`], [`commands::cprid_getfile`]), not a
//! transport of its own.
//!
//! A copy to a gateway goes to a staging file on the Management Server first, then across
//! with `putfile`; a copy from a gateway comes across with `getfile`, then back. Staging files
//! are removed afterwards.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use super::{Connector, ExecOutput, Session, TransportError};
use crate::gaia::commands::{self, CPRID_DROPPED, CPRID_UNREACHABLE};
use crate::gaia::quote;

/// Where copies wait on the Management Server.
const STAGING: &str = "/var/tmp/cdt-relay";

/// A [`Connector`] whose sessions to gateways run through the Management Server.
pub struct RelayedConnector {
    management: Arc<dyn Connector>,
    host: String,
    servers: BTreeMap<String, String>,
    session: tokio::sync::Mutex<Option<Arc<dyn Session>>>,
    copies: Arc<AtomicU64>,
}

impl RelayedConnector {
    /// Relays through `host` (the Management Server's name), reached with `management`.
    /// `servers` gives the address `cprid_util` reaches each gateway at (by default, the
    /// gateway's name).
    pub fn new(
        management: Arc<dyn Connector>,
        host: impl Into<String>,
        servers: BTreeMap<String, String>,
    ) -> RelayedConnector {
        RelayedConnector {
            management,
            host: host.into(),
            servers,
            session: tokio::sync::Mutex::new(None),
            copies: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The session to the Management Server, opened once and reopened after it broke.
    async fn management(&self) -> Result<Arc<dyn Session>, TransportError> {
        let mut cached = self.session.lock().await;
        if let Some(s) = cached.as_ref() {
            return Ok(s.clone());
        }
        let s = self.management.connect(&self.host).await?;
        *cached = Some(s.clone());
        Ok(s)
    }
}

#[async_trait]
impl Connector for RelayedConnector {
    async fn connect(&self, host: &str) -> Result<Arc<dyn Session>, TransportError> {
        if host == self.host {
            return self.management.connect(host).await;
        }
        let server = self
            .servers
            .get(host)
            .cloned()
            .unwrap_or_else(|| host.to_string());
        let mut retried = false;
        loop {
            let session = RelayedSession {
                host: host.to_string(),
                server: server.clone(),
                relay: self.management().await?,
                copies: self.copies.clone(),
            };
            // Whether the gateway answers now: an unreachable one is refused like a direct
            // connection would be.
            match session.exec(&commands::fw_ver()).await {
                Ok(_) => return Ok(Arc::new(session)),
                // The Management Server's own session broke: open it again, once.
                Err(
                    TransportError::ConnectionLost { host: h, .. }
                    | TransportError::Unreachable { host: h, .. },
                ) if h == self.host && !retried => {
                    retried = true;
                    *self.session.lock().await = None;
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// One gateway, reached through the Management Server's session.
struct RelayedSession {
    host: String,
    server: String,
    relay: Arc<dyn Session>,
    copies: Arc<AtomicU64>,
}

impl RelayedSession {
    fn transfer(&self, message: impl std::fmt::Display) -> TransportError {
        TransportError::Transfer {
            host: self.host.clone(),
            message: message.to_string(),
        }
    }

    /// Runs a `cprid_util` line on the Management Server and reads how it went.
    async fn relay(&self, line: &str) -> Result<ExecOutput, TransportError> {
        let mut out = self.relay.exec(line).await?;
        if out.exit != Some(0) && out.stderr.contains(CPRID_UNREACHABLE) {
            return Err(TransportError::Unreachable {
                host: self.host.clone(),
                message: format!("through the Management Server: {}", out.stderr.trim()),
            });
        }
        if out.exit != Some(0) && out.stderr.contains(CPRID_DROPPED) {
            // The gateway went away during the command (a reboot): no exit status.
            out.exit = None;
        }
        Ok(out)
    }

    fn staging(&self) -> String {
        let n = self.copies.fetch_add(1, Ordering::Relaxed);
        format!("{STAGING}-{}-{n}", self.host.replace(['/', ' '], "_"))
    }

    async fn remove(&self, staged: &str) {
        if let Ok(line) = quote::command("rm", ["-f", staged]) {
            let _ = self.relay.exec(&line).await;
        }
    }
}

#[async_trait]
impl Session for RelayedSession {
    async fn exec(&self, command: &str) -> Result<ExecOutput, TransportError> {
        let line = commands::cprid_rexec(&self.server, command).map_err(|e| self.transfer(e))?;
        self.relay(&line).await
    }

    async fn put(&self, local: &Path, remote: &str) -> Result<(), TransportError> {
        let staged = self.staging();
        let line =
            commands::cprid_putfile(&self.server, &staged, remote).map_err(|e| self.transfer(e))?;
        let result = async {
            self.relay.put(local, &staged).await?;
            let out = self.relay(&line).await?;
            if out.exit == Some(0) {
                Ok(())
            } else {
                Err(self.transfer(format!("{remote}: {}", out.stderr.trim())))
            }
        }
        .await;
        self.remove(&staged).await;
        result
    }

    async fn get(&self, remote: &str, local: &Path) -> Result<(), TransportError> {
        let staged = self.staging();
        let line =
            commands::cprid_getfile(&self.server, remote, &staged).map_err(|e| self.transfer(e))?;
        let result = async {
            let out = self.relay(&line).await?;
            if out.exit != Some(0) {
                return Err(self.transfer(format!("{remote}: {}", out.stderr.trim())));
            }
            self.relay.get(&staged, local).await
        }
        .await;
        self.remove(&staged).await;
        result
    }
}
