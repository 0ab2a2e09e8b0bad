//! The direct SSH connector: one connection per host, a channel per command or copy.

use std::borrow::Cow;
use std::path::Path;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use cdt_core::gaia::quote;
use cdt_core::transport::{Connector, ExecOutput, Session, TransportError};
use russh::client::{self, Handle};
use russh::keys::{PrivateKeyWithHashAlg, PublicKeyOrCertificate};
use russh::{ChannelMsg, Preferred, kex};
use secrecy::ExposeSecret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;

use crate::kept::KeptShells;
use crate::known_hosts::{self, KnownHosts, Verdict};
use crate::settings::{Algorithms, Auth, Commands, HostKeyPolicy, LoginShell, SshSettings, Target};
use crate::shell::ExpertShell;

/// How often a refused channel (the server's `MaxSessions`) or a dropped handshake (its
/// `MaxStartups`) is tried again, and the first pause between tries (doubling).
const RETRIES: u32 = 8;
const FIRST_PAUSE: Duration = Duration::from_millis(50);

/// A [`Connector`] reaching each host over SSH directly.
#[derive(Clone)]
pub struct SshConnector {
    settings: Arc<SshSettings>,
    handshakes: Arc<Semaphore>,
    /// The `known_hosts` file as last read, and the private key file once loaded: read once
    /// for every connection rather than at each.
    cache: Arc<Cache>,
}

#[derive(Default)]
struct Cache {
    /// Parsed `known_hosts`, with the file's identity when it was read (reread once it
    /// changes: trust on first use, a re-key, an operator's edit).
    known_hosts: Mutex<Option<(FileStamp, Arc<KnownHosts>)>>,
    key: Mutex<Option<Arc<russh::keys::PrivateKey>>>,
}

/// What tells that a file changed: its length, modification time and inode.
#[derive(Clone, Copy, PartialEq, Eq)]
struct FileStamp(u64, Option<std::time::SystemTime>, u64);

impl FileStamp {
    fn of(path: &Path) -> Option<FileStamp> {
        use std::os::unix::fs::MetadataExt;
        let m = std::fs::metadata(path).ok()?;
        Some(FileStamp(m.len(), m.modified().ok(), m.ino()))
    }
}

impl Cache {
    fn known_hosts(&self, path: &Path) -> Result<Arc<KnownHosts>, String> {
        let stamp = FileStamp::of(path);
        let mut cached = self
            .known_hosts
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let (Some(now), Some((then, known))) = (stamp, cached.as_ref())
            && now == *then
        {
            return Ok(known.clone());
        }
        let known = Arc::new(KnownHosts::load(path).map_err(|e| e.to_string())?);
        // A file changed while read is read again next time.
        if let Some(stamp) = stamp.filter(|s| Some(*s) == FileStamp::of(path)) {
            *cached = Some((stamp, known.clone()));
        }
        Ok(known)
    }

    fn forget_known_hosts(&self) {
        *self
            .known_hosts
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = None;
    }

    fn key(
        &self,
        path: &Path,
        passphrase: Option<&secrecy::SecretString>,
    ) -> Result<Arc<russh::keys::PrivateKey>, String> {
        let mut cached = self.key.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(key) = cached.as_ref() {
            return Ok(key.clone());
        }
        let key = Arc::new(
            russh::keys::load_secret_key(path, passphrase.map(|p| p.expose_secret()))
                .map_err(|e| format!("{}: {e}", path.display()))?,
        );
        *cached = Some(key.clone());
        Ok(key)
    }
}

impl SshConnector {
    /// A connector with `settings`.
    pub fn new(settings: SshSettings) -> SshConnector {
        let permits = settings.max_handshakes.max(1);
        SshConnector {
            settings: Arc::new(settings),
            handshakes: Arc::new(Semaphore::new(permits)),
            cache: Arc::default(),
        }
    }

    async fn open(&self, host: &str) -> Result<SshSession, TransportError> {
        let target =
            self.settings
                .targets
                .get(host)
                .cloned()
                .ok_or_else(|| TransportError::Other {
                    host: host.to_string(),
                    message: "no address is known for this host".into(),
                })?;
        let limit = self.settings.connect_timeout;
        let connecting = async {
            let _permit = self
                .handshakes
                .acquire()
                .await
                .map_err(|e| other(host, e.to_string()))?;
            let mut pause = FIRST_PAUSE;
            let mut attempt = 0;
            loop {
                attempt += 1;
                match self.handshake(host, &target).await {
                    Err(Failure::Dropped(_)) if attempt < RETRIES => {
                        // An sshd at its MaxStartups drops new connections before its banner.
                        tokio::time::sleep(pause).await;
                        pause *= 2;
                    }
                    Err(Failure::Dropped(message)) => {
                        return Err(TransportError::Unreachable {
                            host: host.to_string(),
                            message,
                        });
                    }
                    Err(Failure::Transport(e)) => return Err(e),
                    Ok(handle) => return Ok(handle),
                }
            }
        };
        let handle = match tokio::time::timeout(limit, connecting).await {
            Ok(result) => result?,
            Err(_) => {
                return Err(TransportError::Unreachable {
                    host: host.to_string(),
                    message: format!("no connection within {} s", limit.as_secs()),
                });
            }
        };
        let shell =
            match target.login {
                LoginShell::Expert => None,
                LoginShell::Clish => {
                    let password = self.settings.expert_password.as_ref().ok_or_else(|| {
                        TransportError::Auth {
                            host: host.to_string(),
                            message: "its login shell is clish, and no Expert password is given"
                                .into(),
                        }
                    })?;
                    Some(Arc::new(
                        ExpertShell::open(&handle, host, password, limit).await?,
                    ))
                }
            };
        let kept = (shell.is_none() && target.commands == Commands::KeptShells)
            .then(|| Arc::new(KeptShells::new(host, self.settings.kept_shells)));
        Ok(SshSession {
            host: host.to_string(),
            shell,
            kept,
            handle: Arc::new(handle),
            sftp: Arc::new(AtomicU8::new(SFTP_UNKNOWN)),
            settings: self.settings.clone(),
        })
    }

    async fn handshake(&self, host: &str, target: &Target) -> Result<Handle<Client>, Failure> {
        let stream = tokio::net::TcpStream::connect((target.address.as_str(), target.port))
            .await
            .map_err(|e| {
                Failure::Transport(TransportError::Unreachable {
                    host: host.to_string(),
                    message: format!("{}:{}: {e}", target.address, target.port),
                })
            })?;
        let _ = stream.set_nodelay(true);
        let peer = stream.peer_addr().ok();
        let mut names = vec![known_hosts::host_key_name(&target.address, target.port)];
        if let Some(ip) = peer.map(|p| known_hosts::host_key_name(&p.ip().to_string(), target.port))
            && !names.contains(&ip)
        {
            names.push(ip);
        }
        let refusal = Arc::new(Mutex::new(None));
        let client = Client {
            host: host.to_string(),
            names,
            settings: self.settings.clone(),
            refusal: refusal.clone(),
            cache: self.cache.clone(),
        };
        let config = Arc::new(client::Config {
            nodelay: true,
            keepalive_interval: Some(self.settings.keepalive),
            keepalive_max: 3,
            preferred: preferred(target.algorithms),
            ..client::Config::default()
        });
        let mut handle = match client::connect_stream(config, stream, client).await {
            Ok(h) => h,
            Err(e) => {
                let refused = refusal
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                return Err(match refused {
                    Some(message) => Failure::Transport(TransportError::HostKey {
                        host: host.to_string(),
                        message,
                    }),
                    None => handshake_failure(host, e),
                });
            }
        };
        let user = target.user.as_deref().unwrap_or(&self.settings.user);
        authenticate(&mut handle, host, user, &self.settings.auth, &self.cache)
            .await
            .map_err(Failure::Transport)?;
        Ok(handle)
    }
}

#[async_trait]
impl Connector for SshConnector {
    async fn connect(&self, host: &str) -> Result<Arc<dyn Session>, TransportError> {
        Ok(Arc::new(self.open(host).await?))
    }
}

enum Failure {
    /// The server closed the connection during the handshake (worth another try).
    Dropped(String),
    Transport(TransportError),
}

fn other(host: &str, message: String) -> TransportError {
    TransportError::Other {
        host: host.to_string(),
        message,
    }
}

fn handshake_failure(host: &str, e: russh::Error) -> Failure {
    match e {
        russh::Error::Disconnect | russh::Error::HUP | russh::Error::IO(_) => {
            Failure::Dropped(e.to_string())
        }
        russh::Error::NoCommonAlgo { .. } => Failure::Transport(other(
            host,
            format!("{e} (legacy algorithms are used only when asked for this host)"),
        )),
        other_error => Failure::Transport(TransportError::Unreachable {
            host: host.to_string(),
            message: other_error.to_string(),
        }),
    }
}

fn preferred(algorithms: Algorithms) -> Preferred {
    match algorithms {
        Algorithms::Modern => Preferred::default(),
        Algorithms::Curve25519 => Preferred {
            // The extension names keep strict key exchange and server-sig-algs.
            kex: Cow::Owned(vec![
                kex::CURVE25519,
                kex::CURVE25519_PRE_RFC_8731,
                kex::EXTENSION_SUPPORT_AS_CLIENT,
                kex::EXTENSION_OPENSSH_STRICT_KEX_AS_CLIENT,
            ]),
            ..Preferred::default()
        },
        Algorithms::Legacy => {
            let mut kex: Vec<kex::Name> = Preferred::default().kex.to_vec();
            kex.extend([kex::DH_G14_SHA1, kex::DH_GEX_SHA1, kex::DH_G1_SHA1]);
            let mut key = Preferred::default().key.to_vec();
            key.push(russh::keys::Algorithm::Rsa { hash: None });
            Preferred {
                kex: Cow::Owned(kex),
                key: Cow::Owned(key),
                ..Preferred::default()
            }
        }
    }
}

async fn authenticate(
    handle: &mut Handle<Client>,
    host: &str,
    user: &str,
    auth: &Auth,
    cache: &Cache,
) -> Result<(), TransportError> {
    let refused = |message: String| TransportError::Auth {
        host: host.to_string(),
        message,
    };
    let failed = |e: russh::Error| refused(format!("as {user}: {e}"));
    let ok = match auth {
        Auth::KeyFile { path, passphrase } => {
            let key = cache.key(path, passphrase.as_ref()).map_err(refused)?;
            let hash = if matches!(key.algorithm(), russh::keys::Algorithm::Rsa { .. }) {
                match handle.best_supported_rsa_hash().await.map_err(failed)? {
                    None => Some(russh::keys::HashAlg::Sha256),
                    Some(h) => h,
                }
            } else {
                None
            };
            handle
                .authenticate_publickey(user, PrivateKeyWithHashAlg::new(key, hash))
                .await
                .map_err(failed)?
                .success()
        }
        Auth::Password(password) => handle
            .authenticate_password(user, password.expose_secret())
            .await
            .map_err(failed)?
            .success(),
        Auth::KeyboardInteractive(password) => {
            let mut reply = handle
                .authenticate_keyboard_interactive_start(user, None::<String>)
                .await
                .map_err(failed)?;
            loop {
                match reply {
                    client::KeyboardInteractiveAuthResponse::Success => break true,
                    client::KeyboardInteractiveAuthResponse::Failure { .. } => break false,
                    client::KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } => {
                        let answers = prompts
                            .iter()
                            .map(|_| password.expose_secret().to_string())
                            .collect();
                        reply = handle
                            .authenticate_keyboard_interactive_respond(answers)
                            .await
                            .map_err(failed)?;
                    }
                }
            }
        }
        Auth::Agent => {
            let mut agent = russh::keys::agent::client::AgentClient::connect_env()
                .await
                .map_err(|e| refused(format!("ssh-agent: {e}")))?;
            let identities = agent
                .request_identities()
                .await
                .map_err(|e| refused(format!("ssh-agent: {e}")))?;
            let mut ok = false;
            for identity in identities {
                let key = identity.public_key().into_owned();
                let hash = if matches!(key.algorithm(), russh::keys::Algorithm::Rsa { .. }) {
                    Some(russh::keys::HashAlg::Sha256)
                } else {
                    None
                };
                if let Ok(r) = handle
                    .authenticate_publickey_with(user, key, hash, &mut agent)
                    .await
                    && r.success()
                {
                    ok = true;
                    break;
                }
            }
            ok
        }
    };
    if ok {
        Ok(())
    } else if handle.is_closed() {
        Err(TransportError::ConnectionLost {
            host: host.to_string(),
            message: "the server closed the connection during authentication".into(),
        })
    } else {
        Err(refused(format!(
            "the server refused the credentials for {user}"
        )))
    }
}

/// The russh side of a connection: checks the host key.
struct Client {
    host: String,
    names: Vec<String>,
    settings: Arc<SshSettings>,
    /// Why the host key was refused, for the error the caller sees.
    refusal: Arc<Mutex<Option<String>>>,
    cache: Arc<Cache>,
}

impl Client {
    fn verify(&self, offered: &PublicKeyOrCertificate) -> Result<(), String> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = offered else {
            return Err(
                "the host presented a certificate; host certificates are not \
                        supported: list the host's key in known_hosts"
                    .into(),
            );
        };
        let path = &self.settings.known_hosts;
        let known = self.cache.known_hosts(path)?;
        let offered_print = known_hosts::fingerprint(key);
        let name = self.names.first().cloned().unwrap_or_default();
        match known.check(&self.names, key) {
            Verdict::Known => Ok(()),
            Verdict::Unknown if self.settings.host_keys == HostKeyPolicy::TrustOnFirstUse => {
                let learnt = known_hosts::learn(path, &name, key, false);
                self.cache.forget_known_hosts();
                learnt.map_err(|e| e.to_string())
            }
            Verdict::Changed { .. } if self.settings.rekey.contains(&self.host) => {
                let learnt = known_hosts::learn(path, &name, key, true);
                self.cache.forget_known_hosts();
                learnt.map_err(|e| e.to_string())
            }
            Verdict::Unknown => Err(format!(
                "{name} is not in {} (offered {offered_print}); add its key, or ask for \
                 trust on first use",
                path.display()
            )),
            Verdict::Changed { expected, line } => Err(format!(
                "the key of {name} changed: offered {offered_print}, {}:{line} lists {}; \
                 if the gateway was replaced or reinstalled, re-key this host explicitly",
                path.display(),
                expected.join(", ")
            )),
            v @ (Verdict::Revoked { .. } | Verdict::CertificateAuthority { .. }) => {
                Err(format!("{name} ({offered_print}): {v}"))
            }
        }
    }
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        offered: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        match self.verify(offered) {
            Ok(()) => Ok(true),
            Err(message) => {
                *self.refusal.lock().unwrap_or_else(PoisonError::into_inner) = Some(message);
                Ok(false)
            }
        }
    }
}

const SFTP_UNKNOWN: u8 = 0;
const SFTP_YES: u8 = 1;
const SFTP_NO: u8 = 2;

/// One SSH connection to a host; every call opens its own channel, so calls overlap.
pub(crate) struct SshSession {
    host: String,
    /// The Expert shell over a terminal, for a host whose login shell is clish.
    shell: Option<Arc<ExpertShell>>,
    /// The kept shells, for a host whose commands go to them.
    kept: Option<Arc<KeptShells>>,
    handle: Arc<Handle<Client>>,
    /// Whether the server offers SFTP (learnt on the first copy).
    sftp: Arc<AtomicU8>,
    settings: Arc<SshSettings>,
}

impl SshSession {
    fn lost(&self, message: impl std::fmt::Display) -> TransportError {
        TransportError::ConnectionLost {
            host: self.host.clone(),
            message: message.to_string(),
        }
    }

    /// Opens a channel, waiting and trying again while the server refuses it (its
    /// `MaxSessions`).
    async fn channel(&self) -> Result<russh::Channel<client::Msg>, TransportError> {
        let mut pause = FIRST_PAUSE;
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.handle.channel_open_session().await {
                Ok(channel) => return Ok(channel),
                Err(russh::Error::ChannelOpenFailure(_)) if attempt < RETRIES => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                Err(e) => return Err(self.lost(format!("cannot open a channel: {e}"))),
            }
        }
    }

    /// Runs `command` with `input` as its standard input; collects its output (each stream up
    /// to `cap` bytes) and exit status, reading until the channel closes.
    async fn run(
        &self,
        command: &str,
        input: Option<tokio::fs::File>,
        cap: usize,
    ) -> Result<(Option<i32>, Vec<u8>, Vec<u8>, bool), TransportError> {
        let mut channel = self.channel().await?;
        channel
            .exec(true, command)
            .await
            .map_err(|e| self.lost(e))?;
        if let Some(file) = input {
            channel.data(file).await.map_err(|e| self.lost(e))?;
            channel.eof().await.map_err(|e| self.lost(e))?;
        }
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        let mut exit = None;
        let mut truncated = false;
        let mut keep = |buf: &mut Vec<u8>, data: &[u8]| {
            let room = cap.saturating_sub(buf.len());
            if data.len() > room {
                truncated = true;
            }
            buf.extend_from_slice(&data[..data.len().min(room)]);
        };
        while let Some(msg) = channel.wait().await {
            match msg {
                ChannelMsg::Data { data } => keep(&mut stdout, &data),
                ChannelMsg::ExtendedData { data, ext: 1 } => keep(&mut stderr, &data),
                ChannelMsg::ExitStatus { exit_status } => {
                    exit = Some(i32::try_from(exit_status).unwrap_or(i32::MAX));
                }
                ChannelMsg::Failure => {
                    return Err(other(
                        &self.host,
                        "the server refused to run the command".into(),
                    ));
                }
                _ => {}
            }
        }
        Ok((exit, stdout, stderr, truncated))
    }

    /// An SFTP session on a new channel, if the server offers SFTP.
    async fn sftp(&self) -> Result<Option<russh_sftp::client::SftpSession>, TransportError> {
        if self.sftp.load(Ordering::Relaxed) == SFTP_NO {
            return Ok(None);
        }
        let mut channel = self.channel().await?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(|e| self.lost(e))?;
        let accepted = loop {
            match channel.wait().await {
                Some(ChannelMsg::Success) => break true,
                Some(ChannelMsg::Failure) | None => break false,
                Some(_) => {}
            }
        };
        if !accepted {
            self.sftp.store(SFTP_NO, Ordering::Relaxed);
            return Ok(None);
        }
        match russh_sftp::client::SftpSession::new(channel.into_stream()).await {
            Ok(s) => {
                self.sftp.store(SFTP_YES, Ordering::Relaxed);
                Ok(Some(s))
            }
            Err(_) => {
                // A server that accepts the subsystem but does not speak SFTP on it (a
                // gateway whose login shell is clish): copy over exec instead.
                self.sftp.store(SFTP_NO, Ordering::Relaxed);
                Ok(None)
            }
        }
    }

    fn transfer(&self, message: impl std::fmt::Display) -> TransportError {
        TransportError::Transfer {
            host: self.host.clone(),
            message: message.to_string(),
        }
    }
}

#[async_trait]
impl Session for SshSession {
    async fn exec(&self, command: &str) -> Result<ExecOutput, TransportError> {
        if let Some(shell) = &self.shell {
            return shell.exec(command).await;
        }
        if let Some(kept) = &self.kept {
            let _turn = kept.turn().await?;
            let shell = match kept.take_idle() {
                Some(shell) => shell,
                None => kept.start(self.channel().await?).await?,
            };
            return kept.run(shell, command, self.settings.max_output).await;
        }
        let (exit, stdout, stderr, truncated) =
            self.run(command, None, self.settings.max_output).await?;
        let mut stderr = String::from_utf8_lossy(&stderr).into_owned();
        if truncated {
            stderr.push_str(&format!(
                "\n[cdt: output beyond {} bytes was dropped]\n",
                self.settings.max_output
            ));
        }
        Ok(ExecOutput {
            exit,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr,
        })
    }

    async fn put(&self, local: &Path, remote: &str) -> Result<(), TransportError> {
        if let Some(shell) = &self.shell {
            return shell.put(local, remote).await;
        }
        let file = tokio::fs::File::open(local)
            .await
            .map_err(|e| self.transfer(format!("{}: {e}", local.display())))?;
        if let Some(sftp) = self.sftp().await? {
            // Large reads make large SFTP writes (one request per write call).
            let mut from = tokio::io::BufReader::with_capacity(256 << 10, file);
            let mut to = sftp
                .create(remote)
                .await
                .map_err(|e| self.transfer(format!("{remote}: {e}")))?;
            tokio::io::copy_buf(&mut from, &mut to)
                .await
                .map_err(|e| self.transfer(format!("{remote}: {e}")))?;
            to.shutdown()
                .await
                .map_err(|e| self.transfer(format!("{remote}: {e}")))?;
            let _ = sftp.close().await;
            return Ok(());
        }
        let command = format!(
            "cat > {}",
            quote::shell(remote).map_err(|e| self.transfer(e))?
        );
        let (exit, _, stderr, _) = self.run(&command, Some(file), 64 << 10).await?;
        match exit {
            Some(0) => Ok(()),
            Some(code) => Err(self.transfer(format!(
                "{remote}: the copy exited {code}: {}",
                String::from_utf8_lossy(&stderr).trim()
            ))),
            None => Err(self.lost(format!("{remote}: the connection dropped during the copy"))),
        }
    }

    async fn get(&self, remote: &str, local: &Path) -> Result<(), TransportError> {
        let cap = self.settings.max_file;
        let partial = local.with_extension("cdt-part");
        let content = if let Some(shell) = &self.shell {
            shell.get(remote, cap).await?
        } else if let Some(sftp) = self.sftp().await? {
            let mut from = sftp
                .open(remote)
                .await
                .map_err(|e| self.transfer(format!("{remote}: {e}")))?;
            let mut content = Vec::new();
            (&mut from)
                .take(cap + 1)
                .read_to_end(&mut content)
                .await
                .map_err(|e| self.transfer(format!("{remote}: {e}")))?;
            let _ = sftp.close().await;
            content
        } else {
            let command = format!(
                "cat {}",
                quote::shell(remote).map_err(|e| self.transfer(e))?
            );
            let limit = usize::try_from(cap.saturating_add(1)).unwrap_or(usize::MAX);
            let (exit, stdout, stderr, _) = self.run(&command, None, limit).await?;
            match exit {
                Some(0) => stdout,
                Some(code) => {
                    return Err(self.transfer(format!(
                        "{remote}: exited {code}: {}",
                        String::from_utf8_lossy(&stderr).trim()
                    )));
                }
                None => {
                    return Err(self.lost(format!("{remote}: the connection dropped")));
                }
            }
        };
        if content.len() as u64 > cap {
            return Err(self.transfer(format!("{remote}: larger than the {cap}-byte cap")));
        }
        // Written beside the target and renamed over it: the file is whole or absent.
        tokio::fs::write(&partial, &content)
            .await
            .and(tokio::fs::rename(&partial, local).await)
            .map_err(|e| self.transfer(format!("{}: {e}", local.display())))
    }
}
