//! `cdt execute --inventory …`: reaching real gateways over SSH, directly or relayed through
//! the Management Server. Secrets come from the environment, a file, a prompt or the
//! ssh-agent, never from the command line; the run folder records where they came from, not
//! what they are, so `cdt resume` asks for them the same way.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use cdt_core::model::Inventory;
use cdt_core::transport::Connector;
use cdt_ssh::{Auth, HostKeyPolicy, SshSettings, Target};
use clap::Args;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

/// How to reach gateways over SSH.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct SshArgs {
    /// The user to log in as.
    #[arg(long, default_value = "admin")]
    user: String,
    /// The SSH port of every host.
    #[arg(long, default_value_t = 22)]
    port: u16,
    /// Authenticate with this private key file.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// The key's passphrase, from this environment variable.
    #[arg(long, value_name = "VAR", requires = "key")]
    key_passphrase_env: Option<String>,
    /// The key's passphrase, from the first line of this file.
    #[arg(long, value_name = "FILE", requires = "key")]
    key_passphrase_file: Option<PathBuf>,
    /// Authenticate with the keys of the running ssh-agent.
    #[arg(long, conflicts_with = "key")]
    agent: bool,
    /// Authenticate with the password in this environment variable.
    #[arg(long, value_name = "VAR", conflicts_with_all = ["key", "agent"])]
    password_env: Option<String>,
    /// Authenticate with the password on the first line of this file.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key", "agent", "password_env"])]
    password_file: Option<PathBuf>,
    /// Ask for the password (without echo).
    #[arg(long, conflicts_with_all = ["key", "agent", "password_env", "password_file"])]
    password_prompt: bool,
    /// Type the password at keyboard-interactive prompts instead of `password` authentication.
    #[arg(long)]
    keyboard_interactive: bool,
    /// A host whose login shell is clish: its commands run in the Expert shell reached over a
    /// terminal with the Expert password.
    #[arg(long = "clish", value_name = "HOST")]
    clish: Vec<String>,
    /// Send commands to shells kept open on each connection (run in a subshell each, the
    /// exit status read from a marker) instead of a new channel per command: for hosts that
    /// run many short commands. Not for --clish hosts, which use their terminal.
    #[arg(long)]
    kept_shells: bool,
    /// The Expert password (for --clish hosts), from this environment variable.
    #[arg(long, value_name = "VAR")]
    expert_password_env: Option<String>,
    /// The Expert password, from the first line of this file.
    #[arg(long, value_name = "FILE", conflicts_with = "expert_password_env")]
    expert_password_file: Option<PathBuf>,
    /// Ask for the Expert password (without echo).
    #[arg(long, conflicts_with_all = ["expert_password_env", "expert_password_file"])]
    expert_password_prompt: bool,
    /// The OpenSSH known_hosts file (default: ~/.ssh/known_hosts).
    #[arg(long, value_name = "FILE")]
    known_hosts: Option<PathBuf>,
    /// Trust a host not in known_hosts yet, and add its key (a changed key is still refused).
    #[arg(long)]
    trust_on_first_use: bool,
    /// Accept HOST's changed key and replace the listed one (after an RMA or a reinstall).
    #[arg(long, value_name = "HOST")]
    rekey: Vec<String>,
    /// The Management Server's address (its name is --management).
    #[arg(long, value_name = "ADDRESS", requires = "management")]
    management_address: Option<String>,
    /// Reach every gateway through the Management Server with cprid_util: SSH to that host
    /// only.
    #[arg(long, requires = "management_address")]
    relay: bool,
    /// Run the clock this many times faster (for simulated gateways behind SSH, the test
    /// fleet; never for real ones).
    #[arg(long, default_value_t = 1.0, hide = true)]
    clock_scale: f64,
}

/// Where a secret comes from.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "snake_case")]
enum SecretSource {
    Env(String),
    File(PathBuf),
    Prompt,
}

impl SecretSource {
    fn read(&self, what: &str) -> Result<SecretString, String> {
        match self {
            SecretSource::Env(var) => Auth::secret_from_env(var),
            SecretSource::File(path) => Auth::secret_from_file(path),
            SecretSource::Prompt => rpassword::prompt_password(format!("{what}: "))
                .map(SecretString::from)
                .map_err(|e| format!("reading the {what}: {e}")),
        }
    }
}

/// How to authenticate, without the secrets themselves.
#[derive(Serialize, Deserialize, Debug, Clone)]
#[serde(rename_all = "snake_case")]
enum AuthSource {
    Key {
        path: PathBuf,
        passphrase: Option<SecretSource>,
    },
    Agent,
    Password {
        from: SecretSource,
        keyboard_interactive: bool,
    },
}

/// What a run over SSH records in its run folder (no secrets), to resume it.
#[derive(Serialize, Deserialize, Debug, Clone)]
pub(crate) struct SshRun {
    inventory: Option<PathBuf>,
    user: String,
    port: u16,
    auth: AuthSource,
    known_hosts: PathBuf,
    trust_on_first_use: bool,
    rekey: Vec<String>,
    management: Option<(String, String)>,
    relay: bool,
    #[serde(default)]
    clish: Vec<String>,
    #[serde(default)]
    kept_shells: bool,
    #[serde(default)]
    expert_password: Option<SecretSource>,
    pub(crate) clock_scale: f64,
}

impl SshRun {
    /// The run's SSH settings from the command line.
    pub(crate) fn from_args(
        args: &SshArgs,
        inventory: Option<&std::path::Path>,
        management: Option<&str>,
    ) -> Result<SshRun, String> {
        let auth = if let Some(path) = &args.key {
            AuthSource::Key {
                path: absolute(path)?,
                passphrase: match (&args.key_passphrase_env, &args.key_passphrase_file) {
                    (Some(var), _) => Some(SecretSource::Env(var.clone())),
                    (None, Some(file)) => Some(SecretSource::File(absolute(file)?)),
                    (None, None) => None,
                },
            }
        } else if args.agent {
            AuthSource::Agent
        } else {
            let from = match (
                &args.password_env,
                &args.password_file,
                args.password_prompt,
            ) {
                (Some(var), _, _) => SecretSource::Env(var.clone()),
                (None, Some(file), _) => SecretSource::File(absolute(file)?),
                (None, None, true) => SecretSource::Prompt,
                (None, None, false) => {
                    return Err("say how to authenticate: --key, --agent, --password-env, \
                                --password-file or --password-prompt"
                        .into());
                }
            };
            AuthSource::Password {
                from,
                keyboard_interactive: args.keyboard_interactive,
            }
        };
        let known_hosts = match &args.known_hosts {
            Some(p) => absolute(p)?,
            None => PathBuf::from(
                std::env::var("HOME")
                    .map_err(|_| "HOME is not set: give --known-hosts".to_string())?,
            )
            .join(".ssh/known_hosts"),
        };
        Ok(SshRun {
            inventory: inventory.map(absolute).transpose()?,
            user: args.user.clone(),
            port: args.port,
            auth,
            known_hosts,
            trust_on_first_use: args.trust_on_first_use,
            rekey: args.rekey.clone(),
            management: management
                .zip(args.management_address.as_deref())
                .map(|(n, a)| (n.to_string(), a.to_string())),
            relay: args.relay,
            clish: args.clish.clone(),
            kept_shells: args.kept_shells,
            expert_password: match (
                &args.expert_password_env,
                &args.expert_password_file,
                args.expert_password_prompt,
            ) {
                (Some(var), _, _) => Some(SecretSource::Env(var.clone())),
                (None, Some(file), _) => Some(SecretSource::File(absolute(file)?)),
                (None, None, true) => Some(SecretSource::Prompt),
                (None, None, false) => None,
            },
            clock_scale: if args.clock_scale > 0.0 {
                args.clock_scale
            } else {
                1.0
            },
        })
    }

    /// The inventory the run deploys to.
    pub(crate) fn inventory(&self) -> Result<Inventory, Box<dyn std::error::Error>> {
        let path = self
            .inventory
            .as_ref()
            .ok_or("the run has no inventory file")?;
        Ok(Inventory::load(path)?)
    }

    /// The Management Server's name and address, when given.
    pub(crate) fn management(&self) -> Option<(&str, &str)> {
        self.management
            .as_ref()
            .map(|(n, a)| (n.as_str(), a.as_str()))
    }

    /// The connector: direct to every gateway, or relayed through the Management Server.
    /// Reads the secrets now.
    pub(crate) fn connector(&self, inventory: &Inventory) -> Result<Arc<dyn Connector>, String> {
        Ok(self.connector_with(inventory, self.credentials()?))
    }

    /// The credentials (and the Expert password, if any), read or asked for now.
    pub(crate) fn credentials(&self) -> Result<(Auth, Option<SecretString>), String> {
        let expert = self
            .expert_password
            .as_ref()
            .map(|s| s.read("Expert password"))
            .transpose()?;
        Ok((self.auth()?, expert))
    }

    /// The credentials, read (or asked for) now.
    fn auth(&self) -> Result<Auth, String> {
        Ok(match &self.auth {
            AuthSource::Key { path, passphrase } => Auth::KeyFile {
                path: path.clone(),
                passphrase: passphrase
                    .as_ref()
                    .map(|s| s.read("key passphrase"))
                    .transpose()?,
            },
            AuthSource::Agent => Auth::Agent,
            AuthSource::Password {
                from,
                keyboard_interactive,
            } => {
                let password = from.read(&format!("password for {}", self.user))?;
                if *keyboard_interactive {
                    Auth::KeyboardInteractive(password)
                } else {
                    Auth::Password(password)
                }
            }
        })
    }

    /// The connector for `inventory`'s gateways with credentials already read.
    pub(crate) fn connector_with(
        &self,
        inventory: &Inventory,
        (auth, expert): (Auth, Option<SecretString>),
    ) -> Arc<dyn Connector> {
        let target = |name: &str, address: &str| {
            let t = Target::new(address).with_port(self.port);
            if self.clish.iter().any(|c| c == name) {
                t.with_clish()
            } else if self.kept_shells {
                t.with_kept_shells()
            } else {
                t
            }
        };
        let mut settings = SshSettings::new(BTreeMap::new(), &self.user, auth, &self.known_hosts);
        settings.expert_password = expert;
        if self.trust_on_first_use {
            settings.host_keys = HostKeyPolicy::TrustOnFirstUse;
        }
        settings.rekey = self.rekey.iter().cloned().collect();
        cdt_ssh::fleet_connector(settings, inventory, self.management(), self.relay, target)
    }
}

fn absolute(path: &std::path::Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))
}
