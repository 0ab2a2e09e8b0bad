//! Cluster steps (SPEC 3.3): state checks, MVC, Full Connectivity Upgrade, the failover away
//! from the last member, bringing it back, MVC off.
//!
//! ClusterXL and VSX VSLS roles come from `cphaprob state`, VRRP roles from clish `show vrrp`.
//! A failover is `clusterXL_admin down` (not persistent) on the member that goes last, then
//! waiting until an upgraded member is active.

use jiff::SignedDuration;

use super::{ClusterInfo, Hosts, StepContext, StepError, StepResult, run_ok};
use crate::gaia::commands;
use crate::gaia::parse::{self, FcuStatus, MemberHaState, VrrpRole};
use crate::model::ClusterKind;
use crate::rollout::{Outcome, Phase, Step};

fn cluster(ctx: &StepContext) -> StepResult<&ClusterInfo> {
    ctx.cluster
        .as_deref()
        .ok_or_else(|| StepError::Failed("the step has no cluster".into()))
}

fn member(ctx: &StepContext) -> StepResult<&str> {
    ctx.host
        .as_deref()
        .ok_or_else(|| StepError::Failed("the step has no member".into()))
}

pub(super) async fn run(
    hosts: &dyn Hosts,
    step: &Step,
    ctx: &StepContext,
    memory: &mut super::TargetMemory,
) -> StepResult<Outcome> {
    let waits = &ctx.waits;
    match step {
        Step::CheckClusterState { phase } => check(hosts, cluster(ctx)?, *phase).await,
        Step::MvcOn => {
            let m = member(ctx)?;
            run_ok(hosts, m, &commands::cphaconf_mvc(true)).await?;
            poll(hosts, waits.cluster_change, waits.poll, || async {
                Ok(local_state(hosts, m).await? == Some(MemberHaState::Standby))
            })
            .await
            .map_err(|e| {
                timeout_as_failure(e, &format!("{m} did not become Standby with MVC on"))
            })?;
            Ok(Outcome::Ok)
        }
        Step::CuStart => {
            let m = member(ctx)?;
            run_ok(hosts, m, &commands::cphacu_start()).await?;
            poll(hosts, waits.cluster_change, waits.poll, || async {
                let status =
                    parse::parse_fcu_status(&run_ok(hosts, m, &commands::cphacu_stat()).await?)
                        .map_err(|e| StepError::Failed(format!("{m}: cphacu stat: {e}")))?;
                Ok(status == FcuStatus::ReadyForFailover)
            })
            .await
            .map_err(|e| {
                timeout_as_failure(e, &format!("{m} did not become ready for failover"))
            })?;
            Ok(Outcome::Ok)
        }
        Step::Failover { .. } => {
            let c = cluster(ctx)?;
            let from = member(ctx)?;
            run_ok(hosts, from, &commands::clusterxl_admin(true)).await?;
            poll(hosts, waits.cluster_change, waits.poll, || async {
                for m in &c.upgraded {
                    if is_active(hosts, c.kind, m).await.unwrap_or(false) {
                        return Ok(true);
                    }
                }
                Ok(false)
            })
            .await
            .map_err(|e| {
                timeout_as_failure(
                    e,
                    &format!("no upgraded member of {} became active", c.name),
                )
            })?;
            for m in &c.upgraded {
                if is_active(hosts, c.kind, m).await.unwrap_or(false) {
                    memory.failed_over_to = Some(m.clone());
                    break;
                }
            }
            Ok(Outcome::Ok)
        }
        Step::Restore => {
            run_ok(hosts, member(ctx)?, &commands::clusterxl_admin(false)).await?;
            Ok(Outcome::Ok)
        }
        Step::MvcOff => {
            run_ok(hosts, member(ctx)?, &commands::cphaconf_mvc(false)).await?;
            Ok(Outcome::Ok)
        }
        other => Err(StepError::Failed(format!(
            "{} is not a cluster step",
            other.name()
        ))),
    }
}

fn timeout_as_failure(e: StepError, what: &str) -> StepError {
    match e {
        StepError::TimedOut(_) => StepError::Failed(what.to_string()),
        other => other,
    }
}

/// Polls `done` every `every` until it says yes, or `limit` passes.
async fn poll<F, Fut>(
    hosts: &dyn Hosts,
    limit: SignedDuration,
    every: SignedDuration,
    mut done: F,
) -> StepResult<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = StepResult<bool>>,
{
    let mut waited = SignedDuration::ZERO;
    loop {
        if done().await? {
            return Ok(());
        }
        if waited >= limit {
            return Err(StepError::TimedOut(format!("after {} s", limit.as_secs())));
        }
        hosts.sleep(every).await;
        waited += every;
    }
}

/// The local member's state in `cphaprob state` on `host`.
async fn local_state(hosts: &dyn Hosts, host: &str) -> StepResult<Option<MemberHaState>> {
    let state =
        parse::parse_cluster_state(&run_ok(hosts, host, &commands::cphaprob_state()).await?)
            .map_err(|e| StepError::Failed(format!("{host}: cphaprob state: {e}")))?;
    Ok(state.local().map(|m| m.state.clone()))
}

/// A member's role now, as the member reports it: `show vrrp` for VRRP, `cphaprob state`
/// otherwise (for VSLS, active means active for the first Virtual System).
pub(super) async fn role_now(
    hosts: &dyn Hosts,
    kind: ClusterKind,
    host: &str,
) -> StepResult<crate::model::MemberRole> {
    use crate::model::MemberRole;
    if kind == ClusterKind::Vrrp {
        let vrrp = parse::parse_vrrp(&run_ok(hosts, host, &commands::show_vrrp()).await?)
            .map_err(|e| StepError::Failed(format!("{host}: show vrrp: {e}")))?;
        return Ok(match vrrp.role() {
            Some(VrrpRole::Master) => MemberRole::Master,
            Some(VrrpRole::Backup) => MemberRole::Backup,
            None => MemberRole::Down,
        });
    }
    let active = match local_state(hosts, host).await? {
        Some(s) if s.is_active() => true,
        Some(s) if s.to_string().eq_ignore_ascii_case("down") => return Ok(MemberRole::Down),
        _ => false,
    };
    Ok(match (kind, active) {
        (ClusterKind::VsxVsls, true) => MemberRole::VslsActiveMember,
        (ClusterKind::VsxVsls, false) => MemberRole::VslsMember,
        (_, true) => MemberRole::Active,
        (_, false) => MemberRole::Standby,
    })
}

/// Whether `host` is the active member (Master for VRRP).
async fn is_active(hosts: &dyn Hosts, kind: ClusterKind, host: &str) -> StepResult<bool> {
    if kind == ClusterKind::Vrrp {
        let vrrp = parse::parse_vrrp(&run_ok(hosts, host, &commands::show_vrrp()).await?)
            .map_err(|e| StepError::Failed(format!("{host}: show vrrp: {e}")))?;
        return Ok(vrrp.role() == Some(VrrpRole::Master));
    }
    Ok(local_state(hosts, host)
        .await?
        .is_some_and(|s| s.is_active()))
}

/// The cluster has exactly one active member and every other member in its standby role.
async fn check(hosts: &dyn Hosts, c: &ClusterInfo, phase: Phase) -> StepResult<Outcome> {
    let mut active = Vec::new();
    let mut problems = Vec::new();
    for (m, _) in &c.members {
        if c.kind == ClusterKind::Vrrp {
            let vrrp = parse::parse_vrrp(&run_ok(hosts, m, &commands::show_vrrp()).await?)
                .map_err(|e| StepError::Failed(format!("{m}: show vrrp: {e}")))?;
            match vrrp.role() {
                Some(VrrpRole::Master) => active.push(m.clone()),
                Some(VrrpRole::Backup) => {}
                None => problems.push(format!("{m} is neither Master nor Backup")),
            }
        } else {
            match local_state(hosts, m).await? {
                Some(s) if s.is_active() => active.push(m.clone()),
                Some(MemberHaState::Standby) => {}
                Some(s) => problems.push(format!("{m} is {s}")),
                None => problems.push(format!("{m} does not report its own state")),
            }
        }
    }
    if active.len() != 1 {
        problems.insert(
            0,
            format!("{} active members ({})", active.len(), active.join(", ")),
        );
    }
    if problems.is_empty() {
        Ok(Outcome::Ok)
    } else {
        let when = match phase {
            Phase::Before => "before the upgrade",
            Phase::After => "after the upgrade",
        };
        Err(StepError::Failed(format!(
            "cluster {} {when}: {}",
            c.name,
            problems.join("; ")
        )))
    }
}
