//! Typed parsers for the replies of the Gaia commands the engine sends (SPEC 5), and of the
//! Management API calls it makes through `mgmt_cli ... --format json`.
//!
//! Every parser is a pure function `fn(&str) -> Result<T, ParseError>`: it never panics, whatever
//! the input, and it tolerates what a real terminal session adds around a reply: CRLF line ends,
//! clish (`gw-1> `, `gw-1:0> `) and Expert (`[Expert@gw-1:0]# `) prompt lines with or without the
//! echoed command, leading and trailing blank lines, the header line of `watch`
//! (`Every 2.0s: cphaprob state ...`) and syslog broadcast lines (`Message from syslogd@...` and
//! the message line under it) interleaved with the output.
//!
//! How far each format is verified differs, and each module says so in its own documentation:
//! - REAL: printed by a real machine and posted publicly;
//! - DOC: an example in a Check Point document;
//! - DESCRIPTION: no real sample exists; the parser follows a description of the format and is
//!   written to be tolerant, and to refuse (with a typed error) rather than guess when a reply
//!   does not say what the engine needs.
//!
//! | command | parser | format |
//! |---|---|---|
//! | `cphaprob state`, `show cluster state` | [`parse_cluster_state`] | REAL / DOC |
//! | `show vrrp` | [`parse_vrrp`] | DESCRIPTION |
//! | `cpwd_admin list` | [`parse_cpwd_list`] | DESCRIPTION (header REAL) |
//! | `fw ver` | [`parse_fw_ver`] | REAL |
//! | `show version all` | [`parse_show_version_all`] | REAL |
//! | `cpinfo -y all` | [`parse_cpinfo_hotfixes`], [`parse_jumbo_take`] | REAL |
//! | `show installer ...` (CPUSE) | [`parse_installer_packages`], [`parse_installer_package`], [`parse_installer_build`] | DESCRIPTION |
//! | `cphaprob mvc`, `cphacu stat` | [`parse_mvc_state`], [`parse_fcu_status`] | DESCRIPTION |
//! | `clusterXL_admin down\|up` | [`parse_clusterxl_admin`] | DESCRIPTION |
//! | clish errors and prompts | [`clish_error`], [`strip_prompts`] | REAL |
//! | Management API JSON | [`mgmt`] | DOC |
//!
//! ```
//! use cdt_core::gaia::parse::{parse_cluster_state, MemberHaState, ParseError};
//!
//! let reply = "[Expert@fw-a:0]# cphaprob state\r\n\
//!     \r\n\
//!     Cluster Mode:   High Availability (Active Up) with IGMP Membership\r\n\
//!     \r\n\
//!     ID         Unique Address  Assigned Load   State          Name\r\n\
//!     \r\n\
//!     1 (local)  192.0.2.11      100%            ACTIVE         fw-a\r\n\
//!     2          192.0.2.12      0%              STANDBY        fw-b\r\n\
//!     \r\n\
//!     Active PNOTEs: None\r\n\
//!     [Expert@fw-a:0]# ";
//! let state = parse_cluster_state(reply).unwrap();
//! assert_eq!(state.local().map(|m| &m.state), Some(&MemberHaState::Active));
//! assert_eq!(state.members[1].name.as_deref(), Some("fw-b"));
//!
//! assert_eq!(parse_cluster_state("HA module not started.\n"), Err(ParseError::NotClustered));
//! ```

mod clish;
mod cluster;
mod cpuse;
mod cpwd;
mod failover;
mod lines;
pub mod mgmt;
mod version;
mod vrrp;

pub use clish::{ClishError, clish_error, strip_prompts};
pub use cluster::{ClusterMember, ClusterState, MemberHaState, parse_cluster_state};
pub use cpuse::{
    AgentBuild, InstallerList, InstallerPackage, InstallerPackageDetails, find_package,
    parse_installer_build, parse_installer_package, parse_installer_packages,
};
pub use cpwd::{
    Process, ProcessStat, RunningApp, parse_cpwd_list, parse_running, running_apps, stopped_among,
    stopped_since,
};
pub use failover::{
    AdminDirection, ClusterXlAdminReply, FcuStatus, MvcState, parse_clusterxl_admin,
    parse_fcu_status, parse_mvc_state,
};
pub use version::{
    CpinfoHotfix, CpinfoHotfixes, CpinfoSection, FwVersion, GaiaVersion, parse_cpinfo_hotfixes,
    parse_fw_ver, parse_jumbo_take, parse_show_version_all,
};
pub use vrrp::{VrrpRole, VrrpState, parse_vrrp};

/// The most characters of a reply that an error message quotes.
pub const MAX_QUOTED_CHARS: usize = 200;

/// Why a reply could not be read as what was asked for.
///
/// Every text an error carries is cut to [`MAX_QUOTED_CHARS`] characters, so an error message
/// never repeats a whole reply (which may be long, or hold data that does not belong in a log).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The reply holds nothing but blank lines, prompts and interleaved noise.
    #[error("the reply is empty")]
    Empty,
    /// `HA module not started.`: the machine is not a running cluster member.
    #[error("HA module not started: the machine is not a running cluster member")]
    NotClustered,
    /// A line that should follow the format does not (1-based line in the input).
    #[error("line {line}: unexpected `{text}`")]
    UnexpectedLine {
        /// The line, counted from 1 in the input as given (prompts and blank lines included).
        line: usize,
        /// The line's text, trimmed, cut to [`MAX_QUOTED_CHARS`] characters, control characters
        /// replaced with `?`.
        text: String,
    },
    /// Something the reply must hold is not there.
    #[error("the reply has no {0}")]
    MissingField(&'static str),
    /// clish refused the command.
    #[error("clish refused the command: {0}")]
    Clish(ClishError),
    /// A Management API reply that is not the JSON expected (a missing field is named).
    #[error("unexpected Management API reply: {message}")]
    Json {
        /// What serde_json (or the parser) found wrong, cut to [`MAX_QUOTED_CHARS`] characters.
        message: String,
    },
    /// The Management API answered with its error object `{"code": ..., "message": ...}`.
    #[error("Management API error {code}: {message}")]
    Api {
        /// The API's error code (`generic_err_object_not_found`, `err_login_failed` …).
        code: String,
        /// The API's message, cut to [`MAX_QUOTED_CHARS`] characters.
        message: String,
    },
}

impl ParseError {
    /// An [`ParseError::UnexpectedLine`] quoting at most [`MAX_QUOTED_CHARS`] characters.
    pub(crate) fn unexpected(line: usize, text: &str) -> ParseError {
        ParseError::UnexpectedLine {
            line,
            text: lines::excerpt(text.trim()),
        }
    }
}

impl From<ClishError> for ParseError {
    fn from(e: ClishError) -> Self {
        ParseError::Clish(e)
    }
}
