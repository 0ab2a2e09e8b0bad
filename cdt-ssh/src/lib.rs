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
