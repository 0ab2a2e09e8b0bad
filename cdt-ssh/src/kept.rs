//! Kept shells: commands sent to long-lived shells on channels left open, rather than one new
//! channel (and one new server-side session process) per command.
//!
//! Each kept shell is a channel running the account's shell (`exec "$SHELL"`, no terminal),
//! reading command lines from its standard input. A command runs as
//! ([`terminal::kept_line`])
//!
//! ```text
//! ( eval 'COMMAND' ) </dev/null; printf '\n%s%d\n' MARK "$?"; printf '\n%s\n' MARK >&2
//! ```
//!
//! so it runs in a subshell (its `cd`, variables, traps and `exit` stay its own), reads
//! nothing of what follows it, and ends with a marker on each stream: its exit status follows
//! the marker on standard output, and standard error stays apart. The marker holds a random
//! number drawn per connection and the command's sequence number, so no output can end a
//! command early by chance. A shell is used by one call at a time; overlapping calls take
//! other shells (opening one when none is idle), up to a number of shells per connection
//! (`SshSettings::kept_shells`), beyond which calls wait for a shell to be free. A shell that did not finish a command
//! cleanly (a timeout, a dropped connection, a command that ended its shell) is closed, never
//! used again.
//!
//! What differs from a channel per command: a command killed by a signal reports the shell's
//! status (128 + the signal's number) rather than an exit signal, and a command that leaves a
//! process in the background writing to its output may mix that output into a later
//! command's.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use cdt_core::gaia::{quote, terminal};
use cdt_core::transport::{ExecOutput, TransportError};
use russh::ChannelMsg;
use russh::client::Msg;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The kept shells of one connection.
pub(crate) struct KeptShells {
    host: String,
    /// A permit per call in progress: at most this many shells are open, so the server's
    /// `MaxSessions` leaves channels for copies.
    turns: Arc<Semaphore>,
    idle: Mutex<Vec<KeptShell>>,
    /// Drawn once per connection: part of every marker.
    nonce: u64,
    next: AtomicU64,
}

/// One shell on its own channel; closed when dropped.
pub(crate) struct KeptShell {
    channel: Option<russh::Channel<Msg>>,
}

impl Drop for KeptShell {
    fn drop(&mut self) {
        if let (Some(channel), Ok(runtime)) =
            (self.channel.take(), tokio::runtime::Handle::try_current())
        {
            runtime.spawn(async move {
                let _ = channel.close().await;
            });
        }
    }
}

/// One stream of a command's output: kept up to `cap` bytes, and the last bytes beyond it
/// (enough to find the end marker).
struct Stream {
    bytes: Vec<u8>,
    cap: usize,
    window: usize,
    dropped: bool,
}

impl Stream {
    fn new(cap: usize, window: usize) -> Stream {
        Stream {
            bytes: Vec::new(),
            cap,
            window,
            dropped: false,
        }
    }

    fn push(&mut self, data: &[u8]) {
        self.bytes.extend_from_slice(data);
        if self.bytes.len() > self.cap + 2 * self.window {
            let keep_from = self.bytes.len() - self.window;
            self.bytes.drain(self.cap..keep_from);
            self.dropped = true;
        }
    }

    /// Where the marker line (`\n` MARK, then what `rest` accepts, then `\n`) that ends the
    /// stream starts, and what stands between the marker and the line end.
    fn end(&self, mark: &str) -> Option<(usize, &[u8])> {
        let text = &self.bytes;
        if text.last() != Some(&b'\n') {
            return None;
        }
        let body = &text[..text.len() - 1];
        let line_start = body.iter().rposition(|&b| b == b'\n')?;
        let line = &body[line_start + 1..];
        let rest = line.strip_prefix(mark.as_bytes())?;
        Some((line_start, rest))
    }

    /// The command's output: up to where its end marker starts, within the cap.
    fn output(&self, end: usize) -> (String, bool) {
        let end = end.min(self.bytes.len());
        let kept = end.min(self.cap);
        (
            String::from_utf8_lossy(&self.bytes[..kept]).into_owned(),
            self.dropped || end > self.cap,
        )
    }
}

impl KeptShells {
    /// The kept shells of the connection to `host` (none open yet), at most `max` of them.
    pub(crate) fn new(host: &str, max: usize) -> KeptShells {
        let nonce = getrandom::u64().unwrap_or_else(|_| {
            // No system randomness: the clock still makes a marker no output carries by chance.
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos() as u64)
        });
        KeptShells {
            host: host.to_string(),
            turns: Arc::new(Semaphore::new(max.max(1))),
            idle: Mutex::new(Vec::new()),
            nonce,
            next: AtomicU64::new(0),
        }
    }

    fn lost(&self, message: impl std::fmt::Display) -> TransportError {
        TransportError::ConnectionLost {
            host: self.host.clone(),
            message: message.to_string(),
        }
    }

    /// Waits for a turn: while it is held, an idle shell is there for the caller or one more
    /// may be opened.
    pub(crate) async fn turn(&self) -> Result<OwnedSemaphorePermit, TransportError> {
        self.turns
            .clone()
            .acquire_owned()
            .await
            .map_err(|e| self.lost(e))
    }

    /// An idle shell, if there is one.
    pub(crate) fn take_idle(&self) -> Option<KeptShell> {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop()
    }

    fn give_back(&self, shell: KeptShell) {
        self.idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(shell);
    }

    /// Turns a newly opened channel into a kept shell: starts the shell and waits until it
    /// answers (whatever it printed on starting is passed over).
    pub(crate) async fn start(
        &self,
        channel: russh::Channel<Msg>,
    ) -> Result<KeptShell, TransportError> {
        channel
            .exec(true, terminal::KEPT_SHELL)
            .await
            .map_err(|e| self.lost(format!("starting a shell: {e}")))?;
        let mut shell = KeptShell {
            channel: Some(channel),
        };
        let out = self.send(&mut shell, ":", 1 << 16).await?;
        if out.exit != Some(0) {
            return Err(TransportError::Other {
                host: self.host.clone(),
                message: format!(
                    "the account's shell does not run commands sent to it: {}",
                    quote::Printable(out.stderr.trim())
                ),
            });
        }
        Ok(shell)
    }

    /// Runs `command` on `shell` (taken from this pool or started by [`KeptShells::start`]),
    /// and gives the shell back for the next command if it finished cleanly.
    pub(crate) async fn run(
        &self,
        mut shell: KeptShell,
        command: &str,
        cap: usize,
    ) -> Result<ExecOutput, TransportError> {
        let out = self.send(&mut shell, command, cap).await?;
        if out.exit.is_some() {
            self.give_back(shell);
        }
        Ok(out)
    }

    async fn send(
        &self,
        shell: &mut KeptShell,
        command: &str,
        cap: usize,
    ) -> Result<ExecOutput, TransportError> {
        let Some(channel) = shell.channel.as_mut() else {
            return Err(self.lost("the shell was closed"));
        };
        let mark = terminal::kept_mark(self.nonce, self.next.fetch_add(1, Ordering::Relaxed));
        let line = terminal::kept_line(command, &mark).map_err(|e| TransportError::Other {
            host: self.host.clone(),
            message: e.to_string(),
        })?;
        channel
            .data_bytes(line.into_bytes())
            .await
            .map_err(|e| self.lost(e))?;
        let window = mark.len() + 16;
        let (mut stdout, mut stderr) = (Stream::new(cap, window), Stream::new(cap, window));
        let (mut status, mut err_end) = (None, None);
        while status.is_none() || err_end.is_none() {
            match channel.wait().await {
                Some(ChannelMsg::Data { data }) => {
                    stdout.push(&data);
                    if status.is_none() {
                        status = stdout.end(&mark).and_then(|(at, rest)| {
                            let code = std::str::from_utf8(rest).ok()?.parse::<i32>().ok()?;
                            Some((at, code))
                        });
                    }
                }
                Some(ChannelMsg::ExtendedData { data, ext: 1 }) => {
                    stderr.push(&data);
                    if err_end.is_none() {
                        err_end = stderr.end(&mark).filter(|(_, r)| r.is_empty()).map(|e| e.0);
                    }
                }
                Some(ChannelMsg::Eof | ChannelMsg::Close) | None => {
                    // The shell ended during the command (it ran `exec`, the host rebooted,
                    // the connection dropped): no exit status, the shell is gone.
                    shell.channel = None;
                    let (out, _) = stdout.output(usize::MAX);
                    let (err, _) = stderr.output(usize::MAX);
                    return Ok(ExecOutput {
                        exit: None,
                        stdout: out,
                        stderr: err,
                    });
                }
                Some(_) => {}
            }
        }
        let (at, code) = status.unwrap_or((0, 0));
        let (out, out_dropped) = stdout.output(at);
        let (mut err, err_dropped) = stderr.output(err_end.unwrap_or(0));
        if out_dropped || err_dropped {
            err.push_str(&format!("\n[cdt: output beyond {cap} bytes was dropped]\n"));
        }
        Ok(ExecOutput {
            exit: Some(code),
            stdout: out,
            stderr: err,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_marker_is_the_last_line_and_output_stops_before_its_line_break() {
        let mut s = Stream::new(1 << 20, 64);
        s.push(b"hello\n\n__M_7_");
        assert_eq!(s.end("__M_7_"), None, "no line end yet");
        s.push(b"3\n");
        let (at, rest) = s.end("__M_7_").unwrap();
        assert_eq!(rest, b"3");
        assert_eq!(s.output(at), ("hello\n".to_string(), false));
    }

    #[test]
    fn output_without_a_final_line_break_is_kept_whole() {
        let mut s = Stream::new(1 << 20, 64);
        s.push(b"no newline\n__M_1_0\n");
        let (at, _) = s.end("__M_1_").unwrap();
        assert_eq!(s.output(at).0, "no newline");
    }

    #[test]
    fn a_marker_inside_the_output_does_not_end_it() {
        let mut s = Stream::new(1 << 20, 64);
        s.push(b"__M_1_0\nmore\n");
        assert_eq!(s.end("__M_1_"), None);
    }

    #[test]
    fn output_beyond_the_cap_is_dropped_and_the_marker_still_found() {
        let mut s = Stream::new(10, 32);
        for _ in 0..1000 {
            s.push(b"0123456789abcdef");
        }
        s.push(b"\n__M_1_0\n");
        assert!(s.bytes.len() <= 10 + 2 * 32 + 16);
        let (at, rest) = s.end("__M_1_").unwrap();
        assert_eq!(rest, b"0");
        let (out, dropped) = s.output(at);
        assert_eq!(out, "0123456789");
        assert!(dropped);
    }
}
