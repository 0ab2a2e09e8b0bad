//! Helpers the format readers use on the tree: attributes, booleans, leaf text, refusals.

use std::path::Path;

use super::{Attribute, Element, Node, Pos, Problem, is_xml_space};

/// The trimmed text of a leaf element with its position (`None` when blank), and the comments
/// inside it.
pub(crate) type LeafContent = (Option<(String, Pos)>, Vec<String>);

/// The text content of a leaf element (trimmed; `None` when blank) and the comments inside it.
/// Child elements are refused.
pub(crate) fn leaf_content(element: &Element) -> std::result::Result<LeafContent, Problem> {
    let mut text: Option<(String, Pos)> = None;
    let mut comments = Vec::new();
    for child in &element.children {
        match child {
            Node::Element(inner) => {
                return Err(Problem::new(
                    inner.pos,
                    format!(
                        "unexpected element <{}> inside <{}>",
                        inner.name, element.name
                    ),
                ));
            }
            Node::Comment { text, .. } => comments.push(text.clone()),
            Node::Text { text: t, pos } => match &mut text {
                Some((s, _)) => s.push_str(t),
                None => text = Some((t.clone(), *pos)),
            },
        }
    }
    let text = text.and_then(|(t, pos)| {
        let trimmed = t.trim_matches(is_xml_space);
        let leading = t.len() - t.trim_start_matches(is_xml_space).len();
        let pos = advance(pos, t.get(..leading).unwrap_or(""));
        (!trimmed.is_empty()).then(|| (trimmed.to_owned(), pos))
    });
    Ok((text, comments))
}

/// The position just after `passed`, a prefix of the text that starts at `pos`. (Text is
/// already line-end normalised, so `\n` is the only line break.)
fn advance(pos: Pos, passed: &str) -> Pos {
    passed.chars().fold(pos, |p, c| match c {
        '\n' => Pos {
            line: p.line.saturating_add(1),
            column: 1,
        },
        _ => Pos {
            line: p.line,
            column: p.column.saturating_add(1),
        },
    })
}

/// Checks that `root` is the document element `name`, with no attributes and no text.
pub(crate) fn expect_root(root: &Element, name: &str) -> std::result::Result<(), Problem> {
    if root.name != name {
        return Err(Problem::new(
            root.pos,
            format!("the root element must be <{name}>, not <{}>", root.name),
        ));
    }
    refuse_unknown_attributes(root, &[])?;
    refuse_text(root)
}

/// Refuses non-blank text among the children of a container element.
pub(crate) fn refuse_text(element: &Element) -> std::result::Result<(), Problem> {
    for child in &element.children {
        if let Node::Text { text, pos } = child
            && let Some(i) = text.find(|c| !is_xml_space(c))
        {
            return Err(Problem::new(
                advance(*pos, text.get(..i).unwrap_or("")),
                format!("text is not allowed inside <{}>", element.name),
            ));
        }
    }
    Ok(())
}

/// Refuses any attribute of `element` not in `allowed`, at the first unknown one.
pub(crate) fn refuse_unknown_attributes(
    element: &Element,
    allowed: &[&str],
) -> std::result::Result<(), Problem> {
    match element
        .attributes
        .iter()
        .find(|a| !allowed.contains(&a.name.as_str()))
    {
        Some(a) => Err(Problem::new(
            a.pos,
            format!("unknown attribute {:?} on <{}>", a.name, element.name),
        )),
        None => Ok(()),
    }
}

/// The attribute called `name`, if present.
pub(crate) fn attribute<'e>(element: &'e Element, name: &str) -> Option<&'e Attribute> {
    element.attributes.iter().find(|a| a.name == name)
}

/// Parses `true`/`false` (case-insensitive) in attribute `attribute`.
pub(crate) fn parse_bool(attribute: &Attribute) -> std::result::Result<bool, Problem> {
    if attribute.value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if attribute.value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(Problem::new(
            attribute.pos,
            format!(
                "{} must be \"true\" or \"false\", not {:?}",
                attribute.name, attribute.value
            ),
        ))
    }
}

/// Whether `path` is absolute (starts with `/`, or is absolute on this platform).
pub(crate) fn is_absolute_path(path: &str) -> bool {
    path.starts_with('/') || Path::new(path).is_absolute()
}
