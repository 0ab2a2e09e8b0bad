//! SSH settings for deployments over real gateways (direct, or relayed through the
//! Management Server), with strict host-key checking by default.
//!
//! Secrets (passwords, passphrases) are copied into memory that is wiped when the settings
//! are freed, and never written to a run folder, an event or a message.
//!
//! Thread safety: settings may be read (used to make a deployment) from several threads at
//! once; the setters must not run while another thread uses the same settings.

use std::ffi::c_char;
use std::path::PathBuf;
use std::time::Duration;

use ::cdt_ssh::{Auth, Profile};
use secrecy::SecretString;

use crate::args;
use crate::cdt_status::{self, CDT_ERR_ARGUMENT};
use crate::error::{Failure, Result, call};

/// How a deployment reaches its hosts over SSH.
pub struct cdt_ssh {
    user: String,
    auth: Option<Auth>,
    known_hosts: PathBuf,
    trust_on_first_use: bool,
    rekey: Vec<String>,
    port: u16,
    clish: Vec<String>,
    expert_password: Option<SecretString>,
    kept_shells: bool,
    connect_timeout: Duration,
    relay: bool,
}

impl cdt_ssh {
    /// The transport's profile; refused until a way to log in is set.
    pub(crate) fn profile(&self) -> Result<Profile> {
        let auth = self.auth.clone().ok_or_else(|| {
            Failure::new(
                CDT_ERR_ARGUMENT,
                "the SSH settings have no way to log in: set a key file, the agent or a password",
            )
        })?;
        let mut p = Profile::new(&self.user, auth, &self.known_hosts);
        p.trust_on_first_use = self.trust_on_first_use;
        p.rekey = self.rekey.clone();
        p.port = self.port;
        p.clish = self.clish.clone();
        p.expert_password = self.expert_password.clone();
        p.kept_shells = self.kept_shells;
        p.connect_timeout = self.connect_timeout;
        p.relay = self.relay;
        Ok(p)
    }

    /// Whether gateways are reached through the Management Server.
    pub(crate) fn relay(&self) -> bool {
        self.relay
    }

    /// What a run folder records: how the login is made, never a secret.
    pub(crate) fn record(&self, management: Option<(&str, &str)>) -> Result<serde_json::Value> {
        let auth = match &self.auth {
            Some(Auth::KeyFile { path, passphrase }) => serde_json::json!({
                "key_file": path,
                "passphrase": passphrase.as_ref().map(|_| "given"),
            }),
            Some(Auth::Agent) => serde_json::json!("agent"),
            Some(Auth::Password(_)) => serde_json::json!({"password": "given"}),
            Some(Auth::KeyboardInteractive(_)) => {
                serde_json::json!({"password": "given", "keyboard_interactive": true})
            }
            None => serde_json::Value::Null,
        };
        Ok(self.profile()?.record("c", auth, management))
    }
}

unsafe fn secret(p: *const c_char, name: &str) -> Result<SecretString> {
    Ok(SecretString::from(args::text(p, name)?.to_string()))
}

/// New SSH settings logging in as `user`, host keys checked strictly against `known_hosts`
/// (NULL: `$HOME/.ssh/known_hosts`), port 22; set a way to log in before use.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_ssh_new(
    user: *const c_char,
    known_hosts: *const c_char,
    out: *mut *mut cdt_ssh,
) -> cdt_status {
    call(|| {
        args::out(out, "out")?;
        let user = args::text(user, "user")?.to_string();
        let known_hosts = match args::opt_text(known_hosts, "known_hosts")? {
            Some(p) => std::path::absolute(p)
                .map_err(|e| Failure::new(CDT_ERR_ARGUMENT, format!("known_hosts {p}: {e}")))?,
            None => PathBuf::from(std::env::var("HOME").map_err(|_| {
                Failure::new(CDT_ERR_ARGUMENT, "HOME is not set: give known_hosts")
            })?)
            .join(".ssh/known_hosts"),
        };
        args::give(
            out,
            cdt_ssh {
                user,
                auth: None,
                known_hosts,
                trust_on_first_use: false,
                rekey: Vec::new(),
                port: 22,
                clish: Vec::new(),
                expert_password: None,
                kept_shells: false,
                connect_timeout: Duration::from_secs(30),
                relay: false,
            },
        );
        Ok(())
    })
}

/// Logs in with the private key file at `path`, with its `passphrase` (NULL for none).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_ssh_use_key_file(
    ssh: *mut cdt_ssh,
    path: *const c_char,
    passphrase: *const c_char,
) -> cdt_status {
    call(|| {
        let ssh = args::handle_mut(ssh, "ssh")?;
        let path = args::path(path, "path")?;
        let path = std::path::absolute(&path)
            .map_err(|e| Failure::new(CDT_ERR_ARGUMENT, format!("{}: {e}", path.display())))?;
        let passphrase = if passphrase.is_null() {
            None
        } else {
            Some(secret(passphrase, "passphrase")?)
        };
        ssh.auth = Some(Auth::KeyFile { path, passphrase });
        Ok(())
    })
}

/// Logs in with the keys of the running ssh-agent (`SSH_AUTH_SOCK`).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_ssh_use_agent(ssh: *mut cdt_ssh) -> cdt_status {
    call(|| {
        args::handle_mut(ssh, "ssh")?.auth = Some(Auth::Agent);
        Ok(())
    })
}

/// Logs in with `password` (copied), by `password` authentication, or with
/// `keyboard_interactive` at the server's keyboard-interactive prompts.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_ssh_use_password(
    ssh: *mut cdt_ssh,
    password: *const c_char,
    keyboard_interactive: bool,
) -> cdt_status {
    call(|| {
        let ssh = args::handle_mut(ssh, "ssh")?;
        let password = secret(password, "password")?;
        ssh.auth = Some(if keyboard_interactive {
            Auth::KeyboardInteractive(password)
        } else {
            Auth::Password(password)
        });
        Ok(())
    })
}

/// Trusts (and records in `known_hosts`) the key of a host seen for the first time, rather
/// than refusing it.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_ssh_set_trust_on_first_use(
    ssh: *mut cdt_ssh,
    trust: bool,
) -> cdt_status {
    call(|| {
        args::handle_mut(ssh, "ssh")?.trust_on_first_use = trust;
        Ok(())
    })
}

/// Accepts (and records) a changed key for the host `host`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_ssh_add_rekey(ssh: *mut cdt_ssh, host: *const c_char) -> cdt_status {
    call(|| {
        let ssh = args::handle_mut(ssh, "ssh")?;
        ssh.rekey.push(args::text(host, "host")?.to_string());
        Ok(())
    })
}

/// The SSH port of every host (22 unless set).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_ssh_set_port(ssh: *mut cdt_ssh, port: u16) -> cdt_status {
    call(|| {
        if port == 0 {
            return Err(Failure::new(CDT_ERR_ARGUMENT, "port 0 is not a port"));
        }
        args::handle_mut(ssh, "ssh")?.port = port;
        Ok(())
    })
}

/// Marks `host` as a box whose login shell is clish: it is driven through its Expert shell
/// over a terminal, with the Expert password [`cdt_ssh_set_expert_password`] sets.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_ssh_add_clish(ssh: *mut cdt_ssh, host: *const c_char) -> cdt_status {
    call(|| {
        let ssh = args::handle_mut(ssh, "ssh")?;
        ssh.clish.push(args::text(host, "host")?.to_string());
        Ok(())
    })
}

/// The Expert password of the clish hosts (copied).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_ssh_set_expert_password(
    ssh: *mut cdt_ssh,
    password: *const c_char,
) -> cdt_status {
    call(|| {
        let ssh = args::handle_mut(ssh, "ssh")?;
        ssh.expert_password = Some(secret(password, "password")?);
        Ok(())
    })
}

/// Sends commands to shells kept open on each connection rather than a new channel each.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_ssh_set_kept_shells(ssh: *mut cdt_ssh, kept: bool) -> cdt_status {
    call(|| {
        args::handle_mut(ssh, "ssh")?.kept_shells = kept;
        Ok(())
    })
}

/// How long a connection may take to open, in seconds (30 unless set).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_ssh_set_connect_timeout(
    ssh: *mut cdt_ssh,
    seconds: f64,
) -> cdt_status {
    call(|| {
        let seconds = args::positive(seconds, "seconds")?;
        args::handle_mut(ssh, "ssh")?.connect_timeout = Duration::from_secs_f64(seconds);
        Ok(())
    })
}

/// Reaches the gateways through the Management Server (`cprid_util`), SSH reaching it only;
/// the deployment must name the Management Server ([`crate::cdt_options_set_management`]).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_ssh_set_relay(ssh: *mut cdt_ssh, relay: bool) -> cdt_status {
    call(|| {
        args::handle_mut(ssh, "ssh")?.relay = relay;
        Ok(())
    })
}

/// Releases SSH settings (NULL accepted), wiping their secrets.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn cdt_ssh_free(ssh: *mut cdt_ssh) {
    args::free(ssh);
}
