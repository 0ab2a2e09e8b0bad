//! CPUSE in the simulator: importing, verifying, installing and uninstalling packages, and the
//! agent; what each does to a gateway.

use super::state::{Busy, Host, PendingEvent};
use super::{Fault, Reply, Sim, print, secs};
use crate::model::package::{cpuse_name, kind_from_file_name};
use crate::model::{Package, PackageKind};

/// What a package is, from the fleet's explicit list or its name.
pub(crate) fn kind_of(packages: &[Package], name: &str) -> Option<PackageKind> {
    let stem = cpuse_name(name);
    packages
        .iter()
        .find(|p| cpuse_name(&p.file_name()).eq_ignore_ascii_case(stem))
        .map(|p| p.kind)
        .or_else(|| kind_from_file_name(name).ok())
}

/// Why `kind` cannot be installed on `h`, if it cannot.
fn not_applicable(h: &Host, kind: PackageKind, name: &str) -> Option<String> {
    match kind {
        PackageKind::Upgrade { target, .. } if h.version >= target => Some(format!(
            "the machine already runs {} (package is for {target})",
            h.version
        )),
        PackageKind::Jumbo { version, .. } if h.version != version => Some(format!(
            "the package is for {version}, the machine runs {}",
            h.version
        )),
        PackageKind::Jumbo { take, .. } if h.take.is_some_and(|t| t >= take) => Some(format!(
            "a newer or equal take is installed (Take {})",
            h.take.unwrap_or(0)
        )),
        PackageKind::Hotfix { version } if h.version != version => Some(format!(
            "the package is for {version}, the machine runs {}",
            h.version
        )),
        PackageKind::Hotfix { .. } if h.hotfixes.contains(cpuse_name(name)) => {
            Some("the package is already installed".to_string())
        }
        _ => None,
    }
}

/// The package a CPUSE command names: a number from `show installer packages imported`, or a
/// name (with or without `.tgz`/`.tar`).
fn resolve(h: &Host, word: &str) -> Option<String> {
    if let Ok(n) = word.parse::<usize>() {
        return h.imported.get(n.checked_sub(1)?).cloned();
    }
    h.imported
        .iter()
        .find(|p| cpuse_name(p).eq_ignore_ascii_case(cpuse_name(word)))
        .cloned()
}

fn busy_reply(h: &Host) -> Option<Reply> {
    h.busy.as_ref().map(|(b, _)| {
        let what = match b {
            Busy::Installing { package } => format!("installation of {package}"),
            Busy::Rebooting => "a reboot".to_string(),
            Busy::Cpuse { operation } => operation.clone(),
        };
        Reply::fail(
            1,
            format!("Another operation is in progress ({what}). Try again later.\n"),
            1.0,
        )
    })
}

/// `installer import local <path>`.
pub(crate) fn import(sim: &mut Sim, host: &str, path: &str) -> Reply {
    let latency = sim.state.latency.import;
    let Some(h) = sim.state.hosts.get_mut(host) else {
        return Reply::fail(1, "", 0.0);
    };
    if let Some(r) = busy_reply(h) {
        return r;
    }
    if !h.files.contains_key(path) {
        return Reply::fail(
            1,
            format!("Import failed: file {path} does not exist\n"),
            1.0,
        );
    }
    let name = path.rsplit('/').next().unwrap_or(path).to_string();
    if !h
        .imported
        .iter()
        .any(|p| cpuse_name(p).eq_ignore_ascii_case(cpuse_name(&name)))
    {
        h.imported.push(name.clone());
    }
    h.busy = Some((
        Busy::Cpuse {
            operation: format!("import of {name}"),
        },
        sim.state.now + secs(latency),
    ));
    sim.schedule(host, latency, PendingEvent::CpuseIdle);
    Reply::ok(format!("Import of {name} finished successfully\n"), latency)
}

/// `installer download <package>`: CPUSE fetches a package it can identify from the vendor
/// cloud (the simulated cloud has every package whose kind is known) and imports it.
pub(crate) fn download(sim: &mut Sim, host: &str, name: &str) -> Reply {
    let latency = sim.state.latency.import;
    let known = kind_of(&sim.state.packages, name).is_some();
    let Some(h) = sim.state.hosts.get_mut(host) else {
        return Reply::fail(1, "", 0.0);
    };
    if let Some(r) = busy_reply(h) {
        return r;
    }
    if !known {
        return Reply::fail(
            1,
            format!("Package {name} was not found in the cloud\n"),
            latency,
        );
    }
    let file = format!("{}.tgz", cpuse_name(name));
    if !h
        .imported
        .iter()
        .any(|p| cpuse_name(p).eq_ignore_ascii_case(cpuse_name(name)))
    {
        h.imported.push(file.clone());
    }
    h.busy = Some((
        Busy::Cpuse {
            operation: format!("download of {file}"),
        },
        sim.state.now + secs(latency),
    ));
    sim.schedule(host, latency, PendingEvent::CpuseIdle);
    Reply::ok(
        format!("Download of {file} finished successfully\n"),
        latency,
    )
}

/// `installer verify <package>`.
pub(crate) fn verify(sim: &mut Sim, host: &str, word: &str) -> Reply {
    let latency = sim.state.latency.verify;
    let packages = sim.state.packages.clone();
    let Some(h) = sim.state.hosts.get(host) else {
        return Reply::fail(1, "", 0.0);
    };
    let Some(name) = resolve(h, word) else {
        return Reply::fail(1, format!("Package {word} is not imported\n"), 1.0);
    };
    match kind_of(&packages, &name).map(|k| not_applicable(h, k, &name)) {
        None => Reply::fail(
            1,
            format!("Verifier results: {name}: unknown package type\n"),
            latency,
        ),
        Some(Some(why)) => Reply::fail(
            1,
            format!("Verifier results: Installation is not allowed: {why}\n"),
            latency,
        ),
        Some(None) => Reply::ok(
            format!("Verifier results: {name}: Installation is allowed.\n"),
            latency,
        ),
    }
}

/// `installer install <package>` and `installer upgrade <package>`.
pub(crate) fn install(sim: &mut Sim, host: &str, word: &str, upgrade_verb: bool) -> Reply {
    let packages = sim.state.packages.clone();
    let lat = sim.state.latency.clone();
    let now = sim.state.now;
    let Some(h) = sim.state.hosts.get(host) else {
        return Reply::fail(1, "", 0.0);
    };
    if let Some(r) = busy_reply(h) {
        return r;
    }
    let Some(name) = resolve(h, word) else {
        return Reply::fail(1, format!("Package {word} is not imported\n"), 1.0);
    };
    let Some(kind) = kind_of(&packages, &name) else {
        return Reply::fail(1, format!("{name}: unknown package type\n"), 1.0);
    };
    if let Some(why) = not_applicable(h, kind, &name) {
        return Reply::fail(
            1,
            format!("Installation is not allowed: {why}\n"),
            lat.verify,
        );
    }
    let major = kind.is_version_upgrade();
    if major != upgrade_verb {
        let verb = if major { "upgrade" } else { "install" };
        return Reply::fail(1, format!("Use 'installer {verb}' for this package\n"), 1.0);
    }
    let fails = sim.state.faults.iter().any(|(f, _)| {
        matches!(f, Fault::PackageFails { host: fh, package } if fh == host && name.contains(package.as_str()))
    });
    let duration = if major { lat.upgrade } else { lat.install };
    sim.state
        .record
        .installs
        .entry(host.to_string())
        .or_default()
        .push((now, cpuse_name(&name).to_string()));
    if let Some(h) = sim.state.hosts.get_mut(host) {
        h.busy = Some((
            Busy::Installing {
                package: name.clone(),
            },
            now + secs(duration),
        ));
    }
    sim.schedule(
        host,
        duration,
        PendingEvent::InstallFinished {
            package: name.clone(),
            success: !fails,
            reboot: true,
        },
    );
    if fails {
        Reply::fail(
            1,
            format!("Installation of {name} failed. The package was rolled back.\n"),
            duration,
        )
    } else {
        Reply::dropped(
            format!(
                "Installing {name}\nInstallation finished successfully. The machine is rebooting.\n"
            ),
            duration,
        )
    }
}

/// `installer uninstall <package>`.
pub(crate) fn uninstall(sim: &mut Sim, host: &str, word: &str) -> Reply {
    let latency = sim.state.latency.uninstall;
    let now = sim.state.now;
    let Some(h) = sim.state.hosts.get_mut(host) else {
        return Reply::fail(1, "", 0.0);
    };
    if let Some(r) = busy_reply(h) {
        return r;
    }
    let stem = cpuse_name(word).to_string();
    let jumbo_take = kind_from_file_name(word).ok().and_then(|k| match k {
        PackageKind::Jumbo { take, .. } => Some(take),
        _ => None,
    });
    let installed = h.hotfixes.contains(&stem) || (jumbo_take.is_some() && jumbo_take == h.take);
    if !installed {
        return Reply::fail(1, format!("Package {word} is not installed\n"), 1.0);
    }
    h.busy = Some((
        Busy::Installing {
            package: stem.clone(),
        },
        now + secs(latency),
    ));
    sim.schedule(
        host,
        latency,
        PendingEvent::UninstallFinished {
            package: stem.clone(),
        },
    );
    Reply::dropped(
        format!(
            "Uninstalling {stem}\nUninstall finished successfully. The machine is rebooting.\n"
        ),
        latency,
    )
}

/// `installer agent install <path>`: the build is read from `DeploymentAgent_000002600_1.tgz`.
pub(crate) fn agent(sim: &mut Sim, host: &str, path: &str) -> Reply {
    let latency = sim.state.latency.agent;
    let now = sim.state.now;
    let Some(h) = sim.state.hosts.get_mut(host) else {
        return Reply::fail(1, "", 0.0);
    };
    if let Some(r) = busy_reply(h) {
        return r;
    }
    if !h.files.contains_key(path) {
        return Reply::fail(
            1,
            format!("Agent installation failed: file {path} does not exist\n"),
            1.0,
        );
    }
    let file = path.rsplit('/').next().unwrap_or(path);
    let build = file
        .split(|c: char| !c.is_ascii_digit())
        .find(|s| s.len() >= 4)
        .and_then(|s| s.parse::<u32>().ok())
        .unwrap_or(h.cpuse_build + 1);
    h.cpuse_build = h.cpuse_build.max(build);
    h.busy = Some((
        Busy::Cpuse {
            operation: "agent update".into(),
        },
        now + secs(latency),
    ));
    sim.schedule(host, latency, PendingEvent::CpuseIdle);
    Reply::ok(
        format!("Deployment Agent build {build} installed successfully\n"),
        latency,
    )
}

/// What an install does once it succeeded.
pub(crate) fn apply_install(packages: &[Package], h: &mut Host, name: &str) {
    match kind_of(packages, name) {
        Some(PackageKind::Upgrade { target, take }) => {
            h.version = target;
            h.take = take;
            h.build = super::state::build_of(target);
            h.hotfixes.clear();
            h.mvc = false;
            h.fcu_ready = false;
        }
        Some(PackageKind::Jumbo { take, .. }) => h.take = Some(take),
        Some(PackageKind::Hotfix { .. }) => {
            h.hotfixes.insert(cpuse_name(name).to_string());
        }
        None => {}
    }
}

/// What an uninstall does.
pub(crate) fn apply_uninstall(h: &mut Host, stem: &str) {
    if !h.hotfixes.remove(stem) {
        h.take = None;
    }
}

/// `show installer packages imported|installed|all`.
pub(crate) fn show_packages(sim: &Sim, host: &str, which: &str) -> Reply {
    let Some(h) = sim.state.hosts.get(host) else {
        return Reply::fail(1, "", 0.0);
    };
    let packages = &sim.state.packages;
    let imported: Vec<(usize, String, &'static str)> = h
        .imported
        .iter()
        .enumerate()
        .map(|(i, n)| (i + 1, n.clone(), type_word(kind_of(packages, n))))
        .collect();
    if which == "imported" {
        return Reply::ok(
            print::installer_imported(&imported),
            sim.state.latency.command,
        );
    }
    let mut installed: Vec<(String, &'static str)> = vec![(format!("{} Gaia", h.version), "Major")];
    if let Some(take) = h.take {
        installed.push((
            format!(
                "{} Jumbo Hotfix Accumulator General Availability (Take {take})",
                h.version
            ),
            "Hotfix",
        ));
    }
    installed.extend(h.hotfixes.iter().map(|n| (n.clone(), "Hotfix")));
    let text = match which {
        "installed" => print::installer_installed(&installed),
        _ => print::installer_all(&imported, &installed),
    };
    Reply::ok(text, sim.state.latency.command)
}

fn type_word(kind: Option<PackageKind>) -> &'static str {
    match kind {
        Some(PackageKind::Upgrade { .. }) => "Major",
        Some(_) => "Hotfix",
        None => "Unknown",
    }
}

/// `show installer package <n|name>`.
pub(crate) fn show_package(sim: &Sim, host: &str, word: &str) -> Reply {
    let Some(h) = sim.state.hosts.get(host) else {
        return Reply::fail(1, "", 0.0);
    };
    let Some(name) = resolve(h, word) else {
        return Reply::fail(1, format!("Package {word} was not found\n"), 1.0);
    };
    let kind = kind_of(&sim.state.packages, &name);
    let installed = match kind {
        Some(PackageKind::Upgrade { target, .. }) => h.version == target,
        Some(PackageKind::Jumbo { take, .. }) => h.take == Some(take),
        Some(PackageKind::Hotfix { .. }) => h.hotfixes.contains(cpuse_name(&name)),
        None => false,
    };
    let installing = matches!(&h.busy, Some((Busy::Installing { package }, _)) if *package == name);
    let status = if installing {
        "Installing"
    } else if installed {
        "Installed"
    } else {
        "Imported"
    };
    Reply::ok(
        print::installer_package(&name, type_word(kind), status),
        sim.state.latency.command,
    )
}
