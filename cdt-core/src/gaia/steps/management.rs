//! Management steps through `mgmt_cli … --format json` on the Management Server, in one
//! session per step (login, changes, publish, logout): the object's version (SPEC 3.2 step 2)
//! and the policy install after an install.

use super::{Hosts, StepContext, StepError, StepResult, command};
use crate::gaia::commands;
use crate::gaia::parse::mgmt;
use crate::rollout::Outcome;

/// Runs `mgmt_cli` and reads the reply, turning API errors into failures.
async fn call<T>(
    hosts: &dyn Hosts,
    ctx: &StepContext,
    name: &str,
    params: &[(&str, &str)],
    session: Option<&str>,
    read: impl Fn(&str) -> Result<T, crate::gaia::parse::ParseError>,
) -> StepResult<T> {
    let m = ctx.management.as_ref().ok_or_else(|| {
        StepError::Failed("this step needs the Management Server, and none is configured".into())
    })?;
    let line = command(commands::mgmt_cli(
        name,
        params,
        session,
        m.domain.as_deref(),
    ))?;
    let out = hosts.exec(&m.host, &line).await?;
    read(&out.stdout).map_err(|e| StepError::Failed(format!("{}: mgmt_cli {name}: {e}", m.host)))
}

async fn login(hosts: &dyn Hosts, ctx: &StepContext) -> StepResult<String> {
    let login = call(
        hosts,
        ctx,
        "login",
        &[("-r", "true")],
        None,
        mgmt::parse_login,
    )
    .await?;
    Ok(login.sid)
}

async fn logout(hosts: &dyn Hosts, ctx: &StepContext, sid: &str) {
    let _ = call(hosts, ctx, "logout", &[], Some(sid), |_| Ok(())).await;
}

/// Waits for a task to finish and requires it to succeed.
async fn wait_task(hosts: &dyn Hosts, ctx: &StepContext, task_id: &str) -> StepResult<()> {
    let mut waited = jiff::SignedDuration::ZERO;
    loop {
        let tasks = call(
            hosts,
            ctx,
            "show-task",
            &[("task-id", task_id)],
            None,
            mgmt::parse_show_task,
        )
        .await?;
        let done = !tasks.is_empty() && tasks.iter().all(mgmt::Task::is_finished);
        if done {
            return match tasks.iter().find(|t| {
                !matches!(
                    t.status,
                    mgmt::TaskStatus::Succeeded | mgmt::TaskStatus::SucceededWithWarnings
                )
            }) {
                None => Ok(()),
                Some(t) => Err(StepError::Failed(format!(
                    "task {} ({}) ended {:?}",
                    t.task_id, t.name, t.status
                ))),
            };
        }
        if waited >= ctx.waits.management_task {
            return Err(StepError::TimedOut(format!("task {task_id}")));
        }
        hosts.sleep(ctx.waits.poll).await;
        waited += ctx.waits.poll;
    }
}

/// Sets the object's version and prepares its policy, then publishes, in one session.
pub(super) async fn set_version(
    hosts: &dyn Hosts,
    ctx: &StepContext,
    version: &str,
) -> StepResult<Outcome> {
    let command_name = if ctx.cluster.is_some() {
        "set-simple-cluster"
    } else {
        "set-simple-gateway"
    };
    let sid = login(hosts, ctx).await?;
    let result = async {
        call(
            hosts,
            ctx,
            command_name,
            &[("name", &ctx.object), ("version", version)],
            Some(&sid),
            mgmt::parse_reply,
        )
        .await?;
        let task = call(hosts, ctx, "publish", &[], Some(&sid), mgmt::parse_task_id).await?;
        wait_task(hosts, ctx, &task.task_id).await
    }
    .await;
    logout(hosts, ctx, &sid).await;
    result.map(|()| Outcome::Ok)
}

/// Installs Access Control and Threat Prevention policy on the object.
pub(super) async fn install_policy(hosts: &dyn Hosts, ctx: &StepContext) -> StepResult<Outcome> {
    let Some(m) = &ctx.management else {
        return Err(StepError::Failed(
            "installing policy needs the Management Server, and none is configured".into(),
        ));
    };
    let sid = login(hosts, ctx).await?;
    let package = m.policy_package.clone();
    let result = async {
        let task = call(
            hosts,
            ctx,
            "install-policy",
            &[
                ("policy-package", &package),
                ("access", "true"),
                ("threat-prevention", "true"),
                ("targets.1", &ctx.object),
            ],
            Some(&sid),
            mgmt::parse_task_id,
        )
        .await?;
        wait_task(hosts, ctx, &task.task_id).await
    }
    .await;
    logout(hosts, ctx, &sid).await;
    result.map(|()| Outcome::Ok)
}
