//! The Gaia emulator as the command of a real OpenSSH server: `sshd` runs it (its
//! `ForceCommand`) for every session, with the command line in `SSH_ORIGINAL_COMMAND`, the
//! host's name in `CDT_GAIA_HOST` and the fleet's state folder in `CDT_GAIA_STATE` (set by the
//! server's `SetEnv`).
//!
//! Every command runs on the shared simulated fleet kept in the state folder (locked while it
//! runs, so cluster members see each other's state), at the fleet's clock; the reply is
//! printed after the time the command takes (scaled like the clock), with its exit status.
//! A connection the simulator drops (a reboot) ends without an exit status; a host that does
//! not answer (rebooting, an unreachable fault) drops the command at once; a hanging command
//! never ends.
//!
//! A kept shell (`SSH_ORIGINAL_COMMAND` is `gaia::terminal::KEPT_SHELL`) reads the lines
//! `gaia::terminal::kept_line` makes and runs each command as above, followed by its end
//! markers.
//!
//! File copies over `exec` (for hosts without SFTP): `cat > PATH` stores standard input as
//! `PATH` on the host, `cat PATH` prints a stored file byte for byte.
//!
//! A host whose login shell is clish (`CDT_GAIA_SHELL=clish`, its Expert password in
//! `CDT_GAIA_EXPERT_PASSWORD`) runs an `exec` command as a clish command, and an interactive
//! session (a terminal) as Gaia does: the clish prompt `HOST> `, `expert` and its password
//! prompt, then the Expert prompt `[Expert@HOST:0]# ` where commands run as above, `echo`
//! expands `$?`, `stty` changes the terminal, `base64 PATH` prints a file and
//! `base64 -d > PATH <<'MARK'` stores the lines up to `MARK`.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use cdt_core::gaia::{quote, terminal};
use cdt_core::sim::{ReplyKind, Sim, SimError, clock_in_dir};

/// The largest file a copy may store.
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

/// How a command ended.
enum End {
    Exit(i32),
    /// The connection drops (a reboot, or a host that does not answer).
    Dropped,
    /// It never ends.
    Hangs,
}

/// What a command printed and how it ended.
struct Done {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    end: End,
}

impl Done {
    fn exit(code: i32, stderr: impl Into<String>) -> Done {
        Done {
            stdout: Vec::new(),
            stderr: stderr.into().into_bytes(),
            end: End::Exit(code),
        }
    }
}

struct Host {
    name: String,
    dir: PathBuf,
}

fn run() -> Result<ExitCode, String> {
    let host = Host {
        name: env("CDT_GAIA_HOST")?,
        dir: PathBuf::from(env("CDT_GAIA_STATE")?),
    };
    let clish = std::env::var("CDT_GAIA_SHELL").is_ok_and(|s| s == "clish");
    let command = std::env::var("SSH_ORIGINAL_COMMAND").ok();
    let done = match (command, clish) {
        (None, true) => return interactive(&host),
        (None, false) => {
            eprintln!(
                "This system is for authorized use only.\ncdt-gaia: interactive shells are not emulated"
            );
            return Ok(ExitCode::from(1));
        }
        // A clish login shell runs what it is given as a clish command.
        (Some(command), true) => {
            let line =
                quote::command("clish", ["-c", command.as_str()]).map_err(|e| e.to_string())?;
            execute(&host, &line, &mut std::io::empty())?
        }
        (Some(command), false) if command == terminal::KEPT_SHELL => return kept(&host),
        (Some(command), false) => execute(&host, &command, &mut std::io::stdin())?,
    };
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    out.write_all(&done.stdout)
        .and_then(|()| out.flush())
        .and_then(|()| err.write_all(&done.stderr))
        .and_then(|()| err.flush())
        .map_err(|e| e.to_string())?;
    match done.end {
        End::Exit(code) => Ok(ExitCode::from(u8::try_from(code).unwrap_or(1))),
        // The command ends without an exit status.
        End::Dropped => std::process::abort(),
        End::Hangs => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
    }
}

/// Runs one command line on the host, with `input` as its standard input.
fn execute(host: &Host, command: &str, input: &mut dyn Read) -> Result<Done, String> {
    let (now, scale) = clock_in_dir(&host.dir).map_err(|e| e.to_string())?;
    let words = quote::split(command).unwrap_or_default();
    let words: Vec<&str> = words.iter().map(String::as_str).collect();
    match words.as_slice() {
        // The shell's no-op.
        [":"] => Ok(Done::exit(0, "")),
        ["cat", ">", path] => {
            let mut content = Vec::new();
            input
                .take(MAX_COPY + 1)
                .read_to_end(&mut content)
                .map_err(|e| format!("reading the copy: {e}"))?;
            store(host, path, &content, now, scale)
        }
        ["cat", path] if !path.starts_with('-') => {
            fetch(host, path, now, scale, "cat", |c| c.to_vec())
        }
        ["base64", path] if !path.starts_with('-') => {
            fetch(host, path, now, scale, "base64", |content| {
                let text = STANDARD.encode(content);
                let mut out = Vec::new();
                for chunk in text.as_bytes().chunks(76) {
                    out.extend_from_slice(chunk);
                    out.push(b'\n');
                }
                out
            })
        }
        _ => {
            let reply =
                Sim::exec_in_dir(&host.dir, &host.name, command, now).map_err(|e| e.to_string())?;
            let reply = match reply {
                Ok(reply) => reply,
                Err(e) => return Ok(unanswered(&e)),
            };
            if reply.kind == ReplyKind::Hangs {
                return Ok(Done {
                    stdout: Vec::new(),
                    stderr: Vec::new(),
                    end: End::Hangs,
                });
            }
            wait(reply.duration.as_secs_f64(), scale);
            Ok(Done {
                stdout: reply.stdout.into_bytes(),
                stderr: reply.stderr.into_bytes(),
                end: match reply.kind {
                    ReplyKind::Exited(code) => End::Exit(code),
                    ReplyKind::Dropped | ReplyKind::Hangs => End::Dropped,
                },
            })
        }
    }
}

/// Stores `content` as `path` on the host.
fn store(
    host: &Host,
    path: &str,
    content: &[u8],
    now: jiff::Timestamp,
    scale: f64,
) -> Result<Done, String> {
    if content.len() as u64 > MAX_COPY {
        return Ok(Done::exit(1, "cat: write error: No space left on device\n"));
    }
    let took = Sim::in_dir(&host.dir, |sim| sim.put(&host.name, path, content, now))
        .map_err(|e| e.to_string())?;
    Ok(match took {
        Ok(took) => {
            wait(took.as_secs_f64(), scale);
            Done::exit(0, "")
        }
        Err(e) => unanswered(&e),
    })
}

/// Prints a stored file, as `encode` renders it.
fn fetch(
    host: &Host,
    path: &str,
    now: jiff::Timestamp,
    scale: f64,
    program: &str,
    encode: impl Fn(&[u8]) -> Vec<u8>,
) -> Result<Done, String> {
    let got =
        Sim::in_dir(&host.dir, |sim| sim.get(&host.name, path, now)).map_err(|e| e.to_string())?;
    Ok(match got {
        Ok((content, took)) => {
            wait(took.as_secs_f64(), scale);
            Done {
                stdout: encode(&content),
                stderr: Vec::new(),
                end: End::Exit(0),
            }
        }
        Err(SimError::NoSuchFile { path, .. }) => {
            Done::exit(1, format!("{program}: {path}: No such file or directory\n"))
        }
        Err(e) => unanswered(&e),
    })
}

/// A host that does not answer: the command ends without a reply or an exit status (the
/// test fleet's supervisor closes the host's server meanwhile).
fn unanswered(e: &SimError) -> Done {
    Done {
        stdout: Vec::new(),
        stderr: format!("cdt-gaia: {e}\n").into_bytes(),
        end: End::Dropped,
    }
}

/// Waits as long as a simulated duration takes at the fleet's scale.
fn wait(seconds: f64, scale: f64) {
    if let Ok(d) = Duration::try_from_secs_f64((seconds / scale.max(f64::MIN_POSITIVE)).max(0.0))
        && !d.is_zero()
    {
        std::thread::sleep(d.min(Duration::from_secs(3600)));
    }
}

/// A kept shell (`terminal::KEPT_SHELL`): each line of standard input, made by
/// `terminal::kept_line`, runs as an `exec` command would, followed by its end markers.
fn kept(host: &Host) -> Result<ExitCode, String> {
    let stdin = std::io::stdin();
    let mut lines = stdin.lock();
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    loop {
        let mut line = String::new();
        match lines.read_line(&mut line) {
            Ok(0) | Err(_) => return Ok(ExitCode::SUCCESS),
            Ok(_) => {}
        }
        let line = line.trim_end_matches(['\n', '\r']);
        let Some((command, mark)) = terminal::parse_kept_line(line) else {
            let _ = writeln!(err, "cdt-gaia: not a kept shell's line: {line}");
            continue;
        };
        let done = execute(host, &command, &mut std::io::empty())?;
        let _ = out.write_all(&done.stdout);
        let _ = err.write_all(&done.stderr);
        match done.end {
            End::Exit(code) => {
                let _ = write!(out, "\n{mark}{code}\n");
                let _ = write!(err, "\n{mark}\n");
                let _ = out.flush();
                let _ = err.flush();
            }
            End::Dropped => {
                let _ = out.flush();
                let _ = err.flush();
                std::process::abort()
            }
            End::Hangs => loop {
                std::thread::sleep(Duration::from_secs(3600));
            },
        }
    }
}

/// Changes the terminal (its standard input), as `stty` does.
fn stty(args: &[&str]) {
    let _ = std::process::Command::new("stty")
        .args(args)
        .stdin(std::process::Stdio::inherit())
        .status();
}

/// An interactive session on a host whose login shell is clish.
fn interactive(host: &Host) -> Result<ExitCode, String> {
    let password = std::env::var("CDT_GAIA_EXPERT_PASSWORD").unwrap_or_default();
    let stdin = std::io::stdin();
    let mut lines = stdin.lock();
    let mut out = std::io::stdout();
    // The terminal turns each line end into CR LF.
    let say = |out: &mut std::io::Stdout, text: &[u8]| {
        let _ = out.write_all(text);
        let _ = out.flush();
    };
    let read_line = |lines: &mut std::io::StdinLock<'_>| -> Option<String> {
        let mut line = String::new();
        match lines.read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line.trim_end_matches(['\n', '\r']).to_string()),
        }
    };
    let clish_prompt = terminal::clish_prompt_for(&host.name);
    let expert_prompt = terminal::expert_prompt_for(&host.name);
    let mut expert = false;
    let mut last_exit = 0;
    say(&mut out, b"\nThis system is for authorized use only.\n");
    loop {
        say(
            &mut out,
            if expert {
                &expert_prompt
            } else {
                &clish_prompt
            }
            .as_bytes(),
        );
        let Some(line) = read_line(&mut lines) else {
            return Ok(ExitCode::SUCCESS);
        };
        let trimmed = line.trim();
        if !expert {
            match trimmed {
                "" => {}
                "exit" | "quit" => return Ok(ExitCode::SUCCESS),
                terminal::EXPERT => {
                    say(&mut out, b"Enter expert password:\n\n");
                    stty(&["-echo"]);
                    let given = read_line(&mut lines).unwrap_or_default();
                    stty(&["echo"]);
                    if given == password && !password.is_empty() {
                        say(
                            &mut out,
                            b"\nWarning! All configurations should be done through clish\nYou are in expert mode now.\n\n",
                        );
                        expert = true;
                    } else {
                        say(
                            &mut out,
                            format!("\n{}.\n", terminal::WRONG_PASSWORD).as_bytes(),
                        );
                    }
                }
                command => {
                    let line =
                        quote::command("clish", ["-c", command]).map_err(|e| e.to_string())?;
                    let done = execute(host, &line, &mut std::io::empty())?;
                    say(&mut out, &done.stdout);
                    say(&mut out, &done.stderr);
                }
            }
            continue;
        }
        let words = quote::split(trimmed).unwrap_or_default();
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match words.as_slice() {
            [] => {}
            ["exit"] => expert = false,
            ["stty", args @ ..] => {
                stty(args);
                last_exit = 0;
            }
            ["echo", args @ ..] => {
                let text = args.join(" ").replace("$?", &last_exit.to_string());
                say(&mut out, format!("{text}\n").as_bytes());
                last_exit = 0;
            }
            ["base64", "-d", ">", path, heredoc] if heredoc.starts_with("<<") => {
                let mark = heredoc.trim_start_matches("<<").to_string();
                let mut text = String::new();
                loop {
                    let Some(l) = read_line(&mut lines) else {
                        return Ok(ExitCode::SUCCESS);
                    };
                    if l == mark {
                        break;
                    }
                    text.push_str(l.trim());
                }
                let (now, scale) = clock_in_dir(&host.dir).map_err(|e| e.to_string())?;
                let done = match STANDARD.decode(&text) {
                    Ok(content) => store(host, path, &content, now, scale)?,
                    Err(_) => Done::exit(1, "base64: invalid input\n"),
                };
                last_exit = finish(&mut out, &say, done);
            }
            _ => {
                let done = execute(host, trimmed, &mut std::io::empty())?;
                last_exit = finish(&mut out, &say, done);
            }
        }
    }
}

/// Prints a command's output on the terminal; its exit status, or the end of the session.
fn finish(
    out: &mut std::io::Stdout,
    say: &impl Fn(&mut std::io::Stdout, &[u8]),
    done: Done,
) -> i32 {
    say(out, &done.stdout);
    say(out, &done.stderr);
    match done.end {
        End::Exit(code) => code,
        End::Dropped => std::process::abort(),
        End::Hangs => loop {
            std::thread::sleep(Duration::from_secs(3600));
        },
    }
}
