//! CPUSE (Gaia's software-update agent), clish: `show installer packages [imported|installed]`,
//! `show installer package <n>` and `show installer status build`.
//!
//! Format: **DESCRIPTION only**. No real CPUSE text was found (SOURCES §2); the only hints are an
//! unverified third-party fixture and memory. This module defines the format it reads, built to be
//! tolerant of what those hints leave open:
//!
//! ```text
//! ** ------------------------------------------------------------------- **
//! **   Hotfixes   **
//! ** ------------------------------------------------------------------- **
//! Display name                                                    Type      Status
//! R81.20 Jumbo Hotfix Accumulator General Availability (Take 89)  Hotfix    Installed
//! ** Connection error. Packages list might be incomplete **
//! ```
//!
//! - A **banner** is a line that starts and ends with `**`; its text names the section of the rows
//!   under it (`Hotfixes`, `Major Versions`). A banner (or a line without stars) that says
//!   `Connection error` or `might be incomplete` marks the list incomplete. Lines of only `*`,
//!   `-`, `=` are separators.
//! - A **header** is a line whose columns (separated by two or more spaces or a tab) include a name
//!   column (`Display name`, `Package name` or `Name`) and a `Type` or `Status` column. Columns
//!   are read in the order the header gives them; `Num`, `Number`, `No.` or `#` is a number column;
//!   unknown columns are skipped.
//! - A **row** is any other line with two or more columns, read in the header's column order (or
//!   `name, type, status` before a header). A leading column of digits that the header does not
//!   name is the number `show installer packages imported` prints (`1  <name>  <type>`). A row
//!   with more columns than the header gives the extra ones to the name; one with fewer leaves the
//!   last ones empty. Before any header or banner, only numbered rows are rows: other lines (an
//!   echoed command, notes) are skipped, as are one-column lines everywhere.
//! - `show installer package <n>` prints `Key: value` lines; `show installer status build` prints
//!   `Build number: 2771 (agent build is up to date)` (the shape of the unverified fixture).

use serde::Serialize;

use super::ParseError;
use super::lines::{Line, contains_ignore_case, reply_lines, split_columns};
use crate::model::Version;
use crate::model::package::{PackageKind, cpuse_name, kind_from_file_name};

/// One package row of a CPUSE list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InstallerPackage {
    /// The number `show installer packages imported` prints before a row, usable instead of the
    /// name in `installer install <n>`.
    pub number: Option<u32>,
    /// The name column (a display name, or a package file name).
    pub name: String,
    /// The `Type` column (`Hotfix`, `Major Version` …).
    pub kind: Option<String>,
    /// The `Status` column (`Installed`, `Imported`, `Available for Download` …).
    pub status: Option<String>,
    /// The banner the row is under (`Hotfixes`, `Major Versions`).
    pub section: Option<String>,
}

/// A CPUSE package list.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct InstallerList {
    /// The package rows, in the order printed.
    pub packages: Vec<InstallerPackage>,
    /// Whether CPUSE warned that the list might be incomplete (`** Connection error. Packages
    /// list might be incomplete **`): a package missing from such a list may still exist.
    pub incomplete: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Number,
    Name,
    Kind,
    Status,
    Skipped,
}

fn column_of(title: &str) -> Column {
    let title = title.trim();
    let is = |names: &[&str]| names.iter().any(|n| title.eq_ignore_ascii_case(n));
    if is(&["display name", "package name", "name", "package"]) {
        Column::Name
    } else if is(&["type", "category"]) {
        Column::Kind
    } else if is(&["status", "state"]) {
        Column::Status
    } else if is(&["num", "number", "no.", "no", "#"]) {
        Column::Number
    } else {
        Column::Skipped
    }
}

fn header_columns(text: &str) -> Option<Vec<Column>> {
    let columns: Vec<Column> = split_columns(text)
        .into_iter()
        .map(|(_, f)| column_of(f))
        .collect();
    let has_name = columns.contains(&Column::Name);
    let has_other = columns.contains(&Column::Kind) || columns.contains(&Column::Status);
    (has_name && has_other).then_some(columns)
}

fn is_number(field: &str) -> bool {
    !field.is_empty() && field.bytes().all(|b| b.is_ascii_digit())
}

fn says_incomplete(text: &str) -> bool {
    contains_ignore_case(text, "connection error")
        || contains_ignore_case(text, "might be incomplete")
}

/// Reads the reply of `show installer packages`, `... imported`, `... installed` (or `... all`).
///
/// Errors: [`ParseError::Clish`] for clish's refusals; [`ParseError::MissingField`] when the
/// reply has neither a header, a banner nor a numbered row (nothing shows it is a package list);
/// [`ParseError::UnexpectedLine`] for a number that does not fit in 32 bits.
pub fn parse_installer_packages(input: &str) -> Result<InstallerList, ParseError> {
    let lines = reply_lines(input)?;
    let mut list = InstallerList::default();
    let mut columns: Option<Vec<Column>> = None;
    let mut section: Option<String> = None;
    let mut recognised = false;
    for line in &lines {
        let text = line.text.trim();
        if text.starts_with("**") && text.ends_with("**") {
            recognised = true;
            let inner = text.trim_matches('*').trim();
            if says_incomplete(inner) {
                list.incomplete = true;
            } else if inner.chars().any(|c| c.is_alphanumeric()) {
                section = Some(inner.to_string());
            }
            continue;
        }
        if says_incomplete(text) {
            list.incomplete = true;
            continue;
        }
        if let Some(found) = header_columns(text) {
            columns = Some(found);
            recognised = true;
            continue;
        }
        let fields: Vec<&str> = split_columns(text).into_iter().map(|(_, f)| f).collect();
        if fields.len() < 2 {
            continue;
        }
        let numbered = fields.first().is_some_and(|f| is_number(f));
        if columns.is_none() && !recognised && !numbered {
            continue;
        }
        recognised = true;
        let default = [Column::Name, Column::Kind, Column::Status];
        let cols = columns.as_deref().unwrap_or(&default);
        let mut package = read_row(line, cols, fields)?;
        package.section = section.clone();
        list.packages.push(package);
    }
    if !recognised {
        return Err(ParseError::MissingField("installer package list header"));
    }
    Ok(list)
}

fn read_row(
    line: &Line<'_>,
    columns: &[Column],
    mut fields: Vec<&str>,
) -> Result<InstallerPackage, ParseError> {
    let mut package = InstallerPackage {
        number: None,
        name: String::new(),
        kind: None,
        status: None,
        section: None,
    };
    let parse_number = |f: &str| f.parse::<u32>().map_err(|_| line.unexpected());
    if !columns.contains(&Column::Number)
        && fields.len() > 1
        && fields.first().is_some_and(|f| is_number(f))
    {
        package.number = Some(parse_number(fields.remove(0))?);
    }
    // Extra fields belong to the name: split a row around its name column.
    let name_at = columns.iter().position(|c| *c == Column::Name).unwrap_or(0);
    let assigned: Vec<(Column, String)> = if fields.len() > columns.len() {
        let after = columns.len() - name_at - 1;
        let name_end = fields.len() - after;
        let mut out: Vec<(Column, String)> = Vec::new();
        for (col, field) in columns.iter().zip(fields.iter()).take(name_at) {
            out.push((*col, (*field).to_string()));
        }
        out.push((
            Column::Name,
            fields.get(name_at..name_end).unwrap_or_default().join("  "),
        ));
        for (col, field) in columns
            .iter()
            .skip(name_at + 1)
            .zip(fields.iter().skip(name_end))
        {
            out.push((*col, (*field).to_string()));
        }
        out
    } else {
        columns
            .iter()
            .zip(fields.iter())
            .map(|(c, f)| (*c, (*f).to_string()))
            .collect()
    };
    for (column, value) in assigned {
        match column {
            Column::Number if is_number(&value) => package.number = Some(parse_number(&value)?),
            Column::Name => package.name = value,
            Column::Kind => package.kind = Some(value),
            Column::Status => package.status = Some(value),
            Column::Number | Column::Skipped => {}
        }
    }
    if package.name.is_empty() {
        return Err(line.unexpected());
    }
    Ok(package)
}

/// Finds the package a plan names (a file name or path, such as
/// `Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz`) in a CPUSE list.
///
/// A row matches when its name is the package's CPUSE name (the file name without `.tgz`,
/// `.tar.gz` or `.tar`; ASCII case-insensitive), with or without the extension. Failing that, for
/// a Jumbo package, the one row whose display name says `Jumbo`, holds `Take <n>` with the
/// package's take, and names the package's version (and no other) matches; when several rows
/// would match that way, none is returned.
pub fn find_package<'a>(
    packages: &'a [InstallerPackage],
    wanted: &str,
) -> Option<&'a InstallerPackage> {
    let file_name = wanted.rsplit(['/', '\\']).next().unwrap_or(wanted).trim();
    let wanted_name = cpuse_name(file_name);
    if wanted_name.is_empty() {
        return None;
    }
    if let Some(exact) = packages
        .iter()
        .find(|p| cpuse_name(p.name.trim()).eq_ignore_ascii_case(wanted_name))
    {
        return Some(exact);
    }
    let Ok(PackageKind::Jumbo { version, take }) = kind_from_file_name(file_name) else {
        return None;
    };
    let mut matches = packages
        .iter()
        .filter(|p| display_name_is_jumbo(&p.name, version, take));
    let first = matches.next()?;
    matches.next().is_none().then_some(first)
}

fn display_name_is_jumbo(name: &str, version: Version, take: u32) -> bool {
    if !contains_ignore_case(name, "jumbo") {
        return false;
    }
    let words: Vec<&str> = name
        .split_whitespace()
        .map(|w| w.trim_matches(|c: char| matches!(c, '(' | ')' | ',' | ':' | ';' | '[' | ']')))
        .collect();
    let takes_match = words.windows(2).any(|pair| match pair {
        [word, number] => {
            word.eq_ignore_ascii_case("take") && number.parse::<u32>().ok() == Some(take)
        }
        _ => false,
    });
    let versions: Vec<Version> = words
        .iter()
        .filter_map(|w| {
            Version::parse_prefix(w)
                .filter(|(_, tail)| tail.is_empty())
                .map(|(v, _)| v)
        })
        .collect();
    takes_match && !versions.is_empty() && versions.iter().all(|v| *v == version)
}

/// The reply of `show installer package <n>`: its `Key: value` fields, in order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct InstallerPackageDetails {
    /// The fields as printed (keys and values trimmed).
    pub fields: Vec<(String, String)>,
}

impl InstallerPackageDetails {
    /// The value of the first field named `key` (ASCII case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// The `Status` field (`Installed`, `Imported` …).
    pub fn status(&self) -> Option<&str> {
        self.get("Status")
    }

    /// The `Display name` (or `Name`) field.
    pub fn display_name(&self) -> Option<&str> {
        self.get("Display name").or_else(|| self.get("Name"))
    }

    /// The `Package name` (or `File name`) field.
    pub fn package_name(&self) -> Option<&str> {
        self.get("Package name").or_else(|| self.get("File name"))
    }

    /// The `Type` field.
    pub fn kind(&self) -> Option<&str> {
        self.get("Type")
    }
}

/// Reads the reply of `show installer package <n>`: every `Key: value` line whose key is a short
/// label starting with a letter; other lines are skipped.
///
/// Errors: [`ParseError::Clish`] for clish's refusals; [`ParseError::MissingField`] when no
/// `Key: value` line is there.
pub fn parse_installer_package(input: &str) -> Result<InstallerPackageDetails, ParseError> {
    let lines = reply_lines(input)?;
    let mut details = InstallerPackageDetails::default();
    for line in &lines {
        let Some((key, value)) = line.text.split_once(':') else {
            continue;
        };
        let key = key.trim();
        let label = key.chars().count() <= 40
            && key.starts_with(|c: char| c.is_ascii_alphabetic())
            && key.chars().all(|c| {
                c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.' | '/' | '(' | ')')
            });
        if label {
            details
                .fields
                .push((key.to_string(), value.trim().to_string()));
        }
    }
    if details.fields.is_empty() {
        return Err(ParseError::MissingField("`Key: value` lines"));
    }
    Ok(details)
}

/// The CPUSE agent build (`show installer status build`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AgentBuild {
    /// The build number.
    pub build: u32,
    /// `Some(true)` for `(agent build is up to date)`, `Some(false)` when the note says it is not
    /// (`not up to date`, `newer build available`, `update available`), `None` otherwise.
    pub up_to_date: Option<bool>,
}

/// Reads the reply of `show installer status build` (or `... status all`).
///
/// Errors: [`ParseError::Clish`] for clish's refusals; [`ParseError::MissingField`] without a
/// `Build number:` line; [`ParseError::UnexpectedLine`] when its value does not start with a
/// number.
pub fn parse_installer_build(input: &str) -> Result<AgentBuild, ParseError> {
    let lines = reply_lines(input)?;
    let line = lines
        .iter()
        .find(|l| super::lines::key_value(l.text, "Build number").is_some())
        .ok_or(ParseError::MissingField("`Build number:` line"))?;
    let value = super::lines::key_value(line.text, "Build number").unwrap_or_default();
    let build = value
        .split_whitespace()
        .next()
        .and_then(|w| w.parse::<u32>().ok())
        .ok_or_else(|| line.unexpected())?;
    let lower = value.to_ascii_lowercase();
    let up_to_date = if ["not up to date", "newer", "update available", "out of date"]
        .iter()
        .any(|p| lower.contains(p))
    {
        Some(false)
    } else if lower.contains("up to date") {
        Some(true)
    } else {
        None
    };
    Ok(AgentBuild { build, up_to_date })
}
