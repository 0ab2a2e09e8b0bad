//! Carrying out one rollout step on real (or simulated) gateways: which commands, in which
//! order, how their replies are read, and what counts as success. This is where Gaia knowledge
//! meets the rollout's [`Step`]s; the transport underneath only runs commands and copies files
//! ([`Hosts`]), and the driver decides timeouts and retries.
//!
//! Steps are written to be safe to repeat after a crash: a copy of a file over 1 MiB is
//! skipped when the file is already there with the same SHA-256, an import when CPUSE lists
//! the package, an install when CPUSE reports it installed; setting a version or installing
//! policy again changes nothing.
//! Steps wait inside themselves for what the gateway is doing (CPUSE busy with an earlier
//! operation, a reboot at the end of an install); whether a failed step is retried is the
//! rollout's decision, and it does not retry. The one thing a step makes good itself is a
//! Management API session the server forgot (idle too long, an API restart): it logs in again
//! and makes again what nothing was done under (see [`ManagementLink`]).

mod cluster;
mod files;
mod management;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use jiff::SignedDuration;

use super::commands;
use super::parse::{self, RunningApp};
use crate::formats::plan;
use crate::model::{ClusterKind, MemberRole, PackageKind};
use crate::rollout::{Outcome, Phase, Step};
use crate::transport::{ExecOutput, TransportError};

pub use files::remote_name;
pub use management::{Discovered, ManagementLink, discover, inspect, read_database};

/// The hosts a step works on, as the driver provides them: commands and copies by host name,
/// over sessions it keeps; local file digests; and waiting.
#[async_trait]
pub trait Hosts: Send + Sync {
    /// Runs `command` on `host`.
    async fn exec(&self, host: &str, command: &str) -> Result<ExecOutput, TransportError>;
    /// Copies the local file `local` to `remote` on `host`.
    async fn put(&self, host: &str, local: &Path, remote: &str) -> Result<(), TransportError>;
    /// Copies `remote` from `host` to the local file `local`.
    async fn get(&self, host: &str, remote: &str, local: &Path) -> Result<(), TransportError>;
    /// The SHA-256 of a local file and its size.
    async fn digest(&self, local: &Path) -> Result<FileDigest, TransportError>;
    /// Waits `duration` (in the driver's clock).
    async fn sleep(&self, duration: SignedDuration);
    /// The driver's clock.
    fn now(&self) -> jiff::Timestamp;
}

/// A local file's SHA-256 and size, as [`Hosts::digest`] reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// The SHA-256, in lower-case hexadecimal (as `sha256sum` prints it).
    pub sha256: String,
    /// The size in bytes.
    pub size: u64,
}

/// How long steps wait for things that take time on the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Waits {
    /// How often to poll while waiting.
    pub poll: SignedDuration,
    /// How long a gateway may stay away after a version upgrade reboots it.
    pub reboot_grace_upgrade: SignedDuration,
    /// How long a gateway may stay away after a hotfix install or a reboot.
    pub reboot_grace_hotfix: SignedDuration,
    /// How long a failover, MVC or FCU state change may take.
    pub cluster_change: SignedDuration,
    /// How long a management task (publish, policy install) may take.
    pub management_task: SignedDuration,
}

impl Default for Waits {
    fn default() -> Self {
        Waits {
            poll: SignedDuration::from_secs(10),
            reboot_grace_upgrade: SignedDuration::from_mins(40),
            reboot_grace_hotfix: SignedDuration::from_mins(15),
            cluster_change: SignedDuration::from_mins(5),
            management_task: SignedDuration::from_mins(30),
        }
    }
}

/// The cluster a step concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterInfo {
    /// The cluster object's name.
    pub name: String,
    /// Its kind.
    pub kind: ClusterKind,
    /// Its members (host names) with the roles the list gives them.
    pub members: Vec<(String, Option<MemberRole>)>,
    /// The members that run the new software before the failover.
    pub upgraded: Vec<String>,
}

/// The Management Server, for version changes and policy installs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagementInfo {
    /// Its host name.
    pub host: String,
    /// The policy package to install (`Standard` unless told otherwise).
    pub policy_package: String,
    /// The Domain, on a Multi-Domain Server.
    pub domain: Option<String>,
}

/// What a step needs to know besides the step itself.
#[derive(Debug, Clone)]
pub struct StepContext {
    /// The target's host name, for target steps.
    pub host: Option<Arc<str>>,
    /// The object whose version or policy changes: the gateway, or its cluster.
    pub object: Arc<str>,
    /// The cluster, for cluster steps and members.
    pub cluster: Option<Arc<ClusterInfo>>,
    /// The package's kind (install or upgrade, reboot grace).
    pub package_kind: PackageKind,
    /// The Management Server and the run's shared session, when there is one.
    pub management: Option<std::sync::Arc<ManagementLink>>,
    /// How long to wait for what takes time.
    pub waits: Waits,
}

/// What a target's steps remember between them.
#[derive(Debug, Clone, Default)]
pub struct TargetMemory {
    /// The processes executing before the plan, by `APP` and context, in order and each once.
    pub processes_before: Option<Vec<RunningApp>>,
    /// After a failover: the member that became active.
    pub failed_over_to: Option<String>,
    /// The package this run imported on the target or found imported there: its file name and
    /// the number CPUSE lists it under. Later steps (`verify_package`, `install_package`) use
    /// the number without listing again; the install checks first that CPUSE shows that
    /// package under it.
    pub imported: Option<(String, String)>,
    /// Remote files this run copied or found in place, with the SHA-256 checked: (remote
    /// path, digest). A later copy of the same content to the same path is skipped.
    pub verified: Vec<(String, String)>,
}

/// A step's failure, before it becomes the rollout's [`Outcome`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StepError {
    Failed(String),
    Unreachable(String),
    TimedOut(String),
}

impl From<TransportError> for StepError {
    fn from(e: TransportError) -> Self {
        match e {
            TransportError::Unreachable { .. } | TransportError::ConnectionLost { .. } => {
                StepError::Unreachable(e.to_string())
            }
            other => StepError::Failed(other.to_string()),
        }
    }
}

pub(crate) type StepResult<T> = Result<T, StepError>;

/// Runs a command and requires exit 0; returns its output.
pub(crate) async fn run_ok(hosts: &dyn Hosts, host: &str, command: &str) -> StepResult<String> {
    require_success(host, command, hosts.exec(host, command).await?)
}

/// The output of a command that must have exited 0.
fn require_success(host: &str, command: &str, out: ExecOutput) -> StepResult<String> {
    match out.exit {
        Some(0) => Ok(out.stdout),
        Some(code) => Err(StepError::Failed(format!(
            "{host}: `{}` exited {code}: {}",
            super::quote::Printable(command),
            first_line(&out.stderr, &out.stdout)
        ))),
        None => Err(StepError::Unreachable(format!(
            "{host}: the connection dropped during `{}`",
            super::quote::Printable(command)
        ))),
    }
}

fn first_line<'a>(stderr: &'a str, stdout: &'a str) -> &'a str {
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    text.lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim()
}

/// Whether CPUSE refused a command because another of its operations is still running (an
/// import or install started before the orchestrator died and resumed).
fn cpuse_busy(out: &ExecOutput) -> bool {
    let text = format!("{} {}", out.stdout, out.stderr).to_ascii_lowercase();
    text.contains("in progress") && (text.contains("another") || text.contains("operation"))
}

/// Runs a CPUSE command, waiting (within the longer reboot grace) while CPUSE is busy with an
/// earlier operation. Returns the reply of the attempt that ran.
pub(crate) async fn run_cpuse(
    hosts: &dyn Hosts,
    host: &str,
    command: &str,
    waits: &Waits,
) -> StepResult<ExecOutput> {
    let mut waited = SignedDuration::ZERO;
    loop {
        let out = hosts.exec(host, command).await?;
        if !(out.exit.is_some_and(|c| c != 0) && cpuse_busy(&out))
            || waited >= waits.reboot_grace_upgrade
        {
            return Ok(out);
        }
        hosts.sleep(waits.poll).await;
        waited += waits.poll;
    }
}

/// Like [`run_ok`], for CPUSE commands: waits while CPUSE is busy, then requires exit 0.
pub(crate) async fn run_cpuse_ok(
    hosts: &dyn Hosts,
    host: &str,
    command: &str,
    waits: &Waits,
) -> StepResult<String> {
    require_success(host, command, run_cpuse(hosts, host, command, waits).await?)
}

/// Waits until `host` answers again after a reboot, within `grace`.
pub(crate) async fn wait_until_back(
    hosts: &dyn Hosts,
    host: &str,
    grace: SignedDuration,
    poll: SignedDuration,
) -> StepResult<()> {
    let mut waited = SignedDuration::ZERO;
    loop {
        hosts.sleep(poll).await;
        waited += poll;
        match hosts.exec(host, &commands::fw_ver()).await {
            Ok(out) if out.exit == Some(0) => return Ok(()),
            _ if waited >= grace => {
                return Err(StepError::Unreachable(format!(
                    "{host}: did not come back within {} minutes after the reboot",
                    grace.as_mins()
                )));
            }
            _ => {}
        }
    }
}

/// Waits until `host` answers (a run resumed while the gateway was rebooting), within the
/// longer reboot grace. Returns the outcome to report if it never does.
pub async fn wait_reachable(hosts: &dyn Hosts, host: &str, waits: &Waits) -> Option<Outcome> {
    if matches!(hosts.exec(host, &commands::fw_ver()).await, Ok(out) if out.exit == Some(0)) {
        return None;
    }
    match wait_until_back(hosts, host, waits.reboot_grace_upgrade, waits.poll).await {
        Ok(()) => None,
        Err(StepError::Unreachable(m))
        | Err(StepError::Failed(m))
        | Err(StepError::TimedOut(m)) => Some(Outcome::Unreachable(m)),
    }
}

/// Carries out `step` and says how it went, as the rollout wants it.
pub async fn run_step(
    hosts: &dyn Hosts,
    step: &Step,
    ctx: &StepContext,
    memory: &mut TargetMemory,
) -> Outcome {
    match run(hosts, step, ctx, memory).await {
        Ok(outcome) => outcome,
        Err(StepError::Failed(m)) => Outcome::Failed(m),
        Err(StepError::Unreachable(m)) => Outcome::Unreachable(m),
        Err(StepError::TimedOut(_)) => Outcome::TimedOut,
    }
}

fn host(ctx: &StepContext) -> StepResult<&str> {
    ctx.host
        .as_deref()
        .ok_or_else(|| StepError::Failed("the step has no target host".into()))
}

async fn run(
    hosts: &dyn Hosts,
    step: &Step,
    ctx: &StepContext,
    memory: &mut TargetMemory,
) -> StepResult<Outcome> {
    match step {
        Step::CheckState { phase } => {
            let h = host(ctx)?;
            let reply = run_ok(hosts, h, &commands::cpwd_list()).await?;
            let running = parse::parse_running(&reply)
                .map_err(|e| StepError::Failed(format!("{h}: cpwd_admin list: {e}")))?;
            match phase {
                Phase::Before => {
                    let apps: std::collections::BTreeSet<RunningApp> = running
                        .into_iter()
                        .map(|(app, ctx)| RunningApp {
                            app: app.to_string(),
                            ctx,
                        })
                        .collect();
                    memory.processes_before = Some(apps.into_iter().collect());
                }
                Phase::After => {
                    if let Some(before) = &memory.processes_before {
                        let stopped: Vec<&str> = parse::stopped_among(before, &running)
                            .into_iter()
                            .map(|a| a.app.as_str())
                            .collect();
                        if !stopped.is_empty() {
                            return Err(StepError::Failed(format!(
                                "{h}: processes that ran before are not running: {}",
                                stopped.join(", ")
                            )));
                        }
                    }
                }
            }
            Ok(Outcome::Ok)
        }
        // The long sequences (Management API calls, installs, cluster changes) run boxed: the
        // future of every step is as large as its largest branch, and a run keeps one per target
        // in flight, so the common short steps stay small.
        Step::SetVersion { version } => {
            Box::pin(management::set_version(hosts, ctx, &version.to_string())).await
        }
        Step::InstallPolicy => Box::pin(management::install_policy(hosts, ctx)).await,
        Step::UpdateCpuse { agent } => {
            let h = host(ctx)?;
            match agent {
                Some(path) => {
                    let remote = files::upload(hosts, h, path, memory).await?;
                    run_ok(
                        hosts,
                        h,
                        &command(commands::installer_agent_install(&remote))?,
                    )
                    .await?;
                }
                None => {
                    parse::parse_installer_build(
                        &run_ok(hosts, h, &commands::show_installer_build()).await?,
                    )
                    .map_err(|e| StepError::Failed(format!("{h}: CPUSE agent: {e}")))?;
                }
            }
            Ok(Outcome::Ok)
        }
        Step::Reboot => {
            let h = host(ctx)?;
            reboot(hosts, h, ctx).await
        }
        Step::Run { action, .. } => run_action(hosts, action, ctx, memory).await,
        Step::CheckClusterState { .. }
        | Step::MvcOn
        | Step::CuStart
        | Step::Failover { .. }
        | Step::Restore
        | Step::MvcOff => Box::pin(cluster::run(hosts, step, ctx, memory)).await,
    }
}

/// A command built from a user-supplied value that cannot be quoted is a failed step.
pub(crate) fn command(built: Result<String, super::quote::QuoteError>) -> StepResult<String> {
    built.map_err(|e| StepError::Failed(e.to_string()))
}

async fn reboot(hosts: &dyn Hosts, h: &str, ctx: &StepContext) -> StepResult<Outcome> {
    let out = hosts.exec(h, &commands::reboot()).await;
    if let Ok(out) = &out
        && out.exit.is_some_and(|c| c != 0)
    {
        return Err(StepError::Failed(format!(
            "{h}: reboot refused: {}",
            first_line(&out.stderr, &out.stdout)
        )));
    }
    wait_until_back(hosts, h, ctx.waits.reboot_grace_hotfix, ctx.waits.poll).await?;
    Ok(Outcome::Ok)
}

async fn run_action(
    hosts: &dyn Hosts,
    action: &plan::Action,
    ctx: &StepContext,
    memory: &mut TargetMemory,
) -> StepResult<Outcome> {
    use plan::Action::*;
    let h = host(ctx)?;
    match action {
        CreateSnapshot { name, description } => {
            let desc = description.as_deref().unwrap_or("created by cdt");
            run_ok(hosts, h, &command(commands::add_snapshot(name, desc))?).await?;
            Ok(Outcome::Ok)
        }
        ExecuteCommand { command } => {
            let out = hosts.exec(h, command).await?;
            Ok(match out.exit {
                Some(code) => Outcome::Exited(code),
                None => {
                    Outcome::Unreachable(format!("{h}: the connection dropped during the command"))
                }
            })
        }
        ExecuteScript { path, .. } => {
            let remote = files::copy(hosts, h, path, &files::script_dir_path(path), memory).await?;
            let out = hosts
                .exec(h, &command(commands::run_script(&remote))?)
                .await?;
            Ok(match out.exit {
                Some(code) => Outcome::Exited(code),
                None => {
                    Outcome::Unreachable(format!("{h}: the connection dropped during the script"))
                }
            })
        }
        SendPackage { path } => {
            files::upload(hosts, h, path, memory).await?;
            Ok(Outcome::Ok)
        }
        DownloadFromCloud { path } => {
            Box::pin(files::download_from_cloud(hosts, h, path, &ctx.waits)).await?;
            Ok(Outcome::Ok)
        }
        ImportPackage { path } => {
            Box::pin(files::import(hosts, h, path, &ctx.waits, memory)).await?;
            Ok(Outcome::Ok)
        }
        VerifyPackage { path } => {
            let number = Box::pin(files::import(hosts, h, path, &ctx.waits, memory)).await?;
            run_cpuse_ok(
                hosts,
                h,
                &command(commands::installer_verify(&number))?,
                &ctx.waits,
            )
            .await?;
            Ok(Outcome::Ok)
        }
        InstallPackage { path } => Box::pin(files::install(hosts, h, path, ctx, memory)).await,
        UninstallCpusePackage { filename } | UninstallLegacyPackage { filename } => {
            let out = hosts
                .exec(h, &command(commands::installer_uninstall(filename))?)
                .await?;
            match out.exit {
                Some(0) => Ok(Outcome::Ok),
                Some(code) => Err(StepError::Failed(format!(
                    "{h}: uninstall of {filename} exited {code}: {}",
                    first_line(&out.stderr, &out.stdout)
                ))),
                None => {
                    wait_until_back(hosts, h, ctx.waits.reboot_grace_hotfix, ctx.waits.poll)
                        .await?;
                    Ok(Outcome::Ok)
                }
            }
        }
        PushFile {
            local_path,
            remote_path,
        } => {
            let remote = remote_path.to_string_lossy();
            files::copy(hosts, h, local_path, &remote, memory).await?;
            Ok(Outcome::Ok)
        }
        PullFile {
            remote_path,
            local_dir,
        } => {
            files::pull(hosts, h, &remote_path.to_string_lossy(), local_dir).await?;
            Ok(Outcome::Ok)
        }
        Reboot => reboot(hosts, h, ctx).await,
        // Handled by the driver (log lines and the notifier); nothing runs on the gateway.
        Log { .. } | SendEmail { .. } => Ok(Outcome::Ok),
    }
}

/// The local folder a pulled file goes to: `local_dir/<target>/`.
pub fn pull_folder(local_dir: &Path, host: &str) -> PathBuf {
    local_dir.join(files::sanitise(host))
}
