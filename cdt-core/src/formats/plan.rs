//! The deployment plan of Advanced Mode (SPEC 2.2): `<CDT_Deployment_Plan>` with its
//! `<plan_settings>` first, then the actions every target runs in document order.
//!
//! Reading is strict: `plan_settings` is required and must be the first child element; an
//! unknown setting, action or attribute, a setting given twice, a missing required attribute, a
//! boolean other than `true`/`false` (any case), a relative path, a file name with a `/`, or a
//! forbidden character in `execute_command` is a located [`Error::Plan`] (line and column of the
//! element or attribute), never a skip.
//!
//! Required attributes (**Decision**): every attribute of SPEC 2.2's table except
//! `create_snapshot`'s `description`, `execute_script`'s `execute_always` (default false) and
//! `iscritical` (default true, allowed on every action). Required values must not be blank,
//! except `send_email`'s `body`, which may be empty.
//!
//! Writing is canonical: XML declaration, 4-space indentation, one element per line, settings in
//! the order `name`, `description`, `update_cpuse`, `connectivityupgrade`, action attributes in
//! the order of SPEC 2.2's table, then `iscritical="false"` for a non-critical step;
//! `execute_always` is written only when true. Operator comments stay with the element that
//! follows them. [`Plan::to_xml`] and [`Plan::save`] first run [`Plan::validate`], which applies
//! every rule of the reader, so a plan built in code cannot be written invalid.
//!
//! ```
//! use cdt_core::formats::plan::{Action, Plan};
//!
//! let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
//! <CDT_Deployment_Plan>
//!     <plan_settings>
//!         <name value="JHF take 99"/>
//!         <connectivityupgrade value="false"/>
//!     </plan_settings>
//!     <!-- keep a way back -->
//!     <create_snapshot name="before_jhf"/>
//!     <install_package path="/home/admin/jhf_take_99.tar"/>
//!     <execute_command command='clish -c "show version all"' iscritical="false"/>
//! </CDT_Deployment_Plan>"#;
//! let plan = Plan::parse(xml, None)?;
//! assert!(!plan.settings.connectivity_upgrade());
//! assert!(plan.settings.update_cpuse());
//! assert_eq!(plan.first_package().unwrap().to_str(), Some("/home/admin/jhf_take_99.tar"));
//! assert!(!plan.steps[2].critical);
//! assert_eq!(plan.steps[0].comments, [" keep a way back "]);
//! assert!(matches!(plan.steps[1].action, Action::InstallPackage { .. }));
//! assert_eq!(Plan::parse(&plan.to_xml()?, None)?, plan);
//!
//! let mut bad = plan.clone();
//! bad.steps[2].action = Action::ExecuteCommand { command: "rm -rf /var/log/*".into() };
//! assert!(bad.to_xml().is_err());
//! # Ok::<(), cdt_core::Error>(())
//! ```

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use super::config::{DocumentComments, LogLevel, bool_str, check_path, unlocated};
use super::xml::{self, XmlWriter, describe_char};
use crate::error::{Diagnostic, Error, Location, Result};
use crate::input::{DEFAULT_INPUT_CAP, check_text_cap, read_text_capped, write_atomic};

mod read;

const ROOT: &str = "CDT_Deployment_Plan";

/// A deployment plan: its settings and its steps in order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Plan {
    /// The `<plan_settings>` values.
    pub settings: PlanSettings,
    /// The actions every target runs, in order.
    pub steps: Vec<Step>,
    /// Comments before and after the root, and after the last step.
    pub comments: DocumentComments,
}

/// The children of `<plan_settings>`; `None` when not given. Use the accessors for the values
/// with their defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PlanSettings {
    /// `<name value=".."/>`: the plan's name.
    pub name: Option<String>,
    /// `<description value=".."/>`.
    pub description: Option<String>,
    /// `<update_cpuse value=".."/>`: update the CPUSE agent before any other action.
    pub update_cpuse: Option<bool>,
    /// `<connectivityupgrade value=".."/>` (also read as `ConnectivityUpgrade`).
    pub connectivity_upgrade: Option<bool>,
    /// Comments inside and before `<plan_settings>`.
    pub comments: SettingsComments,
}

impl PlanSettings {
    /// Whether to update the CPUSE agent first (default true).
    pub fn update_cpuse(&self) -> bool {
        self.update_cpuse.unwrap_or(true)
    }

    /// Whether Connectivity Upgrade is on (default true).
    pub fn connectivity_upgrade(&self) -> bool {
        self.connectivity_upgrade.unwrap_or(true)
    }
}

/// Comments attached to `<plan_settings>` and to each setting (written before it), and those
/// before `</plan_settings>`. Comments of a setting that is `None` are still written, before the
/// next element.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SettingsComments {
    /// Before `<plan_settings>`.
    pub before: Vec<String>,
    /// Before `<name>`.
    pub name: Vec<String>,
    /// Before `<description>`.
    pub description: Vec<String>,
    /// Before `<update_cpuse>`.
    pub update_cpuse: Vec<String>,
    /// Before `<connectivityupgrade>`.
    pub connectivity_upgrade: Vec<String>,
    /// Before `</plan_settings>`.
    pub end: Vec<String>,
}

/// One action of a plan, whether its failure stops the target, and the comments before it.
#[derive(Debug, Clone, Eq)]
pub struct Step {
    /// What to do on the target.
    pub action: Action,
    /// A failed critical step stops the target's plan and fails the target (default true;
    /// `iscritical="false"` makes it non-critical).
    pub critical: bool,
    /// Operator comments written just before the action (comments inside the action element
    /// are moved here too).
    pub comments: Vec<String>,
    /// Where the action was read from; `None` for a step built in code. Not part of equality.
    pub location: Option<Location>,
}

impl Step {
    /// A critical step without comments or location.
    pub fn new(action: Action) -> Self {
        Step {
            action,
            critical: true,
            comments: Vec::new(),
            location: None,
        }
    }
}

impl Step {
    /// The step an element `<name attribute="value" …/>` of a plan file gives, checked by the
    /// same rules as a plan file (required and unknown attributes, `iscritical`,
    /// `execute_always`, command characters, absolute paths): for building plans in code
    /// from the names operators know. Errors name the element.
    ///
    /// ```
    /// use cdt_core::formats::plan::{Action, Step};
    /// let step = Step::from_element("execute_command", &[("command", "fw stat")]).unwrap();
    /// assert_eq!(step.action, Action::ExecuteCommand { command: "fw stat".into() });
    /// assert!(Step::from_element("execute_command", &[("command", "a; reboot")]).is_err());
    /// assert!(Step::from_element("format_disk", &[("path", "/tmp")]).is_err());
    /// ```
    pub fn from_element<K: AsRef<str>, V: AsRef<str>>(
        name: &str,
        attributes: &[(K, V)],
    ) -> Result<Step> {
        let fail =
            |message: String| Error::Plan(Diagnostic::new(Location::new(None, 0, None), message));
        let is_name =
            |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_name(name) {
            return Err(fail(format!("{name:?} is not an action's element name")));
        }
        let mut element = format!("<{name}");
        for (key, value) in attributes {
            let (key, value) = (key.as_ref(), value.as_ref());
            if !is_name(key) {
                return Err(fail(format!("<{name}>: {key:?} is not an attribute name")));
            }
            xml::check_chars(value).map_err(|m| fail(format!("<{name}> {key}: {m}")))?;
            element.push_str(&format!(" {key}=\"{}\"", xml::escape_attribute(value)));
        }
        element.push_str("/>");
        let text = format!("<{ROOT}><plan_settings/>{element}</{ROOT}>");
        let mut plan = Plan::parse(&text, None).map_err(|e| match e {
            Error::Plan(d) | Error::Xml(d) => fail(d.message),
            other => other,
        })?;
        let mut step = plan
            .steps
            .pop()
            .ok_or_else(|| fail(format!("<{name}> gave no step")))?;
        step.location = None;
        Ok(step)
    }
}

/// Equality ignores the location, so a parse of a written plan equals the original.
impl PartialEq for Step {
    fn eq(&self, other: &Self) -> bool {
        self.action == other.action
            && self.critical == other.critical
            && self.comments == other.comments
    }
}

/// The fifteen actions of SPEC 2.2. Paths are absolute; file names are bare.
///
/// Serialised (for journals and reports) with its element name as `action` and its attributes
/// as fields.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    /// `create_snapshot`: a Gaia snapshot.
    CreateSnapshot {
        /// Snapshot name.
        name: String,
        /// Optional description.
        description: Option<String>,
    },
    /// `download_from_cloud`: CPUSE downloads the package from the vendor cloud.
    DownloadFromCloud {
        /// The package.
        path: PathBuf,
    },
    /// `execute_command`: one Expert-mode command line (see [`check_command_line`]).
    ExecuteCommand {
        /// The command line.
        command: String,
    },
    /// `execute_script`: run a user script (exit 0 ok, 222 reboot then continue, else failure).
    ExecuteScript {
        /// The script on the orchestrator.
        path: PathBuf,
        /// Also run after an earlier critical failure on the target (a clean-up step).
        execute_always: bool,
    },
    /// `send_package`: copy the package to `/var/log/upload/` only.
    SendPackage {
        /// The package on the orchestrator.
        path: PathBuf,
    },
    /// `import_package`: copy (unless already there) and import into CPUSE.
    ImportPackage {
        /// The package on the orchestrator.
        path: PathBuf,
    },
    /// `verify_package`: ask CPUSE whether the imported package can be installed.
    VerifyPackage {
        /// The package on the orchestrator.
        path: PathBuf,
    },
    /// `install_package`: CPUSE install or upgrade, then make sure policy is installed.
    InstallPackage {
        /// The package on the orchestrator.
        path: PathBuf,
    },
    /// `uninstall_cpuse_package`: uninstall by CPUSE package name.
    UninstallCpusePackage {
        /// Bare package file name (`.tar`/`.tgz` normalised by the engine).
        filename: String,
    },
    /// `uninstall_legacy_package`: uninstall a hotfix installed the legacy way.
    UninstallLegacyPackage {
        /// Bare package file name.
        filename: String,
    },
    /// `push_file`: copy a file to the target.
    PushFile {
        /// The file on the orchestrator.
        local_path: PathBuf,
        /// Where to put it on the target.
        remote_path: PathBuf,
    },
    /// `pull_file`: copy a file from the target into a per-target subfolder.
    PullFile {
        /// The file on the target.
        remote_path: PathBuf,
        /// The folder on the orchestrator.
        local_dir: PathBuf,
    },
    /// `reboot`: reboot and wait until the target is back.
    Reboot,
    /// `log`: a message to the run's log and event stream.
    Log {
        /// The message's level.
        level: LogLevel,
        /// The message.
        value: String,
    },
    /// `send_email`: a message handed to the embedding program's notifier.
    SendEmail {
        /// Recipients.
        to: String,
        /// Subject line.
        subject: String,
        /// Body (may be empty).
        body: String,
    },
}

impl Action {
    /// The XML element name of this action, e.g. `install_package`.
    pub fn element_name(&self) -> &'static str {
        match self {
            Action::CreateSnapshot { .. } => "create_snapshot",
            Action::DownloadFromCloud { .. } => "download_from_cloud",
            Action::ExecuteCommand { .. } => "execute_command",
            Action::ExecuteScript { .. } => "execute_script",
            Action::SendPackage { .. } => "send_package",
            Action::ImportPackage { .. } => "import_package",
            Action::VerifyPackage { .. } => "verify_package",
            Action::InstallPackage { .. } => "install_package",
            Action::UninstallCpusePackage { .. } => "uninstall_cpuse_package",
            Action::UninstallLegacyPackage { .. } => "uninstall_legacy_package",
            Action::PushFile { .. } => "push_file",
            Action::PullFile { .. } => "pull_file",
            Action::Reboot => "reboot",
            Action::Log { .. } => "log",
            Action::SendEmail { .. } => "send_email",
        }
    }

    /// Whether the action touches the member (SPEC 3.3): installing, uninstalling, rebooting,
    /// running a script or a command. Copying, importing, verifying, reading do not.
    pub fn is_disruptive(&self) -> bool {
        matches!(
            self,
            Action::InstallPackage { .. }
                | Action::UninstallCpusePackage { .. }
                | Action::UninstallLegacyPackage { .. }
                | Action::Reboot
                | Action::ExecuteScript { .. }
                | Action::ExecuteCommand { .. }
        )
    }

    /// The package path of a package action (send, import, verify, install, download).
    pub fn package_path(&self) -> Option<&Path> {
        match self {
            Action::SendPackage { path }
            | Action::ImportPackage { path }
            | Action::VerifyPackage { path }
            | Action::InstallPackage { path }
            | Action::DownloadFromCloud { path } => Some(path),
            _ => None,
        }
    }

    /// The attributes as written, in canonical order (without `iscritical`).
    fn attributes(&self) -> Vec<(&'static str, Cow<'_, str>)> {
        fn p(path: &Path) -> Cow<'_, str> {
            path.to_string_lossy()
        }
        fn s(text: &str) -> Cow<'_, str> {
            Cow::Borrowed(text)
        }
        match self {
            Action::CreateSnapshot { name, description } => {
                let mut attrs = vec![("name", s(name))];
                if let Some(d) = description {
                    attrs.push(("description", s(d)));
                }
                attrs
            }
            Action::ExecuteCommand { command } => vec![("command", s(command))],
            Action::ExecuteScript {
                path,
                execute_always,
            } => {
                let mut attrs = vec![("path", p(path))];
                if *execute_always {
                    attrs.push(("execute_always", s("true")));
                }
                attrs
            }
            Action::DownloadFromCloud { path }
            | Action::SendPackage { path }
            | Action::ImportPackage { path }
            | Action::VerifyPackage { path }
            | Action::InstallPackage { path } => vec![("path", p(path))],
            Action::UninstallCpusePackage { filename }
            | Action::UninstallLegacyPackage { filename } => vec![("filename", s(filename))],
            Action::PushFile {
                local_path,
                remote_path,
            } => vec![
                ("local_path", p(local_path)),
                ("remote_path", p(remote_path)),
            ],
            Action::PullFile {
                remote_path,
                local_dir,
            } => vec![("remote_path", p(remote_path)), ("local_dir", p(local_dir))],
            Action::Reboot => Vec::new(),
            Action::Log { level, value } => vec![("level", s(level.as_str())), ("value", s(value))],
            Action::SendEmail { to, subject, body } => {
                vec![("to", s(to)), ("subject", s(subject)), ("body", s(body))]
            }
        }
    }

    /// Checks the values of the action with the rules the reader applies. On failure, names the
    /// attribute at fault and why.
    pub fn check(&self) -> std::result::Result<(), (&'static str, String)> {
        let path = |name: &'static str, value: &Path| check_path(value).map_err(|m| (name, m));
        let text = |name: &'static str, value: &str, required: bool| {
            xml::check_chars(value).map_err(|m| (name, m))?;
            if required && value.trim().is_empty() {
                return Err((name, format!("{name} must not be empty")));
            }
            Ok(())
        };
        match self {
            Action::CreateSnapshot { name, description } => {
                text("name", name, true)?;
                if let Some(d) = description {
                    text("description", d, false)?;
                }
            }
            Action::ExecuteCommand { command } => {
                check_command_line(command).map_err(|m| ("command", m))?;
            }
            Action::ExecuteScript { path: p, .. }
            | Action::DownloadFromCloud { path: p }
            | Action::SendPackage { path: p }
            | Action::ImportPackage { path: p }
            | Action::VerifyPackage { path: p }
            | Action::InstallPackage { path: p } => path("path", p)?,
            Action::UninstallCpusePackage { filename }
            | Action::UninstallLegacyPackage { filename } => {
                check_filename(filename).map_err(|m| ("filename", m))?;
            }
            Action::PushFile {
                local_path,
                remote_path,
            } => {
                path("local_path", local_path)?;
                path("remote_path", remote_path)?;
            }
            Action::PullFile {
                remote_path,
                local_dir,
            } => {
                path("remote_path", remote_path)?;
                path("local_dir", local_dir)?;
            }
            Action::Reboot => {}
            Action::Log { value, .. } => text("value", value, true)?,
            Action::SendEmail { to, subject, body } => {
                text("to", to, true)?;
                text("subject", subject, true)?;
                text("body", body, false)?;
            }
        }
        Ok(())
    }
}

/// Checks an `execute_command` command line (SPEC 2.2 Decision): not blank; spaces and quotes
/// are allowed; `;` `|` `&` `<` `>` `$` `` ` `` `\` `*` `?`, newline and every other control
/// character are refused. The error names the character.
pub fn check_command_line(command: &str) -> std::result::Result<(), String> {
    if command.trim().is_empty() {
        return Err("command must not be empty".into());
    }
    for c in command.chars() {
        if matches!(
            c,
            ';' | '|' | '&' | '<' | '>' | '$' | '`' | '\\' | '*' | '?'
        ) || c.is_control()
        {
            let what = match c {
                '\n' => "newline (U+000A)".to_owned(),
                '\r' => "carriage return (U+000D)".to_owned(),
                '\t' => "tab (U+0009)".to_owned(),
                c => describe_char(c),
            };
            return Err(format!(
                "character {what} is not allowed in a command (execute_command refuses ; | & < > \
                 $ ` \\ * ? and control characters)"
            ));
        }
    }
    Ok(())
}

/// Checks a package file name for `uninstall_*`: not blank, no `/`, not `.` or `..`, no
/// control characters.
pub fn check_filename(filename: &str) -> std::result::Result<(), String> {
    if filename.trim().is_empty() {
        return Err("filename must not be empty".into());
    }
    if filename.contains('/') || filename == "." || filename == ".." {
        return Err(format!(
            "filename must be a bare file name without '/', not {filename:?}"
        ));
    }
    if let Some(c) = filename.chars().find(|c| c.is_control()) {
        return Err(format!(
            "character {} is not allowed in a filename",
            describe_char(c)
        ));
    }
    Ok(())
}

impl Plan {
    /// Parses a plan from `text`; `path` only names the file in error locations.
    pub fn parse(text: &str, path: Option<&Path>) -> Result<Plan> {
        check_text_cap(path, text, DEFAULT_INPUT_CAP)?;
        let doc = xml::parse_document(xml::strip_bom(text), path)?;
        read::read_plan(doc, path)
            .map_err(|p| Error::Plan(Diagnostic::new(p.pos.location(path), p.message)))
    }

    /// Reads and parses the plan file at `path` (at most 16 MiB).
    pub fn load(path: &Path) -> Result<Plan> {
        let text = read_text_capped(path, DEFAULT_INPUT_CAP)?;
        Plan::parse(&text, Some(path))
    }

    /// Checks everything the reader checks (absolute paths, command characters, bare file
    /// names, non-blank required values, characters XML can hold, comments without `--`).
    /// Errors point at the step's location when it was read from a file, else at line 0.
    pub fn validate(&self) -> Result<()> {
        let fail = |location: Option<&Location>, object: Option<String>, message: String| {
            let mut d = Diagnostic::new(location.cloned().unwrap_or_else(unlocated), message);
            if let Some(object) = object {
                d = d.with_object(object);
            }
            Err(Error::Plan(d))
        };
        let s = &self.settings;
        for (name, value) in [("name", &s.name), ("description", &s.description)] {
            if let Some(Err(m)) = value.as_deref().map(xml::check_chars) {
                return fail(None, None, format!("plan setting {name}: {m}"));
            }
        }
        let c = &s.comments;
        let settings_comments = [&c.before, &c.name, &c.description, &c.update_cpuse]
            .into_iter()
            .chain([&c.connectivity_upgrade, &c.end]);
        let document_comments = [
            &self.comments.before_root,
            &self.comments.end_of_root,
            &self.comments.after_root,
        ];
        for comment in settings_comments.chain(document_comments).flatten() {
            if let Err(m) = xml::check_comment(comment) {
                return fail(None, None, format!("comment {comment:?}: {m}"));
            }
        }
        for (i, step) in self.steps.iter().enumerate() {
            let object = || Some(format!("step {} <{}>", i + 1, step.action.element_name()));
            if let Err((_, m)) = step.action.check() {
                return fail(step.location.as_ref(), object(), m);
            }
            for comment in &step.comments {
                if let Err(m) = xml::check_comment(comment) {
                    return fail(
                        step.location.as_ref(),
                        object(),
                        format!("comment {comment:?}: {m}"),
                    );
                }
            }
        }
        Ok(())
    }

    /// Validates the plan, then renders it as canonical XML.
    pub fn to_xml(&self) -> Result<String> {
        self.validate()?;
        let mut w = XmlWriter::new();
        w.comments(0, &self.comments.before_root);
        w.start(0, ROOT, &[]);
        let s = &self.settings;
        w.comments(1, &s.comments.before);
        let bool_value = |b: Option<bool>| b.map(|b| bool_str(b).to_owned());
        let settings = [
            ("name", s.name.clone(), &s.comments.name),
            (
                "description",
                s.description.clone(),
                &s.comments.description,
            ),
            (
                "update_cpuse",
                bool_value(s.update_cpuse),
                &s.comments.update_cpuse,
            ),
            (
                "connectivityupgrade",
                bool_value(s.connectivity_upgrade),
                &s.comments.connectivity_upgrade,
            ),
        ];
        let empty = settings.iter().all(|(_, v, c)| v.is_none() && c.is_empty())
            && s.comments.end.is_empty();
        if empty {
            w.empty(1, "plan_settings", &[]);
        } else {
            w.start(1, "plan_settings", &[]);
            for (name, value, comments) in &settings {
                w.comments(2, comments);
                if let Some(value) = value {
                    w.empty(2, name, &[("value", value)]);
                }
            }
            w.comments(2, &s.comments.end);
            w.end(1, "plan_settings");
        }
        for step in &self.steps {
            w.comments(1, &step.comments);
            let attrs = step.action.attributes();
            let mut attrs: Vec<(&str, &str)> = attrs.iter().map(|(k, v)| (*k, &**v)).collect();
            if !step.critical {
                attrs.push(("iscritical", "false"));
            }
            w.empty(1, step.action.element_name(), &attrs);
        }
        w.comments(1, &self.comments.end_of_root);
        w.end(0, ROOT);
        w.comments(0, &self.comments.after_root);
        Ok(w.finish())
    }

    /// Validates, then writes the plan to `path` atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        write_atomic(path, self.to_xml()?.as_bytes())
    }

    /// The plan's "first package" (SPEC 2.2): the `path` of its first `send_package`,
    /// `import_package`, `verify_package`, `install_package` or `download_from_cloud`. The
    /// candidates list is generated from it.
    pub fn first_package(&self) -> Option<&Path> {
        self.steps.iter().find_map(|s| s.action.package_path())
    }

    /// The paths of the `install_package` steps, in order.
    pub fn installed_packages(&self) -> impl Iterator<Item = &Path> {
        self.steps.iter().filter_map(|s| match &s.action {
            Action::InstallPackage { path } => Some(path.as_path()),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_rules() {
        assert!(check_command_line("clish -c \"show version all\"").is_ok());
        assert!(check_command_line("echo 'a b'").is_ok());
        for bad in [
            ";", "|", "&", "<", ">", "$", "`", "\\", "*", "?", "\n", "\t", "\u{7f}",
        ] {
            assert!(
                check_command_line(&format!("ls {bad} x")).is_err(),
                "{bad:?}"
            );
        }
        assert!(check_command_line("  ").is_err());
    }

    #[test]
    fn filename_rules() {
        assert!(check_filename("Check_Point_R81_20_JHF_T99.tar").is_ok());
        for bad in ["", "a/b", "..", "a\u{1}"] {
            assert!(check_filename(bad).is_err(), "{bad:?}");
        }
    }
}
