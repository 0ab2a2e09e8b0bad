//! How the engine reaches gateways: a [`Connector`] opens a [`Session`] to a host; a session
//! runs commands and copies files. That is all a transport does: moving bytes, keeping
//! connections. Which commands to run, how to read their replies, whether a copy is needed and
//! arrived intact, and whether a failed step is retried are decided in core (the Gaia
//! vocabulary and the rollout), so every transport, including one written in Python or C,
//! behaves the same.
//!
//! Timeouts are the driver's: it bounds every call with its own deadline, so a transport may
//! block as long as the remote side does.

pub mod relay;

use std::path::Path;

pub use relay::RelayedConnector;

use async_trait::async_trait;

/// What a command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExecOutput {
    /// The exit status, or `None` when the connection dropped before it arrived (a reboot).
    pub exit: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// Why a host could not be reached or a transfer failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransportError {
    /// The host does not answer (connection refused or timed out, host down or rebooting).
    #[error("{host}: unreachable: {message}")]
    Unreachable {
        /// The host.
        host: String,
        /// What the transport saw.
        message: String,
    },
    /// The connection was lost during the call.
    #[error("{host}: connection lost: {message}")]
    ConnectionLost {
        /// The host.
        host: String,
        /// What the transport saw.
        message: String,
    },
    /// The host's key is not trusted: unknown, changed, revoked, or a certificate. Never
    /// retried: it needs an operator's decision (a known key, trust on first use, a re-key).
    #[error("{host}: host key refused: {message}")]
    HostKey {
        /// The host.
        host: String,
        /// Why, with the fingerprints involved.
        message: String,
    },
    /// The host refused the credentials.
    #[error("{host}: authentication failed: {message}")]
    Auth {
        /// The host.
        host: String,
        /// What was tried.
        message: String,
    },
    /// A file could not be copied.
    #[error("{host}: transfer failed: {message}")]
    Transfer {
        /// The host.
        host: String,
        /// What went wrong.
        message: String,
    },
    /// Anything else the transport reports.
    #[error("{host}: {message}")]
    Other {
        /// The host.
        host: String,
        /// What went wrong.
        message: String,
    },
}

/// An open connection to one host.
///
/// Calls on one session may overlap: the driver shares a host's session between the steps
/// that use that host (the Management Server serves every target's version and policy
/// steps at once), as SSH runs several channels on one connection. A transport that can run
/// only one call at a time (one shell over a terminal) queues them itself.
#[async_trait]
pub trait Session: Send + Sync {
    /// Runs one command line in the host's Expert shell.
    async fn exec(&self, command: &str) -> Result<ExecOutput, TransportError>;
    /// Copies a local file to `remote` (a full path on the host).
    async fn put(&self, local: &Path, remote: &str) -> Result<(), TransportError>;
    /// Copies `remote` from the host to the local file `local`.
    async fn get(&self, remote: &str, local: &Path) -> Result<(), TransportError>;
}

/// Opens sessions to hosts by name.
#[async_trait]
pub trait Connector: Send + Sync {
    /// Opens a session to `host` (a gateway, member or Management Server object name).
    async fn connect(&self, host: &str) -> Result<std::sync::Arc<dyn Session>, TransportError>;
}
