//! # cdt-ssh
//!
//! The SSH implementation of `cdt-core`'s transport traits ([`cdt_core::transport`]), on
//! russh and russh-sftp: [`SshConnector`] reaches each gateway directly, with strict
//! `known_hosts` checking ([`known_hosts`]), key, agent, password or keyboard-interactive
//! authentication ([`Auth`]), one connection per host with a channel per command (calls
//! overlap), SFTP copies where the server offers them and streamed copies over `exec`
//! otherwise. A host whose login shell is clish ([`LoginShell::Clish`]) is driven through its
//! Expert shell over a terminal: `expert` and its password typed at the prompts, each
//! command's exit status read from a marker it prints, copies in base64. Relayed through the Management Server (SPEC 6), one SSH connection to that host
//! carries every gateway's commands and copies with `cprid_util`: wrap the connector in a
//! [`RelayedConnector`].
//!
//! Hosts that run many short commands can keep shells open instead of opening a channel per
//! command ([`Commands::KeptShells`], [`Target::with_kept_shells`]): each command is sent to
//! an idle shell and run in a subshell (`( eval 'COMMAND' ) </dev/null`), followed by a marker
//! on each stream carrying its exit status, with a random part drawn per connection. The
//! server then forks a subshell per command instead of starting a session, a process and a
//! shell: several times the rate on the same server CPU.
//!
//! ```no_run
//! use std::collections::BTreeMap;
//! use cdt_ssh::{Auth, SshConnector, SshSettings, Target};
//!
//! let targets = BTreeMap::from([("gw-1".to_string(), Target::new("10.1.1.1"))]);
//! let auth = Auth::KeyFile { path: "/home/ops/.ssh/id_ed25519".into(), passphrase: None };
//! let connector = SshConnector::new(SshSettings::new(
//!     targets,
//!     "admin",
//!     auth,
//!     "/home/ops/.ssh/known_hosts",
//! ));
//! # let _ = connector;
//! ```

mod connector;
mod kept;
pub mod known_hosts;
mod settings;
mod shell;

pub use cdt_core::transport::RelayedConnector;
pub use connector::SshConnector;
pub use settings::{Algorithms, Auth, Commands, HostKeyPolicy, LoginShell, SshSettings, Target};

use std::collections::BTreeMap;
use std::sync::Arc;

use cdt_core::model::Inventory;
use cdt_core::transport::Connector;

/// The connector for every gateway and cluster member of `inventory` (each at its address),
/// and the Management Server `management` (its name and address) when given: direct to
/// each host, or with `relay` through the Management Server (`cprid_util`), SSH reaching
/// that host only. `target` makes each host's [`Target`] from its name and address;
/// `settings.targets` is replaced.
pub fn fleet_connector(
    mut settings: SshSettings,
    inventory: &Inventory,
    management: Option<(&str, &str)>,
    relay: bool,
    target: impl Fn(&str, &str) -> Target,
) -> Arc<dyn Connector> {
    let gateways: BTreeMap<String, String> = inventory
        .boxes()
        .map(|g| (g.name.clone(), g.address.to_string()))
        .collect();
    let mut targets = BTreeMap::new();
    if !relay {
        for (name, address) in &gateways {
            targets.insert(name.clone(), target(name, address));
        }
    }
    if let Some((name, address)) = management {
        targets.insert(name.to_string(), target(name, address));
    }
    settings.targets = targets;
    let ssh: Arc<dyn Connector> = Arc::new(SshConnector::new(settings));
    match (management, relay) {
        (Some((name, _)), true) => Arc::new(RelayedConnector::new(ssh, name, gateways)),
        _ => ssh,
    }
}

/// How a deployment reaches its hosts over SSH, as the faces of cdt (Python, C) take it from
/// their users: one login for every host, the `known_hosts` policy, the hosts whose login
/// shell is clish, kept shells, and whether to relay through the Management Server.
#[derive(Debug, Clone)]
pub struct Profile {
    /// The user to log in as.
    pub user: String,
    /// How to log in.
    pub auth: Auth,
    /// The `known_hosts` file host keys are checked against.
    pub known_hosts: std::path::PathBuf,
    /// Whether an unknown host's key is trusted (and recorded) on first use.
    pub trust_on_first_use: bool,
    /// Hosts whose changed key is accepted (and recorded).
    pub rekey: Vec<String>,
    /// The SSH port of every host.
    pub port: u16,
    /// Hosts whose login shell is clish, driven through their Expert shell over a terminal.
    pub clish: Vec<String>,
    /// The Expert password of the clish hosts.
    pub expert_password: Option<secrecy::SecretString>,
    /// Whether commands go to shells kept open on each connection.
    pub kept_shells: bool,
    /// How long a connection may take to open.
    pub connect_timeout: std::time::Duration,
    /// Whether gateways are reached through the Management Server (`cprid_util`).
    pub relay: bool,
}

impl Profile {
    /// A profile logging in as `user` with `auth`, host keys checked strictly against
    /// `known_hosts`, the rest at the defaults of [`SshSettings::new`] (port 22).
    pub fn new(user: &str, auth: Auth, known_hosts: &std::path::Path) -> Profile {
        let defaults = SshSettings::new(Default::default(), user, auth.clone(), known_hosts);
        Profile {
            user: user.to_string(),
            auth,
            known_hosts: known_hosts.to_path_buf(),
            trust_on_first_use: false,
            rekey: Vec::new(),
            port: 22,
            clish: Vec::new(),
            expert_password: None,
            kept_shells: false,
            connect_timeout: defaults.connect_timeout,
            relay: false,
        }
    }

    /// The transport's settings (its targets left empty).
    pub fn settings(&self) -> SshSettings {
        let mut s = SshSettings::new(
            Default::default(),
            &self.user,
            self.auth.clone(),
            &self.known_hosts,
        );
        s.expert_password = self.expert_password.clone();
        if self.trust_on_first_use {
            s.host_keys = HostKeyPolicy::TrustOnFirstUse;
        }
        s.rekey = self.rekey.iter().cloned().collect();
        s.connect_timeout = self.connect_timeout;
        s
    }

    /// The host `name` at `address` (the profile's port).
    pub fn target(&self, name: &str, address: &str) -> Target {
        let t = Target::new(address).with_port(self.port);
        if self.clish.iter().any(|c| c == name) {
            t.with_clish()
        } else if self.kept_shells {
            t.with_kept_shells()
        } else {
            t
        }
    }

    /// The connector for `inventory`'s gateways and the Management Server `management` (its
    /// name and address), relayed through it if the profile says so ([`fleet_connector`]).
    pub fn connector(
        &self,
        inventory: &Inventory,
        management: Option<(&str, &str)>,
    ) -> Arc<dyn Connector> {
        fleet_connector(
            self.settings(),
            inventory,
            management,
            self.relay,
            |name, address| self.target(name, address),
        )
    }

    /// What a run folder records of this profile (`auth` says where its secrets come from,
    /// as the face knows it), never a secret.
    pub fn record(
        &self,
        face: &str,
        auth: serde_json::Value,
        management: Option<(&str, &str)>,
    ) -> serde_json::Value {
        serde_json::json!({
            "face": face,
            "user": self.user,
            "auth": auth,
            "known_hosts": self.known_hosts,
            "trust_on_first_use": self.trust_on_first_use,
            "rekey": self.rekey,
            "port": self.port,
            "clish": self.clish,
            "kept_shells": self.kept_shells,
            "relay": self.relay,
            "management": management.map(|(n, a)| serde_json::json!({"name": n, "address": a})),
        })
    }

    /// The Management Server (name and address) a [`Profile::record`] names, if any.
    pub fn recorded_management(record: &serde_json::Value) -> Option<(String, String)> {
        let m = record.get("management")?;
        Some((
            m.get("name")?.as_str()?.to_string(),
            m.get("address")?.as_str()?.to_string(),
        ))
    }
}
