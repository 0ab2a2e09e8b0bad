//! Strict XML reading and safe XML writing, shared by the primary configuration and the
//! deployment plan.
//!
//! The reader runs over `quick-xml` and builds a small tree of elements, text and comments, each
//! with its 1-based line and column (column in characters). It is stricter than `quick-xml`:
//! it refuses any DOCTYPE (so no DTD, no entity declarations, no entity expansion bombs), any
//! entity reference other than the five predefined ones and numeric character references,
//! processing instructions other than the XML declaration, characters XML 1.0 does not allow,
//! invalid names, duplicate or badly separated attributes, text or elements outside the root and
//! nesting deeper than [`MAX_DEPTH`]. Every refusal is an [`Error::Xml`] with a location; no input
//! makes it panic.
//!
//! The writer helpers escape attribute values (including tab, newline and carriage return, which
//! XML would otherwise normalise to spaces) and never emit a malformed comment.

use std::ops::Range;
use std::path::Path;

use quick_xml::events::attributes::AttrError;
use quick_xml::events::{BytesStart, Event};
use quick_xml::reader::Reader;

use crate::error::{Diagnostic, Error, Location, Result};

mod access;
mod write;

pub(crate) use access::{
    attribute, expect_root, is_absolute_path, leaf_content, parse_bool, refuse_text,
    refuse_unknown_attributes,
};
pub(crate) use write::{XmlWriter, check_chars, check_comment, escape_attribute};

/// How deep elements may nest. CDT's files are three levels deep; the cap keeps recursion over
/// the tree (and its drop) bounded for hostile input.
pub(crate) const MAX_DEPTH: usize = 64;

/// A 1-based line and column (in characters) in the source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub(crate) line: u32,
    pub(crate) column: u32,
}

impl Pos {
    /// This position as a [`Location`] in `path`.
    pub(crate) fn location(self, path: Option<&Path>) -> Location {
        Location::new(path, self.line, Some(self.column))
    }
}

/// An attribute with its decoded, normalised value and the position of its name.
#[derive(Debug, Clone)]
pub(crate) struct Attribute {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) pos: Pos,
}

/// An element, its attributes in document order, its children and its byte span in the source.
#[derive(Debug, Clone)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) pos: Pos,
    pub(crate) attributes: Vec<Attribute>,
    pub(crate) children: Vec<Node>,
    pub(crate) span: Range<usize>,
}

/// A child of an element. Adjacent text, character data and references are merged into one
/// `Text` node.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Element(Element),
    Text { text: String, pos: Pos },
    Comment { text: String },
}

/// A whole document: comments before the root, the root, comments after it.
#[derive(Debug, Clone)]
pub(crate) struct Document {
    pub(crate) before_root: Vec<String>,
    pub(crate) root: Element,
    pub(crate) after_root: Vec<String>,
}

/// A problem found by a format reader at a position; the reader turns it into its own error kind.
#[derive(Debug, Clone)]
pub(crate) struct Problem {
    pub(crate) pos: Pos,
    pub(crate) message: String,
}

impl Problem {
    pub(crate) fn new(pos: Pos, message: impl Into<String>) -> Self {
        Problem {
            pos,
            message: message.into(),
        }
    }
}

/// Whether XML 1.0 allows `c` anywhere in a document.
pub(crate) fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn is_name_start_char(c: char) -> bool {
    matches!(c, ':' | 'A'..='Z' | '_' | 'a'..='z' | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}'
        | '\u{F8}'..='\u{2FF}' | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}'
        | '\u{200C}'..='\u{200D}' | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}'
        | '\u{3001}'..='\u{D7FF}' | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}'
        | '\u{10000}'..='\u{EFFFF}')
}

fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c, '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}

/// Whether `name` matches XML's `Name` production.
pub(crate) fn is_xml_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(is_name_start_char) && chars.all(is_name_char)
}

fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\r')
}

/// The Unicode name of a character for messages: `'x'` when printable, `U+000A` otherwise.
pub(crate) fn describe_char(c: char) -> String {
    if c.is_control() || c.is_whitespace() && c != ' ' {
        format!("U+{:04X}", u32::from(c))
    } else {
        format!("'{c}'")
    }
}

/// Turns byte offsets into line and column, walking forward from the last answer so that a
/// long single-line input stays linear.
struct Positions<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
    last: (usize, usize, u32),
}

impl<'a> Positions<'a> {
    fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Positions {
            text,
            line_starts,
            last: (0, 0, 1),
        }
    }

    fn pos(&mut self, offset: usize) -> Pos {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line_index = self
            .line_starts
            .partition_point(|&s| s <= offset)
            .saturating_sub(1);
        let line_start = self.line_starts.get(line_index).copied().unwrap_or(0);
        let (last_offset, last_line, last_column) = self.last;
        let column = if last_line == line_index && last_offset <= offset {
            let extra = self
                .text
                .get(last_offset..offset)
                .map_or(0, |s| s.chars().count());
            last_column.saturating_add(u32::try_from(extra).unwrap_or(u32::MAX))
        } else {
            let count = self
                .text
                .get(line_start..offset)
                .map_or(0, |s| s.chars().count());
            u32::try_from(count).unwrap_or(u32::MAX).saturating_add(1)
        };
        self.last = (offset, line_index, column);
        Pos {
            line: u32::try_from(line_index + 1).unwrap_or(u32::MAX),
            column,
        }
    }
}

/// `text` without a leading UTF-8 byte order mark. Callers strip it before
/// [`parse_document`], so that element spans index the text they hold.
pub(crate) fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

/// Parses `text` into a [`Document`], refusing everything the module documentation lists.
/// Element spans are byte ranges of `text`.
pub(crate) fn parse_document(text: &str, path: Option<&Path>) -> Result<Document> {
    let mut parser = Parser {
        text,
        path,
        positions: Positions::new(text),
        stack: Vec::new(),
        root: None,
        before_root: Vec::new(),
        after_root: Vec::new(),
    };
    parser.run()?;
    match parser.root {
        Some(root) => Ok(Document {
            before_root: parser.before_root,
            root,
            after_root: parser.after_root,
        }),
        None => Err(parser.error(text.len(), "no root element")),
    }
}

struct Parser<'a> {
    text: &'a str,
    path: Option<&'a Path>,
    positions: Positions<'a>,
    stack: Vec<Element>,
    root: Option<Element>,
    before_root: Vec<String>,
    after_root: Vec<String>,
}

impl<'a> Parser<'a> {
    fn error(&mut self, offset: usize, message: impl Into<String>) -> Error {
        let pos = self.positions.pos(offset);
        Error::Xml(Diagnostic::new(pos.location(self.path), message))
    }

    /// The byte offset of `part` in the source, when it is a slice of it.
    fn offset_of(&self, part: &str) -> Option<usize> {
        let offset = (part.as_ptr() as usize).checked_sub(self.text.as_ptr() as usize)?;
        (offset + part.len() <= self.text.len()).then_some(offset)
    }

    fn check_chars(&mut self) -> Result<()> {
        if let Some((offset, c)) = self.text.char_indices().find(|&(_, c)| !is_xml_char(c)) {
            return Err(self.error(
                offset,
                format!("character {} is not allowed in XML", describe_char(c)),
            ));
        }
        Ok(())
    }

    fn run(&mut self) -> Result<()> {
        self.check_chars()?;
        let text = self.text;
        let mut reader = Reader::from_str(text);
        let config = reader.config_mut();
        config.check_comments = true;
        config.check_end_names = true;
        config.allow_dangling_amp = false;
        config.allow_unmatched_ends = false;
        config.expand_empty_elements = false;
        config.trim_text(false);
        loop {
            let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            if text
                .get(start..)
                .and_then(|rest| rest.get(..9))
                .is_some_and(|head| head.eq_ignore_ascii_case("<!DOCTYPE"))
            {
                return Err(self.error(start, DOCTYPE_REFUSED));
            }
            let event = match reader.read_event() {
                Ok(event) => event,
                Err(e) => {
                    let at = usize::try_from(reader.error_position()).unwrap_or(start);
                    return Err(self.quick_xml_error(at, &e));
                }
            };
            let end = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
            match event {
                Event::Eof => break,
                Event::Decl(decl) => {
                    if start != 0 {
                        return Err(self.error(
                            start,
                            "the XML declaration must be at the very start of the file",
                        ));
                    }
                    let version = decl.version().map(|v| v.into_owned());
                    if !matches!(version.as_deref(), Ok("1.0")) {
                        return Err(self.error(start, "only XML version 1.0 is supported"));
                    }
                    // Text reaches us as UTF-8. Another declared encoding is harmless when the
                    // file is pure ASCII (every ASCII-compatible encoding reads it the same).
                    if let Some(encoding) = decl.encoding() {
                        let utf8 = encoding.is_ok_and(|e| {
                            e.eq_ignore_ascii_case("utf-8") || e.eq_ignore_ascii_case("utf8")
                        });
                        if !utf8 && !text.is_ascii() {
                            return Err(self.error(
                                start,
                                "the file declares an encoding other than UTF-8 and has \
                                 non-ASCII characters: save it as UTF-8",
                            ));
                        }
                    }
                }
                Event::PI(pi) => {
                    let message =
                        format!("processing instruction <?{}?> is not allowed", pi.target());
                    return Err(self.error(start, message));
                }
                Event::DocType(_) => return Err(self.error(start, DOCTYPE_REFUSED)),
                Event::Start(e) => {
                    let element = self.start_element(&e, start, end)?;
                    self.stack.push(element);
                }
                Event::Empty(e) => {
                    let element = self.start_element(&e, start, end)?;
                    self.close(element, start)?;
                }
                Event::End(e) => {
                    let Some(mut element) = self.stack.pop() else {
                        return Err(self.error(start, "end tag without a start tag"));
                    };
                    if e.name().0 != element.name {
                        let message =
                            format!("expected </{}>, found </{}>", element.name, e.name().0);
                        return Err(self.error(start, message));
                    }
                    element.span.end = end;
                    self.close(element, start)?;
                }
                Event::Text(t) => {
                    let content = t.xml10_content();
                    if let Some(i) = content.find("]]>") {
                        return Err(self.error(start + i, "\"]]>\" is not allowed in text"));
                    }
                    self.text_content(&content, start)?;
                }
                Event::CData(c) => {
                    let content = c.xml10_content().into_owned();
                    if self.stack.is_empty() {
                        return Err(self.error(start, "CDATA outside the root element"));
                    }
                    self.text_content(&content, start)?;
                }
                Event::GeneralRef(r) => {
                    let resolved = match resolve_reference(&r) {
                        Ok(s) => s,
                        Err(message) => return Err(self.error(start, message)),
                    };
                    if self.stack.is_empty() {
                        return Err(self.error(start, "text outside the root element"));
                    }
                    self.text_content(&resolved, start)?;
                }
                Event::Comment(c) => {
                    let content = c.xml10_content().into_owned();
                    if let Err(message) = check_comment(&content) {
                        return Err(self.error(start, message));
                    }
                    match self.stack.last_mut() {
                        Some(parent) => parent.children.push(Node::Comment { text: content }),
                        None if self.root.is_none() => self.before_root.push(content),
                        None => self.after_root.push(content),
                    }
                }
            }
        }
        if let Some(open) = self.stack.pop() {
            let message = format!("element <{}> is not closed", open.name);
            return Err(Error::Xml(Diagnostic::new(
                open.pos.location(self.path),
                message,
            )));
        }
        Ok(())
    }

    fn quick_xml_error(&mut self, at: usize, e: &quick_xml::Error) -> Error {
        use quick_xml::errors::IllFormedError;
        match e {
            quick_xml::Error::IllFormed(IllFormedError::MissingEndTag(_)) => {
                if let Some(open) = self.stack.last() {
                    let message = format!("element <{}> is not closed", open.name);
                    return Error::Xml(Diagnostic::new(open.pos.location(self.path), message));
                }
                self.error(at, format!("malformed XML: {e}"))
            }
            quick_xml::Error::IllFormed(IllFormedError::MismatchedEndTag { expected, found }) => {
                self.error(at, format!("expected </{expected}>, found </{found}>"))
            }
            quick_xml::Error::IllFormed(IllFormedError::UnmatchedEndTag(found)) => {
                self.error(at, format!("end tag </{found}> has no start tag"))
            }
            quick_xml::Error::IllFormed(IllFormedError::DoubleHyphenInComment) => {
                self.error(at, "\"--\" is not allowed inside a comment")
            }
            quick_xml::Error::IllFormed(IllFormedError::UnclosedReference) => self.error(
                at,
                "a bare '&' is not allowed: write &amp; (or end the reference with ';')",
            ),
            _ => self.error(at, format!("malformed XML: {e}")),
        }
    }

    /// Appends text (already decoded) to the open element, or refuses non-blank text outside
    /// the root.
    fn text_content(&mut self, content: &str, start: usize) -> Result<()> {
        let pos = self.positions.pos(start);
        let Some(parent) = self.stack.last_mut() else {
            if let Some(i) = content.find(|c| !is_xml_space(c)) {
                let where_ = if self.root.is_some() {
                    "after the root element"
                } else {
                    "before the root element"
                };
                return Err(self.error(start + i, format!("text is not allowed {where_}")));
            }
            return Ok(());
        };
        if let Some(Node::Text { text, .. }) = parent.children.last_mut() {
            text.push_str(content);
        } else {
            parent.children.push(Node::Text {
                text: content.to_owned(),
                pos,
            });
        }
        Ok(())
    }

    /// Attaches a finished element to its parent, or makes it the root.
    fn close(&mut self, element: Element, start: usize) -> Result<()> {
        match self.stack.last_mut() {
            Some(parent) => parent.children.push(Node::Element(element)),
            None if self.root.is_none() => self.root = Some(element),
            None => {
                return Err(self.error(
                    start,
                    "content after the root element (only one root is allowed)",
                ));
            }
        }
        Ok(())
    }

    fn start_element(&mut self, e: &BytesStart<'_>, start: usize, end: usize) -> Result<Element> {
        if self.stack.is_empty() && self.root.is_some() {
            return Err(self.error(
                start,
                "content after the root element (only one root is allowed)",
            ));
        }
        if self.stack.len() >= MAX_DEPTH {
            return Err(self.error(
                start,
                format!("elements are nested deeper than {MAX_DEPTH} levels"),
            ));
        }
        let name = e.name().0.to_owned();
        if !is_xml_name(&name) {
            return Err(self.error(start + 1, format!("invalid element name {name:?}")));
        }
        let pos = self.positions.pos(start);
        let mut attributes: Vec<Attribute> = Vec::new();
        let mut iter = e.attributes();
        iter.with_checks(true);
        for attr in iter {
            let attr = match attr {
                Ok(attr) => attr,
                Err(ae) => return Err(self.attr_error(start + 1, &ae)),
            };
            let key = attr.key.0;
            let key_offset = self.offset_of(key).unwrap_or(start);
            if !is_xml_name(key) {
                return Err(self.error(key_offset, format!("invalid attribute name {key:?}")));
            }
            let raw: &str = &attr.value;
            let value = match self.offset_of(raw) {
                Some(value_offset) => {
                    // XML requires white space between attributes: look past the closing quote.
                    let after = value_offset + raw.len() + 1;
                    let next = self.text.get(after..).and_then(|s| s.chars().next());
                    if next.is_some_and(|c| !(is_xml_space(c) || c == '/' || c == '>')) {
                        return Err(
                            self.error(after, "attributes must be separated by white space")
                        );
                    }
                    decode_attribute_value(raw)
                        .map_err(|(i, message)| self.error(value_offset + i, message))?
                }
                None => decode_attribute_value(raw).map_err(|(_, m)| self.error(key_offset, m))?,
            };
            let pos = self.positions.pos(key_offset);
            attributes.push(Attribute {
                name: key.to_owned(),
                value,
                pos,
            });
        }
        Ok(Element {
            name,
            pos,
            attributes,
            children: Vec::new(),
            span: start..end,
        })
    }

    fn attr_error(&mut self, content_start: usize, e: &AttrError) -> Error {
        let (at, message) = match *e {
            AttrError::ExpectedEq(p) => (p, "expected '=' after the attribute name".to_owned()),
            AttrError::ExpectedValue(p) => (p, "expected a value after '='".to_owned()),
            AttrError::UnquotedValue(p) => (p, "attribute values must be quoted".to_owned()),
            AttrError::ExpectedQuote(p, _) => (p, "attribute value is not closed".to_owned()),
            AttrError::Duplicated(p, previous) => {
                let name: String = self
                    .text
                    .get(content_start + p..)
                    .unwrap_or("")
                    .chars()
                    .take_while(|&c| c != '=' && !is_xml_space(c))
                    .collect();
                let first = self.positions.pos(content_start + previous);
                (
                    p,
                    format!(
                        "attribute {name:?} given twice (first at line {}, column {})",
                        first.line, first.column
                    ),
                )
            }
        };
        self.error(content_start + at, message)
    }
}

const DOCTYPE_REFUSED: &str =
    "DOCTYPE declarations are not allowed (no DTD, no entity declarations)";

/// Resolves the name of a reference (`amp`, `#65`, `#x41`) to its text.
fn resolve_reference(name: &str) -> std::result::Result<String, String> {
    let simple = match name {
        "lt" => Some('<'),
        "gt" => Some('>'),
        "amp" => Some('&'),
        "apos" => Some('\''),
        "quot" => Some('"'),
        _ => None,
    };
    if let Some(c) = simple {
        return Ok(c.to_string());
    }
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix('x') {
            Some(hex) if !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
                u32::from_str_radix(hex, 16).ok()
            }
            None if !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()) => {
                number.parse::<u32>().ok()
            }
            _ => return Err(format!("malformed character reference &{name};")),
        };
        return match code.and_then(char::from_u32) {
            Some(c) if is_xml_char(c) => Ok(c.to_string()),
            _ => Err(format!(
                "character reference &{name}; is not a character XML allows"
            )),
        };
    }
    Err(format!(
        "undefined entity reference &{name}; (only &lt; &gt; &amp; &apos; &quot; and numeric \
         character references are allowed)"
    ))
}

/// Decodes a raw attribute value: resolves references, normalises white space characters to
/// spaces (as XML requires) and refuses `<`. Errors carry the byte offset in `raw`.
fn decode_attribute_value(raw: &str) -> std::result::Result<String, (usize, String)> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '<' => {
                return Err((
                    i,
                    "'<' is not allowed in an attribute value: write &lt;".into(),
                ));
            }
            '&' => {
                let rest = raw.get(i + 1..).unwrap_or("");
                let Some(semicolon) = rest.find(';').filter(|&n| n <= 32) else {
                    return Err((
                        i,
                        "a bare '&' is not allowed: write &amp; (or end the reference with ';')"
                            .into(),
                    ));
                };
                let name = rest.get(..semicolon).unwrap_or("");
                out.push_str(&resolve_reference(name).map_err(|m| (i, m))?);
                while chars.next_if(|&(j, _)| j <= i + semicolon + 1).is_some() {}
            }
            '\r' => {
                chars.next_if(|&(_, c)| c == '\n');
                out.push(' ');
            }
            '\n' | '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::write::{escape_attribute, sanitize_comment};
    use super::*;

    fn err(text: &str) -> (u32, u32, String) {
        match parse_document(text, None) {
            Err(Error::Xml(d)) => (d.location.line, d.location.column.unwrap_or(0), d.message),
            other => panic!("expected an XML error, got {other:?}"),
        }
    }

    #[test]
    fn elements_attributes_and_comments_are_located() {
        let doc = parse_document(
            "<?xml version=\"1.0\"?>\n<!-- a -->\n<r>\n  <é x=\"1 &amp; 2\"  yy='&#x41;'/>\n</r>",
            None,
        )
        .unwrap();
        assert_eq!(doc.before_root, vec![" a ".to_owned()]);
        assert_eq!(doc.root.pos, Pos { line: 3, column: 1 });
        let Node::Element(child) = &doc.root.children[1] else {
            panic!()
        };
        assert_eq!(child.pos, Pos { line: 4, column: 3 });
        assert_eq!(child.attributes[0].value, "1 & 2");
        assert_eq!(
            child.attributes[1].pos,
            Pos {
                line: 4,
                column: 21
            }
        );
        assert_eq!(child.attributes[1].value, "A");
    }

    #[test]
    fn strictness() {
        assert_eq!(err("<r><a></b></r>").0, 1);
        assert!(err("<r a=\"1\" a=\"2\"/>").2.contains("given twice"));
        assert_eq!(err("<r a=\"1\" a=\"2\"/>").1, 10);
        assert!(err("<r/><s/>").2.contains("after the root"));
        assert!(err("").2.contains("no root"));
        assert!(err("<r>&foo;</r>").2.contains("undefined entity"));
        assert_eq!(err("<r x=\"a&foo;\"/>").1, 8);
        assert!(err("<r><?php x?></r>").2.contains("processing instruction"));
        assert!(
            parse_document("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r/>", None).is_ok()
        );
        assert!(
            err("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><r>é</r>")
                .2
                .contains("UTF-8")
        );
        assert!(err(" <?xml version=\"1.0\"?><r/>").2.contains("very start"));
        assert!(err("<?xml version=\"1.1\"?><r/>").2.contains("1.0"));
        assert!(
            err("<!DOCTYPE r [<!ENTITY a \"b\">]><r/>")
                .2
                .contains("DOCTYPE")
        );
        assert!(err("<r a=\"1\"b=\"2\"/>").2.contains("separated"));
        assert!(err("<r a=\"<\"/>").2.contains("'<'"));
        assert!(err("<r><!-- a -- b --></r>").2.contains("--"));
        assert!(err("<r>\u{1}</r>").2.contains("U+0001"));
        assert!(err("<r><a>").2.contains("not closed"));
        assert!(err("x<r/>").2.contains("before the root"));
        assert!(err("<r>a & b</r>").2.contains("bare"));
        assert!(err("<1r/>").2.contains("invalid element name"));
        let deep = "<a>".repeat(MAX_DEPTH + 1);
        assert!(err(&deep).2.contains("nested"));
    }

    #[test]
    fn attribute_values_round_trip_through_escaping() {
        let value = "a&b<c>\"d' \t\n\r é";
        let doc = parse_document(&format!("<r v=\"{}\"/>", escape_attribute(value)), None).unwrap();
        assert_eq!(doc.root.attributes[0].value, value);
    }

    #[test]
    fn comments_are_sanitized() {
        assert_eq!(sanitize_comment("a--b-"), "a- -b- ");
        assert!(check_comment(&sanitize_comment("---x---")).is_ok());
        assert_eq!(sanitize_comment(" ok "), " ok ");
    }
}
