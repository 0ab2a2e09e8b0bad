//! The Expert shell of a gateway whose login shell is clish: one terminal (PTY) session,
//! `expert` and its password typed at the prompts, echo turned off, then every command
//! followed by `echo <marker>$?` so its exit status is read from the output. Calls on one
//! terminal take turns. Copies go over the same terminal in base64 (`base64 -d > PATH
//! <<'MARK'`, `base64 PATH`).

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cdt_core::gaia::terminal::{self, HEREDOC_END};
use cdt_core::transport::{ExecOutput, TransportError};
use russh::ChannelMsg;
use russh::client::{self, Handle};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

/// An Expert shell over a terminal.
pub(crate) struct ExpertShell {
    host: String,
    terminal: Mutex<Terminal>,
}

struct Terminal {
    channel: russh::Channel<client::Msg>,
    pending: Vec<u8>,
    next: u64,
    /// The session ended (a reboot, a dropped connection): nothing more can run on it.
    closed: bool,
}

impl Terminal {
    /// Reads until `done` finds the end of what is awaited in the received text; returns the
    /// text up to that end.
    async fn read_until(
        &mut self,
        host: &str,
        limit: Option<Duration>,
        done: impl Fn(&[u8]) -> Option<usize>,
    ) -> Result<Vec<u8>, TransportError> {
        let deadline = limit.map(|l| tokio::time::Instant::now() + l);
        loop {
            if let Some(end) = done(&self.pending) {
                return Ok(self.pending.drain(..end).collect());
            }
            let next = match deadline {
                Some(d) => match tokio::time::timeout_at(d, self.channel.wait()).await {
                    Ok(msg) => msg,
                    Err(_) => {
                        return Err(TransportError::Unreachable {
                            host: host.to_string(),
                            message: format!(
                                "the terminal did not show the awaited prompt; it showed: {}",
                                cdt_core::gaia::quote::Printable(&terminal::clean(&self.pending))
                            ),
                        });
                    }
                },
                None => self.channel.wait().await,
            };
            match next {
                Some(ChannelMsg::Data { data }) | Some(ChannelMsg::ExtendedData { data, .. }) => {
                    self.pending.extend_from_slice(&data);
                }
                Some(ChannelMsg::Eof | ChannelMsg::Close) | None => {
                    self.closed = true;
                    return Err(TransportError::ConnectionLost {
                        host: host.to_string(),
                        message: "the terminal session ended".into(),
                    });
                }
                Some(_) => {}
            }
        }
    }

    async fn send(&mut self, host: &str, text: &str) -> Result<(), TransportError> {
        self.channel
            .data_bytes(text.as_bytes().to_vec())
            .await
            .map_err(|e| TransportError::ConnectionLost {
                host: host.to_string(),
                message: e.to_string(),
            })
    }
}

impl ExpertShell {
    /// Opens a terminal session on `handle`, and enters the Expert shell with `password`.
    pub(crate) async fn open<H: client::Handler>(
        handle: &Handle<H>,
        host: &str,
        password: &SecretString,
        limit: Duration,
    ) -> Result<ExpertShell, TransportError> {
        let lost = |e: russh::Error| TransportError::ConnectionLost {
            host: host.to_string(),
            message: format!("opening a terminal: {e}"),
        };
        let channel = handle.channel_open_session().await.map_err(lost)?;
        channel
            .request_pty(false, "vt100", 4000, 50, 0, 0, &[])
            .await
            .map_err(lost)?;
        channel.request_shell(false).await.map_err(lost)?;
        let mut t = Terminal {
            channel,
            pending: Vec::new(),
            next: 0,
            closed: false,
        };
        let limit = Some(limit);
        // The clish prompt (`HOST> ` or `HOST:0> `).
        t.read_until(host, limit, terminal::clish_prompt_end)
            .await?;
        t.send(host, &format!("{}\n", terminal::EXPERT)).await?;
        t.read_until(host, limit, terminal::password_prompt_end)
            .await?;
        t.send(host, &format!("{}\n", password.expose_secret()))
            .await?;
        let answer = t
            .read_until(host, limit, |b| {
                terminal::expert_prompt(b, 0)
                    .map(|(_, end)| end)
                    .or_else(|| terminal::wrong_password_end(b))
                    .or_else(|| terminal::clish_prompt_end(b))
            })
            .await?;
        if terminal::expert_prompt(&answer, 0).is_none() {
            return Err(TransportError::Auth {
                host: host.to_string(),
                message: "the Expert password was refused".into(),
            });
        }
        let shell = ExpertShell {
            host: host.to_string(),
            terminal: Mutex::new(t),
        };
        // Without echo, the output is only what commands print.
        let out = shell.exec("stty -echo").await?;
        if out.exit.is_none() {
            return Err(TransportError::ConnectionLost {
                host: host.to_string(),
                message: "the Expert shell ended".into(),
            });
        }
        Ok(shell)
    }

    /// Runs `command` (with the lines of `input` after it, for a heredoc) and reads its output
    /// and exit status.
    async fn run(&self, command: &str, input: &str) -> Result<ExecOutput, TransportError> {
        let mut t = self.terminal.lock().await;
        if t.closed {
            return Err(TransportError::ConnectionLost {
                host: self.host.clone(),
                message: "the terminal session ended".into(),
            });
        }
        t.next += 1;
        let marker = terminal::exit_marker(t.next);
        // What is left of the last command: its prompt.
        t.pending.clear();
        t.send(
            &self.host,
            &format!("{command}\n{input}{}\n", terminal::echo_exit(&marker)),
        )
        .await?;
        let found = t
            .read_until(&self.host, None, |b| {
                terminal::find_exit(b, &marker).map(|(_, end)| end)
            })
            .await;
        let text = match found {
            Ok(text) => text,
            // The session ended during the command (a reboot): no exit status.
            Err(TransportError::ConnectionLost { .. }) => {
                let text = std::mem::take(&mut t.pending);
                return Ok(ExecOutput {
                    exit: None,
                    stdout: terminal::clean(&text),
                    stderr: String::new(),
                });
            }
            Err(e) => return Err(e),
        };
        let (at, exit) = match terminal::exit_status(&text, &marker) {
            Some((at, status)) => (at, Some(status)),
            None => (text.len(), None),
        };
        Ok(ExecOutput {
            exit,
            stdout: terminal::clean(&text[..at]),
            stderr: String::new(),
        })
    }

    /// Runs one command line in the Expert shell.
    pub(crate) async fn exec(&self, command: &str) -> Result<ExecOutput, TransportError> {
        if command.contains('\n') {
            return Err(TransportError::Other {
                host: self.host.clone(),
                message: "a command for a terminal must be one line".into(),
            });
        }
        self.run(command, "").await
    }

    /// Copies `local` to `remote` in base64 over the terminal.
    pub(crate) async fn put(&self, local: &Path, remote: &str) -> Result<(), TransportError> {
        let transfer = |message: String| TransportError::Transfer {
            host: self.host.clone(),
            message,
        };
        let content = tokio::fs::read(local)
            .await
            .map_err(|e| transfer(format!("{}: {e}", local.display())))?;
        let text = STANDARD.encode(&content);
        let mut lines = String::with_capacity(text.len() + text.len() / 76 + 16);
        for chunk in text.as_bytes().chunks(76) {
            lines.push_str(&String::from_utf8_lossy(chunk));
            lines.push('\n');
        }
        lines.push_str(HEREDOC_END);
        lines.push('\n');
        let store = terminal::base64_store(remote).map_err(|e| transfer(e.to_string()))?;
        let out = self.run(&store, &lines).await?;
        match out.exit {
            Some(0) => Ok(()),
            Some(code) => Err(transfer(format!(
                "{remote}: the copy exited {code}: {}",
                out.stdout.trim()
            ))),
            None => Err(TransportError::ConnectionLost {
                host: self.host.clone(),
                message: format!("{remote}: the connection dropped during the copy"),
            }),
        }
    }

    /// Copies `remote` in base64 over the terminal; the content, at most `cap` bytes.
    pub(crate) async fn get(&self, remote: &str, cap: u64) -> Result<Vec<u8>, TransportError> {
        let transfer = |message: String| TransportError::Transfer {
            host: self.host.clone(),
            message,
        };
        let print = terminal::base64_print(remote).map_err(|e| transfer(e.to_string()))?;
        let out = self.exec(&print).await?;
        match out.exit {
            Some(0) => {}
            Some(code) => {
                return Err(transfer(format!(
                    "{remote}: exited {code}: {}",
                    out.stdout.trim()
                )));
            }
            None => {
                return Err(TransportError::ConnectionLost {
                    host: self.host.clone(),
                    message: format!("{remote}: the connection dropped"),
                });
            }
        }
        let text: String = out.stdout.split_whitespace().collect();
        if (text.len() as u64) / 4 * 3 > cap.saturating_add(3) {
            return Err(transfer(format!(
                "{remote}: larger than the {cap}-byte cap"
            )));
        }
        STANDARD
            .decode(text)
            .map_err(|e| transfer(format!("{remote}: {e}")))
    }
}
