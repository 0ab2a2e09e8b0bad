//! The Gaia emulator as the command of a real OpenSSH server: `sshd` runs it (its
//! `ForceCommand`) for every command a client sends, with the command line in
//! `SSH_ORIGINAL_COMMAND`, the host's name in `CDT_GAIA_HOST` and the fleet's state folder in
//! `CDT_GAIA_STATE` (set by the server's `SetEnv`).
//!
//! Every command runs on the shared simulated fleet kept in the state folder (locked while it
//! runs, so cluster members see each other's state), at the fleet's clock; the reply is
//! printed after the time the command takes (scaled like the clock), with its exit status.
//! A connection the simulator drops (a reboot) ends without an exit status; a host that does
//! not answer (rebooting, an unreachable fault) drops the command at once; a hanging command
//! never ends.
//!
//! File copies over `exec` (for hosts without SFTP): `cat > PATH` stores standard input as
//! `PATH` on the host, `cat PATH` prints a stored file byte for byte.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use cdt_core::gaia::quote;
use cdt_core::sim::{ReplyKind, Sim, SimError, clock_in_dir};

/// The largest file a copy over `exec` may store.
const MAX_COPY: u64 = 1 << 30;

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(message) => {
            eprintln!("cdt-gaia: {message}");
            ExitCode::from(255)
        }
    }
}

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set"))
}

fn run() -> Result<ExitCode, String> {
    let host = env("CDT_GAIA_HOST")?;
    let dir = PathBuf::from(env("CDT_GAIA_STATE")?);
    let Ok(command) = std::env::var("SSH_ORIGINAL_COMMAND") else {
        eprintln!(
            "This system is for authorized use only.\ncdt-gaia: interactive shells are not emulated"
        );
        return Ok(ExitCode::from(1));
    };
    let (now, scale) = clock_in_dir(&dir).map_err(|e| e.to_string())?;
    let words = quote::split(&command).unwrap_or_default();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["cat", ">", path] => {
            let mut content = Vec::new();
            std::io::stdin()
                .take(MAX_COPY + 1)
                .read_to_end(&mut content)
                .map_err(|e| format!("reading the copy: {e}"))?;
            if content.len() as u64 > MAX_COPY {
                eprintln!("cat: write error: No space left on device");
                return Ok(ExitCode::from(1));
            }
            let took = Sim::in_dir(&dir, |sim| sim.put(&host, path, &content, now))
                .map_err(|e| e.to_string())?;
            match took {
                Ok(took) => {
                    wait(took.as_secs_f64(), scale);
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => Ok(unanswered(&e)),
            }
        }
        ["cat", path] if !path.starts_with('-') => {
            let got =
                Sim::in_dir(&dir, |sim| sim.get(&host, path, now)).map_err(|e| e.to_string())?;
            match got {
                Ok((content, took)) => {
                    wait(took.as_secs_f64(), scale);
                    let mut out = std::io::stdout().lock();
                    out.write_all(&content)
                        .and_then(|()| out.flush())
                        .map_err(|e| e.to_string())?;
                    Ok(ExitCode::SUCCESS)
                }
                Err(SimError::NoSuchFile { path, .. }) => {
                    eprintln!("cat: {path}: No such file or directory");
                    Ok(ExitCode::from(1))
                }
                Err(e) => Ok(unanswered(&e)),
            }
        }
        _ => {
            let reply = Sim::exec_in_dir(&dir, &host, &command, now).map_err(|e| e.to_string())?;
            let reply = match reply {
                Ok(reply) => reply,
                Err(e) => return Ok(unanswered(&e)),
            };
            if reply.kind == ReplyKind::Hangs {
                loop {
                    std::thread::sleep(Duration::from_secs(3600));
                }
            }
            wait(reply.duration.as_secs_f64(), scale);
            let mut out = std::io::stdout().lock();
            let mut err = std::io::stderr().lock();
            out.write_all(reply.stdout.as_bytes())
                .and_then(|()| out.flush())
                .and_then(|()| err.write_all(reply.stderr.as_bytes()))
                .and_then(|()| err.flush())
                .map_err(|e| e.to_string())?;
            match reply.kind {
                ReplyKind::Exited(code) => Ok(ExitCode::from(u8::try_from(code).unwrap_or(1))),
                // The connection drops (a reboot): the command ends without an exit status.
                ReplyKind::Dropped | ReplyKind::Hangs => std::process::abort(),
            }
        }
    }
}

/// A host that does not answer: the command ends without a reply or an exit status (the
/// test fleet's supervisor closes the host's server meanwhile).
fn unanswered(e: &SimError) -> ExitCode {
    eprintln!("cdt-gaia: {e}");
    std::process::abort()
}

/// Waits as long as a simulated duration takes at the fleet's scale.
fn wait(seconds: f64, scale: f64) {
    if let Ok(d) = Duration::try_from_secs_f64((seconds / scale.max(f64::MIN_POSITIVE)).max(0.0))
        && !d.is_zero()
    {
        std::thread::sleep(d.min(Duration::from_secs(3600)));
    }
}
