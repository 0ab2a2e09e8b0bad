//! Reading a deployment plan from the XML tree, with located problems.

use std::path::{Path, PathBuf};

use super::{Action, Plan, PlanSettings, ROOT, Step};
use crate::formats::config::{DocumentComments, LogLevel};
use crate::formats::xml::{self, Attribute, Document, Element, Node, Pos, Problem};

type Read<T> = std::result::Result<T, Problem>;

/// The attributes each action accepts (besides `iscritical`), or `None` for an unknown action.
fn action_attributes(name: &str) -> Option<&'static [&'static str]> {
    Some(match name {
        "create_snapshot" => &["name", "description"],
        "download_from_cloud"
        | "send_package"
        | "import_package"
        | "verify_package"
        | "install_package" => &["path"],
        "execute_command" => &["command"],
        "execute_script" => &["path", "execute_always"],
        "uninstall_cpuse_package" | "uninstall_legacy_package" => &["filename"],
        "push_file" => &["local_path", "remote_path"],
        "pull_file" => &["remote_path", "local_dir"],
        "reboot" => &[],
        "log" => &["level", "value"],
        "send_email" => &["to", "subject", "body"],
        _ => return None,
    })
}

const ACTIONS: &str = "create_snapshot, download_from_cloud, execute_command, execute_script, \
     send_package, import_package, verify_package, install_package, uninstall_cpuse_package, \
     uninstall_legacy_package, push_file, pull_file, reboot, log, send_email";

pub(super) fn read_plan(doc: Document, path: Option<&Path>) -> Read<Plan> {
    let root = &doc.root;
    xml::expect_root(root, ROOT)?;
    let mut plan = Plan::default();
    let mut pending = Vec::new();
    let mut settings_seen = false;
    for child in &root.children {
        let el = match child {
            Node::Comment { text } => {
                pending.push(text.clone());
                continue;
            }
            Node::Text { .. } => continue,
            Node::Element(el) => el,
        };
        let comments = std::mem::take(&mut pending);
        if el.name == "plan_settings" {
            if settings_seen {
                return Err(Problem::new(el.pos, "<plan_settings> given twice"));
            }
            settings_seen = true;
            plan.settings = read_settings(el, comments)?;
        } else if !settings_seen {
            return Err(Problem::new(
                el.pos,
                format!(
                    "<plan_settings> must be the first element of the plan, found <{}> before it",
                    el.name
                ),
            ));
        } else {
            plan.steps.push(read_step(el, comments, path)?);
        }
    }
    if !settings_seen {
        return Err(Problem::new(
            root.pos,
            "the plan has no <plan_settings> (it is required and comes first)",
        ));
    }
    plan.comments = DocumentComments {
        before_root: doc.before_root,
        end_of_root: pending,
        after_root: doc.after_root,
    };
    Ok(plan)
}

/// The comments inside an element that holds no text and no child elements.
fn inner_comments(el: &Element) -> Read<Vec<String>> {
    match xml::leaf_content(el)? {
        (Some((_, pos)), _) => Err(Problem::new(
            pos,
            format!("text is not allowed inside <{}>", el.name),
        )),
        (None, comments) => Ok(comments),
    }
}

fn read_settings(el: &Element, before: Vec<String>) -> Read<PlanSettings> {
    xml::refuse_unknown_attributes(el, &[])?;
    xml::refuse_text(el)?;
    let mut settings = PlanSettings::default();
    settings.comments.before = before;
    let mut seen: Vec<(&str, Pos)> = Vec::new();
    let mut pending = Vec::new();
    for child in &el.children {
        let setting = match child {
            Node::Comment { text } => {
                pending.push(text.clone());
                continue;
            }
            Node::Text { .. } => continue,
            Node::Element(setting) => setting,
        };
        let key = match setting.name.as_str() {
            "name" => "name",
            "description" => "description",
            "update_cpuse" => "update_cpuse",
            "connectivityupgrade" | "ConnectivityUpgrade" => "connectivityupgrade",
            other => {
                return Err(Problem::new(
                    setting.pos,
                    format!(
                        "unknown plan setting <{other}> (expected name, description, \
                         update_cpuse or connectivityupgrade)"
                    ),
                ));
            }
        };
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == key) {
            return Err(Problem::new(
                setting.pos,
                format!(
                    "plan setting {key} given twice (first at line {}, column {})",
                    first.line, first.column
                ),
            ));
        }
        seen.push((key, setting.pos));
        xml::refuse_unknown_attributes(setting, &["value"])?;
        let value = xml::attribute(setting, "value").ok_or_else(|| {
            Problem::new(
                setting.pos,
                format!("plan setting <{}> needs a value attribute", setting.name),
            )
        })?;
        let mut comments = std::mem::take(&mut pending);
        comments.extend(inner_comments(setting)?);
        let c = &mut settings.comments;
        match key {
            "name" => {
                settings.name = Some(value.value.clone());
                c.name = comments;
            }
            "description" => {
                settings.description = Some(value.value.clone());
                c.description = comments;
            }
            "update_cpuse" => {
                settings.update_cpuse = Some(xml::parse_bool(value)?);
                c.update_cpuse = comments;
            }
            _ => {
                settings.connectivity_upgrade = Some(xml::parse_bool(value)?);
                c.connectivity_upgrade = comments;
            }
        }
    }
    settings.comments.end = pending;
    Ok(settings)
}

fn read_step(el: &Element, mut comments: Vec<String>, path: Option<&Path>) -> Read<Step> {
    let Some(allowed) = action_attributes(&el.name) else {
        return Err(Problem::new(
            el.pos,
            format!("unknown action <{}> (expected one of {ACTIONS})", el.name),
        ));
    };
    let mut all = allowed.to_vec();
    all.push("iscritical");
    xml::refuse_unknown_attributes(el, &all)?;
    comments.extend(inner_comments(el)?);
    let required = |name: &str| -> Read<&Attribute> {
        xml::attribute(el, name)
            .ok_or_else(|| Problem::new(el.pos, format!("<{}> needs a {name} attribute", el.name)))
    };
    let text = |name: &str| required(name).map(|a| a.value.clone());
    let path_of = |name: &str| required(name).map(|a| PathBuf::from(&a.value));
    let action = match el.name.as_str() {
        "create_snapshot" => Action::CreateSnapshot {
            name: text("name")?,
            description: xml::attribute(el, "description").map(|a| a.value.clone()),
        },
        "download_from_cloud" => Action::DownloadFromCloud {
            path: path_of("path")?,
        },
        "execute_command" => Action::ExecuteCommand {
            command: text("command")?,
        },
        "execute_script" => Action::ExecuteScript {
            path: path_of("path")?,
            execute_always: match xml::attribute(el, "execute_always") {
                Some(a) => xml::parse_bool(a)?,
                None => false,
            },
        },
        "send_package" => Action::SendPackage {
            path: path_of("path")?,
        },
        "import_package" => Action::ImportPackage {
            path: path_of("path")?,
        },
        "verify_package" => Action::VerifyPackage {
            path: path_of("path")?,
        },
        "install_package" => Action::InstallPackage {
            path: path_of("path")?,
        },
        "uninstall_cpuse_package" => Action::UninstallCpusePackage {
            filename: text("filename")?,
        },
        "uninstall_legacy_package" => Action::UninstallLegacyPackage {
            filename: text("filename")?,
        },
        "push_file" => Action::PushFile {
            local_path: path_of("local_path")?,
            remote_path: path_of("remote_path")?,
        },
        "pull_file" => Action::PullFile {
            remote_path: path_of("remote_path")?,
            local_dir: path_of("local_dir")?,
        },
        "log" => {
            let level = required("level")?;
            Action::Log {
                level: level
                    .value
                    .parse::<LogLevel>()
                    .map_err(|e| Problem::new(level.pos, format!("level: {e}")))?,
                value: text("value")?,
            }
        }
        "send_email" => Action::SendEmail {
            to: text("to")?,
            subject: text("subject")?,
            body: text("body")?,
        },
        "reboot" => Action::Reboot,
        other => return Err(Problem::new(el.pos, format!("unknown action <{other}>"))),
    };
    if let Err((attribute, message)) = action.check() {
        let pos = xml::attribute(el, attribute).map_or(el.pos, |a| a.pos);
        return Err(Problem::new(pos, format!("<{}>: {message}", el.name)));
    }
    let critical = match xml::attribute(el, "iscritical") {
        Some(a) => xml::parse_bool(a)?,
        None => true,
    };
    Ok(Step {
        action,
        critical,
        comments,
        location: Some(el.pos.location(path)),
    })
}
