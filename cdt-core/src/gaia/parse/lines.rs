//! Shared line handling: what a terminal session adds around a reply is removed here once, so
//! every parser sees only the reply's own lines, each with its 1-based line number in the input.

use super::clish::is_prompt_line;
use super::{MAX_QUOTED_CHARS, ParseError};

/// One line of a reply, without its line end, with its 1-based number in the input.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Line<'a> {
    /// 1-based line number in the input as given.
    pub(crate) number: usize,
    /// The text, line end and bell characters removed, trailing whitespace trimmed, leading
    /// whitespace kept.
    pub(crate) text: &'a str,
}

impl Line<'_> {
    /// The error for this line.
    pub(crate) fn unexpected(&self) -> ParseError {
        ParseError::unexpected(self.number, self.text)
    }
}

/// Cuts `text` to [`MAX_QUOTED_CHARS`] characters, marking a cut with `…`, and replaces control
/// characters (escape sequences, bells, NULs) with `?` so a quoted reply cannot drive the
/// terminal that shows the error.
pub(crate) fn excerpt(text: &str) -> String {
    let mut out: String = text
        .chars()
        .take(MAX_QUOTED_CHARS)
        .map(|c| if c.is_control() && c != '\t' { '?' } else { c })
        .collect();
    if text.chars().nth(MAX_QUOTED_CHARS).is_some() {
        out.push('…');
    }
    out
}

/// Each physical line of `input` (split on `\n`), with `\r` and bell characters removed from
/// both ends and trailing whitespace trimmed.
pub(crate) fn physical_lines(input: &str) -> impl Iterator<Item = Line<'_>> {
    input.split('\n').enumerate().map(|(i, raw)| Line {
        number: i + 1,
        text: trim_line(raw),
    })
}

/// `raw` without `\r` and bell characters at both ends, then without trailing whitespace.
fn trim_line(raw: &str) -> &str {
    let ends = |b: &u8| *b == b'\r' || *b == 7;
    let bytes = raw.as_bytes();
    let start = bytes.iter().take_while(|b| ends(b)).count();
    let end = bytes.len() - bytes.iter().rev().take_while(|b| ends(b)).count();
    // Both cuts are next to ASCII bytes: on character boundaries.
    let text = raw.get(start..end.max(start)).unwrap_or_default();
    match text.as_bytes().last() {
        Some(b) if b.is_ascii() && !is_space(*b) => text,
        _ => text.trim_end(),
    }
}

/// Whether an ASCII byte is whitespace as [`char::is_whitespace`] says (which, unlike
/// [`u8::is_ascii_whitespace`], counts the vertical tab).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r')
}

/// The content lines of a reply as [`reply_lines`] gives them: the lines of a usual reply
/// (`cphaprob state` has about twenty) kept inline.
pub(crate) type Lines<'a> = smallvec::SmallVec<[Line<'a>; 24]>;

/// The content lines of a text reply (without blank lines, prompt lines with or without an
/// echoed command, `watch` header lines and syslog broadcast messages), or the error the reply
/// itself says: [`ParseError::Empty`] when nothing is left, [`ParseError::Clish`] when clish
/// refused the command (as [`clish_error`](super::clish::clish_error) finds it).
pub(crate) fn reply_lines(input: &str) -> Result<Lines<'_>, ParseError> {
    // One pass: clish's error (looked for on every line that is not a prompt, as
    // [`clish_error`] does) and the content lines.
    let bad_parameter = input.contains(super::clish::BAD_PARAMETER);
    let mut out = Lines::new();
    let mut after_syslog_banner = false;
    for line in physical_lines(input) {
        let follows_banner = std::mem::take(&mut after_syslog_banner);
        if is_prompt_line(line.text) {
            continue;
        }
        if let Some(error) = super::clish::error_of_line(line.text.trim(), bad_parameter) {
            return Err(ParseError::Clish(error));
        }
        if line.text.trim().is_empty() {
            continue;
        }
        if follows_banner && is_syslog_message(line.text) {
            continue;
        }
        if is_syslog_banner(line.text) {
            after_syslog_banner = true;
            continue;
        }
        if is_watch_header(line.text) {
            continue;
        }
        out.push(line);
    }
    if out.is_empty() {
        return Err(ParseError::Empty);
    }
    Ok(out)
}

/// `Message from syslogd@host at Mar 12 01:33:38 ...`: the first line of a syslog broadcast.
fn is_syslog_banner(text: &str) -> bool {
    text.trim_start().starts_with("Message from syslogd@")
}

/// The line under a syslog banner: ` <tag>:<message>`, indented, whose first word holds a colon
/// (`kernel:[fw4_0];CLUS-110305-1: ...`). A reply's own indented lines (`   Event Code: ...`)
/// have a space before their colon, so they are kept.
fn is_syslog_message(text: &str) -> bool {
    text.starts_with([' ', '\t'])
        && text
            .split_whitespace()
            .next()
            .is_some_and(|word| word.contains(':'))
}

/// `Every 2.0s: cphaprob state      gw-1: Fri May 15 11:46:39 2026`: the header `watch` prints.
fn is_watch_header(text: &str) -> bool {
    let Some(rest) = text.trim_start().strip_prefix("Every ") else {
        return false;
    };
    let digits = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .count();
    digits > 0 && rest.get(digits..).is_some_and(|r| r.starts_with("s:"))
}

/// The value of `Key: value` when `text` (leading whitespace ignored) starts with `key`
/// (ASCII case-insensitive), then optional spaces and a colon. The value is trimmed.
pub(crate) fn key_value<'a>(text: &'a str, key: &str) -> Option<&'a str> {
    let text = text.trim_start();
    let head = text.get(..key.len())?;
    if !head.eq_ignore_ascii_case(key) {
        return None;
    }
    let rest = text.get(key.len()..)?.trim_start();
    rest.strip_prefix(':').map(str::trim)
}

/// Whether `haystack` contains `needle`, ASCII case-insensitively.
pub(crate) fn contains_ignore_case(haystack: &str, needle: &str) -> bool {
    let (haystack, needle) = (haystack.as_bytes(), needle.as_bytes());
    let Some(&first) = needle.first() else {
        return true;
    };
    haystack
        .windows(needle.len())
        .any(|w| w[0].eq_ignore_ascii_case(&first) && w.eq_ignore_ascii_case(needle))
}

/// The fields of a row whose columns are separated by runs of two or more spaces or by tabs
/// (a single space belongs to a field: `Display name`). Fields are trimmed; none is empty.
pub(crate) fn split_columns(text: &str) -> Vec<(usize, &str)> {
    let mut fields = Vec::new();
    let mut start: Option<usize> = None;
    let mut end = 0;
    let mut spaces = 0;
    for (i, c) in text.char_indices() {
        if c == ' ' || c == '\t' {
            spaces += if c == '\t' { 2 } else { 1 };
            if spaces >= 2
                && let Some(s) = start.take()
            {
                fields.push((s, &text[s..end]));
            }
        } else {
            if start.is_none() {
                start = Some(i);
            }
            spaces = 0;
            end = i + c.len_utf8();
        }
    }
    if let Some(s) = start {
        fields.push((s, &text[s..end]));
    }
    fields
}

/// The whitespace-separated words of `text`, each with its byte offset.
pub(crate) fn words(text: &str) -> Words<'_> {
    Words {
        text,
        at: 0,
        ascii: text.is_ascii(),
    }
}

/// The iterator [`words`] returns.
#[derive(Debug, Clone)]
pub(crate) struct Words<'a> {
    text: &'a str,
    at: usize,
    /// Whether `text` is ASCII (its whitespace is then one of six bytes).
    ascii: bool,
}

impl<'a> Iterator for Words<'a> {
    type Item = (usize, &'a str);

    fn next(&mut self) -> Option<(usize, &'a str)> {
        let rest = self.text.get(self.at..)?;
        if !self.ascii {
            // Unicode whitespace: the general search.
            let start = self.at + rest.find(|c: char| !c.is_whitespace())?;
            let word = &self.text[start..];
            let len = word.find(char::is_whitespace).unwrap_or(word.len());
            self.at = start + len;
            return Some((start, &word[..len]));
        }
        let bytes = rest.as_bytes();
        let skip = bytes.iter().position(|b| !is_space(*b))?;
        let len = bytes
            .get(skip..)
            .unwrap_or_default()
            .iter()
            .position(|b| is_space(*b))
            .unwrap_or(bytes.len() - skip);
        let start = self.at + skip;
        self.at = start + len;
        self.text.get(start..start + len).map(|word| (start, word))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The plain definitions the fast ones must agree with.
    fn plain_words(text: &str) -> Vec<(usize, &str)> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(rest) = text.get(at..) {
            let Some(skip) = rest.find(|c: char| !c.is_whitespace()) else {
                break;
            };
            let start = at + skip;
            let word = &text[start..];
            let len = word.find(char::is_whitespace).unwrap_or(word.len());
            out.push((start, &word[..len]));
            at = start + len;
        }
        out
    }

    fn plain_trim(raw: &str) -> &str {
        raw.trim_matches(|c: char| c == '\r' || c == '\u{7}')
            .trim_end()
    }

    proptest! {
        #[test]
        fn words_are_the_whitespace_separated_words(
            text in "([ \t\u{b}\u{c}\r\n\u{a0}\u{2003}]{0,3}[a-zA-Z0-9/:\\[\\]é✓-]{0,6}){0,8}"
        ) {
            prop_assert_eq!(words(&text).collect::<Vec<_>>(), plain_words(&text));
        }

        #[test]
        fn lines_lose_carriage_returns_bells_and_trailing_whitespace(
            raw in "[\r\u{7} ]{0,3}[a-z \t\u{b}\u{a0}é]{0,8}[\r\u{7} \t\u{2003}]{0,3}"
        ) {
            prop_assert_eq!(trim_line(&raw), plain_trim(&raw));
        }
    }

    #[test]
    fn contains_ignore_case_matches_ascii_letters_in_any_case() {
        assert!(contains_ignore_case(
            "Installed: Check_Point_R81",
            "INSTALLED: check_point"
        ));
        assert!(contains_ignore_case("anything", ""));
        assert!(!contains_ignore_case("Install", "installed"));
        assert!(!contains_ignore_case("", "x"));
        assert!(contains_ignore_case("déjà Vu", "VU"));
    }

    #[test]
    fn columns_split_on_two_spaces_or_a_tab() {
        let cols: Vec<&str> = split_columns("  Display name   Type\tStatus  x y ")
            .into_iter()
            .map(|(_, f)| f)
            .collect();
        assert_eq!(cols, ["Display name", "Type", "Status", "x y"]);
    }

    #[test]
    fn excerpts_are_cut_on_character_boundaries() {
        let long = "é".repeat(300);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), MAX_QUOTED_CHARS + 1);
    }

    #[test]
    fn syslog_broadcasts_and_watch_headers_are_dropped() {
        let text = "Every 2.0s: cphaprob state   gw: now\n\u{7}Message from syslogd@gw at Mar 12 01:33:38 ...\r\n kernel:[fw4_0];CLUS-110305-1: State change\n\r   Event Code:   CLUS-1\n";
        let kept: Vec<&str> = reply_lines(text)
            .unwrap()
            .into_iter()
            .map(|l| l.text)
            .collect();
        assert_eq!(kept, ["   Event Code:   CLUS-1"]);
    }

    #[test]
    fn key_values_need_the_colon() {
        assert_eq!(
            key_value("  Cluster Mode:  HA ", "cluster mode"),
            Some("HA")
        );
        assert_eq!(key_value("Cluster Modes: HA", "cluster mode"), None);
        assert_eq!(key_value("Cluster", "cluster mode"), None);
    }
}
