//! The primary configuration, `CentralDeploymentTool.xml` (SPEC 2.1): what Basic Mode installs,
//! the CPUSE agent, user scripts, logging, debug switches and the batch cut-off time.
//!
//! Reading is strict: the root must be `<CentralDeploymentTool>` (**Decision**: CDT's files use
//! that name), element and attribute names are case-sensitive (except `ConnectivityUpgrade`,
//! also accepted as `connectivityupgrade`), an unknown attribute on a known element, a known
//! single-valued element given twice, a boolean other than `true`/`false` (any case) or a
//! relative path is a located [`Error::Config`]. Unknown *elements* are kept verbatim and
//! reported by [`PrimaryConfig::warnings`]; [`PrimaryConfig::check_for_execute`] refuses them
//! unless allowed, so a misspelled safety setting is never silently ignored.
//!
//! Writing is canonical: XML declaration, 4-space indentation, one element per line, elements in
//! the order `PackageToInstall`, `CPUSE`, `PreInstallationScript`s, `PostInstallationScript`s,
//! `Logging`, `Debug`, `BatchEndTime`, then unknown elements (verbatim), attributes in the order
//! each struct lists its fields, paths always as a `Path` attribute. Operator comments are kept
//! with the element that follows them and written back before it.
//!
//! ```
//! use cdt_core::formats::config::{Mode, PrimaryConfig};
//!
//! let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
//! <CentralDeploymentTool>
//!     <!-- the Jumbo to install -->
//!     <PackageToInstall Path="/home/admin/jhf.tar" ConnectivityUpgrade="false"/>
//!     <CPUSE value="/home/admin/cpuse.tgz"/>
//! </CentralDeploymentTool>"#;
//! let config = PrimaryConfig::parse(xml, None)?;
//! assert_eq!(config.mode(), Mode::Basic);
//! assert!(!config.connectivity_upgrade());
//! let written = config.to_xml();
//! assert!(written.contains("<!-- the Jumbo to install -->"));
//! assert!(written.contains(r#"<CPUSE Path="/home/admin/cpuse.tgz"/>"#));
//! assert_eq!(PrimaryConfig::parse(&written, None)?, config);
//! # Ok::<(), cdt_core::Error>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use super::xml::{self, XmlWriter};
use crate::error::{Diagnostic, Error, Location, Result};
use crate::input::{DEFAULT_INPUT_CAP, check_text_cap, read_text_capped, write_atomic};

mod batch_end_time;
mod read;

pub use batch_end_time::BatchEndTime;

const ROOT: &str = "CentralDeploymentTool";

/// A logging level of CDT, from most to least verbose. Parsed case-insensitively, written in
/// upper case (`DEBUG`, `NORMAL`, `ERROR`, `ALWAYS`); also the level of a plan's `log` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LogLevel {
    /// Everything, for troubleshooting.
    Debug,
    /// Normal progress messages.
    Normal,
    /// Errors only.
    Error,
    /// Messages that are always shown.
    Always,
}

impl LogLevel {
    /// The level as CDT writes it: `DEBUG`, `NORMAL`, `ERROR` or `ALWAYS`.
    pub fn as_str(self) -> &'static str {
        match self {
            LogLevel::Debug => "DEBUG",
            LogLevel::Normal => "NORMAL",
            LogLevel::Error => "ERROR",
            LogLevel::Always => "ALWAYS",
        }
    }
}

impl fmt::Display for LogLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the four log levels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown log level {0:?} (expected DEBUG, NORMAL, ERROR or ALWAYS)")]
pub struct UnknownLogLevel(pub String);

impl FromStr for LogLevel {
    type Err = UnknownLogLevel;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        [
            LogLevel::Debug,
            LogLevel::Normal,
            LogLevel::Error,
            LogLevel::Always,
        ]
        .into_iter()
        .find(|level| level.as_str().eq_ignore_ascii_case(s))
        .ok_or_else(|| UnknownLogLevel(s.to_owned()))
    }
}

impl serde::Serialize for LogLevel {
    fn serialize<S: serde::Serializer>(
        &self,
        serializer: S,
    ) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for LogLevel {
    fn deserialize<D: serde::Deserializer<'de>>(
        deserializer: D,
    ) -> std::result::Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// How CDT runs, chosen by the configuration (SPEC 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    /// A package (or a pre-installation script) is configured: generate, preparations, install.
    Basic,
    /// No package: the run follows a deployment plan.
    Advanced,
}

/// `<PackageToInstall Path="..." ConnectivityUpgrade="..."/>`: the CPUSE offline package that
/// Basic Mode installs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PackageToInstall {
    /// Absolute path of the package on the orchestrator.
    pub path: PathBuf,
    /// Whether to use Connectivity Upgrade on clusters; `None` when not given (default true).
    pub connectivity_upgrade: Option<bool>,
    /// Operator comments written just before the element.
    pub comments: Vec<String>,
}

/// A pre- or post-installation user script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserScript {
    /// Absolute path of the script on the orchestrator.
    pub path: PathBuf,
    /// Whether a failing script fails its target. **Decision**: `IsBlocking` defaults to true
    /// (the safe choice: a failed preparation stops the target).
    pub is_blocking: bool,
    /// Operator comments written just before the element.
    pub comments: Vec<String>,
}

impl UserScript {
    /// A blocking script at `path`, without comments.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        UserScript {
            path: path.into(),
            is_blocking: true,
            comments: Vec::new(),
        }
    }
}

/// `<Logging FileLevel=".." ScreenLevel=".." SyslogLevel=".." Colors=".."/>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Logging {
    /// Level of the log file.
    pub file_level: Option<LogLevel>,
    /// Level of the screen output.
    pub screen_level: Option<LogLevel>,
    /// Level of messages sent to syslog.
    pub syslog_level: Option<LogLevel>,
    /// Coloured screen output on or off.
    pub colors: Option<bool>,
    /// Operator comments written just before the element.
    pub comments: Vec<String>,
}

/// `<Debug CUSyncForVRRP="true"/>`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DebugSettings {
    /// Allow Connectivity Upgrade on VRRP clusters going to R77.30/R80.20 (default false).
    pub cu_sync_for_vrrp: bool,
    /// Operator comments written just before the element.
    pub comments: Vec<String>,
}

/// An element this library does not know, kept verbatim so that writing the configuration back
/// does not lose it. Only parsing creates one, so its XML is always well-formed.
#[derive(Debug, Clone)]
pub struct UnknownElement {
    name: String,
    location: Location,
    raw_xml: String,
    /// Operator comments written just before the element.
    pub comments: Vec<String>,
}

impl UnknownElement {
    /// The element's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where the element starts in the file it was read from.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The element exactly as written, from `<` to the end of its end tag.
    pub fn raw_xml(&self) -> &str {
        &self.raw_xml
    }
}

/// Equality ignores the location, so a parse of a written configuration equals the original.
impl PartialEq for UnknownElement {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.raw_xml == other.raw_xml && self.comments == other.comments
    }
}

impl Eq for UnknownElement {}

/// Comments of a document that belong to no element: before the root, at the end of the root
/// (after its last child) and after the root.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DocumentComments {
    /// Comments before the root element.
    pub before_root: Vec<String>,
    /// Comments after the root's last child, before its end tag.
    pub end_of_root: Vec<String>,
    /// Comments after the root element.
    pub after_root: Vec<String>,
}

/// The primary configuration (`CentralDeploymentTool.xml`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrimaryConfig {
    /// The package Basic Mode installs; its presence selects Basic Mode.
    pub package_to_install: Option<PackageToInstall>,
    /// The CPUSE agent package pushed to targets before other actions.
    pub cpuse: Option<PathBuf>,
    /// Comments written before `<CPUSE>`.
    pub cpuse_comments: Vec<String>,
    /// Scripts run before installing, in file order; one selects Basic Mode.
    pub pre_installation_scripts: Vec<UserScript>,
    /// Scripts run after installing, in file order.
    pub post_installation_scripts: Vec<UserScript>,
    /// Logging levels and colours.
    pub logging: Option<Logging>,
    /// Debug switches.
    pub debug: Option<DebugSettings>,
    /// No new batch starts after this instant.
    pub batch_end_time: Option<BatchEndTime>,
    /// Elements not known to this library, in file order.
    pub unknown_elements: Vec<UnknownElement>,
    /// Comments outside every element.
    pub comments: DocumentComments,
}

impl PrimaryConfig {
    /// Parses a configuration from `text`; `path` only names the file in error locations.
    pub fn parse(text: &str, path: Option<&Path>) -> Result<PrimaryConfig> {
        check_text_cap(path, text, DEFAULT_INPUT_CAP)?;
        let text = xml::strip_bom(text);
        let doc = xml::parse_document(text, path)?;
        let mut config = PrimaryConfig {
            comments: DocumentComments {
                before_root: doc.before_root,
                after_root: doc.after_root,
                end_of_root: Vec::new(),
            },
            ..PrimaryConfig::default()
        };
        read::ConfigReader {
            text,
            path,
            seen: Vec::new(),
        }
        .read_root(&doc.root, &mut config)
        .map_err(|p| Error::Config(Diagnostic::new(p.pos.location(path), p.message)))?;
        Ok(config)
    }

    /// Reads and parses the configuration file at `path` (at most 16 MiB).
    pub fn load(path: &Path) -> Result<PrimaryConfig> {
        let text = read_text_capped(path, DEFAULT_INPUT_CAP)?;
        PrimaryConfig::parse(&text, Some(path))
    }

    /// The configuration as canonical XML. Values that XML cannot hold (see [`Self::validate`])
    /// are written with U+FFFD in place of the offending characters and `--` in comments as
    /// `- -`, so the output is always well-formed; [`Self::save`] refuses such values instead.
    pub fn to_xml(&self) -> String {
        let mut w = XmlWriter::new();
        w.comments(0, &self.comments.before_root);
        w.start(0, ROOT, &[]);
        if let Some(p) = &self.package_to_install {
            w.comments(1, &p.comments);
            let path = p.path.to_string_lossy();
            let mut attrs = vec![("Path", &*path)];
            if let Some(cu) = p.connectivity_upgrade {
                attrs.push(("ConnectivityUpgrade", bool_str(cu)));
            }
            w.empty(1, "PackageToInstall", &attrs);
        }
        w.comments(1, &self.cpuse_comments);
        if let Some(cpuse) = &self.cpuse {
            w.empty(1, "CPUSE", &[("Path", &cpuse.to_string_lossy())]);
        }
        for (name, scripts) in [
            ("PreInstallationScript", &self.pre_installation_scripts),
            ("PostInstallationScript", &self.post_installation_scripts),
        ] {
            for script in scripts {
                w.comments(1, &script.comments);
                let path = script.path.to_string_lossy();
                w.empty(
                    1,
                    name,
                    &[
                        ("Path", &path),
                        ("IsBlocking", bool_str(script.is_blocking)),
                    ],
                );
            }
        }
        if let Some(logging) = &self.logging {
            w.comments(1, &logging.comments);
            let mut attrs = Vec::new();
            for (name, level) in [
                ("FileLevel", logging.file_level),
                ("ScreenLevel", logging.screen_level),
                ("SyslogLevel", logging.syslog_level),
            ] {
                if let Some(level) = level {
                    attrs.push((name, level.as_str()));
                }
            }
            if let Some(colors) = logging.colors {
                attrs.push(("Colors", bool_str(colors)));
            }
            w.empty(1, "Logging", &attrs);
        }
        if let Some(debug) = &self.debug {
            w.comments(1, &debug.comments);
            w.empty(
                1,
                "Debug",
                &[("CUSyncForVRRP", bool_str(debug.cu_sync_for_vrrp))],
            );
        }
        if let Some(end) = &self.batch_end_time {
            w.comments(1, &end.comments);
            w.empty(1, "BatchEndTime", &[("value", &end.to_string())]);
        }
        for unknown in &self.unknown_elements {
            w.comments(1, &unknown.comments);
            w.raw(1, &unknown.raw_xml);
        }
        w.comments(1, &self.comments.end_of_root);
        w.end(0, ROOT);
        w.comments(0, &self.comments.after_root);
        w.finish()
    }

    /// Checks that the configuration can be written exactly: every path absolute and UTF-8, every
    /// value and comment representable in XML, no `--` in a comment. Errors built from values
    /// made in code have no file location (line 0).
    pub fn validate(&self) -> Result<()> {
        let fail = |message: String| Err(Error::Config(Diagnostic::new(unlocated(), message)));
        let mut paths: Vec<(&str, &Path)> = Vec::new();
        if let Some(p) = &self.package_to_install {
            paths.push(("PackageToInstall", &p.path));
        }
        if let Some(c) = &self.cpuse {
            paths.push(("CPUSE", c));
        }
        for s in &self.pre_installation_scripts {
            paths.push(("PreInstallationScript", &s.path));
        }
        for s in &self.post_installation_scripts {
            paths.push(("PostInstallationScript", &s.path));
        }
        for (element, path) in paths {
            if let Err(message) = check_path(path) {
                return fail(format!("<{element}>: {message}"));
            }
        }
        let mut comments: Vec<&String> = Vec::new();
        comments.extend(&self.comments.before_root);
        comments.extend(&self.comments.end_of_root);
        comments.extend(&self.comments.after_root);
        comments.extend(&self.cpuse_comments);
        comments.extend(self.package_to_install.iter().flat_map(|p| &p.comments));
        comments.extend(
            self.pre_installation_scripts
                .iter()
                .flat_map(|s| &s.comments),
        );
        comments.extend(
            self.post_installation_scripts
                .iter()
                .flat_map(|s| &s.comments),
        );
        comments.extend(self.logging.iter().flat_map(|l| &l.comments));
        comments.extend(self.debug.iter().flat_map(|d| &d.comments));
        comments.extend(self.batch_end_time.iter().flat_map(|b| &b.comments));
        comments.extend(self.unknown_elements.iter().flat_map(|u| &u.comments));
        for comment in comments {
            if let Err(message) = xml::check_comment(comment) {
                return fail(format!("comment {comment:?}: {message}"));
            }
        }
        Ok(())
    }

    /// Validates, then writes the configuration to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        self.validate()?;
        write_atomic(path, self.to_xml().as_bytes())
    }

    /// Basic Mode when a package or a pre-installation script is configured, Advanced otherwise.
    pub fn mode(&self) -> Mode {
        if self.package_to_install.is_some() || !self.pre_installation_scripts.is_empty() {
            Mode::Basic
        } else {
            Mode::Advanced
        }
    }

    /// Whether Connectivity Upgrade is on: the package's setting, true by default.
    pub fn connectivity_upgrade(&self) -> bool {
        self.package_to_install
            .as_ref()
            .and_then(|p| p.connectivity_upgrade)
            .unwrap_or(true)
    }

    /// One warning per unknown element, at its location.
    pub fn warnings(&self) -> Vec<Diagnostic> {
        self.unknown_elements
            .iter()
            .map(|u| {
                Diagnostic::new(
                    u.location.clone(),
                    format!("unknown element <{}> is kept but not used", u.name),
                )
            })
            .collect()
    }

    /// Refuses a configuration with unknown elements for a run, unless `allow_unknown`: a
    /// misspelled setting (say, the batch cut-off) must not be silently ignored.
    pub fn check_for_execute(&self, allow_unknown: bool) -> Result<()> {
        match self.unknown_elements.first() {
            Some(u) if !allow_unknown => Err(Error::Config(Diagnostic::new(
                u.location.clone(),
                format!(
                    "unknown element <{}>: a run refuses unknown elements unless they are \
                     explicitly allowed (is it a misspelled setting?)",
                    u.name
                ),
            ))),
            _ => Ok(()),
        }
    }
}

/// The location of an error about a value built in code rather than read from a file.
pub(crate) fn unlocated() -> Location {
    Location::new(None, 0, None)
}

pub(crate) fn bool_str(b: bool) -> &'static str {
    if b { "true" } else { "false" }
}

/// Checks that a path can be written to XML and is absolute.
pub(crate) fn check_path(path: &Path) -> std::result::Result<(), String> {
    let Some(s) = path.to_str() else {
        return Err(format!("path {} is not valid UTF-8", path.display()));
    };
    xml::check_chars(s)?;
    if !xml::is_absolute_path(s) {
        return Err(format!("path must be absolute, not {s:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_parse_case_insensitively_and_write_upper_case() {
        assert_eq!("normal".parse::<LogLevel>(), Ok(LogLevel::Normal));
        assert_eq!("Always".parse::<LogLevel>(), Ok(LogLevel::Always));
        assert!("loud".parse::<LogLevel>().is_err());
        assert_eq!(LogLevel::Debug.to_string(), "DEBUG");
    }

    #[test]
    fn unknown_element_keeps_its_raw_xml() {
        let c = PrimaryConfig::parse(
            "<CentralDeploymentTool>\n  <Foo a=\"1\"><!-- x --><b/></Foo>\n</CentralDeploymentTool>",
            None,
        )
        .unwrap();
        assert_eq!(
            c.unknown_elements[0].raw_xml(),
            "<Foo a=\"1\"><!-- x --><b/></Foo>"
        );
        assert_eq!(c.unknown_elements[0].location().line, 2);
    }
}
