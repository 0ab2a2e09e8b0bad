//! `cpwd_admin list`: the processes the Check Point watchdog runs, to compare before and after a
//! plan (SPEC 3.2: every process that was up before must be up again).
//!
//! Format: **DESCRIPTION**, with a REAL header line. The VSX header
//! `APP        CTX        PID    STAT  #START  START_TIME             MON  COMMAND` was copied
//! from a real gateway into a monitoring script, which splits each row on whitespace into
//! `app, ctx, pid, stat, #start, start_time, start_date, mon, command` (SOURCES §3). On a
//! non-VSX machine the header is the same without `CTX` (inferred, not verified). START_TIME is
//! two words, `[hh:mm:ss] d/m/yyyy`; COMMAND is the rest of the line. `STAT` is `E` (executing)
//! or `T` (terminated); `MON` is `Y` (actively monitored) or `N`.
//!
//! Tolerated beyond that: an empty PID (or `-`), and an empty START_TIME, for a process that is
//! not running. Any other row that does not follow the header is refused: a silently skipped row
//! could hide a process that did not come back.

use std::collections::BTreeSet;
use std::fmt;

use serde::Serialize;

use super::ParseError;
use super::lines::{Line, reply_lines, words};

/// One row of `cpwd_admin list`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Process {
    /// The `APP` name given to `cpwd_admin start -name` (`CPD`, `FWK`, `CPM` …).
    pub app: String,
    /// The `CTX` column on VSX: the Virtual System id.
    pub ctx: Option<u32>,
    /// The process id, when printed.
    pub pid: Option<u32>,
    /// The `STAT` column.
    pub stat: ProcessStat,
    /// The `#START` column: how many times the watchdog started it.
    pub starts: u32,
    /// The `MON` column: `Y` (actively monitored) is `true`.
    pub monitored: bool,
    /// The `COMMAND` column: the rest of the line, as printed.
    pub command: String,
}

/// The `STAT` column of `cpwd_admin list`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub enum ProcessStat {
    /// `E`: executing.
    Executing,
    /// `T`: terminated.
    Terminated,
    /// Any other value, as printed.
    Other(String),
}

impl ProcessStat {
    fn is_executing(s: &str) -> bool {
        matches!(s, "E" | "e")
    }

    fn from_column(s: &str) -> ProcessStat {
        match s {
            _ if ProcessStat::is_executing(s) => ProcessStat::Executing,
            "T" | "t" => ProcessStat::Terminated,
            other => ProcessStat::Other(other.to_string()),
        }
    }
}

/// A process the watchdog runs, named by its `APP` and, on VSX, its context.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RunningApp {
    /// The `APP` name.
    pub app: String,
    /// The `CTX` (Virtual System id) on VSX.
    pub ctx: Option<u32>,
}

impl fmt::Display for RunningApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ctx {
            Some(ctx) => write!(f, "{} (context {ctx})", self.app),
            None => f.write_str(&self.app),
        }
    }
}

/// The processes that are executing (`STAT` `E`), by `APP` and context.
pub fn running_apps(processes: &[Process]) -> BTreeSet<RunningApp> {
    processes
        .iter()
        .filter(|p| p.stat == ProcessStat::Executing)
        .map(|p| RunningApp {
            app: p.app.clone(),
            ctx: p.ctx,
        })
        .collect()
}

/// The processes that were executing in `before` and are not executing in `after`, in order: what
/// a plan left stopped.
pub fn stopped_since(before: &[Process], after: &[Process]) -> Vec<RunningApp> {
    let before: Vec<RunningApp> = running_apps(before).into_iter().collect();
    let after: Vec<(&str, Option<u32>)> = after
        .iter()
        .filter(|p| p.stat == ProcessStat::Executing)
        .map(|p| (p.app.as_str(), p.ctx))
        .collect();
    stopped_among(&before, &after)
        .into_iter()
        .cloned()
        .collect()
}

/// The apps of `before` (as [`running_apps`] lists them: in order, each once) that are not in
/// `running` (as [`parse_running`] reads them), in order: what a plan left stopped.
pub fn stopped_among<'a>(
    before: &'a [RunningApp],
    running: &[(&str, Option<u32>)],
) -> Vec<&'a RunningApp> {
    let running: BTreeSet<(&str, Option<u32>)> = running.iter().copied().collect();
    before
        .iter()
        .filter(|app| !running.contains(&(app.app.as_str(), app.ctx)))
        .collect()
}

/// Reads the reply of `cpwd_admin list`.
///
/// Errors: [`ParseError::MissingField`] without the `APP ... COMMAND` header;
/// [`ParseError::UnexpectedLine`] for a row after it that does not follow it. Lines before the
/// header (an echoed command) are skipped. A header without rows gives an empty list.
pub fn parse_cpwd_list(input: &str) -> Result<Vec<Process>, ParseError> {
    rows(input, |row| Ok(row.to_process()))
}

/// The processes executing (`STAT` `E`) in a reply of `cpwd_admin list`, in the order listed,
/// borrowed from it: what [`running_apps`] gives of [`parse_cpwd_list`], with the same errors,
/// without copying the rows.
pub fn parse_running(input: &str) -> Result<Vec<(&str, Option<u32>)>, ParseError> {
    let mut running = Vec::new();
    rows::<(), ()>(input, |row| {
        if ProcessStat::is_executing(row.stat) {
            running.push((row.app, row.ctx));
        }
        Ok(())
    })?;
    Ok(running)
}

/// Reads every row of a `cpwd_admin list` reply with `each`, collecting what it returns.
fn rows<'a, T, C: FromIterator<T>>(
    input: &'a str,
    mut each: impl FnMut(Row<'a>) -> Result<T, ParseError>,
) -> Result<C, ParseError> {
    let lines = reply_lines(input)?;
    let header_at = lines
        .iter()
        .position(|l| is_header(l.text))
        .ok_or(ParseError::MissingField("`APP ... COMMAND` header"))?;
    let has_ctx = lines
        .get(header_at)
        .is_some_and(|h| h.text.split_whitespace().any(|w| w == "CTX"));
    lines
        .get(header_at + 1..)
        .unwrap_or_default()
        .iter()
        .map(|line| parse_row(line, has_ctx).and_then(&mut each))
        .collect()
}

fn is_header(text: &str) -> bool {
    let mut words = text.split_whitespace();
    if words.next() != Some("APP") {
        return false;
    }
    let (mut pid, mut stat) = (false, false);
    for w in words {
        pid |= w == "PID";
        stat |= w == "STAT";
    }
    pid && stat
}

fn is_number(word: &str) -> bool {
    !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit())
}

/// One row of `cpwd_admin list`, borrowed from the reply.
struct Row<'a> {
    app: &'a str,
    ctx: Option<u32>,
    pid: Option<u32>,
    stat: &'a str,
    starts: u32,
    monitored: bool,
    command: &'a str,
}

impl Row<'_> {
    fn to_process(&self) -> Process {
        Process {
            app: self.app.to_string(),
            ctx: self.ctx,
            pid: self.pid,
            stat: ProcessStat::from_column(self.stat),
            starts: self.starts,
            monitored: self.monitored,
            command: self.command.to_string(),
        }
    }
}

/// `CPD  0  3172  E  1  [10:15:02] 14/3/2026  Y  cpd`.
fn parse_row<'a>(line: &Line<'a>, has_ctx: bool) -> Result<Row<'a>, ParseError> {
    let bad = || line.unexpected();
    let mut cursor = words(line.text).peekable();
    let (_, app) = cursor.next().ok_or_else(bad)?;
    let ctx = if has_ctx {
        let (_, ctx) = cursor.next().ok_or_else(bad)?;
        Some(ctx.parse::<u32>().map_err(|_| bad())?)
    } else {
        None
    };
    let pid = match cursor.next_if(|(_, w)| is_number(w) || *w == "-") {
        Some((_, "-")) | None => None,
        Some((_, pid)) => Some(pid.parse::<u32>().map_err(|_| bad())?),
    };
    let (_, stat) = cursor.next().ok_or_else(bad)?;
    let (_, starts) = cursor.next().ok_or_else(bad)?;
    let starts = starts.parse::<u32>().map_err(|_| bad())?;
    if cursor.next_if(|(_, w)| w.starts_with('[')).is_some() {
        cursor.next_if(|(_, w)| w.contains('/'));
    }
    let (mon_at, mon) = cursor.next().ok_or_else(bad)?;
    let monitored = match mon {
        "Y" | "y" => true,
        "N" | "n" => false,
        _ => return Err(bad()),
    };
    let command = line
        .text
        .get(mon_at + mon.len()..)
        .unwrap_or_default()
        .trim();
    Ok(Row {
        app,
        ctx,
        pid,
        stat,
        starts,
        monitored,
        command,
    })
}
