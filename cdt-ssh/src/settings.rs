//! What an SSH connector needs to know: where each host is, who to log in as, how to prove
//! it, which host keys to trust, and the limits it works within.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;

/// How to prove who we are. Secrets are [`SecretString`]s: never formatted (their `Debug`
/// prints `[REDACTED]`), and taken from the environment, a file, a prompt or an agent, never
/// from a command line.
#[derive(Debug, Clone)]
pub enum Auth {
    /// A private key file (OpenSSH, PEM or PKCS#8; ed25519, ECDSA or RSA), with its
    /// passphrase if it has one.
    KeyFile {
        /// The key file.
        path: PathBuf,
        /// Its passphrase.
        passphrase: Option<SecretString>,
    },
    /// The keys of the running ssh-agent (`SSH_AUTH_SOCK`).
    Agent,
    /// A password (`password` authentication).
    Password(SecretString),
    /// A password typed at the server's keyboard-interactive prompts.
    KeyboardInteractive(SecretString),
}

impl Auth {
    /// A secret read from the environment variable `name`.
    pub fn secret_from_env(name: &str) -> Result<SecretString, String> {
        std::env::var(name)
            .map(SecretString::from)
            .map_err(|_| format!("the environment variable {name} is not set"))
    }

    /// A secret read from the first line of the file at `path` (without its line ending).
    pub fn secret_from_file(path: &Path) -> Result<SecretString, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let line = text.lines().next().unwrap_or_default();
        Ok(SecretString::from(line.to_string()))
    }
}

/// Which host keys are trusted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HostKeyPolicy {
    /// Only keys listed in the `known_hosts` file (the default).
    #[default]
    Strict,
    /// A host not listed yet is trusted on first use and its key added to the file; a listed
    /// host whose key changed is still refused.
    TrustOnFirstUse,
}

/// Which key exchange and host key algorithms a host may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithms {
    /// Current algorithms only (curve25519, ML-KEM hybrid, DH group 14+ with SHA-2).
    #[default]
    Modern,
    /// Also SHA-1 Diffie-Hellman groups and `ssh-rsa` signatures, for old Gaia releases.
    /// Only when asked, per host.
    Legacy,
    /// `curve25519-sha256` key exchange only: the cheapest handshake for both sides, for
    /// fleets where connection setup dominates.
    Curve25519,
}

/// The shell a login lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoginShell {
    /// The Expert shell (bash): commands run directly.
    #[default]
    Expert,
    /// clish (Gaia's default for `admin`): commands run in the Expert shell reached over a
    /// terminal with `expert` and [`SshSettings::expert_password`].
    Clish,
}

/// How commands reach a host's shell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Commands {
    /// A new channel per command (the default): the server starts a session and a shell for
    /// each, and reports the exit status (or the signal that ended it) on the channel.
    #[default]
    ChannelEach,
    /// Long-lived shells on channels kept open, each command sent to one of them and run in a
    /// subshell, its exit status read from a marker (see the crate docs): several times the
    /// commands per second a server can start channels for, for hosts that run many short
    /// commands. A command killed by a signal reports the status 128 + the signal's number.
    /// Hosts whose login shell is clish use their Expert shell over a terminal instead.
    KeptShells,
}

/// Where a host is and how to reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// A DNS name or an IP address.
    pub address: String,
    /// The SSH port.
    pub port: u16,
    /// The user, when it differs from [`SshSettings::user`].
    pub user: Option<String>,
    /// The algorithms the host may use.
    pub algorithms: Algorithms,
    /// The shell a login lands in.
    pub login: LoginShell,
    /// How commands reach the shell.
    pub commands: Commands,
}

impl Target {
    /// A host at `address`, port 22.
    pub fn new(address: impl Into<String>) -> Target {
        Target {
            address: address.into(),
            port: 22,
            user: None,
            algorithms: Algorithms::Modern,
            login: LoginShell::Expert,
            commands: Commands::ChannelEach,
        }
    }

    /// The same host, its commands sent to kept shells ([`Commands::KeptShells`]).
    pub fn with_kept_shells(mut self) -> Target {
        self.commands = Commands::KeptShells;
        self
    }

    /// The same host, whose login shell is clish.
    pub fn with_clish(mut self) -> Target {
        self.login = LoginShell::Clish;
        self
    }

    /// The same host on another port.
    pub fn with_port(mut self, port: u16) -> Target {
        self.port = port;
        self
    }
}

/// An SSH connector's settings.
#[derive(Debug, Clone)]
pub struct SshSettings {
    /// Each host by its object name (gateway, member or Management Server).
    pub targets: BTreeMap<String, Target>,
    /// The user to log in as.
    pub user: String,
    /// How to authenticate.
    pub auth: Auth,
    /// The OpenSSH `known_hosts` file.
    pub known_hosts: PathBuf,
    /// Which host keys are trusted.
    pub host_keys: HostKeyPolicy,
    /// Hosts whose changed key replaces the listed one (after an RMA or a clean install).
    pub rekey: BTreeSet<String>,
    /// How long a connection (TCP, key exchange, authentication) may take.
    pub connect_timeout: Duration,
    /// Keepalive interval; the connection is given up after three unanswered.
    pub keepalive: Duration,
    /// At most this many handshakes at once, across all hosts.
    pub max_handshakes: usize,
    /// A command's standard output and error are each kept up to this many bytes.
    pub max_output: usize,
    /// The largest file `get` copies.
    pub max_file: u64,
    /// The Expert password, for hosts whose login shell is clish.
    pub expert_password: Option<SecretString>,
    /// At most this many kept shells per host ([`Commands::KeptShells`]); more calls at once
    /// wait for one to be free. Below the server's `MaxSessions` (10 by default), so copies
    /// still get channels.
    pub kept_shells: usize,
}

impl SshSettings {
    /// Settings for `targets`, logging in as `user` with `auth`, trusting the keys listed in
    /// `known_hosts` only.
    pub fn new(
        targets: BTreeMap<String, Target>,
        user: impl Into<String>,
        auth: Auth,
        known_hosts: impl Into<PathBuf>,
    ) -> SshSettings {
        SshSettings {
            targets,
            user: user.into(),
            auth,
            known_hosts: known_hosts.into(),
            host_keys: HostKeyPolicy::Strict,
            rekey: BTreeSet::new(),
            connect_timeout: Duration::from_secs(30),
            keepalive: Duration::from_secs(15),
            max_handshakes: 32,
            max_output: 16 << 20,
            max_file: 1 << 30,
            expert_password: None,
            kept_shells: 4,
        }
    }
}
