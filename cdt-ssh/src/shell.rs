//! The Expert shell of a gateway whose login shell is clish: one terminal (PTY) session,
//! `expert` and its password typed at the prompts, echo turned off, then every command
//! followed by `echo <marker>$?` so its exit status is read from the output. Calls on one
//! terminal take turns. Copies go over the same terminal in base64 (`base64 -d > PATH
//! <<'MARK'`, `base64 PATH`).

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cdt_core::gaia::quote;
use cdt_core::transport::{ExecOutput, TransportError};
use russh::ChannelMsg;
use russh::client::{self, Handle};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Mutex;

/// The end of a heredoc carrying a copy.
const HEREDOC_END: &str = "__CDT_EOF__";

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

/// The Expert prompt (`[Expert@HOST:0]# `), found in `text` from `from`: (start, end).
fn find_prompt(text: &[u8], from: usize) -> Option<(usize, usize)> {
    let start = from + find(&text[from..], b"[Expert@")?;
    let end = start + find(&text[start..], b"]# ")? + 3;
    Some((start, end))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// `text` without carriage returns and Expert prompts.
fn clean(text: &[u8]) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if let Some((start, end)) = find_prompt(text, i) {
            out.extend(text[i..start].iter().filter(|&&b| b != b'\r'));
            i = end;
        } else {
            out.extend(text[i..].iter().filter(|&&b| b != b'\r'));
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
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
                                cdt_core::gaia::quote::Printable(&clean(&self.pending))
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
        t.read_until(host, limit, |b| find(b, b"> ").map(|i| i + 2))
            .await?;
        t.send(host, "expert\n").await?;
        t.read_until(host, limit, |b| {
            let lower = b.to_ascii_lowercase();
            find(&lower, b"password:").map(|i| i + 9)
        })
        .await?;
        t.send(host, &format!("{}\n", password.expose_secret()))
            .await?;
        let answer = t
            .read_until(host, limit, |b| {
                find_prompt(b, 0)
                    .map(|(_, end)| end)
                    .or_else(|| find(b, b"Wrong password").map(|i| i + 14))
                    .or_else(|| find(b, b"> ").map(|i| i + 2))
            })
            .await?;
        if find_prompt(&answer, 0).is_none() {
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
        let marker = format!("__CDT_EXIT_{}_", t.next);
        // What is left of the last command: its prompt.
        t.pending.clear();
        t.send(&self.host, &format!("{command}\n{input}echo {marker}$?\n"))
            .await?;
        let found = t
            .read_until(&self.host, None, |b| {
                // The marker followed by the status: not its echo (`$?`) if the terminal still
                // echoed when the line arrived.
                let mut from = 0;
                while let Some(i) = find(&b[from..], marker.as_bytes()) {
                    let at = from + i;
                    let rest = &b[at + marker.len()..];
                    let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
                    if digits > 0 && rest.get(digits).is_some_and(|c| *c == b'\r' || *c == b'\n') {
                        return Some(at + marker.len() + digits);
                    }
                    from = at + marker.len();
                }
                None
            })
            .await;
        let text = match found {
            Ok(text) => text,
            // The session ended during the command (a reboot): no exit status.
            Err(TransportError::ConnectionLost { .. }) => {
                let text = std::mem::take(&mut t.pending);
                return Ok(ExecOutput {
                    exit: None,
                    stdout: clean(&text),
                    stderr: String::new(),
                });
            }
            Err(e) => return Err(e),
        };
        let at = text
            .windows(marker.len())
            .rposition(|w| w == marker.as_bytes())
            .unwrap_or(text.len());
        let exit = text
            .get(at + marker.len()..)
            .and_then(|d| std::str::from_utf8(d).ok())
            .and_then(|d| d.parse().ok());
        Ok(ExecOutput {
            exit,
            stdout: clean(&text[..at]),
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
        let target = quote::shell(remote).map_err(|e| transfer(e.to_string()))?;
        let out = self
            .run(&format!("base64 -d > {target} <<'{HEREDOC_END}'"), &lines)
            .await?;
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
        let source = quote::shell(remote).map_err(|e| transfer(e.to_string()))?;
        let out = self.exec(&format!("base64 {source}")).await?;
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
