//! CDT's candidates list CSV, and the reasons side file.
//!
//! Six columns, in this order: `Object Name`, `Cluster Name`, `IP Address`, `Version/JHF Take`,
//! `State`, `Upgrade Order`. Readers trim the space padding, accept CRLF or LF and a UTF-8 byte
//! order mark; the writer pads each column to its widest value (separated by `, `) and ends lines
//! with CRLF, as CDT does. A field holding a comma or a quote is quoted.
//!
//! The reason for each `N/A` and the warnings are kept beside the list, in
//! `<list stem>.reasons.csv` (`candidates.csv` → `candidates.reasons.csv`), with the columns
//! `Object Name`, `Severity` (`N/A` or `warning`), `Code`, `Message`. The list itself keeps
//! CDT's six columns exactly.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::candidates::{Candidate, CandidatesList, ListSource, Reason, ReasonCode};
use crate::error::{Diagnostic, Diagnostics, Error, Location, Result};
use crate::input::{DEFAULT_INPUT_CAP, check_text_cap, read_text_capped, write_atomic};
use crate::model::MemberRole;

/// The header of a candidates list, column by column.
pub const HEADER: [&str; 6] = [
    "Object Name",
    "Cluster Name",
    "IP Address",
    "Version/JHF Take",
    "State",
    "Upgrade Order",
];

const REASONS_HEADER: [&str; 4] = ["Object Name", "Severity", "Code", "Message"];

/// The reasons side file that goes with the list at `list`: `candidates.csv` →
/// `candidates.reasons.csv`.
pub fn reasons_path(list: &Path) -> PathBuf {
    let stem = list
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    list.with_file_name(format!("{stem}.reasons.csv"))
}

impl CandidatesList {
    /// Reads a list file (capped at 16 MiB) and, when its reasons file exists beside it, the
    /// reasons too. Every problem in the file is reported, not only the first.
    pub fn load(path: &Path) -> Result<CandidatesList> {
        let text = read_text_capped(path, DEFAULT_INPUT_CAP)?;
        let mut list = CandidatesList::parse_csv(&text, Some(path))?;
        let side = reasons_path(path);
        if side.is_file() {
            let reasons = read_text_capped(&side, DEFAULT_INPUT_CAP)?;
            list.attach_reasons(&reasons, Some(&side))?;
        }
        Ok(list)
    }

    /// Parses a list given as text. `path` names it in error messages.
    pub fn parse_csv(text: &str, path: Option<&Path>) -> Result<CandidatesList> {
        check_text_cap(path, text, DEFAULT_INPUT_CAP)?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut errors = Vec::new();
        let at = |line: u64| Location::new(path, u32::try_from(line).unwrap_or(u32::MAX), None);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut header = csv::StringRecord::new();
        match reader
            .read_record(&mut header)
            .map(|more| more.then_some(&header))
        {
            Ok(None) => {
                return Err(Error::Candidates(Diagnostics(vec![Diagnostic::new(
                    at(1),
                    "the list is empty: expected the header row",
                )])));
            }
            Err(e) => return Err(csv_error(&e, path)),
            Ok(Some(header)) => {
                let found: Vec<&str> = header.iter().map(str::trim).collect();
                if found != HEADER {
                    return Err(Error::Candidates(Diagnostics(vec![Diagnostic::new(
                        at(1),
                        format!(
                            "header is {:?}, expected {:?}",
                            found.join(","),
                            HEADER.join(",")
                        ),
                    )])));
                }
            }
        }
        let mut rows = Vec::new();
        let mut lines = Vec::new();
        let mut lines_of = LineCounter::new(text);
        let mut record = csv::StringRecord::new();
        loop {
            match reader.read_record(&mut record) {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    errors.push(csv_diagnostic(&e, path));
                    if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                        break;
                    }
                    continue;
                }
            }
            let line = lines_of.line_at(record.position());
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            let name = record.get(0).unwrap_or_default().trim();
            let object = if name.is_empty() { "(unnamed)" } else { name };
            let diag = |message: String| Diagnostic::new(at(line), message).with_object(object);
            if record.len() != HEADER.len() {
                errors.push(diag(format!(
                    "row has {} columns, expected {}",
                    record.len(),
                    HEADER.len()
                )));
                continue;
            }
            match parse_row(&record) {
                Ok(candidate) => {
                    rows.push(candidate);
                    lines.push(u32::try_from(line).unwrap_or(u32::MAX));
                }
                Err(messages) => errors.extend(messages.into_iter().map(diag)),
            }
        }
        // Duplicate names, each reported at its second (third…) occurrence.
        let mut first_line: HashMap<&str, u32> = HashMap::with_capacity(rows.len());
        for (row, &line) in rows.iter().zip(&lines) {
            if let Some(first) = first_line.insert(&row.object_name, line) {
                first_line.insert(&row.object_name, first);
                errors.push(
                    Diagnostic::new(
                        at(u64::from(line)),
                        format!("object name given twice (first on line {first})"),
                    )
                    .with_object(&row.object_name),
                );
            }
        }
        errors.sort_by_key(|d| d.location.line);
        if !errors.is_empty() {
            return Err(Error::Candidates(Diagnostics(errors)));
        }
        Ok(CandidatesList {
            rows,
            source: ListSource {
                path: path.map(Path::to_path_buf),
                lines,
            },
        })
    }

    /// The list as CDT writes it: padded columns, CRLF line ends, no byte order mark.
    pub fn to_csv(&self) -> String {
        let cells: Vec<[String; 6]> = self
            .rows
            .iter()
            .map(|r| {
                [
                    quote(&r.object_name),
                    quote(r.cluster_name.as_deref().unwrap_or("")),
                    r.address.to_string(),
                    r.version.to_string(),
                    r.state.map(MemberRole::as_str).unwrap_or("").to_string(),
                    r.order.to_string(),
                ]
            })
            .collect();
        let mut widths = HEADER.map(|h| h.chars().count());
        for row in &cells {
            for (w, cell) in widths.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let mut out =
            String::with_capacity((cells.len() + 1) * (widths.iter().sum::<usize>() + 14));
        let mut push_row = |fields: [&str; 6]| {
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    // A space after the comma pads like CDT, except before a quoted field,
                    // which must start right after the comma to be read as quoted.
                    out.push_str(if field.starts_with('"') { "," } else { ", " });
                }
                out.push_str(field);
                if i + 1 < fields.len() {
                    let pad = widths[i].saturating_sub(field.chars().count());
                    out.extend(std::iter::repeat_n(' ', pad));
                }
            }
            out.push_str("\r\n");
        };
        push_row(HEADER);
        for row in &cells {
            push_row([&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]]);
        }
        out
    }

    /// The reasons side file: one row per `N/A` reason and per warning.
    pub fn reasons_csv(&self) -> String {
        let mut out = REASONS_HEADER.join(",");
        out.push_str("\r\n");
        for row in &self.rows {
            let entries = row
                .reason
                .iter()
                .map(|r| ("N/A", r))
                .chain(row.warnings.iter().map(|w| ("warning", w)));
            for (severity, reason) in entries {
                out.push_str(&format!(
                    "{},{},{},{}\r\n",
                    quote(&row.object_name),
                    severity,
                    reason.code,
                    quote(&reason.message)
                ));
            }
        }
        out
    }

    /// Writes the list to `path` and its reasons beside it, each atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, self.to_csv().as_bytes())?;
        write_atomic(&reasons_path(path), self.reasons_csv().as_bytes())
    }

    /// Reads a reasons file and attaches its reasons and warnings to the rows they name.
    pub fn attach_reasons(&mut self, text: &str, path: Option<&Path>) -> Result<()> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let index: HashMap<String, usize> = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.object_name.clone(), i))
            .collect();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(true)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let mut errors = Vec::new();
        let mut lines_of = LineCounter::new(text);
        for record in reader.records() {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    errors.push(csv_diagnostic(&e, path));
                    continue;
                }
            };
            let line = lines_of.line_at(record.position());
            let at = Location::new(path, u32::try_from(line).unwrap_or(u32::MAX), None);
            let fields: Vec<&str> = record.iter().collect();
            let [name, severity, code, message] = fields[..] else {
                errors.push(Diagnostic::new(
                    at,
                    format!("row has {} columns, expected 4", fields.len()),
                ));
                continue;
            };
            let Some(code) = ReasonCode::parse(code) else {
                errors.push(
                    Diagnostic::new(at, format!("unknown reason code {code:?}")).with_object(name),
                );
                continue;
            };
            let Some(&row) = index.get(name) else {
                errors.push(Diagnostic::new(at, "not in the candidates list").with_object(name));
                continue;
            };
            let reason = Reason::new(code, message);
            match severity {
                "N/A" => self.rows[row].reason = Some(reason),
                "warning" => self.rows[row].warnings.push(reason),
                other => errors.push(
                    Diagnostic::new(at, format!("severity {other:?} is not N/A or warning"))
                        .with_object(name),
                ),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(Error::Candidates(Diagnostics(errors)))
        }
    }
}

/// Physical line numbers of records. The csv crate's own line count does not count CRLF line
/// ends or blank lines, so lines are counted here from the record's byte offset (which may point
/// at line ends skipped before the record). Offsets only grow, so counting is incremental.
struct LineCounter<'a> {
    text: &'a [u8],
    offset: usize,
    line: u64,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text: text.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    fn line_at(&mut self, position: Option<&csv::Position>) -> u64 {
        let Some(position) = position else {
            return self.line;
        };
        let mut start = usize::try_from(position.byte())
            .unwrap_or(usize::MAX)
            .min(self.text.len());
        while start < self.text.len() && matches!(self.text[start], b'\r' | b'\n') {
            start += 1;
        }
        if start >= self.offset {
            self.line += self.text[self.offset..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.offset = start;
        }
        self.line
    }
}

fn parse_row(record: &csv::StringRecord) -> std::result::Result<Candidate, Vec<String>> {
    // Fields are trimmed here rather than by the csv reader: cheaper, and the same result.
    let field = |i: usize| record.get(i).unwrap_or_default().trim();
    let mut problems = Vec::new();
    let object_name = field(0).to_string();
    if object_name.is_empty() {
        problems.push("Object Name is empty".to_string());
    }
    let cluster_name = Some(field(1).to_string()).filter(|s| !s.is_empty());
    let address = field(2)
        .parse()
        .map_err(|_| problems.push(format!("IP Address {:?} is not an IP address", field(2))))
        .ok();
    let version = field(3)
        .parse()
        .map_err(|_| {
            problems.push(format!(
                "Version/JHF Take {:?} is not a version such as R81.10 or R81.10 Take 95",
                field(3)
            ))
        })
        .ok();
    let state = match field(4) {
        "" => None,
        s => MemberRole::parse(s).or_else(|| {
            problems.push(format!(
                "State {s:?} is not one of Active, Standby, Master, Backup, VSLS member, VSLS active member, Down"
            ));
            None
        }),
    };
    let order = field(5).parse().map_err(|e| problems.push(e)).ok();
    match (address, version, order) {
        (Some(address), Some(version), Some(order)) if problems.is_empty() => Ok(Candidate {
            object_name,
            cluster_name,
            address,
            version,
            state,
            order,
            reason: None,
            warnings: Vec::new(),
        }),
        _ => Err(problems),
    }
}

/// Quotes a field that holds a comma, a quote or a line break; leaves others as they are.
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field.to_string()
    }
}

fn csv_diagnostic(e: &csv::Error, path: Option<&Path>) -> Diagnostic {
    let line = e.position().map_or(1, csv::Position::line);
    Diagnostic::new(
        Location::new(path, u32::try_from(line).unwrap_or(u32::MAX), None),
        format!("malformed CSV: {e}"),
    )
}

fn csv_error(e: &csv::Error, path: Option<&Path>) -> Error {
    Error::Candidates(Diagnostics(vec![csv_diagnostic(e, path)]))
}
