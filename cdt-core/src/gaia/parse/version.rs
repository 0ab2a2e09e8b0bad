//! What a gateway runs: `fw ver`, clish `show version all`, and the hotfix list of
//! `cpinfo -y all` (which gives the installed Jumbo Hotfix Accumulator take).
//!
//! Formats: REAL (SOURCES §4).
//! - `fw ver`: `This is Check Point's software version R80.10 - Build 236` (R80.10 VSX, R81.20).
//! - `show version all`: `Product version Check Point Gaia R81.10` / `OS build 335` /
//!   `OS kernel version 3.10.0-957.21.3cpx86_64` / `OS edition 64-bit` (R77.30, R80.40, R81.10).
//!   Quantum Spark answers `Bad parameter ...`, which is [`ParseError::Clish`].
//! - `cpinfo -y all`: `[SECTION]` headings, each followed by indented hotfix names, with
//!   `Take:  N` after Jumbo names from R80.x on (`HOTFIX_R81_20_JUMBO_HF_MAIN     Take:  122`)
//!   and no take at all in R77.30 (`HOTFIX_R77_30_JUMBO_HF`); `No hotfixes..` for an empty section.

use serde::Serialize;

use super::ParseError;
use super::lines::{Line, contains_ignore_case, reply_lines};
use crate::model::Version;

/// The reply of `fw ver`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FwVersion {
    /// The Gaia version (`R80.10`). A Quantum Spark sub-release (`R81.10.16`) gives its release.
    pub version: Version,
    /// The build number after `- Build`, when printed.
    pub build: Option<u32>,
}

/// The first word of `words` that is a Gaia version (`R81.20`, also `R81.10.16` whose
/// sub-release is dropped), with its index.
fn find_version(words: &[&str]) -> Option<(usize, Version)> {
    words.iter().enumerate().find_map(|(i, word)| {
        let (version, tail) = Version::parse_prefix(word)?;
        let sub_release = tail
            .strip_prefix('.')
            .is_some_and(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()));
        (tail.is_empty() || sub_release).then_some((i, version))
    })
}

/// Reads the reply of `fw ver`.
///
/// Errors: [`ParseError::MissingField`] without a `This is Check Point's ...` line;
/// [`ParseError::UnexpectedLine`] when that line holds no version, or a build that is not a
/// number.
pub fn parse_fw_ver(input: &str) -> Result<FwVersion, ParseError> {
    let lines = reply_lines(input)?;
    let line = lines
        .iter()
        .find(|l| l.text.trim_start().starts_with("This is Check Point"))
        .ok_or(ParseError::MissingField(
            "`This is Check Point's ... version` line",
        ))?;
    let words: Vec<&str> = line.text.split_whitespace().collect();
    let (at, version) = find_version(&words).ok_or_else(|| line.unexpected())?;
    let build = build_after(line, words.get(at + 1..).unwrap_or_default())?;
    Ok(FwVersion { version, build })
}

/// The number after the word `Build` in `words`, if there is such a word.
fn build_after(line: &Line<'_>, words: &[&str]) -> Result<Option<u32>, ParseError> {
    let Some(at) = words.iter().position(|w| w.eq_ignore_ascii_case("build")) else {
        return Ok(None);
    };
    let number = words
        .get(at + 1)
        .and_then(|w| w.parse::<u32>().ok())
        .ok_or_else(|| line.unexpected())?;
    Ok(Some(number))
}

/// The reply of clish `show version all`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GaiaVersion {
    /// The product, without its version (`Check Point Gaia`).
    pub product: String,
    /// The version in `Product version`.
    pub version: Version,
    /// `OS build`.
    pub os_build: Option<u32>,
    /// `OS kernel version`.
    pub kernel: Option<String>,
    /// `OS edition` (`64-bit`).
    pub edition: Option<String>,
}

/// The text after `prefix` (ASCII case-insensitive) at the start of `text`, trimmed.
fn after_prefix<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let text = text.trim_start();
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
        .map(|rest| rest.trim().trim_start_matches(':').trim())
}

/// Reads the reply of clish `show version all`.
///
/// Errors: [`ParseError::Clish`] for clish's refusals (Quantum Spark's `Bad parameter ...`);
/// [`ParseError::MissingField`] without a `Product version` line; [`ParseError::UnexpectedLine`]
/// when that line holds no version or `OS build` is not a number.
pub fn parse_show_version_all(input: &str) -> Result<GaiaVersion, ParseError> {
    let lines = reply_lines(input)?;
    let mut product = None;
    let mut os_build = None;
    let mut kernel = None;
    let mut edition = None;
    for line in &lines {
        let text = line.text;
        if let Some(value) = after_prefix(text, "Product version") {
            let words: Vec<&str> = value.split_whitespace().collect();
            let (at, version) = find_version(&words).ok_or_else(|| line.unexpected())?;
            let name = words.get(..at).unwrap_or_default().join(" ");
            product = Some((name, version));
        } else if let Some(value) = after_prefix(text, "OS build") {
            os_build = Some(value.parse::<u32>().map_err(|_| line.unexpected())?);
        } else if let Some(value) = after_prefix(text, "OS kernel version") {
            kernel = Some(value.to_string());
        } else if let Some(value) = after_prefix(text, "OS edition") {
            edition = Some(value.to_string());
        }
    }
    let (product, version) = product.ok_or(ParseError::MissingField("`Product version` line"))?;
    Ok(GaiaVersion {
        product,
        version,
        os_build,
        kernel,
        edition,
    })
}

/// The hotfix list of `cpinfo -y all`, by section.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct CpinfoHotfixes {
    /// The `[SECTION]`s in the order printed.
    pub sections: Vec<CpinfoSection>,
}

/// One `[SECTION]` of `cpinfo -y all` (`FW1`, `CPUpdates`, `MGMT` …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CpinfoSection {
    /// The name inside the brackets.
    pub name: String,
    /// Its hotfixes; empty for `No hotfixes..`.
    pub hotfixes: Vec<CpinfoHotfix>,
}

/// One hotfix row of `cpinfo -y all`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CpinfoHotfix {
    /// The hotfix name (`HOTFIX_R81_20_JUMBO_HF_MAIN`).
    pub name: String,
    /// The `Take:` number, when printed.
    pub take: Option<u32>,
}

impl CpinfoHotfixes {
    /// The installed Jumbo take: the highest `Take:` on a row whose name holds `_JUMBO_HF`
    /// (case-insensitive). `None` when no Jumbo row carries a take (R77.30 prints none).
    pub fn jumbo_take(&self) -> Option<u32> {
        self.sections
            .iter()
            .flat_map(|s| &s.hotfixes)
            .filter(|h| contains_ignore_case(&h.name, "_JUMBO_HF"))
            .filter_map(|h| h.take)
            .max()
    }
}

/// Reads the reply of `cpinfo -y all`.
///
/// Errors: [`ParseError::MissingField`] without any `[SECTION]`; [`ParseError::UnexpectedLine`]
/// for a `Take:` that is not followed by a number. Lines before the first section (`This is Check
/// Point CPinfo Build ...`, the `Hotfix versions` banner) are skipped; a row's first word is the
/// hotfix name.
pub fn parse_cpinfo_hotfixes(input: &str) -> Result<CpinfoHotfixes, ParseError> {
    let lines = reply_lines(input)?;
    let mut sections: Vec<CpinfoSection> = Vec::new();
    for line in &lines {
        let text = line.text.trim();
        if let Some(name) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
            sections.push(CpinfoSection {
                name: name.trim().to_string(),
                hotfixes: Vec::new(),
            });
            continue;
        }
        let Some(section) = sections.last_mut() else {
            continue;
        };
        if text.to_ascii_lowercase().starts_with("no hotfixes") {
            continue;
        }
        let words: Vec<&str> = text.split_whitespace().collect();
        let Some(name) = words.first() else {
            continue;
        };
        let take = match words.iter().position(|w| w.eq_ignore_ascii_case("take:")) {
            Some(at) => Some(
                words
                    .get(at + 1)
                    .and_then(|w| w.parse::<u32>().ok())
                    .ok_or_else(|| line.unexpected())?,
            ),
            None => None,
        };
        section.hotfixes.push(CpinfoHotfix {
            name: (*name).to_string(),
            take,
        });
    }
    if sections.is_empty() {
        return Err(ParseError::MissingField("`[SECTION]` heading"));
    }
    Ok(CpinfoHotfixes { sections })
}

/// The installed Jumbo take from the reply of `cpinfo -y all`: see
/// [`CpinfoHotfixes::jumbo_take`].
pub fn parse_jumbo_take(input: &str) -> Result<Option<u32>, ParseError> {
    parse_cpinfo_hotfixes(input).map(|h| h.jumbo_take())
}
