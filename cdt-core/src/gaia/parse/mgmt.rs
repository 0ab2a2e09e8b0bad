//! Management API replies, as printed by `mgmt_cli ... --format json` on the Management Server.
//!
//! Format: DOC (SOURCES §7): the examples of Check Point's Management API reference. Check Point
//! prints `"key" : value` with a space before the colon, which JSON allows. Unknown fields are
//! ignored (the API adds fields from version to version); a missing required field is a
//! [`ParseError::Json`] naming it. The API's error object (`{"code": ..., "message": ...}`) is
//! [`ParseError::Api`], whatever reply was expected. Prompt lines and an echoed command before the
//! JSON, and text after it, are skipped.
//!
//! ```
//! use cdt_core::gaia::parse::{mgmt, ParseError};
//! let task = mgmt::parse_task_id("{\n  \"task-id\" : \"01234567-89ab-cdef-a930-8c37a59972b3\"\n}").unwrap();
//! assert_eq!(task.task_id, "01234567-89ab-cdef-a930-8c37a59972b3");
//! let err = mgmt::parse_task_id(r#"{"code" : "err_login_failed", "message" : "Authentication to server failed."}"#);
//! assert!(matches!(err, Err(ParseError::Api { code, .. }) if code == "err_login_failed"));
//! ```

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;

use super::ParseError;
use super::clish::strip_prompts;
use super::lines::excerpt;
use crate::model::Version;

/// One page of `show-gateways-and-servers`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct GatewaysAndServers {
    /// The 1-based index of the first object on this page (absent on an empty page).
    #[serde(default)]
    pub from: Option<u32>,
    /// The index of the last object on this page (absent on an empty page).
    #[serde(default)]
    pub to: Option<u32>,
    /// How many objects there are in all pages.
    pub total: u32,
    /// The objects on this page.
    #[serde(default)]
    pub objects: Vec<ManagedObject>,
}

impl GatewaysAndServers {
    /// The `offset` of the next page, or `None` when this page is the last.
    pub fn next_offset(&self) -> Option<u32> {
        self.to.filter(|to| *to < self.total)
    }
}

/// A gateway, cluster, cluster member or server object.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct ManagedObject {
    /// The object name.
    pub name: String,
    /// The object's unique id.
    pub uid: String,
    /// The raw `type` (`simple-gateway`, `CpmiClusterMember`, `CpmiVsxClusterNetobj` …).
    #[serde(rename = "type")]
    pub object_type: String,
    /// The main IPv4 address.
    #[serde(rename = "ipv4-address", default)]
    pub ipv4_address: Option<String>,
    /// The version as the database holds it (`R81.20`, `R80`).
    #[serde(default)]
    pub version: Option<String>,
}

/// What kind of object a [`ManagedObject`] is, from its raw type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum ObjectKind {
    /// `simple-gateway`.
    SimpleGateway,
    /// `simple-cluster`.
    SimpleCluster,
    /// `CpmiGatewayCluster`: a cluster object of the older kind.
    GatewayCluster,
    /// `CpmiClusterMember`, `cluster-member`.
    ClusterMember,
    /// `CpmiVsxClusterNetobj`: a VSX cluster.
    VsxCluster,
    /// `CpmiVsxClusterMember`: a member of a VSX cluster.
    VsxClusterMember,
    /// `CpmiVsxNetobj`: a VSX gateway.
    VsxGateway,
    /// `CpmiVsClusterNetobj`, `CpmiVsNetobj`: a Virtual System.
    VirtualSystem,
    /// `CpmiHostCkp`, `checkpoint-host`: a management or log server.
    CheckPointHost,
    /// Any other type (see [`ManagedObject::object_type`]).
    Other,
}

impl ManagedObject {
    /// The kind of object, from its raw type (ASCII case-insensitive).
    pub fn kind(&self) -> ObjectKind {
        let kinds = [
            ("simple-gateway", ObjectKind::SimpleGateway),
            ("simple-cluster", ObjectKind::SimpleCluster),
            ("CpmiGatewayCluster", ObjectKind::GatewayCluster),
            ("CpmiClusterMember", ObjectKind::ClusterMember),
            ("cluster-member", ObjectKind::ClusterMember),
            ("CpmiVsxClusterNetobj", ObjectKind::VsxCluster),
            ("CpmiVsxClusterMember", ObjectKind::VsxClusterMember),
            ("CpmiVsxNetobj", ObjectKind::VsxGateway),
            ("CpmiVsClusterNetobj", ObjectKind::VirtualSystem),
            ("CpmiVsNetobj", ObjectKind::VirtualSystem),
            ("CpmiHostCkp", ObjectKind::CheckPointHost),
            ("checkpoint-host", ObjectKind::CheckPointHost),
        ];
        kinds
            .iter()
            .find(|(raw, _)| raw.eq_ignore_ascii_case(&self.object_type))
            .map_or(ObjectKind::Other, |(_, kind)| *kind)
    }

    /// The version as a [`Version`], when it is one.
    pub fn parsed_version(&self) -> Option<Version> {
        self.version.as_deref().and_then(|v| v.parse().ok())
    }
}

/// The reply of `show-simple-cluster`: the fields the engine needs.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SimpleCluster {
    /// The cluster object's name.
    pub name: String,
    /// Its unique id.
    pub uid: String,
    /// The version as the database holds it (`R82`).
    pub version: String,
    /// `cluster-xl-ha`, `cluster-ls-multicast`, `vrrp` …, as printed.
    #[serde(rename = "cluster-mode")]
    pub cluster_mode: String,
    /// The members.
    #[serde(rename = "cluster-members")]
    pub members: Vec<SimpleClusterMember>,
}

impl SimpleCluster {
    /// The version as a [`Version`], when it is one.
    pub fn parsed_version(&self) -> Option<Version> {
        self.version.parse().ok()
    }
}

/// One of a [`SimpleCluster`]'s members.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct SimpleClusterMember {
    /// The member's name.
    pub name: String,
    /// Its unique id, when printed.
    #[serde(default)]
    pub uid: Option<String>,
    /// Its main IPv4 address (`ip-address`; `ipv4-address` is accepted too).
    #[serde(rename = "ip-address", alias = "ipv4-address", default)]
    pub ipv4_address: Option<String>,
}

/// The reply of `login`: the session the following calls name with `--session-id`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct Login {
    /// The session id.
    pub sid: String,
    /// How many seconds the session may stay idle before the server forgets it.
    #[serde(rename = "session-timeout", default)]
    pub session_timeout: Option<u64>,
}

/// The reply of an asynchronous call (`publish`, `install-policy`, `add-simple-cluster` …).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct TaskId {
    /// The task to follow with `show-task`.
    #[serde(rename = "task-id")]
    pub task_id: String,
}

/// One entry of a `tasks` reply that only names tasks (`install-database`, `run-script`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
pub struct TaskReference {
    /// The task to follow with `show-task`.
    #[serde(rename = "task-id")]
    pub task_id: String,
    /// The target the task runs on, when printed.
    #[serde(default)]
    pub target: Option<String>,
}

/// A task as `show-task` reports it (also the `tasks` of `set-simple-cluster`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
pub struct Task {
    /// The task id.
    #[serde(rename = "task-id")]
    pub task_id: String,
    /// The task's name (`task-name`).
    #[serde(rename = "task-name")]
    pub name: String,
    /// Where it is.
    pub status: TaskStatus,
    /// `progress-percentage`, when printed.
    #[serde(
        rename = "progress-percentage",
        default,
        deserialize_with = "percentage"
    )]
    pub progress_percentage: Option<u32>,
    /// `progress-description`, when printed.
    #[serde(rename = "progress-description", default)]
    pub progress_description: Option<String>,
    /// `task-details` as printed (its keys depend on the kind of task); `null` when absent.
    #[serde(rename = "task-details", default)]
    pub details: Value,
}

impl Task {
    /// Whether the task has ended, well or not.
    pub fn is_finished(&self) -> bool {
        self.status != TaskStatus::InProgress
    }
}

/// The `status` of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum TaskStatus {
    /// `in progress`.
    InProgress,
    /// `succeeded`.
    Succeeded,
    /// `succeeded with warnings`.
    SucceededWithWarnings,
    /// `partially succeeded`.
    PartiallySucceeded,
    /// `failed`.
    Failed,
}

impl<'de> Deserialize<'de> for TaskStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        let words: Vec<String> = raw
            .split(|c: char| c.is_whitespace() || c == '-' || c == '_')
            .filter(|w| !w.is_empty())
            .map(str::to_ascii_lowercase)
            .collect();
        match words.join(" ").as_str() {
            "in progress" => Ok(TaskStatus::InProgress),
            "succeeded" => Ok(TaskStatus::Succeeded),
            "succeeded with warnings" => Ok(TaskStatus::SucceededWithWarnings),
            "partially succeeded" => Ok(TaskStatus::PartiallySucceeded),
            "failed" => Ok(TaskStatus::Failed),
            _ => Err(serde::de::Error::custom(format!(
                "unknown task status {:?}",
                excerpt(&raw)
            ))),
        }
    }
}

/// A percentage printed as an integer, a float or a numeric string.
fn percentage<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let value = Option::<Value>::deserialize(d)?;
    let number = match &value {
        None | Some(Value::Null) => return Ok(None),
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().trim_end_matches('%').parse::<f64>().ok(),
        Some(_) => None,
    };
    match number {
        Some(n) if (0.0..=100.0).contains(&n) => Ok(Some(n.round() as u32)),
        _ => Err(serde::de::Error::custom(
            "progress-percentage is not a percentage",
        )),
    }
}

#[derive(Deserialize)]
struct Tasks<T> {
    tasks: Vec<T>,
}

fn json_error(e: impl std::fmt::Display) -> ParseError {
    ParseError::Json {
        message: excerpt(&e.to_string()),
    }
}

/// The JSON text of a reply: from its first value on, past any prompt or echoed command.
fn reply_json(text: &str) -> Result<&str, ParseError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(ParseError::Empty);
    }
    // Skip an echoed command (or any line) before the JSON.
    let start = if text.starts_with(['{', '[']) {
        0
    } else {
        text.match_indices('\n')
            .map(|(at, _)| at + 1)
            .find(|at| {
                text.get(*at..)
                    .is_some_and(|rest| rest.trim_start().starts_with('{'))
            })
            .unwrap_or(0)
    };
    Ok(text.get(start..).unwrap_or(text))
}

/// The first JSON value of `json` as a `T` (anything after it ignored, as `mgmt_cli` may print
/// more).
fn first_value<T: DeserializeOwned>(json: &str) -> Result<T, ParseError> {
    serde_json::Deserializer::from_str(json)
        .into_iter::<T>()
        .next()
        .ok_or(ParseError::Empty)?
        .map_err(json_error)
}

/// The first JSON value of a reply, or the API's error object as [`ParseError::Api`].
fn reply_value(input: &str) -> Result<Value, ParseError> {
    let text = strip_prompts(input);
    let value: Value = first_value(reply_json(&text)?)?;
    if let Some(error) = api_error(&value) {
        return Err(error);
    }
    Ok(value)
}

/// The members of a reply that make it the API's error object, read without building the rest
/// of the reply: the same test as [`api_error`] on the whole value.
#[derive(Deserialize)]
struct ErrorProbe {
    code: Option<Value>,
    message: Option<Value>,
    errors: Option<Value>,
    #[serde(rename = "blocking-errors")]
    blocking_errors: Option<Value>,
}

impl ErrorProbe {
    fn error(self) -> Option<ParseError> {
        self.code.as_ref()?.as_str()?;
        let mut object = serde_json::Map::new();
        let members = [
            ("code", self.code),
            ("message", self.message),
            ("errors", self.errors),
            ("blocking-errors", self.blocking_errors),
        ];
        for (name, value) in members {
            if let Some(value) = value {
                object.insert(name.to_string(), value);
            }
        }
        api_error(&Value::Object(object))
    }
}

/// `{"code": "...", "message": "..."}` (with optional `errors` / `blocking-errors` lists).
fn api_error(value: &Value) -> Option<ParseError> {
    let object = value.as_object()?;
    let code = object.get("code")?.as_str()?;
    let mut message = object
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    for list in ["errors", "blocking-errors"] {
        let details = object.get(list).and_then(Value::as_array);
        for detail in details.into_iter().flatten() {
            if let Some(text) = detail.get("message").and_then(Value::as_str) {
                message.push_str("; ");
                message.push_str(text);
            }
        }
    }
    Some(ParseError::Api {
        code: excerpt(code),
        message: excerpt(&message),
    })
}

/// A reply read straight into `T` (no intermediate [`Value`]), after checking that it is not
/// the API's error object; the same result as reading [`reply_value`] into `T`.
fn parse_json<T: DeserializeOwned>(input: &str) -> Result<T, ParseError> {
    let text = strip_prompts(input);
    let json = reply_json(&text)?;
    // Only an object can be the error; anything else is left to `T`.
    if let Ok(probe) = first_value::<ErrorProbe>(json)
        && let Some(error) = probe.error()
    {
        return Err(error);
    }
    first_value(json)
}

/// Reads the reply of `login`. Required: `sid`.
pub fn parse_login(input: &str) -> Result<Login, ParseError> {
    parse_json(input)
}

/// Reads any reply that only has to be a JSON value and not the API's error object (the reply
/// of `set-simple-gateway`, `logout` …).
pub fn parse_reply(input: &str) -> Result<Value, ParseError> {
    reply_value(input)
}

/// Reads a page of `show-gateways-and-servers`. Required: `total`; each object's `name`, `uid`
/// and `type`.
pub fn parse_gateways_and_servers(input: &str) -> Result<GatewaysAndServers, ParseError> {
    parse_json(input)
}

/// Reads `show-simple-cluster`. Required: `name`, `uid`, `version`, `cluster-mode`,
/// `cluster-members` and each member's `name`.
pub fn parse_simple_cluster(input: &str) -> Result<SimpleCluster, ParseError> {
    parse_json(input)
}

/// Reads the `{"task-id": ...}` reply of an asynchronous call (`publish`, `install-policy` …).
pub fn parse_task_id(input: &str) -> Result<TaskId, ParseError> {
    parse_json(input)
}

/// Reads a `{"tasks": [{"task-id": ..., "target": ...}]}` reply (`install-database`,
/// `run-script`).
pub fn parse_task_references(input: &str) -> Result<Vec<TaskReference>, ParseError> {
    parse_json::<Tasks<TaskReference>>(input).map(|t| t.tasks)
}

/// Reads the reply of `show-task` (and the `tasks` reply of `set-simple-cluster`): every task with
/// its `task-id`, `task-name` and `status` (all required).
pub fn parse_show_task(input: &str) -> Result<Vec<Task>, ParseError> {
    parse_json::<Tasks<Task>>(input).map(|t| t.tasks)
}
