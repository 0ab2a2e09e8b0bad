//! The one audited quoting function for every shell argument the engine sends, its inverse,
//! and the stricter check for words passed inside clish commands.
//!
//! Every command the engine sends to a gateway runs in the Expert shell (`/bin/sh` semantics).
//! Any argument that comes from a file, a plan, an inventory or a user goes through
//! [`shell`]: it is wrapped in single quotes, inside which the shell interprets nothing, and a
//! single quote in the argument is written as `'\''` (an argument made only of characters the
//! shell never interprets is left bare). NUL cannot be passed through a shell at all and is
//! refused.
//!
//! Clish has its own parser, with no documented quoting; words passed inside a clish command
//! (`clish -c "installer import local <path> not-interactive"`) are therefore restricted by
//! [`clish_word`] to characters clish takes literally.
//!
//! ```
//! use cdt_core::gaia::quote;
//! assert_eq!(quote::shell("it's").unwrap(), r"'it'\''s'");
//! assert_eq!(quote::split("sha256sum '/var/log/upload/a b.tgz'").unwrap(),
//!            ["sha256sum", "/var/log/upload/a b.tgz"]);
//! assert!(quote::clish_word("/var/log/upload/Check_Point_R81_20_T89.tgz").is_ok());
//! assert!(quote::clish_word("a;reboot").is_err());
//! ```

use std::fmt;

/// An argument that cannot be passed safely.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuoteError {
    /// NUL cannot travel through a shell command line.
    #[error("argument contains a NUL character")]
    Nul,
    /// A word for clish holds a character clish might interpret.
    #[error(
        "{word:?} cannot be passed to clish: character {ch:?} is not allowed (letters, digits and . _ - / + : @ , = only)"
    )]
    ClishCharacter {
        /// The word.
        word: String,
        /// The first character refused.
        ch: char,
    },
    /// An empty word cannot be passed to clish.
    #[error("an empty word cannot be passed to clish")]
    ClishEmpty,
    /// A command line given to [`split`] is not well formed.
    #[error("unterminated {0} in a command line")]
    Unterminated(&'static str),
}

/// Quotes one argument for `/bin/sh`: `'…'`, with each `'` written as `'\''`; an argument
/// made only of characters the shell always takes literally (letters, digits and
/// `. _ - / : = @ + ,`) is left as it is, for readable command lines.
pub fn shell(arg: &str) -> Result<String, QuoteError> {
    let mut out = String::with_capacity(arg.len() + 2);
    push_shell(&mut out, arg)?;
    Ok(out)
}

/// [`shell`], appended to `out` (which is left as it was when the argument is refused).
fn push_shell(out: &mut String, arg: &str) -> Result<(), QuoteError> {
    if arg.contains('\0') {
        return Err(QuoteError::Nul);
    }
    if !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-/:=@+,".contains(&b))
    {
        out.push_str(arg);
        return Ok(());
    }
    out.reserve(arg.len() + 2);
    out.push('\'');
    for (i, part) in arg.split('\'').enumerate() {
        if i > 0 {
            out.push_str("'\\''");
        }
        out.push_str(part);
    }
    out.push('\'');
    Ok(())
}

/// Joins a program and its arguments into one shell command line, quoting every argument.
pub fn command<I, S>(program: &str, args: I) -> Result<String, QuoteError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut line = String::with_capacity(program.len() + 64);
    line.push_str(program);
    for arg in args {
        line.push(' ');
        push_shell(&mut line, arg.as_ref())?;
    }
    Ok(line)
}

/// Checks a word passed inside a clish command: letters, digits and `. _ - / + : @ , =` only.
pub fn clish_word(word: &str) -> Result<&str, QuoteError> {
    if word.is_empty() {
        return Err(QuoteError::ClishEmpty);
    }
    match word
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-/+:@,=".contains(*c)))
    {
        Some(ch) => Err(QuoteError::ClishCharacter {
            word: word.to_string(),
            ch,
        }),
        None => Ok(word),
    }
}

/// Splits a command line the way `/bin/sh` splits words, for the quoting [`shell`] produces and
/// the common forms (double quotes with `\` escapes, backslash escapes). Used by the simulated
/// gateway, and to test [`shell`]. Expansions (`$`, globs) are not performed: they are taken
/// literally.
pub fn split(line: &str) -> Result<Vec<String>, QuoteError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(QuoteError::Unterminated("single quote")),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => word.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                word.push('\\');
                                word.push(c);
                            }
                            None => return Err(QuoteError::Unterminated("double quote")),
                        },
                        Some(c) => word.push(c),
                        None => return Err(QuoteError::Unterminated("double quote")),
                    }
                }
            }
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(c) => {
                    in_word = true;
                    word.push(c);
                }
                None => return Err(QuoteError::Unterminated("escape")),
            },
            c if c == ' ' || c == '\t' || c == '\n' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The words of a command line as [`split_borrowed`] gives them: up to eight kept inline.
pub(crate) type Words<'a> = smallvec::SmallVec<[std::borrow::Cow<'a, str>; 8]>;

/// [`split`] without copying: a line with no quote or escape character splits into slices of
/// itself. The simulated gateway splits every command it receives with this.
pub(crate) fn split_borrowed(line: &str) -> Result<Words<'_>, QuoteError> {
    use std::borrow::Cow;
    let blank = |b: u8| matches!(b, b' ' | b'\t' | b'\n');
    let bytes = line.as_bytes();
    let mut words = Words::new();
    let mut at = 0;
    loop {
        while bytes.get(at).copied().is_some_and(blank) {
            at += 1;
        }
        if at >= bytes.len() {
            return Ok(words);
        }
        // A bare word, or one wholly inside single quotes, is a slice of the line; anything
        // else (double quotes, escapes, quotes inside a word) splits the rest the long way.
        let (word, end) = if bytes[at] == b'\'' {
            match line[at + 1..].find('\'') {
                Some(close) => (&line[at + 1..at + 1 + close], at + close + 2),
                None => ("", usize::MAX),
            }
        } else {
            // Byte by byte: every character looked for is ASCII, and UTF-8 never puts an
            // ASCII byte inside another character.
            let end = bytes[at..]
                .iter()
                .position(|&b| matches!(b, b' ' | b'\t' | b'\n' | b'\'' | b'"' | b'\\'))
                .map_or(bytes.len(), |e| at + e);
            (&line[at..end], end)
        };
        if end != usize::MAX && bytes.get(end).is_none_or(|&b| blank(b)) {
            words.push(Cow::Borrowed(word));
            at = end;
            continue;
        }
        words.extend(split(&line[at..])?.into_iter().map(Cow::Owned));
        return Ok(words);
    }
}

/// A command line made printable for logs and events: control characters are escaped, so a
/// line cannot forge log lines or terminal sequences.
pub struct Printable<'a>(pub &'a str);

impl fmt::Display for Printable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "\\u{{{:x}}}", u32::from(c))?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_single_quote_is_closed_escaped_and_reopened() {
        assert_eq!(shell("a'b").unwrap(), r"'a'\''b'");
        assert_eq!(shell("").unwrap(), "''");
    }

    #[test]
    fn shell_metacharacters_stay_inert_inside_single_quotes() {
        let nasty = "$(reboot); `id` | rm -rf / & \\ \"x\" *?";
        assert_eq!(split(&shell(nasty).unwrap()).unwrap(), [nasty]);
    }

    #[test]
    fn nul_is_refused() {
        assert_eq!(shell("a\0b"), Err(QuoteError::Nul));
    }

    #[test]
    fn clish_words_are_limited_to_literal_characters() {
        for bad in ["a b", "a;b", "a\"b", "a'b", "a$b", "a|b", "a\nb", ""] {
            assert!(clish_word(bad).is_err(), "{bad:?}");
        }
        assert!(clish_word("/var/log/upload/Check_Point_R82_T777.tgz").is_ok());
    }

    #[test]
    fn split_reads_double_quotes_and_escapes() {
        assert_eq!(
            split(r#"clish -c "show version all" a\ b"#).unwrap(),
            ["clish", "-c", "show version all", "a b"]
        );
        assert!(split("'open").is_err());
        assert!(split("\"open").is_err());
    }

    #[test]
    fn printable_escapes_control_characters() {
        assert_eq!(Printable("a\nb").to_string(), "a\\u{a}b");
    }

    proptest! {
        #[test]
        fn split_inverts_command_for_any_arguments(args in prop::collection::vec("[^\0]{0,12}", 0..6)) {
            let line = command("prog", &args).unwrap();
            let words = split(&line).unwrap();
            prop_assert_eq!(&words[0], "prog");
            prop_assert_eq!(&words[1..], &args[..]);
        }

        #[test]
        fn split_never_panics(line in "(?s).{0,64}") {
            let _ = split(&line);
        }

        #[test]
        fn split_borrowed_splits_exactly_as_split(line in "[a-zé→ '\"\\\\\t\n-]{0,40}") {
            let borrowed = split_borrowed(&line)
                .map(|w| w.into_iter().map(|w| w.into_owned()).collect::<Vec<_>>());
            prop_assert_eq!(borrowed, split(&line));
        }
    }
}
