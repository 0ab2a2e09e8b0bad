//! The replies of the Connectivity Upgrade and failover commands: `cphaprob mvc` (Multi-Version
//! Cluster on or off), `cphacu stat` (Full Connectivity Upgrade readiness) and
//! `clusterXL_admin down|up`.
//!
//! Formats: **DESCRIPTION only** (SOURCES §1 and §6). No output of `cphaprob mvc` or `cphacu stat`
//! was found, and the `clusterXL_admin` lines come from a third-party training simulator. The
//! parsers therefore look for phrases, not layouts, and refuse a reply that does not say what the
//! engine needs, so a changed wording stops a failover step instead of being taken for success:
//! - MVC: a line that mentions `MVC` (or `Multi-Version Cluster`) and, after that mention, one of
//!   `enabled`/`disabled` (preferred) or `on`/`off`, any case (`MVC status: On`,
//!   `Multi-Version Cluster mechanism is disabled on this member`);
//! - FCU: a negated phrase (`not ready`) means not ready, with the line; `not running`,
//!   `not started`, `not active`, `is off` or `stopped` on a line about `connectivity upgrade`
//!   means not running; otherwise `ready for failover` means ready; otherwise a
//!   `Connectivity upgrade status: <text>` line means not ready, with the text;
//! - `clusterXL_admin`: `Setting member to administratively down state` (down),
//!   `Setting member to normal operation` (up), and `Member current state is <STATE>`.

use serde::Serialize;

use super::ParseError;
use super::cluster::{MemberHaState, is_not_clustered};
use super::lines::{Line, contains_ignore_case, excerpt, key_value, reply_lines};

/// Whether the Multi-Version Cluster mechanism is on (`cphaprob mvc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum MvcState {
    /// MVC is on: a member on a newer version can be Standby and take over.
    On,
    /// MVC is off.
    Off,
}

fn word_state(word: &str, strong: bool) -> Option<MvcState> {
    let word = word
        .trim_matches(|c: char| !c.is_ascii_alphabetic())
        .to_ascii_lowercase();
    match (word.as_str(), strong) {
        ("enabled", true) => Some(MvcState::On),
        ("disabled", true) => Some(MvcState::Off),
        ("on", false) => Some(MvcState::On),
        ("off", false) => Some(MvcState::Off),
        _ => None,
    }
}

/// The MVC state a line states, if it mentions MVC: `Some(Err(..))` when it names both states.
fn mvc_of_line(line: &Line<'_>) -> Option<Result<MvcState, ParseError>> {
    let lower = line.text.to_ascii_lowercase();
    let mention = ["multi-version cluster", "mvc"]
        .iter()
        .filter_map(|m| lower.find(m).map(|at| at + m.len()))
        .min()?;
    let after: Vec<&str> = line.text.get(mention..)?.split_whitespace().collect();
    for strong in [true, false] {
        let found: Vec<MvcState> = after.iter().filter_map(|w| word_state(w, strong)).collect();
        if let Some(first) = found.first() {
            if found.iter().any(|s| s != first) {
                return Some(Err(line.unexpected()));
            }
            return Some(Ok(*first));
        }
    }
    None
}

/// Reads the reply of `cphaprob mvc` (see the module documentation for the phrases).
///
/// Errors: [`ParseError::NotClustered`] for `HA module not started.`; [`ParseError::MissingField`]
/// when no line states the MVC state; [`ParseError::UnexpectedLine`] when lines disagree.
pub fn parse_mvc_state(input: &str) -> Result<MvcState, ParseError> {
    let lines = reply_lines(input)?;
    if lines.iter().any(|l| is_not_clustered(l.text)) {
        return Err(ParseError::NotClustered);
    }
    let mut state: Option<MvcState> = None;
    for line in &lines {
        match mvc_of_line(line) {
            Some(Ok(found)) if state.is_some_and(|s| s != found) => {
                return Err(line.unexpected());
            }
            Some(Ok(found)) => state = Some(found),
            Some(Err(e)) => return Err(e),
            None => {}
        }
    }
    state.ok_or(ParseError::MissingField("MVC state"))
}

/// Full Connectivity Upgrade readiness (`cphacu stat`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum FcuStatus {
    /// The upgraded member reports it is ready for failover.
    ReadyForFailover,
    /// Connectivity Upgrade runs but the member is not ready yet; the status text as printed.
    NotReady(String),
    /// Connectivity Upgrade is not running (never started, or stopped).
    NotRunning,
}

fn is_negated_ready(lower: &str) -> bool {
    lower.contains("not ready") || lower.contains("not yet ready")
}

/// Reads the reply of `cphacu stat` (see the module documentation for the phrases).
///
/// Errors: [`ParseError::NotClustered`] for `HA module not started.`; [`ParseError::MissingField`]
/// when the reply says nothing about Connectivity Upgrade or readiness.
pub fn parse_fcu_status(input: &str) -> Result<FcuStatus, ParseError> {
    let lines = reply_lines(input)?;
    if lines.iter().any(|l| is_not_clustered(l.text)) {
        return Err(ParseError::NotClustered);
    }
    // Explicit statements decide, the least ready one first, so an ambiguous reply never lets
    // the failover go ahead; a bare `Connectivity upgrade status:` value only counts when no line
    // says "ready for failover".
    let mut not_ready: Option<String> = None;
    let mut not_running = false;
    let mut ready = false;
    let mut status_text: Option<String> = None;
    for line in &lines {
        let text = line.text.trim();
        let lower = text.to_ascii_lowercase();
        let about_cu = lower.contains("connectivity upgrade") || lower.contains("cphacu");
        let stopped = [
            "not running",
            "not started",
            "not active",
            "is off",
            "stopped",
        ]
        .iter()
        .any(|p| lower.contains(p));
        if is_negated_ready(&lower) {
            not_ready.get_or_insert_with(|| excerpt(text));
        } else if lower.contains("ready for failover") {
            ready = true;
        } else if about_cu && stopped {
            not_running = true;
        } else if let Some(value) = key_value(text, "Connectivity upgrade status") {
            status_text.get_or_insert_with(|| excerpt(value));
        }
    }
    if let Some(text) = not_ready {
        return Ok(FcuStatus::NotReady(text));
    }
    if not_running {
        return Ok(FcuStatus::NotRunning);
    }
    if ready {
        return Ok(FcuStatus::ReadyForFailover);
    }
    status_text
        .map(FcuStatus::NotReady)
        .ok_or(ParseError::MissingField("Connectivity Upgrade status"))
}

/// Which way `clusterXL_admin` set the member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AdminDirection {
    /// `clusterXL_admin down`: `Setting member to administratively down state`.
    Down,
    /// `clusterXL_admin up`: `Setting member to normal operation`.
    Up,
}

/// What `clusterXL_admin down|up` reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterXlAdminReply {
    /// The direction it says it set, when it says so.
    pub direction: Option<AdminDirection>,
    /// The state in `Member current state is <STATE>`, when printed.
    pub state: Option<MemberHaState>,
}

/// Reads the reply of `clusterXL_admin down` or `clusterXL_admin up` (see the module
/// documentation for the phrases). The notice that the change does not survive a reboot is
/// skipped.
///
/// Errors: [`ParseError::NotClustered`] for `HA module not started.`; [`ParseError::MissingField`]
/// when the reply holds neither a `Setting member ...` line nor `Member current state is ...`;
/// [`ParseError::UnexpectedLine`] when it says both directions.
pub fn parse_clusterxl_admin(input: &str) -> Result<ClusterXlAdminReply, ParseError> {
    let lines = reply_lines(input)?;
    if lines.iter().any(|l| is_not_clustered(l.text)) {
        return Err(ParseError::NotClustered);
    }
    let mut reply = ClusterXlAdminReply {
        direction: None,
        state: None,
    };
    for line in &lines {
        let text = line.text.trim();
        let direction = if contains_ignore_case(text, "setting member to administratively down") {
            Some(AdminDirection::Down)
        } else if contains_ignore_case(text, "setting member to normal operation") {
            Some(AdminDirection::Up)
        } else {
            None
        };
        if let Some(direction) = direction {
            if reply.direction.is_some_and(|d| d != direction) {
                return Err(line.unexpected());
            }
            reply.direction = Some(direction);
        }
        let lower = text.to_ascii_lowercase();
        let marker = "member current state is";
        if let Some(at) = lower.find(marker) {
            let state = text
                .get(at + marker.len()..)
                .unwrap_or_default()
                .trim()
                .trim_end_matches('.');
            if state.is_empty() {
                return Err(line.unexpected());
            }
            reply.state = Some(MemberHaState::from_label(state));
        }
    }
    if reply.direction.is_none() && reply.state.is_none() {
        return Err(ParseError::MissingField(
            "`Setting member ...` or `Member current state is ...` line",
        ));
    }
    Ok(reply)
}
