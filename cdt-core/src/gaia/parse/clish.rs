//! clish error messages and the prompts of clish and the Expert shell.
//!
//! Format: REAL. The messages `CLINFR0329  Invalid command:'<command>'.` and
//! `CLINFR0519  Configuration lock present. ...` were printed by real machines (SOURCES §8);
//! `NMSHNM0679 ...` and Gaia Embedded's `Bad parameter starting at ...` are matched by Netshot's
//! production Gaia driver. Prompts follow Netshot's regexes: clish `^([A-Za-z\-_0-9\.:]+> )$`
//! (`gw-1> `, `gw-1:0> `) and Expert `^(\[Expert@[A-Za-z\-_0-9\.:]+\]# )$` (`[Expert@gw-1:0]# `,
//! `[Expert@gw-1]# `); a prompt followed by text on the same line is the echoed command.

use super::lines::{excerpt, physical_lines};

/// An error clish printed instead of running a command.
#[derive(Debug, Clone, PartialEq, Eq, Hash, thiserror::Error, serde::Serialize)]
#[non_exhaustive]
pub enum ClishError {
    /// `CLINFR0329  Invalid command:'<command>'.`: clish does not know the command (also what an
    /// Expert command sent to a clish shell gets).
    #[error("CLINFR0329 invalid command `{command}`")]
    InvalidCommand {
        /// The command clish quotes, cut to 200 characters.
        command: String,
    },
    /// `CLINFR0519  Configuration lock present.`: another session holds the configuration lock
    /// (`lock database override` takes it).
    #[error("CLINFR0519 the configuration lock is held by another session")]
    ConfigurationLocked,
    /// `Bad parameter starting at ...`: Gaia Embedded (Quantum Spark) refused a parameter.
    #[error("bad parameter: {detail}")]
    BadParameter {
        /// The line clish printed, cut to 200 characters.
        detail: String,
    },
    /// Any other coded clish error (`NMSHNM0679 ...`, `CLINFR0xxx ...`).
    #[error("{code} {message}")]
    Other {
        /// The code (six capital letters and four digits, `NMSHNM0679`).
        code: String,
        /// The text after the code, cut to 200 characters.
        message: String,
    },
}

/// The first clish error in `reply`, if clish refused the command.
///
/// A coded error is a line that starts (after leading blanks) with six capital letters and four
/// digits followed by a blank (`CLINFR0329  Invalid command:'uname'.`); an uncoded one holds
/// `Bad parameter starting at`. Prompt lines and echoed commands are not read.
///
/// ```
/// use cdt_core::gaia::parse::{clish_error, ClishError};
/// let reply = "gw-1> cpwd_admin list\nCLINFR0329  Invalid command:'cpwd_admin list'.\ngw-1> ";
/// assert_eq!(
///     clish_error(reply),
///     Some(ClishError::InvalidCommand { command: "cpwd_admin list".into() })
/// );
/// ```
pub fn clish_error(reply: &str) -> Option<ClishError> {
    // Looked for once in the whole reply rather than line by line.
    let bad_parameter = reply.contains(BAD_PARAMETER);
    physical_lines(reply)
        .filter(|line| !is_prompt_line(line.text))
        .find_map(|line| error_of_line(line.text.trim(), bad_parameter))
}

pub(super) const BAD_PARAMETER: &str = "Bad parameter starting at";

pub(super) fn error_of_line(text: &str, bad_parameter: bool) -> Option<ClishError> {
    if let Some((code, message)) = coded(text) {
        return Some(match code {
            "CLINFR0329" => ClishError::InvalidCommand {
                command: excerpt(invalid_command(message)),
            },
            "CLINFR0519" => ClishError::ConfigurationLocked,
            _ => ClishError::Other {
                code: code.to_string(),
                message: excerpt(message),
            },
        });
    }
    (bad_parameter && text.contains(BAD_PARAMETER)).then(|| ClishError::BadParameter {
        detail: excerpt(text),
    })
}

/// `CLINFR0329  Invalid command:'show foo'.` → (`CLINFR0329`, `Invalid command:'show foo'.`).
fn coded(text: &str) -> Option<(&str, &str)> {
    let bytes = text.as_bytes();
    let code_shape = bytes.len() >= 10
        && bytes.iter().take(6).all(u8::is_ascii_uppercase)
        && bytes.iter().skip(6).take(4).all(u8::is_ascii_digit);
    if !code_shape {
        return None;
    }
    let (code, rest) = text.split_at_checked(10)?;
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    Some((code, rest.trim()))
}

/// The command inside `Invalid command:'<command>'.`.
fn invalid_command(message: &str) -> &str {
    let after = match message.find(':') {
        Some(colon) => message.get(colon + 1..).unwrap_or_default(),
        None => message,
    };
    after
        .trim()
        .trim_end_matches('.')
        .trim_matches(|c| c == '\'' || c == '"')
}

/// Whether a line is a clish or Expert prompt, alone or followed by an echoed command.
pub(crate) fn is_prompt_line(text: &str) -> bool {
    prompt_len(text).is_some()
}

/// The length of the prompt at the start of `text` (`gw-1> `, `[Expert@gw-1:0]# `), if the line
/// starts with one.
fn prompt_len(text: &str) -> Option<usize> {
    let host_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
    let after_prompt = |end: usize| -> Option<usize> {
        let rest = text.get(end..)?;
        (rest.is_empty() || rest.starts_with(' ')).then_some(end)
    };
    if let Some(inner) = text.strip_prefix('[') {
        // [Expert@gw-1:0]# : a user, '@', a host, then "]#" ("]$" for a non-root user).
        let close = inner.find(']')?;
        let (user, host) = inner.get(..close)?.split_once('@')?;
        let user_ok = !user.is_empty() && user.chars().all(host_char);
        let host_ok = !host.is_empty() && host.chars().all(host_char);
        let sign = inner.get(close + 1..)?;
        if user_ok && host_ok && (sign.starts_with('#') || sign.starts_with('$')) {
            return after_prompt(close + 3);
        }
        return None;
    }
    let host_len: usize = text
        .chars()
        .take_while(|c| host_char(*c))
        .map(char::len_utf8)
        .sum();
    if host_len > 0 && text.get(host_len..)?.starts_with('>') {
        return after_prompt(host_len + 1);
    }
    None
}

/// `reply` without prompt lines: removes every line that is a clish prompt (`gw-1> `,
/// `gw-1:0> `) or an Expert prompt (`[Expert@gw-1:0]# `, `[Expert@gw-1]# `), alone or followed by
/// the echoed command. Line ends become `\n`; every other line is kept as it was.
///
/// ```
/// use cdt_core::gaia::parse::strip_prompts;
/// let reply = "[Expert@gw-1:0]# fw ver\r\nThis is Check Point's software version R81.20 - Build 012\r\n[Expert@gw-1:0]# ";
/// assert_eq!(strip_prompts(reply), "This is Check Point's software version R81.20 - Build 012");
/// ```
pub fn strip_prompts(reply: &str) -> String {
    let kept: Vec<&str> = reply
        .split('\n')
        .map(|line| line.trim_end_matches('\r'))
        .filter(|line| !is_prompt_line(line.trim_matches(|c| c == '\r' || c == '\u{7}')))
        .collect();
    kept.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_of_both_shells_are_recognised() {
        for prompt in [
            "gw-1> ",
            "gw-1>",
            "gw-1:0> show cluster state",
            "[Expert@gw-1:0]# ",
            "[Expert@gw-1]#",
            "[Expert@gw.example:3]# cphaprob state",
            "[admin@gw-1:0]$ ls",
        ] {
            assert!(is_prompt_line(prompt), "{prompt:?}");
        }
        for data in [
            "   State change:               INIT -> ACTIVE(!)",
            "[FW1]",
            "x>y",
            "<Not Applicable>",
            "APP        PID    STAT",
            "[Expert@]# ",
        ] {
            assert!(!is_prompt_line(data), "{data:?}");
        }
    }

    #[test]
    fn coded_errors_need_a_blank_after_the_code() {
        assert!(coded("CLINFR0519  Configuration lock present.").is_some());
        assert!(coded("HOTFIX_R81").is_none());
        assert!(coded("ABCDEF12345 x").is_none());
    }
}
