//! clish `show vrrp`: how many VRRP virtual routers of this machine are Master, Backup or Init.
//!
//! Format: **DESCRIPTION only**. No real `show vrrp` output was found (SOURCES §1: "Not found as
//! real text: ... VRRP"). This parser is built around Gaia's documented summary, whose lines look
//! like:
//!
//! ```text
//! VRRP State
//!   Flags: On
//!   2 interfaces enabled
//!     2 virtual routers configured
//!     0 in Init state
//!     0 in Backup state
//!     2 in Master state
//! ```
//!
//! and is tolerant of the count coming before (`2 in Master state`) or after
//! (`In Master state 2`) the words, of any case, and of a `:` before the count. When no summary
//! counts are printed, per-interface or per-virtual-router detail lines holding `State Master`,
//! `State: Backup` or `State Init` are counted instead. A reply with neither is refused, so the
//! engine never takes an unreadable reply for "no virtual router is Master".

use serde::Serialize;

use super::ParseError;
use super::lines::reply_lines;

/// The VRRP role of a machine, decided from the roles of all its virtual routers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum VrrpRole {
    /// Every enabled virtual router is Master.
    Master,
    /// Every enabled virtual router is Backup.
    Backup,
}

/// How many of this machine's VRRP virtual routers are in each state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct VrrpState {
    /// Virtual routers in Master state.
    pub master: u32,
    /// Virtual routers in Backup state.
    pub backup: u32,
    /// Virtual routers in Init state.
    pub init: u32,
}

impl VrrpState {
    /// [`VrrpRole::Master`] when every virtual router is Master, [`VrrpRole::Backup`] when every
    /// one is Backup, `None` when they are mixed, any is in Init, or there are none.
    pub fn role(&self) -> Option<VrrpRole> {
        match (self.master, self.backup, self.init) {
            (m, 0, 0) if m > 0 => Some(VrrpRole::Master),
            (0, b, 0) if b > 0 => Some(VrrpRole::Backup),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Which {
    Master,
    Backup,
    Init,
}

fn which(word: &str) -> Option<Which> {
    let word = word.trim_matches(|c: char| !c.is_ascii_alphabetic());
    if word.eq_ignore_ascii_case("master") {
        Some(Which::Master)
    } else if word.eq_ignore_ascii_case("backup") {
        Some(Which::Backup)
    } else if word.eq_ignore_ascii_case("init") {
        Some(Which::Init)
    } else {
        None
    }
}

fn number(word: &str) -> Option<u32> {
    word.trim_matches(|c: char| c == ':' || c == ',')
        .parse()
        .ok()
}

/// `2 in Master state`, `In Master state 2`, `In Master state: 2` → (Master, 2).
fn summary_count(words: &[&str]) -> Option<(Which, u32)> {
    let at = words.iter().position(|w| w.eq_ignore_ascii_case("in"))?;
    let state_word = words.get(at + 1).and_then(|w| which(w))?;
    let state_kw = words.get(at + 2)?;
    if !state_kw.trim_end_matches(':').eq_ignore_ascii_case("state") {
        return None;
    }
    let before = at
        .checked_sub(1)
        .and_then(|i| words.get(i))
        .and_then(|w| number(w));
    let after = words.get(at + 3).and_then(|w| number(w));
    before.or(after).map(|n| (state_word, n))
}

/// `State Master`, `State: Backup`, `VRID 10 State Init` → the state named after `State`.
fn detail_state(words: &[&str]) -> Option<Which> {
    let at = words
        .iter()
        .position(|w| w.trim_end_matches(':').eq_ignore_ascii_case("state"))?;
    words.get(at + 1).and_then(|w| which(w))
}

/// Reads the reply of clish `show vrrp` (or `show vrrp interfaces`).
///
/// Errors: [`ParseError::MissingField`] when the reply holds neither summary counts nor detail
/// state lines, or holds some of the three summary counts but not all (a partial summary could
/// make a mixed machine look like a Master); [`ParseError::UnexpectedLine`] when one summary count is printed twice with
/// different values.
pub fn parse_vrrp(input: &str) -> Result<VrrpState, ParseError> {
    let lines = reply_lines(input)?;
    let mut summary: [Option<u32>; 3] = [None; 3];
    let mut detail = VrrpState::default();
    let mut detail_seen = false;
    for line in &lines {
        let words: Vec<&str> = line.text.split_whitespace().collect();
        if let Some((state, count)) = summary_count(&words) {
            let slot = match state {
                Which::Master => &mut summary[0],
                Which::Backup => &mut summary[1],
                Which::Init => &mut summary[2],
            };
            match slot {
                Some(previous) if *previous != count => return Err(line.unexpected()),
                _ => *slot = Some(count),
            }
        } else if let Some(state) = detail_state(&words) {
            detail_seen = true;
            let counter = match state {
                Which::Master => &mut detail.master,
                Which::Backup => &mut detail.backup,
                Which::Init => &mut detail.init,
            };
            *counter = counter.saturating_add(1);
        }
    }
    match summary {
        [Some(master), Some(backup), Some(init)] => {
            return Ok(VrrpState {
                master,
                backup,
                init,
            });
        }
        [None, None, None] => {}
        [None, _, _] => return Err(ParseError::MissingField("`in Master state` count")),
        [_, None, _] => return Err(ParseError::MissingField("`in Backup state` count")),
        [_, _, None] => return Err(ParseError::MissingField("`in Init state` count")),
    }
    if detail_seen {
        return Ok(detail);
    }
    Err(ParseError::MissingField("VRRP state counts"))
}
