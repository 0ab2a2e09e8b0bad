//! Gaia at a terminal: what a gateway whose login shell is clish prints and expects, so a
//! transport can reach its Expert shell (and the simulated gateway can print the same). The
//! clish prompt (`HOST> `), `expert` and its password prompt, the Expert prompt
//! (`[Expert@HOST:0]# `), the marker a command's exit status is read from, and the base64
//! forms of a copy.
//!
//! ```
//! use cdt_core::gaia::terminal;
//! let screen = b"fw ver\r\nThis is Check Point's software\r\n[Expert@gw-1:0]# ";
//! assert_eq!(terminal::clean(screen), "fw ver\nThis is Check Point's software\n");
//! assert_eq!(terminal::expert_prompt_for("gw-1"), "[Expert@gw-1:0]# ");
//! ```

use super::quote::{self, QuoteError};

/// The clish command that enters the Expert shell.
pub const EXPERT: &str = "expert";

/// What a gateway prints when the Expert password is wrong.
pub const WRONG_PASSWORD: &str = "Wrong password";

/// The end of a heredoc carrying a copy.
pub const HEREDOC_END: &str = "__CDT_EOF__";

/// The clish prompt of `host`.
pub fn clish_prompt_for(host: &str) -> String {
    format!("{host}> ")
}

/// The Expert prompt of `host`.
pub fn expert_prompt_for(host: &str) -> String {
    format!("[Expert@{host}:0]# ")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Where the first clish prompt (`HOST> ` or `HOST:0> `) in `text` ends.
pub fn clish_prompt_end(text: &[u8]) -> Option<usize> {
    find(text, b"> ").map(|i| i + 2)
}

/// Where the first password prompt (`…password:`, any case) in `text` ends.
pub fn password_prompt_end(text: &[u8]) -> Option<usize> {
    find(&text.to_ascii_lowercase(), b"password:").map(|i| i + 9)
}

/// Where the first [`WRONG_PASSWORD`] in `text` ends.
pub fn wrong_password_end(text: &[u8]) -> Option<usize> {
    find(text, WRONG_PASSWORD.as_bytes()).map(|i| i + WRONG_PASSWORD.len())
}

/// The first Expert prompt in `text` at or after `from`: (start, end).
pub fn expert_prompt(text: &[u8], from: usize) -> Option<(usize, usize)> {
    let start = from + find(text.get(from..)?, b"[Expert@")?;
    let end = start + find(&text[start..], b"]# ")? + 3;
    Some((start, end))
}

/// `text` as a command printed it: without carriage returns and Expert prompts.
pub fn clean(text: &[u8]) -> String {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if let Some((start, end)) = expert_prompt(text, i) {
            out.extend(text[i..start].iter().filter(|&&b| b != b'\r'));
            i = end;
        } else {
            out.extend(text[i..].iter().filter(|&&b| b != b'\r'));
            break;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The marker the `n`-th command's exit status follows.
pub fn exit_marker(n: u64) -> String {
    format!("__CDT_EXIT_{n}_")
}

/// The line that prints `marker` followed by the last command's exit status.
pub fn echo_exit(marker: &str) -> String {
    format!("echo {marker}$?")
}

/// Where `marker` followed by an exit status and a line end stands in `text`: (the marker's
/// start, the end of the status). An echo of the line that prints it (`$?`, no digits) is
/// passed over.
pub fn find_exit(text: &[u8], marker: &str) -> Option<(usize, usize)> {
    let mut from = 0;
    while let Some(i) = find(&text[from..], marker.as_bytes()) {
        let at = from + i;
        let rest = &text[at + marker.len()..];
        let digits = rest.iter().take_while(|c| c.is_ascii_digit()).count();
        if digits > 0 && rest.get(digits).is_some_and(|c| *c == b'\r' || *c == b'\n') {
            return Some((at, at + marker.len() + digits));
        }
        from = at + marker.len();
    }
    None
}

/// In `text`, which ends with `marker` and an exit status (up to where [`find_exit`] said):
/// where the marker starts (the command's output ends) and the status.
pub fn exit_status(text: &[u8], marker: &str) -> Option<(usize, i32)> {
    let at = text
        .windows(marker.len())
        .rposition(|w| w == marker.as_bytes())?;
    let status = std::str::from_utf8(&text[at + marker.len()..])
        .ok()?
        .parse()
        .ok()?;
    Some((at, status))
}

/// `base64 -d > PATH <<'MARK'`: the lines after it, up to [`HEREDOC_END`], become `PATH`.
pub fn base64_store(path: &str) -> Result<String, QuoteError> {
    Ok(format!(
        "base64 -d > {} <<'{HEREDOC_END}'",
        quote::shell(path)?
    ))
}

/// `base64 PATH`: prints the file in base64.
pub fn base64_print(path: &str) -> Result<String, QuoteError> {
    quote::command("base64", [path])
}

/// The command that turns a new channel into a kept shell: the account's shell (bash, the
/// Expert shell, on Gaia), reading command lines from its standard input, without a terminal.
pub const KEPT_SHELL: &str = "exec \"${SHELL:-/bin/sh}\"";

/// The marker that ends the `n`-th command sent to a kept shell of a connection whose random
/// part is `nonce`.
pub fn kept_mark(nonce: u64, n: u64) -> String {
    format!("__CDT_DONE_{nonce:016x}_{n}_")
}

fn kept_suffix(mark: &str) -> String {
    format!(" ) </dev/null; printf '\\n%s%d\\n' {mark} \"$?\"; printf '\\n%s\\n' {mark} >&2")
}

/// The line a kept shell runs `command` from: in a subshell (its `cd`, variables and `exit`
/// stay its own), standard input from `/dev/null`, then a line end, `mark` and the exit status
/// on standard output, and a line end and `mark` on standard error.
pub fn kept_line(command: &str, mark: &str) -> Result<String, QuoteError> {
    Ok(format!(
        "( eval {}{}\n",
        quote::shell(command)?,
        kept_suffix(mark)
    ))
}

/// The command and the marker of a line made by [`kept_line`] (without its line end); `None`
/// for any other line.
pub fn parse_kept_line(line: &str) -> Option<(String, String)> {
    let rest = line.strip_suffix(" >&2")?;
    let mark = rest.rsplit(' ').next()?;
    if !mark.starts_with("__CDT_DONE_") {
        return None;
    }
    let suffix = kept_suffix(mark);
    let quoted = rest
        .strip_suffix(suffix.strip_suffix(" >&2")?)?
        .strip_prefix("( eval ")?;
    let mut words = quote::split(quoted).ok()?;
    (words.len() == 1).then(|| (words.remove(0), mark.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_shell_line_gives_back_its_command_and_marker() {
        let mark = kept_mark(0xfeed, 3);
        for command in ["fw ver", "echo 'it''s' \"a|b\" ) >&2", "", "a\nb"] {
            let line = kept_line(command, &mark).unwrap();
            assert!(line.ends_with(" >&2\n"), "{line}");
            assert_eq!(
                parse_kept_line(line.trim_end_matches('\n')),
                Some((command.to_string(), mark.clone())),
                "{line}"
            );
        }
        assert_eq!(parse_kept_line("fw ver"), None);
        assert_eq!(parse_kept_line("( eval x ) >&2"), None);
    }

    #[test]
    fn the_exit_status_follows_the_printed_marker_not_its_echo() {
        let marker = exit_marker(7);
        let screen = format!(
            "{}\r\n{marker}$?\r\nout\r\n{marker}3\r\n",
            echo_exit(&marker)
        );
        let (at, end) = find_exit(screen.as_bytes(), &marker).unwrap();
        assert_eq!(
            exit_status(&screen.as_bytes()[..end], &marker),
            Some((at, 3))
        );
        assert_eq!(find_exit(b"__CDT_EXIT_7_$?\r\n", &marker), None);
    }

    #[test]
    fn prompts_are_found_where_gaia_prints_them() {
        assert_eq!(clish_prompt_end(b"\r\ngw-1> "), Some(8));
        assert_eq!(password_prompt_end(b"Enter expert password:\r\n"), Some(22));
        assert_eq!(wrong_password_end(b"\r\nWrong password.\r\n"), Some(16));
        let p = expert_prompt_for("gw-1");
        assert_eq!(expert_prompt(p.as_bytes(), 0), Some((0, p.len())));
        assert_eq!(expert_prompt(b"no prompt", 3), None);
    }

    #[test]
    fn copies_quote_their_path() {
        assert_eq!(
            base64_store("/var/tmp/a b").unwrap(),
            "base64 -d > '/var/tmp/a b' <<'__CDT_EOF__'"
        );
        assert_eq!(base64_print("/var/tmp/x").unwrap(), "base64 /var/tmp/x");
    }
}
