//! Writing XML safely: escaping attribute values, checking and sanitising comments, and a
//! canonical document writer.

use std::fmt::Write as _;

use super::{describe_char, is_xml_char};

/// Checks that `text` can be written inside `<!-- -->` as is.
pub(crate) fn check_comment(text: &str) -> std::result::Result<(), String> {
    if text.contains("--") {
        return Err("\"--\" is not allowed inside a comment".into());
    }
    if text.ends_with('-') {
        return Err("a comment must not end with '-'".into());
    }
    check_chars(text)
}

/// Checks that every character of `text` can be written to XML.
pub(crate) fn check_chars(text: &str) -> std::result::Result<(), String> {
    match text.chars().find(|&c| !is_xml_char(c)) {
        Some(c) => Err(format!(
            "character {} cannot be written to XML",
            describe_char(c)
        )),
        None => Ok(()),
    }
}

/// Escapes `value` for a double-quoted attribute. Tab, newline and carriage return become
/// character references so they survive XML's attribute normalisation; characters XML cannot
/// represent at all become U+FFFD (callers validate first, so this only guards well-formedness).
pub(crate) fn escape_attribute(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if is_xml_char(c) => out.push(c),
            _ => out.push('\u{FFFD}'),
        }
    }
    out
}

/// Makes comment text safe to write: `--` becomes `- -`, a trailing `-` gets a space after it,
/// characters XML cannot represent become U+FFFD. Valid comment text is returned unchanged.
pub(crate) fn sanitize_comment(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if is_xml_char(c) { c } else { '\u{FFFD}' };
        if c == '-' && out.ends_with('-') {
            out.push(' ');
        }
        out.push(c);
    }
    if out.ends_with('-') {
        out.push(' ');
    }
    out
}

/// Builds a canonical XML document: declaration, 4-space indentation, one element per line.
pub(crate) struct XmlWriter {
    out: String,
}

impl XmlWriter {
    /// A writer with the XML declaration already written.
    pub(crate) fn new() -> Self {
        XmlWriter {
            out: String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"),
        }
    }

    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str("    ");
        }
    }

    /// Writes each comment on its own line at `depth`.
    pub(crate) fn comments(&mut self, depth: usize, comments: &[String]) {
        for comment in comments {
            self.indent(depth);
            self.out.push_str("<!--");
            self.out.push_str(&sanitize_comment(comment));
            self.out.push_str("-->\n");
        }
    }

    fn tag(&mut self, depth: usize, name: &str, attributes: &[(&str, &str)], close: &str) {
        self.indent(depth);
        self.out.push('<');
        self.out.push_str(name);
        for (key, value) in attributes {
            let _ = write!(self.out, " {key}=\"{}\"", escape_attribute(value));
        }
        self.out.push_str(close);
        self.out.push('\n');
    }

    /// Writes `<name a="v" .../>`.
    pub(crate) fn empty(&mut self, depth: usize, name: &str, attributes: &[(&str, &str)]) {
        self.tag(depth, name, attributes, "/>");
    }

    /// Writes `<name a="v" ...>`.
    pub(crate) fn start(&mut self, depth: usize, name: &str, attributes: &[(&str, &str)]) {
        self.tag(depth, name, attributes, ">");
    }

    /// Writes `</name>`.
    pub(crate) fn end(&mut self, depth: usize, name: &str) {
        self.indent(depth);
        let _ = writeln!(self.out, "</{name}>");
    }

    /// Writes already well-formed XML (an element kept verbatim) at `depth`.
    pub(crate) fn raw(&mut self, depth: usize, xml: &str) {
        self.indent(depth);
        self.out.push_str(xml);
        self.out.push('\n');
    }

    /// The finished document.
    pub(crate) fn finish(self) -> String {
        self.out
    }
}
