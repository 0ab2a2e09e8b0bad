//! Reading the primary configuration from the XML tree, with located problems.

use std::path::{Path, PathBuf};

use super::{
    BatchEndTime, DebugSettings, LogLevel, Logging, PackageToInstall, PrimaryConfig, ROOT,
    UnknownElement, UnknownLogLevel, UserScript,
};
use crate::formats::xml::{self, Attribute, Element, Node, Pos, Problem};

/// Reads an absolute path from an attribute value or element text at `pos`.
fn path_at(name: &str, value: &str, pos: Pos) -> std::result::Result<PathBuf, Problem> {
    if xml::is_absolute_path(value) {
        Ok(PathBuf::from(value))
    } else {
        Err(Problem::new(
            pos,
            format!("{name} must be an absolute path, not {value:?}"),
        ))
    }
}

pub(super) struct ConfigReader<'t> {
    pub(super) text: &'t str,
    pub(super) path: Option<&'t Path>,
    /// Single-valued elements seen so far, with where.
    pub(super) seen: Vec<(&'static str, Pos)>,
}

type Read<T> = std::result::Result<T, Problem>;

impl ConfigReader<'_> {
    pub(super) fn read_root(&mut self, root: &Element, config: &mut PrimaryConfig) -> Read<()> {
        xml::expect_root(root, ROOT)?;
        let mut pending = Vec::new();
        for child in &root.children {
            match child {
                Node::Comment { text, .. } => pending.push(text.clone()),
                Node::Text { .. } => {}
                Node::Element(el) => self.read_element(el, std::mem::take(&mut pending), config)?,
            }
        }
        config.comments.end_of_root = pending;
        Ok(())
    }

    /// Refuses a second occurrence of a single-valued element.
    fn once(&mut self, name: &'static str, el: &Element) -> Read<()> {
        if let Some((_, first)) = self.seen.iter().find(|(n, _)| *n == name) {
            return Err(Problem::new(
                el.pos,
                format!(
                    "<{name}> given twice (first at line {}, column {})",
                    first.line, first.column
                ),
            ));
        }
        self.seen.push((name, el.pos));
        Ok(())
    }

    fn read_element(
        &mut self,
        el: &Element,
        mut comments: Vec<String>,
        config: &mut PrimaryConfig,
    ) -> Read<()> {
        match el.name.as_str() {
            "PackageToInstall" => {
                self.once("PackageToInstall", el)?;
                xml::refuse_unknown_attributes(
                    el,
                    &["Path", "ConnectivityUpgrade", "connectivityupgrade"],
                )?;
                comments.extend(no_text(el)?);
                let path = xml::attribute(el, "Path").ok_or_else(|| {
                    Problem::new(el.pos, "<PackageToInstall> needs a Path attribute")
                })?;
                let path = path_at("Path", &path.value, path.pos)?;
                let connectivity_upgrade =
                    match one_of(el, &["ConnectivityUpgrade", "connectivityupgrade"])? {
                        Some(a) => Some(xml::parse_bool(a)?),
                        None => None,
                    };
                config.package_to_install = Some(PackageToInstall {
                    path,
                    connectivity_upgrade,
                    comments,
                });
            }
            "CPUSE" => {
                self.once("CPUSE", el)?;
                xml::refuse_unknown_attributes(el, &["Path", "value"])?;
                let (path, inner) = path_of(el)?;
                comments.extend(inner);
                config.cpuse = Some(path);
                config.cpuse_comments = comments;
            }
            "PreInstallationScript" | "PostInstallationScript" => {
                xml::refuse_unknown_attributes(el, &["Path", "value", "IsBlocking"])?;
                let (path, inner) = path_of(el)?;
                comments.extend(inner);
                let is_blocking = match xml::attribute(el, "IsBlocking") {
                    Some(a) => xml::parse_bool(a)?,
                    None => true,
                };
                let script = UserScript {
                    path,
                    is_blocking,
                    comments,
                };
                if el.name == "PreInstallationScript" {
                    config.pre_installation_scripts.push(script);
                } else {
                    config.post_installation_scripts.push(script);
                }
            }
            "Logging" => {
                self.once("Logging", el)?;
                xml::refuse_unknown_attributes(
                    el,
                    &["FileLevel", "ScreenLevel", "SyslogLevel", "Colors"],
                )?;
                comments.extend(no_text(el)?);
                config.logging = Some(Logging {
                    file_level: level(el, "FileLevel")?,
                    screen_level: level(el, "ScreenLevel")?,
                    syslog_level: level(el, "SyslogLevel")?,
                    colors: xml::attribute(el, "Colors")
                        .map(xml::parse_bool)
                        .transpose()?,
                    comments,
                });
            }
            "Debug" => {
                self.once("Debug", el)?;
                xml::refuse_unknown_attributes(el, &["CUSyncForVRRP"])?;
                comments.extend(no_text(el)?);
                let cu_sync_for_vrrp = xml::attribute(el, "CUSyncForVRRP")
                    .map(xml::parse_bool)
                    .transpose()?
                    .unwrap_or(false);
                config.debug = Some(DebugSettings {
                    cu_sync_for_vrrp,
                    comments,
                });
            }
            "BatchEndTime" => {
                self.once("BatchEndTime", el)?;
                xml::refuse_unknown_attributes(el, &["value"])?;
                comments.extend(no_text(el)?);
                let value = xml::attribute(el, "value").ok_or_else(|| {
                    Problem::new(el.pos, "<BatchEndTime> needs a value attribute")
                })?;
                let mut end =
                    BatchEndTime::parse(&value.value).map_err(|m| Problem::new(value.pos, m))?;
                end.comments = comments;
                config.batch_end_time = Some(end);
            }
            _ => config.unknown_elements.push(UnknownElement {
                name: el.name.clone(),
                location: el.pos.location(self.path),
                raw_xml: self
                    .text
                    .get(el.span.clone())
                    .unwrap_or_default()
                    .to_owned(),
                comments,
            }),
        }
        Ok(())
    }
}

/// The comments inside a leaf element that must not hold text.
fn no_text(el: &Element) -> Read<Vec<String>> {
    match xml::leaf_content(el)? {
        (Some((_, pos)), _) => Err(Problem::new(
            pos,
            format!("text is not allowed inside <{}>", el.name),
        )),
        (None, comments) => Ok(comments),
    }
}

/// The one attribute present among `names` (spellings of the same setting), refusing two.
fn one_of<'e>(el: &'e Element, names: &[&str]) -> Read<Option<&'e Attribute>> {
    let mut found = el
        .attributes
        .iter()
        .filter(|a| names.contains(&a.name.as_str()));
    let first = found.next();
    if let Some(second) = found.next() {
        return Err(Problem::new(
            second.pos,
            format!(
                "{} given twice (as {} and {})",
                names.first().copied().unwrap_or_default(),
                first.map_or("", |a| &a.name),
                second.name
            ),
        ));
    }
    Ok(first)
}

/// The path of CPUSE or a script: a `Path` attribute, a `value` attribute or the element text,
/// exactly one of them; and the comments inside the element.
fn path_of(el: &Element) -> Read<(PathBuf, Vec<String>)> {
    let (text, comments) = xml::leaf_content(el)?;
    let mut sources: Vec<(&str, &str, Pos)> = Vec::new();
    for name in ["Path", "value"] {
        if let Some(a) = xml::attribute(el, name) {
            sources.push((name, &a.value, a.pos));
        }
    }
    if let Some((t, pos)) = &text {
        sources.push(("text", t, *pos));
    }
    sources.sort_by_key(|&(_, _, pos)| (pos.line, pos.column));
    match sources.as_slice() {
        [] => Err(Problem::new(
            el.pos,
            format!("<{}> needs a path (a Path attribute)", el.name),
        )),
        [(name, value, pos)] => Ok((path_at(name, value, *pos)?, comments)),
        [_, (_, _, pos), ..] => Err(Problem::new(
            *pos,
            format!(
                "the path of <{}> is given more than one way (Path attribute, value attribute, \
                 element text): give it once",
                el.name
            ),
        )),
    }
}

fn level(el: &Element, name: &str) -> Read<Option<LogLevel>> {
    xml::attribute(el, name)
        .map(|a| {
            a.value
                .parse()
                .map_err(|e: UnknownLogLevel| Problem::new(a.pos, format!("{name}: {e}")))
        })
        .transpose()
}
