//! Management steps through `mgmt_cli … --format json` on the Management Server (SPEC 5:
//! `login` once, `publish` explicitly, `logout`).
//!
//! - A version change (SPEC 3.2 step 2) has a session of its own: login, the change, publish,
//!   logout. What one publish makes visible is then that object's change and nothing else,
//!   even while other targets change theirs at the same time.
//! - Policy installs and the tasks they start share one session per run, held by
//!   [`ManagementLink`]: the first install logs in, the others reuse it, and the driver logs
//!   out when the run ends. They change no object, so sharing cannot mix anyone's changes.

use super::{Hosts, ManagementInfo, StepContext, StepError, StepResult, command};
use crate::gaia::commands;
use crate::gaia::parse::{ParseError, mgmt};
use crate::rollout::Outcome;

/// The API's answer to a session id it does not know (expired after `session-timeout`
/// seconds idle, or logged out).
const WRONG_SESSION: &str = "generic_err_wrong_session_id";

/// The Management Server and the API session a run's policy installs share.
///
/// The session is logged into when first needed, and again when it has been idle for nearly
/// the `session-timeout` its login reply gave (the server forgets it then). Should the
/// server still name the session unknown, it is logged into again once and the call made
/// again: nothing was done under the unknown id. The session id is a credential: it is never
/// formatted (`Debug` shows whether a session is open, not its id) and never journaled.
pub struct ManagementLink {
    info: ManagementInfo,
    session: tokio::sync::Mutex<Option<Open>>,
}

/// An open session: its id, its last call and how long it may stay idle.
struct Open {
    sid: String,
    last_used: jiff::Timestamp,
    timeout: jiff::SignedDuration,
}

/// The idle time the API allows when its login reply does not say (its default).
const DEFAULT_SESSION_TIMEOUT: u64 = 600;

/// The idle time every login asks for: the API's longest, an hour. Waits in a deployment
/// (an upgrade, a reboot) are long, and a session lost between a change and its publish
/// costs the change.
const SESSION_TIMEOUT: &str = "3600";

impl std::fmt::Debug for ManagementLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let open = self.session.try_lock().map(|s| s.is_some()).ok();
        f.debug_struct("ManagementLink")
            .field("info", &self.info)
            .field("session_open", &open)
            .finish()
    }
}

impl ManagementLink {
    /// A link to the Management Server `info` names, with no session yet.
    pub fn new(info: ManagementInfo) -> ManagementLink {
        ManagementLink {
            info,
            session: tokio::sync::Mutex::new(None),
        }
    }

    /// The Management Server.
    pub fn info(&self) -> &ManagementInfo {
        &self.info
    }

    /// The shared session's id for a call made now, logging in first when there is none or
    /// it may have expired.
    async fn session(&self, hosts: &dyn Hosts) -> StepResult<String> {
        let mut session = self.session.lock().await;
        let now = hosts.now();
        if let Some(open) = session.as_mut() {
            // A tenth of the timeout (at most a minute) to spare: the server counts from
            // when a call reached it, which is later than when it was sent.
            let spare = (open.timeout / 10).min(jiff::SignedDuration::from_mins(1));
            if now.duration_since(open.last_used) < open.timeout - spare {
                open.last_used = now;
                return Ok(open.sid.clone());
            }
        }
        let login = login(hosts, &self.info).await?;
        let seconds = login.session_timeout.unwrap_or(DEFAULT_SESSION_TIMEOUT);
        *session = Some(Open {
            sid: login.sid.clone(),
            last_used: now,
            timeout: jiff::SignedDuration::from_secs(i64::try_from(seconds).unwrap_or(i64::MAX)),
        });
        Ok(login.sid)
    }

    /// Forgets `sid` if it is still the shared one (another step may have logged in again).
    async fn forget(&self, sid: &str) {
        let mut session = self.session.lock().await;
        if session.as_ref().is_some_and(|open| open.sid == sid) {
            *session = None;
        }
    }

    /// Runs `mgmt_cli name params` in the shared session, logging in again once if the
    /// server no longer knows it.
    async fn call<T>(
        &self,
        hosts: &dyn Hosts,
        name: &str,
        params: &[(&str, &str)],
        read: impl Fn(&str) -> Result<T, ParseError>,
    ) -> StepResult<T> {
        let sid = self.session(hosts).await?;
        match exec(hosts, &self.info, name, params, Some(&sid), &read).await? {
            Err(e) if is_wrong_session(&e) => {
                self.forget(&sid).await;
                let sid = self.session(hosts).await?;
                let reply = exec(hosts, &self.info, name, params, Some(&sid), &read).await?;
                reply.map_err(|e| failed(&self.info, name, e))
            }
            reply => reply.map_err(|e| failed(&self.info, name, e)),
        }
    }

    /// Logs the shared session out, if there is one (at the end of a run; a session left
    /// behind by a dead orchestrator expires on the server on its own).
    pub(crate) async fn close(&self, hosts: &dyn Hosts) {
        let open = self.session.lock().await.take();
        if let Some(open) = open {
            logout(hosts, &self.info, &open.sid).await;
        }
    }
}

/// The Management Server a step needs.
fn link(ctx: &StepContext) -> StepResult<&ManagementLink> {
    ctx.management.as_deref().ok_or_else(|| {
        StepError::Failed("this step needs the Management Server, and none is configured".into())
    })
}

/// Whether the server no longer knows the session a call named.
fn is_wrong_session(e: &ParseError) -> bool {
    matches!(e, ParseError::Api { code, .. } if code == WRONG_SESSION)
}

fn failed(m: &ManagementInfo, name: &str, e: ParseError) -> StepError {
    StepError::Failed(format!("{}: mgmt_cli {name}: {e}", m.host))
}

/// Runs `mgmt_cli` and reads the reply; the outer error is the transport's.
async fn exec<T>(
    hosts: &dyn Hosts,
    m: &ManagementInfo,
    name: &str,
    params: &[(&str, &str)],
    session: Option<&str>,
    read: impl Fn(&str) -> Result<T, ParseError>,
) -> StepResult<Result<T, ParseError>> {
    let line = command(commands::mgmt_cli(
        name,
        params,
        session,
        m.domain.as_deref(),
    ))?;
    let out = hosts.exec(&m.host, &line).await?;
    Ok(read(&out.stdout))
}

/// Runs `mgmt_cli` and reads the reply, turning API errors into failures.
async fn call<T>(
    hosts: &dyn Hosts,
    m: &ManagementInfo,
    name: &str,
    params: &[(&str, &str)],
    session: Option<&str>,
    read: impl Fn(&str) -> Result<T, ParseError>,
) -> StepResult<T> {
    exec(hosts, m, name, params, session, read)
        .await?
        .map_err(|e| failed(m, name, e))
}

async fn login(hosts: &dyn Hosts, m: &ManagementInfo) -> StepResult<mgmt::Login> {
    call(
        hosts,
        m,
        "login",
        &[("-r", "true"), ("session-timeout", SESSION_TIMEOUT)],
        None,
        mgmt::parse_login,
    )
    .await
}

async fn logout(hosts: &dyn Hosts, m: &ManagementInfo, sid: &str) {
    let _ = call(hosts, m, "logout", &[], Some(sid), |_| Ok(())).await;
}

/// Waits for a task to finish and requires it to succeed, following it in the run's shared
/// session (`show-task` changes nothing, and any session may follow any task).
async fn wait_task(
    hosts: &dyn Hosts,
    ctx: &StepContext,
    link: &ManagementLink,
    task_id: &str,
) -> StepResult<()> {
    let mut waited = jiff::SignedDuration::ZERO;
    let params = [("task-id", task_id)];
    loop {
        let tasks = link
            .call(hosts, "show-task", &params, mgmt::parse_show_task)
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
    let link = link(ctx)?;
    let m = link.info();
    // A session the server forgets before the change is published (an idle timeout, an
    // API restart) loses the change with it: the whole sequence is made again in a new one.
    let mut tries = 0;
    loop {
        tries += 1;
        let sid = login(hosts, m).await?.sid;
        let task =
            match change_and_publish(hosts, m, command_name, &ctx.object, version, &sid).await {
                Ok(Some(task)) => Ok(task),
                Ok(None) if tries < CHANGE_TRIES => continue,
                Ok(None) => Err(StepError::Failed(format!(
                    "{}: the Management Server lost the session {CHANGE_TRIES} times before the \
                 change was published",
                    m.host
                ))),
                Err(e) => Err(e),
            };
        let waited = match task {
            Ok(task) => wait_task(hosts, ctx, link, &task.task_id).await,
            Err(e) => Err(e),
        };
        logout(hosts, m, &sid).await;
        return waited.map(|()| Outcome::Ok);
    }
}

/// How many sessions a version change may lose before it counts as failed.
const CHANGE_TRIES: u32 = 3;

/// Sets the object's version in session `sid` and publishes it: the publish task, or `None`
/// when the server no longer knows the session (nothing was published under it).
async fn change_and_publish(
    hosts: &dyn Hosts,
    m: &ManagementInfo,
    command_name: &str,
    object: &str,
    version: &str,
    sid: &str,
) -> StepResult<Option<mgmt::TaskId>> {
    let params = [("name", object), ("version", version)];
    match exec(
        hosts,
        m,
        command_name,
        &params,
        Some(sid),
        mgmt::parse_reply,
    )
    .await?
    {
        Err(e) if is_wrong_session(&e) => return Ok(None),
        Err(e) => return Err(failed(m, command_name, e)),
        Ok(_) => {}
    }
    match exec(hosts, m, "publish", &[], Some(sid), mgmt::parse_task_id).await? {
        Err(e) if is_wrong_session(&e) => Ok(None),
        reply => reply.map(Some).map_err(|e| failed(m, "publish", e)),
    }
}

/// Installs Access Control and Threat Prevention policy on the object, in the run's shared
/// session.
pub(super) async fn install_policy(hosts: &dyn Hosts, ctx: &StepContext) -> StepResult<Outcome> {
    let Some(link) = ctx.management.as_deref() else {
        return Err(StepError::Failed(
            "installing policy needs the Management Server, and none is configured".into(),
        ));
    };
    let task = link
        .call(
            hosts,
            "install-policy",
            &[
                ("policy-package", &link.info.policy_package),
                ("access", "true"),
                ("threat-prevention", "true"),
                ("targets.1", &ctx.object),
            ],
            mgmt::parse_task_id,
        )
        .await?;
    wait_task(hosts, ctx, link, &task.task_id).await?;
    Ok(Outcome::Ok)
}

/// An inventory read from the Management Server and the boxes themselves, with what could not
/// be read.
#[derive(Debug, Clone)]
pub struct Discovered {
    /// The gateways and clusters.
    pub inventory: crate::model::Inventory,
    /// Objects left out or boxes that did not answer, one sentence each.
    pub warnings: Vec<String>,
}

/// Reads the fleet from the Management Server and then from the boxes: [`read_database`],
/// then [`inspect`], over the same hosts.
pub async fn discover(hosts: &dyn Hosts, m: &ManagementInfo) -> Result<Discovered, String> {
    let mut found = read_database(hosts, m).await?;
    let warnings = inspect(hosts, &mut found.inventory).await;
    found.warnings.extend(warnings);
    Ok(found)
}

/// Reads the gateways and clusters in the Management Server's database (`-d` for a Domain of
/// a Multi-Domain Server): names, main addresses, members and versions. What only a box knows
/// (its Jumbo take, a member's role now) is not read yet: every box's reachability is
/// `Unknown` and every member's role `Down` until [`inspect`] asks the boxes. Objects without
/// an address or a version are left out with a warning.
pub async fn read_database(hosts: &dyn Hosts, m: &ManagementInfo) -> Result<Discovered, String> {
    use crate::model::{
        Cluster, ClusterKind, Gateway, Inventory, Member, MemberRole, Reachability,
    };
    let sid = login(hosts, m).await.map_err(message)?.sid;
    let read = async {
        let mut objects = Vec::new();
        let mut offset = 0u32;
        loop {
            let offset_text = offset.to_string();
            let page = call(
                hosts,
                m,
                "show-gateways-and-servers",
                &[
                    ("details-level", "full"),
                    ("limit", "500"),
                    ("offset", &offset_text),
                ],
                Some(&sid),
                mgmt::parse_gateways_and_servers,
            )
            .await?;
            objects.extend(page.objects.iter().cloned());
            match page.next_offset() {
                Some(next) if next > offset => offset = next,
                _ => break,
            }
        }
        let mut clusters = Vec::new();
        for o in &objects {
            if matches!(
                o.kind(),
                mgmt::ObjectKind::SimpleCluster
                    | mgmt::ObjectKind::GatewayCluster
                    | mgmt::ObjectKind::VsxCluster
            ) {
                let c = call(
                    hosts,
                    m,
                    "show-simple-cluster",
                    &[("name", &o.name)],
                    Some(&sid),
                    mgmt::parse_simple_cluster,
                )
                .await?;
                clusters.push(c);
            }
        }
        Ok::<_, StepError>((objects, clusters))
    }
    .await;
    logout(hosts, m, &sid).await;
    let (objects, clusters) = read.map_err(message)?;

    let mut warnings = Vec::new();
    let gateway = |name: &str, address: Option<&str>, version: Option<crate::model::Version>| {
        let address = address.and_then(|a| a.parse().ok());
        match (address, version) {
            (Some(address), Some(version)) => {
                let mut g = Gateway::new(name, address, version);
                g.reachability = Reachability::Unknown;
                Ok(g)
            }
            (None, _) => Err(format!("{name}: left out: no IPv4 address in the database")),
            (_, None) => Err(format!("{name}: left out: no Gaia version in the database")),
        }
    };
    let mut inventory = Inventory::default();
    for o in objects
        .iter()
        .filter(|o| o.kind() == mgmt::ObjectKind::SimpleGateway)
    {
        match gateway(&o.name, o.ipv4_address.as_deref(), o.parsed_version()) {
            Ok(g) => inventory.gateways.push(g),
            Err(w) => warnings.push(w),
        }
    }
    for c in &clusters {
        let kind = match c.cluster_mode.to_ascii_lowercase().as_str() {
            "cluster-xl-ha" => ClusterKind::ClusterXlHa,
            mode if mode.starts_with("cluster-xl-ls") => ClusterKind::ClusterXlLoadSharing,
            "vrrp" => ClusterKind::Vrrp,
            "vsx-vsls" => ClusterKind::VsxVsls,
            "vsx-ha" => ClusterKind::VsxHa,
            "maestro" => ClusterKind::Maestro,
            "elasticxl" => ClusterKind::ElasticXl,
            other => {
                warnings.push(format!("{}: left out: cluster mode {other}", c.name));
                continue;
            }
        };
        let mut members = Vec::new();
        for member in &c.members {
            // A member's version: its own object's, else the cluster's.
            let version = objects
                .iter()
                .find(|o| o.name == member.name)
                .and_then(mgmt::ManagedObject::parsed_version)
                .or_else(|| c.parsed_version());
            match gateway(&member.name, member.ipv4_address.as_deref(), version) {
                Ok(g) => members.push(Member {
                    gateway: g,
                    role: MemberRole::Down,
                }),
                Err(w) => warnings.push(w),
            }
        }
        inventory.clusters.push(Cluster {
            name: c.name.clone(),
            kind,
            members,
        });
    }
    Ok(Discovered {
        inventory,
        warnings,
    })
}

/// Asks every box of `inventory` what only it knows: its Jumbo take (`cpinfo -y all`) and,
/// for a cluster member, its role now (`cphaprob state`, or `show vrrp` for VRRP). A box that
/// does not answer is marked unreachable (a member `Down`); returns a warning for each.
pub async fn inspect(hosts: &dyn Hosts, inventory: &mut crate::model::Inventory) -> Vec<String> {
    use crate::model::{MemberRole, Reachability};
    let mut warnings = Vec::new();
    async fn take_of(hosts: &dyn Hosts, host: &str) -> Result<Option<u32>, String> {
        let out = super::run_ok(hosts, host, &commands::cpinfo_hotfixes())
            .await
            .map_err(message)?;
        crate::gaia::parse::parse_jumbo_take(&out).map_err(|e| format!("{host}: {e}"))
    }
    for g in &mut inventory.gateways {
        match take_of(hosts, &g.name).await {
            Ok(take) => {
                g.take = take;
                g.reachability = Reachability::Reachable;
            }
            Err(e) => {
                g.reachability = Reachability::Unreachable;
                warnings.push(format!("{}: does not answer: {e}", g.name));
            }
        }
    }
    for c in &mut inventory.clusters {
        for member in &mut c.members {
            let g = &mut member.gateway;
            member.role = match take_of(hosts, &g.name).await {
                Err(e) => {
                    g.reachability = Reachability::Unreachable;
                    warnings.push(format!("{}: does not answer: {e}", g.name));
                    MemberRole::Down
                }
                Ok(take) => {
                    g.take = take;
                    g.reachability = Reachability::Reachable;
                    match super::cluster::role_now(hosts, c.kind, &g.name).await {
                        Ok(role) => role,
                        Err(e) => {
                            warnings.push(format!("{}: role unknown: {}", g.name, message(e)));
                            MemberRole::Down
                        }
                    }
                }
            };
        }
    }
    warnings
}

fn message(e: StepError) -> String {
    match e {
        StepError::Failed(m) | StepError::Unreachable(m) | StepError::TimedOut(m) => m,
    }
}
