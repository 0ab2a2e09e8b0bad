//! The SSH test bed: a simulated fleet served by real OpenSSH servers on loopback.
//!
//! [`TestFleet::start`] gives every host of a fleet file (gateways, cluster members and the
//! Management Server) its own `sshd` on its own loopback address (`127.X.Y.N`, port 22), with
//! its own ed25519 host key and log, running the project's Gaia emulator (`cdt-gaia`) as the
//! command of every session. All hosts share one fleet state folder, so cluster members see
//! each other's state and the Management Server sees the gateways. A supervisor thread makes
//! reboots real: while the simulator says a host reboots, its server and every process under
//! it are gone (connections refused), and it starts again afterwards. Installs in progress
//! finish on their own, as the clock passes.
//!
//! Sessions log in as a dedicated user (`cdtfleet`, shell `/bin/sh`) with a client key the
//! fleet generates ([`TestFleet::client_key`]); [`TestFleet::known_hosts`] lists every host
//! key. The simulated hosts take their servers' addresses (the fleet file's are replaced), so
//! the Management Server's database and `cprid_util` know each host where SSH reaches it. Starting a fleet needs root (to run `sshd`) and `openssh-server` installed.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use cdt_core::sim::{FleetFile, Sim, SimConnector, clock_in_dir};

/// How a [`TestFleet`]'s servers differ from the defaults.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Hosts whose login shell is clish (as Gaia's default `admin`): a command given to them
    /// runs as a clish command, and an interactive session needs `expert` and
    /// [`EXPERT_PASSWORD`] to reach the Expert shell.
    pub clish: Vec<String>,
    /// OpenSSH's default `MaxSessions 10` and `MaxStartups 10:30:100`, as on a real gateway
    /// (otherwise raised, so tests measure the engine, not the queueing).
    pub default_limits: bool,
    /// Passwords accepted ([`PASSWORD`]) besides the client key.
    pub passwords: bool,
    /// Every session runs this shell command instead of the emulator (`true` for benchmarks
    /// that measure the SSH path, not the emulator).
    pub command: Option<String>,
    /// Sessions run what the client asks in the account's shell (`/bin/sh`), as on a plain
    /// server, instead of the emulator or [`Options::command`] (for benchmarks of the SSH
    /// path that send commands of their own).
    pub shell: bool,
}

/// The account sessions log in as.
pub const USER: &str = "cdtfleet";

/// The account's password (for the password and keyboard-interactive tests on a
/// [`PlainServer`]; the fleet's servers accept keys only).
pub const PASSWORD: &str = "cdt-fleet-password";

/// The Expert password of the hosts whose login shell is clish.
pub const EXPERT_PASSWORD: &str = "cdt-expert-password";

const SSHD: &str = "/usr/sbin/sshd";

/// Why a fleet could not start.
pub type Error = String;

/// One host's server.
struct Server {
    name: String,
    address: Ipv4Addr,
    config: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    /// Kept down until then (a host killed by a test).
    held: Option<Instant>,
}

/// A running fleet; dropping it stops every server and the processes under them.
pub struct TestFleet {
    dir: tempfile::TempDir,
    servers: Arc<Mutex<Vec<Server>>>,
    stop: Arc<AtomicBool>,
    supervisor: Option<std::thread::JoinHandle<()>>,
    scale: f64,
}

impl TestFleet {
    /// Starts a server for every host of `fleet`, its clock running `scale` simulated seconds
    /// per real second.
    pub fn start(fleet: &FleetFile, scale: f64) -> Result<TestFleet, Error> {
        TestFleet::start_with(fleet, scale, &Options::default())
    }

    /// Like [`TestFleet::start`], with `options`.
    pub fn start_with(
        fleet: &FleetFile,
        scale: f64,
        options: &Options,
    ) -> Result<TestFleet, Error> {
        // The emulator is needed unless every session runs another command.
        let emulated = options.command.is_none() && !options.shell;
        let emulator = if emulated {
            emulator()?
        } else {
            PathBuf::new()
        };
        prepare_system()?;
        let dir = tempfile::Builder::new()
            .prefix("cdt-testfleet-")
            .tempdir()
            .map_err(|e| format!("temporary folder: {e}"))?;
        let root = dir.path().to_path_buf();
        chmod(&root, "0755")?;
        let state = root.join("state");
        std::fs::create_dir_all(&state).map_err(|e| format!("{}: {e}", state.display()))?;
        let client_key = root.join("client_key");
        keygen(&client_key)?;
        let authorized = root.join("authorized_keys");
        std::fs::copy(root.join("client_key.pub"), &authorized).map_err(|e| e.to_string())?;
        chmod(&authorized, "0644")?;

        let names = host_names(fleet);
        let mut last_error = String::new();
        // A random block of loopback addresses; another fleet (a test running in parallel)
        // may hold it, so try a few.
        for attempt in 0..8u32 {
            let block = random_block(attempt);
            let mut servers = Vec::new();
            let mut known = String::new();
            for (i, name) in names.iter().enumerate() {
                let n = u8::try_from(i + 1).map_err(|_| "more than 254 hosts".to_string())?;
                let address = Ipv4Addr::new(127, block.0, block.1, n);
                let host_dir = root.join("hosts").join(name);
                std::fs::create_dir_all(&host_dir).map_err(|e| e.to_string())?;
                let key = host_dir.join("ssh_host_ed25519_key");
                if !key.exists() {
                    keygen(&key)?;
                }
                let public = std::fs::read_to_string(host_dir.join("ssh_host_ed25519_key.pub"))
                    .map_err(|e| e.to_string())?;
                let mut fields = public.split_whitespace();
                let (Some(kind), Some(base64)) = (fields.next(), fields.next()) else {
                    return Err(format!("{name}: unreadable host key"));
                };
                known.push_str(&format!("{address} {kind} {base64}\n"));
                let config = host_dir.join("sshd_config");
                std::fs::write(
                    &config,
                    sshd_config(address, &key, &authorized, &emulator, name, &state, options),
                )
                .map_err(|e| e.to_string())?;
                servers.push(Server {
                    name: name.clone(),
                    address,
                    config,
                    log: host_dir.join("sshd.log"),
                    child: None,
                    held: None,
                });
            }
            // The simulated hosts live at the servers' addresses: the Management Server's
            // database, cprid_util and the gateways agree with SSH on where each host is.
            let at = |name: &str| {
                servers
                    .iter()
                    .find(|s| s.name == name)
                    .map(|s| std::net::IpAddr::V4(s.address))
            };
            let mut placed = fleet.clone();
            for g in placed.gateways.iter_mut().chain(
                placed
                    .clusters
                    .iter_mut()
                    .flat_map(|c| c.members.iter_mut().map(|m| &mut m.gateway)),
            ) {
                g.address = at(&g.name).unwrap_or(g.address);
            }
            if let Some(m) = placed.management.as_mut() {
                m.address = at(&m.name).unwrap_or(m.address);
            }
            write_state(&placed, scale, &state)?;
            let mut failed = None;
            for s in &mut servers {
                if let Err(e) = s.start() {
                    failed = Some(e);
                    break;
                }
            }
            if let Some(e) = failed {
                for s in &mut servers {
                    s.stop();
                }
                last_error = e;
                continue;
            }
            std::fs::write(root.join("known_hosts"), known).map_err(|e| e.to_string())?;
            let servers = Arc::new(Mutex::new(servers));
            let stop = Arc::new(AtomicBool::new(false));
            let supervisor = {
                let (servers, stop) = (servers.clone(), stop.clone());
                // Without the emulator the fleet's state never changes: no host reboots, and
                // the supervisor only brings killed hosts back.
                let state = emulated.then(|| state.clone());
                std::thread::spawn(move || supervise(&servers, &stop, state.as_deref()))
            };
            return Ok(TestFleet {
                dir,
                servers,
                stop,
                supervisor: Some(supervisor),
                scale,
            });
        }
        Err(format!("no server block came up: {last_error}"))
    }

    /// Where `host` listens.
    pub fn address(&self, host: &str) -> Option<SocketAddr> {
        self.lock()
            .iter()
            .find(|s| s.name == host)
            .map(|s| SocketAddr::from((s.address, 22)))
    }

    /// Every host and where it listens.
    pub fn addresses(&self) -> BTreeMap<String, SocketAddr> {
        self.lock()
            .iter()
            .map(|s| (s.name.clone(), SocketAddr::from((s.address, 22))))
            .collect()
    }

    /// An OpenSSH `known_hosts` file listing every host's key.
    pub fn known_hosts(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }

    /// The private key (ed25519, no passphrase) every host accepts for [`USER`].
    pub fn client_key(&self) -> PathBuf {
        self.dir.path().join("client_key")
    }

    /// The folder of the fleet's shared state (see [`Sim::load`]).
    pub fn state_dir(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    /// The fleet as it is now (its clock brought up to date).
    pub fn sim(&self) -> Result<Sim, Error> {
        let state = self.state_dir();
        let (now, _) = clock_in_dir(&state).map_err(|e| e.to_string())?;
        Sim::in_dir(&state, |sim| {
            sim.advance(now);
            sim.clone()
        })
        .map_err(|e| e.to_string())
    }

    /// Simulated seconds per real second.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Kills `host`'s server and every process under it (its sessions and the commands they
    /// run), as if the box lost power, and keeps it down for `down` (real time). What the
    /// simulator keeps goes on: an install in progress finishes on its own.
    pub fn kill(&self, host: &str, down: Duration) {
        let mut servers = self.lock();
        if let Some(s) = servers.iter_mut().find(|s| s.name == host) {
            s.held = Some(Instant::now() + down);
            s.stop();
        }
    }

    /// The CPU time every server has used so far, its sessions and their commands included
    /// (live processes' own time, and the time of the processes they reaped).
    pub fn server_cpu(&self) -> Duration {
        let roots: Vec<u32> = self
            .lock()
            .iter()
            .filter_map(|s| s.child.as_ref().map(Child::id))
            .collect();
        roots
            .into_iter()
            .flat_map(descendants)
            .map(process_cpu)
            .sum()
    }

    /// Freezes (`SIGSTOP`) or thaws (`SIGCONT`) `host`'s server and every process under it:
    /// connections stay open and new ones are accepted, but nothing answers, as a hung box.
    pub fn freeze(&self, host: &str, frozen: bool) {
        let servers = self.lock();
        if let Some(pid) = servers
            .iter()
            .find(|s| s.name == host)
            .and_then(|s| s.child.as_ref().map(Child::id))
        {
            let pids: Vec<String> = descendants(pid).iter().map(u32::to_string).collect();
            let _ = Command::new("kill")
                .arg(if frozen { "-STOP" } else { "-CONT" })
                .args(&pids)
                .stderr(Stdio::null())
                .status();
        }
    }

    /// A host's server log.
    pub fn log(&self, host: &str) -> String {
        self.lock()
            .iter()
            .find(|s| s.name == host)
            .and_then(|s| std::fs::read_to_string(&s.log).ok())
            .unwrap_or_default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Server>> {
        self.servers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for TestFleet {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(s) = self.supervisor.take() {
            let _ = s.join();
        }
        for s in self.lock().iter_mut() {
            s.stop();
        }
    }
}

impl Server {
    /// Starts the server and waits until it accepts connections.
    fn start(&mut self) -> Result<(), Error> {
        let log = std::fs::File::create(&self.log).map_err(|e| e.to_string())?;
        let mut child = Command::new(SSHD)
            .arg("-D")
            .arg("-e")
            .arg("-f")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("{SSHD}: {e}"))?;
        let address = SocketAddr::from((self.address, 22));
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                return Err(format!("{}: sshd exited ({status}): {log}", self.name));
            }
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("{}: sshd does not accept connections", self.name));
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the server and every process under it (sessions and their commands).
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_tree(child.id());
            let _ = child.wait();
        }
    }

    fn running(&self) -> bool {
        self.child.is_some()
    }
}

/// Follows the fleet's clock: a host the simulator says reboots has no server until it is
/// back.
fn supervise(servers: &Mutex<Vec<Server>>, stop: &AtomicBool, state: Option<&Path>) {
    while !stop.load(Ordering::SeqCst) {
        std::thread::sleep(Duration::from_millis(25));
        let names: Vec<String> = servers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .map(|s| s.name.clone())
            .collect();
        let rebooting = match state {
            None => vec![false; names.len()],
            Some(state) => {
                let Ok((now, _)) = clock_in_dir(state) else {
                    continue;
                };
                let Ok(rebooting) = Sim::in_dir(state, |sim| {
                    sim.advance(now);
                    names
                        .iter()
                        .map(|n| sim.rebooting_until(n).is_some())
                        .collect::<Vec<bool>>()
                }) else {
                    continue;
                };
                rebooting
            }
        };
        let mut servers = servers.lock().unwrap_or_else(PoisonError::into_inner);
        for (s, rebooting) in servers.iter_mut().zip(rebooting) {
            let held = s.held.is_some_and(|until| Instant::now() < until);
            if (rebooting || held) && s.running() {
                s.stop();
            } else if !rebooting && !held && !s.running() && !stop.load(Ordering::SeqCst) {
                // Retried on the next turn if the address is not free yet.
                let _ = s.start();
            }
        }
    }
}

/// Writes the fleet's initial state and clock, readable and writable by the fleet's user (the
/// emulator rewrites the state and takes its lock).
fn write_state(fleet: &FleetFile, scale: f64, state: &Path) -> Result<(), Error> {
    SimConnector::new(Sim::new(fleet), scale)
        .keep_state_in(state)
        .map_err(|e| e.to_string())?;
    std::fs::write(state.join("sim.lock"), b"").map_err(|e| e.to_string())?;
    chmod(state, "0777")?;
    for f in ["sim.json", "clock.json", "sim.lock"] {
        chmod(&state.join(f), "0666")?;
    }
    Ok(())
}

/// The names of every host, in a stable order: gateways, members, the Management Server.
fn host_names(fleet: &FleetFile) -> Vec<String> {
    let mut names: Vec<String> = fleet.gateways.iter().map(|g| g.name.clone()).collect();
    for c in &fleet.clusters {
        names.extend(c.members.iter().map(|m| m.gateway.name.clone()));
    }
    if let Some(m) = &fleet.management {
        names.push(m.name.clone());
    }
    names
}

/// The server's configuration. `ForceCommand exec …`: the login shell replaces itself with
/// the emulator, so an emulator that ends by a signal (a dropped connection) reaches the client
/// as an exit signal, without an exit status, rather than as the shell's status 134.
fn sshd_config(
    address: Ipv4Addr,
    host_key: &Path,
    authorized: &Path,
    emulator: &Path,
    host: &str,
    state: &Path,
    options: &Options,
) -> String {
    let clish = options.clish.iter().any(|c| c == host);
    let limits = if options.default_limits {
        ""
    } else {
        "MaxStartups 200:30:400\nMaxSessions 100\n"
    };
    let passwords = if options.passwords { "yes" } else { "no" };
    let shell = if clish {
        format!(" CDT_GAIA_SHELL=clish CDT_GAIA_EXPERT_PASSWORD={EXPERT_PASSWORD}")
    } else {
        String::new()
    };
    format!(
        "ListenAddress {address}:22
HostKey {host_key}
PidFile none
AuthorizedKeysFile {authorized}
StrictModes no
UsePAM no
PermitRootLogin no
AllowUsers {USER}
PasswordAuthentication {passwords}
KbdInteractiveAuthentication no
{command}SetEnv CDT_GAIA_HOST={host} CDT_GAIA_STATE={state}{shell}
{limits}LogLevel ERROR
",
        host_key = host_key.display(),
        authorized = authorized.display(),
        // The emulator replaces the login shell; another command runs as the shell's command.
        command = if options.shell {
            String::new()
        } else {
            let command = options
                .command
                .clone()
                .unwrap_or_else(|| format!("exec {}", emulator.display()));
            format!("ForceCommand {command}\n")
        },
        state = state.display(),
    )
}

/// The emulator binary, built next to the running test (by `cargo nextest run --workspace`,
/// `cargo test --workspace` or `cargo build -p cdt-testfleet`). One older than its sources
/// is refused: it would emulate yesterday's gateways.
fn emulator() -> Result<PathBuf, Error> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    // Tests run from target/<profile>/deps; binaries sit in target/<profile>.
    let found = exe
        .ancestors()
        .skip(1)
        .take(2)
        .map(|d| d.join("cdt-gaia"))
        .find(|p| p.is_file())
        .ok_or("cdt-gaia is not built: run `cargo build -p cdt-testfleet` first")?;
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    // The emulator is built from cdt-core's sources, this crate's library and its own: none
    // may be newer (the crate's other binaries do not go into it).
    let here = Path::new(env!("CARGO_MANIFEST_DIR"));
    let modified_at = |p: PathBuf| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    let newest = [
        newest_file(&here.join("../../cdt-core/src")),
        modified_at(here.join("src/lib.rs")),
        modified_at(here.join("src/bin/cdt-gaia.rs")),
    ]
    .into_iter()
    .flatten()
    .max();
    if let (Some(source), Some(bin)) = (newest, modified(&found))
        && bin < source
    {
        return Err(format!(
            "{} is older than its sources: run `cargo build -p cdt-testfleet` first",
            found.display()
        ));
    }
    Ok(found)
}

/// The modification time of the newest file under `dir`.
fn newest_file(dir: &Path) -> Option<std::time::SystemTime> {
    let mut newest = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        let time = if path.is_dir() {
            newest_file(&path)
        } else {
            entry.metadata().and_then(|m| m.modified()).ok()
        };
        newest = newest.max(time);
    }
    newest
}

/// Checks for root and `sshd`, and creates what `sshd` needs once per machine: the fleet's
/// user (shell `/bin/sh`, unlocked for key logins) and `/run/sshd`.
fn prepare_system() -> Result<(), Error> {
    let uid = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|l| l.split_whitespace().next().map(str::to_string))
        })
        .unwrap_or_default();
    if uid != "0" {
        return Err("the SSH test fleet runs sshd, which needs root".into());
    }
    if !Path::new(SSHD).is_file() {
        return Err(format!("{SSHD} is missing: install openssh-server"));
    }
    std::fs::create_dir_all("/run/sshd").map_err(|e| format!("/run/sshd: {e}"))?;
    chmod(Path::new("/run/sshd"), "0755")?;
    let exists = || {
        Command::new("id")
            .arg(USER)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !exists() {
        // Two fleets starting at once may both try: the loser finds the user there.
        let _ = Command::new("useradd")
            .args([
                "--no-create-home",
                "--home-dir",
                "/",
                "--shell",
                "/bin/sh",
                USER,
            ])
            .stderr(Stdio::null())
            .status();
        if !exists() {
            return Err(format!("cannot create the user {USER}"));
        }
    }
    // Unlocked, with a known password (a locked account is refused even with a key when PAM
    // is off); its home is `/`, which exists.
    run("usermod", &["-d", "/", USER])?;
    let mut chpasswd = Command::new("chpasswd")
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| format!("chpasswd: {e}"))?;
    if let Some(mut stdin) = chpasswd.stdin.take() {
        use std::io::Write;
        stdin
            .write_all(format!("{USER}:{PASSWORD}\n").as_bytes())
            .map_err(|e| format!("chpasswd: {e}"))?;
    }
    let status = chpasswd.wait().map_err(|e| format!("chpasswd: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("chpasswd failed for {USER}"))
    }
}

fn run(program: &str, args: &[&str]) -> Result<(), Error> {
    let out = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

fn chmod(path: &Path, mode: &str) -> Result<(), Error> {
    run("chmod", &[mode, &path.display().to_string()])
}

fn keygen(path: &Path) -> Result<(), Error> {
    run(
        "ssh-keygen",
        &[
            "-q",
            "-t",
            "ed25519",
            "-N",
            "",
            "-C",
            "cdt-testfleet",
            "-f",
            &path.display().to_string(),
        ],
    )
}

/// A /24 of loopback addresses unlikely to be in use: from the process id, the time and the
/// attempt.
fn random_block(attempt: u32) -> (u8, u8) {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let mixed = std::process::id()
        .wrapping_mul(2_654_435_761)
        .wrapping_add(nanos)
        .wrapping_add(attempt.wrapping_mul(40_503));
    let a = 100 + (mixed % 150) as u8;
    let b = ((mixed >> 8) % 256) as u8;
    (a, b)
}

/// The CPU time of process `pid` and of the children it reaped (`/proc/PID/stat`).
pub fn process_cpu(pid: u32) -> Duration {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Duration::ZERO;
    };
    // After the command name: state is field 3; utime, stime, cutime, cstime are 14 to 17.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks: u64 = fields
        .get(11..15)
        .map(|f| f.iter().filter_map(|t| t.parse::<u64>().ok()).sum())
        .unwrap_or(0);
    // Linux reports them in USER_HZ, 100 per second.
    Duration::from_millis(ticks * 10)
}

/// `pid` and every process below it.
fn descendants(pid: u32) -> Vec<u32> {
    let mut parents: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for e in entries.flatten() {
            let Some(child) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
                continue;
            };
            // The parent is the second field after the command name (which may hold spaces).
            let ppid = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok());
            if let Some(ppid) = ppid {
                parents.entry(ppid).or_default().push(child);
            }
        }
    }
    let mut all = vec![pid];
    let mut i = 0;
    while i < all.len() {
        if let Some(children) = parents.get(&all[i]) {
            all.extend(children);
        }
        i += 1;
    }
    all
}

/// Kills `pid` and every process below it.
fn kill_tree(pid: u32) {
    let all = descendants(pid);
    let pids: Vec<String> = all.iter().map(u32::to_string).collect();
    let _ = Command::new("kill")
        .arg("-KILL")
        .args(&pids)
        .stderr(Stdio::null())
        .status();
}

/// A plain OpenSSH server on loopback, without the emulator: the account's shell runs
/// commands, SFTP is served (`internal-sftp`), passwords and keyboard-interactive (PAM) are
/// accepted, and `MaxSessions` and `MaxStartups` keep OpenSSH's defaults, as on a real
/// gateway. For testing the transport itself: copies over SFTP, authentication methods,
/// refused channels.
pub struct PlainServer {
    dir: tempfile::TempDir,
    server: Server,
}

impl PlainServer {
    /// Starts the server.
    pub fn start() -> Result<PlainServer, Error> {
        PlainServer::start_with("")
    }

    /// Starts the server with `extra` lines in its configuration (say, `KexAlgorithms …`).
    pub fn start_with(extra: &str) -> Result<PlainServer, Error> {
        prepare_system()?;
        let dir = tempfile::Builder::new()
            .prefix("cdt-plainsshd-")
            .tempdir()
            .map_err(|e| format!("temporary folder: {e}"))?;
        let root = dir.path().to_path_buf();
        chmod(&root, "0755")?;
        keygen(&root.join("client_key"))?;
        let authorized = root.join("authorized_keys");
        std::fs::copy(root.join("client_key.pub"), &authorized).map_err(|e| e.to_string())?;
        chmod(&authorized, "0644")?;
        let key = root.join("ssh_host_ed25519_key");
        keygen(&key)?;
        let public = std::fs::read_to_string(root.join("ssh_host_ed25519_key.pub"))
            .map_err(|e| e.to_string())?;
        let mut last_error = String::new();
        for attempt in 0..8u32 {
            let block = random_block(attempt + 100);
            let address = Ipv4Addr::new(127, block.0, block.1, 1);
            let config = root.join("sshd_config");
            std::fs::write(
                &config,
                format!(
                    "ListenAddress {address}:22
HostKey {key}
PidFile none
AuthorizedKeysFile {authorized}
StrictModes no
UsePAM yes
PermitRootLogin no
AllowUsers {USER}
PasswordAuthentication yes
KbdInteractiveAuthentication yes
Subsystem sftp internal-sftp
LogLevel VERBOSE
{extra}
",
                    key = key.display(),
                    authorized = authorized.display(),
                ),
            )
            .map_err(|e| e.to_string())?;
            let mut server = Server {
                name: "plain".into(),
                address,
                config,
                log: root.join("sshd.log"),
                child: None,
                held: None,
            };
            match server.start() {
                Ok(()) => {
                    let mut fields = public.split_whitespace();
                    let (kind, base64) = (
                        fields.next().unwrap_or_default(),
                        fields.next().unwrap_or_default(),
                    );
                    std::fs::write(
                        root.join("known_hosts"),
                        format!("{address} {kind} {base64}\n"),
                    )
                    .map_err(|e| e.to_string())?;
                    return Ok(PlainServer { dir, server });
                }
                Err(e) => last_error = e,
            }
        }
        Err(format!("the plain server did not come up: {last_error}"))
    }

    /// Where it listens.
    pub fn address(&self) -> SocketAddr {
        SocketAddr::from((self.server.address, 22))
    }

    /// A `known_hosts` file listing its key.
    pub fn known_hosts(&self) -> PathBuf {
        self.dir.path().join("known_hosts")
    }

    /// The private key (ed25519, no passphrase) it accepts for [`USER`].
    pub fn client_key(&self) -> PathBuf {
        self.dir.path().join("client_key")
    }

    /// Accepts another public key (an OpenSSH `.pub` file) for [`USER`].
    pub fn authorize(&self, public_key: &Path) -> Result<(), Error> {
        let key = std::fs::read_to_string(public_key).map_err(|e| e.to_string())?;
        let path = self.dir.path().join("authorized_keys");
        let mut keys = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        keys.push_str(&key);
        std::fs::write(&path, keys).map_err(|e| e.to_string())
    }

    /// Its log (`LogLevel VERBOSE`: logins, subsystem sessions).
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.server.log).unwrap_or_default()
    }
}

impl Drop for PlainServer {
    fn drop(&mut self) {
        self.server.stop();
    }
}
