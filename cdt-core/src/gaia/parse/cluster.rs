//! `cphaprob state` (also `cphaprob stat`) and clish `show cluster state`: the cluster mode, the
//! members with their state, the active problem notifications and the failover counter.
//!
//! Format: REAL and DOC (SOURCES §1). Two layouts are read:
//! - R80.20 and later: `ID  Unique Address  Assigned Load  State  Name`, upper-case states
//!   (`ACTIVE`, `ACTIVE(!)`, `STANDBY`, `DOWN`), with the `Name` column on full Gaia and without
//!   it on Quantum Spark (which also prints `Sync Mode:`);
//! - R7x, and R80.10 inside a Virtual System context: `Number  Unique Address  Assigned Load
//!   State`, mixed-case states (`Active`, `Standby`, `Active attention`) and a trailing
//!   `Local member is in current state since ...`.
//!
//! Rows are read word by word, so output whose column spacing was collapsed still parses. The
//! states `READY`, `LOST`, `INIT`, `BACKUP` and `ACTIVE(!F)`-style attention states are named in
//! the ClusterXL guide but were not seen in a sample; any state not known is kept as
//! [`MemberHaState::Other`] with its text. `HA module not started.` is
//! [`ParseError::NotClustered`].

use std::fmt;

use serde::Serialize;

use super::ParseError;
use super::lines::{Line, contains_ignore_case, key_value, reply_lines};

/// What `cphaprob state` says about a cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterState {
    /// The `Cluster Mode:` text as printed (`High Availability (Active Up) with IGMP Membership`,
    /// `Virtual System Load Sharing` …).
    pub mode: String,
    /// The members, in the order printed.
    pub members: Vec<ClusterMember>,
    /// The `Active PNOTEs:` list (`COREXL`, `admin_down` …); empty for `None` or when the line is
    /// not printed (the old layout has none).
    pub active_pnotes: Vec<String>,
    /// The `Failover counter:` value, when printed.
    pub failover_count: Option<u32>,
}

impl ClusterState {
    /// The member marked `(local)`: the machine that answered.
    pub fn local(&self) -> Option<&ClusterMember> {
        self.members.iter().find(|m| m.local)
    }

    /// The members in state `state`.
    pub fn members_in(&self, state: &MemberHaState) -> impl Iterator<Item = &ClusterMember> {
        self.members.iter().filter(move |m| &m.state == state)
    }
}

/// One row of the member table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClusterMember {
    /// The member ID (`ID` or `Number` column).
    pub id: u32,
    /// Whether the row is marked `(local)`.
    pub local: bool,
    /// The `Unique Address` column, as printed.
    pub address: String,
    /// The `Assigned Load` percentage, when printed.
    pub load_percent: Option<u32>,
    /// The member's state.
    pub state: MemberHaState,
    /// The `Name` column (R80.20+ full Gaia), when printed.
    pub name: Option<String>,
}

/// A member's ClusterXL state, read case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum MemberHaState {
    /// `ACTIVE` / `Active`: handles traffic.
    Active,
    /// `ACTIVE(!)`, `ACTIVE(!F)`, `ACTIVE(!P)`, `ACTIVE(!FP)`, `Active attention`: active, with a
    /// problem that would make it go down if a peer could take over.
    ActiveAttention,
    /// `STANDBY`: ready to take over.
    Standby,
    /// `READY`: up but not allowed to take over (typically a member on a newer version before
    /// MVC is on).
    Ready,
    /// `DOWN`: not able to handle traffic (a problem, or `clusterXL_admin down`).
    Down,
    /// `INIT`: starting.
    Init,
    /// `LOST`: a peer that cannot be reached.
    Lost,
    /// `BACKUP`: a VSLS Virtual System that is neither active nor standby.
    Backup,
    /// Any other state, as printed.
    Other(String),
}

impl MemberHaState {
    /// The state printed as `label` (case-insensitive; inner whitespace does not matter).
    pub fn from_label(label: &str) -> MemberHaState {
        let words: Vec<&str> = label.split_whitespace().collect();
        let upper = words.join(" ").to_ascii_uppercase();
        match upper.as_str() {
            "ACTIVE" => MemberHaState::Active,
            "ACTIVE ATTENTION" => MemberHaState::ActiveAttention,
            "STANDBY" => MemberHaState::Standby,
            "READY" => MemberHaState::Ready,
            "DOWN" => MemberHaState::Down,
            "INIT" => MemberHaState::Init,
            "LOST" => MemberHaState::Lost,
            "BACKUP" => MemberHaState::Backup,
            s if s.starts_with("ACTIVE(!") || s.starts_with("ACTIVE!") => {
                MemberHaState::ActiveAttention
            }
            _ => MemberHaState::Other(words.join(" ")),
        }
    }

    /// Whether the member is handling traffic (`Active` or `ActiveAttention`).
    pub fn is_active(&self) -> bool {
        matches!(self, MemberHaState::Active | MemberHaState::ActiveAttention)
    }
}

impl fmt::Display for MemberHaState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MemberHaState::Active => "ACTIVE",
            MemberHaState::ActiveAttention => "ACTIVE(!)",
            MemberHaState::Standby => "STANDBY",
            MemberHaState::Ready => "READY",
            MemberHaState::Down => "DOWN",
            MemberHaState::Init => "INIT",
            MemberHaState::Lost => "LOST",
            MemberHaState::Backup => "BACKUP",
            MemberHaState::Other(s) => s,
        })
    }
}

/// Whether `text` is ClusterXL's `HA module not started.`
pub(crate) fn is_not_clustered(text: &str) -> bool {
    contains_ignore_case(text, "HA module not started")
}

/// Reads the reply of `cphaprob state` / `cphaprob stat` / `show cluster state`.
///
/// Errors: [`ParseError::NotClustered`] for `HA module not started.`;
/// [`ParseError::MissingField`] without a `Cluster Mode:` line, a member table header or at least
/// one member row; [`ParseError::UnexpectedLine`] for a member row that cannot be read (no state,
/// no load under an `Assigned Load` header, a load that is not a percentage), a second row with the same ID, a second `(local)` row, or a
/// `Failover counter:` that is not a number. Lines before `Cluster Mode:` (prompts, an echoed
/// command, a `watch` header) and lines the engine does not need are skipped.
pub fn parse_cluster_state(input: &str) -> Result<ClusterState, ParseError> {
    let lines = reply_lines(input)?;
    if lines.iter().any(|l| is_not_clustered(l.text)) {
        return Err(ParseError::NotClustered);
    }
    let mode_at = lines
        .iter()
        .position(|l| key_value(l.text, "Cluster Mode").is_some())
        .ok_or(ParseError::MissingField("`Cluster Mode:` line"))?;
    let mode_line = lines.get(mode_at).ok_or(ParseError::Empty)?;
    let mode = key_value(mode_line.text, "Cluster Mode")
        .unwrap_or_default()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if mode.is_empty() {
        return Err(mode_line.unexpected());
    }
    let rest = lines.get(mode_at + 1..).unwrap_or_default();
    let header_at = rest
        .iter()
        .position(|l| is_table_header(l.text))
        .ok_or(ParseError::MissingField("member table header"))?;
    let header = rest.get(header_at).ok_or(ParseError::Empty)?;
    let has_name = header
        .text
        .split_whitespace()
        .last()
        .is_some_and(|w| w.eq_ignore_ascii_case("Name"));

    let has_load = contains_ignore_case(header.text, "Load");
    let after_header = rest.get(header_at + 1..).unwrap_or_default();
    let mut members: Vec<ClusterMember> = Vec::new();
    let mut consumed = 0;
    for line in after_header {
        if !starts_with_number(line.text) {
            break;
        }
        let member = parse_member_row(line, has_load, has_name)?;
        if members.iter().any(|m| m.id == member.id)
            || (member.local && members.iter().any(|m| m.local))
        {
            return Err(line.unexpected());
        }
        members.push(member);
        consumed += 1;
    }
    if members.is_empty() {
        return Err(ParseError::MissingField("member rows"));
    }

    let mut active_pnotes = Vec::new();
    let mut failover_count = None;
    for line in after_header.get(consumed..).unwrap_or_default() {
        if let Some(value) = key_value(line.text, "Active PNOTEs") {
            active_pnotes = pnotes(value);
        } else if let Some(value) = key_value(line.text, "Failover counter") {
            failover_count = Some(value.parse::<u32>().map_err(|_| line.unexpected())?);
        }
    }
    Ok(ClusterState {
        mode,
        members,
        active_pnotes,
        failover_count,
    })
}

/// `ID  Unique Address ...` (R80.20+) or `Number  Unique Address ...` (old layout, OPSEC).
fn is_table_header(text: &str) -> bool {
    let mut words = text.split_whitespace();
    let first_ok = words
        .next()
        .is_some_and(|w| w.eq_ignore_ascii_case("ID") || w.eq_ignore_ascii_case("Number"));
    first_ok && contains_ignore_case(text, "Address")
}

fn starts_with_number(text: &str) -> bool {
    text.split_whitespace()
        .next()
        .is_some_and(|w| w.bytes().all(|b| b.is_ascii_digit()))
}

/// `1 (local)  192.0.2.11  100%  ACTIVE  fw-a`, read word by word. When the header has an
/// `Assigned Load` column, the row must have its `N%`.
fn parse_member_row(
    line: &Line<'_>,
    has_load: bool,
    has_name: bool,
) -> Result<ClusterMember, ParseError> {
    let mut words = line.text.split_whitespace().peekable();
    let id = words
        .next()
        .and_then(|w| w.parse::<u32>().ok())
        .ok_or_else(|| line.unexpected())?;
    let local = words
        .next_if(|w| w.eq_ignore_ascii_case("(local)"))
        .is_some();
    let address = words
        .next()
        .filter(|w| !w.ends_with('%'))
        .ok_or_else(|| line.unexpected())?
        .to_string();
    let load_percent = match words.next_if(|w| w.ends_with('%')) {
        Some(load) => Some(
            load.trim_end_matches('%')
                .parse::<u32>()
                .ok()
                .filter(|p| *p <= 100)
                .ok_or_else(|| line.unexpected())?,
        ),
        None if has_load => return Err(line.unexpected()),
        None => None,
    };
    let mut rest: Vec<&str> = words.collect();
    let name = if has_name && rest.len() >= 2 {
        rest.pop().map(str::to_string)
    } else {
        None
    };
    if rest.is_empty() {
        return Err(line.unexpected());
    }
    Ok(ClusterMember {
        id,
        local,
        address,
        load_percent,
        state: MemberHaState::from_label(&rest.join(" ")),
        name,
    })
}

/// `COREXL, FULLSYNC` → [`COREXL`, `FULLSYNC`]; `None` → [].
fn pnotes(value: &str) -> Vec<String> {
    if value.eq_ignore_ascii_case("none") {
        return Vec::new();
    }
    value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_are_read_case_insensitively() {
        assert_eq!(MemberHaState::from_label("Standby"), MemberHaState::Standby);
        assert_eq!(
            MemberHaState::from_label("ACTIVE(!FP)"),
            MemberHaState::ActiveAttention
        );
        assert_eq!(
            MemberHaState::from_label("Active  attention"),
            MemberHaState::ActiveAttention
        );
        assert_eq!(
            MemberHaState::from_label("ClusterXL inactive"),
            MemberHaState::Other("ClusterXL inactive".into())
        );
    }
}
