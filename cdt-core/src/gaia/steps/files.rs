//! Packages and files on gateways: copies checked by SHA-256 (a file over 1 MiB is not sent
//! again when it is already there), CPUSE import, install with the reboot that follows, and
//! pulls into a safe local folder.

use std::path::Path;

use super::{
    Hosts, StepContext, StepError, StepResult, TargetMemory, Waits, command, first_line, run_cpuse,
    run_cpuse_ok, run_ok, wait_until_back,
};
use crate::gaia::commands::{self, PackageList, UPLOAD_DIR};
use crate::gaia::parse;
use crate::model::package::cpuse_name;
use crate::rollout::Outcome;

/// The folder user scripts are copied to on a gateway.
pub(crate) const SCRIPT_DIR: &str = "/var/tmp/cdt";

/// The file name of a local path, or an error for a path without one.
pub fn remote_name(local: &Path) -> Option<String> {
    local.file_name().map(|n| n.to_string_lossy().into_owned())
}

fn name_of(local: &Path) -> StepResult<String> {
    remote_name(local)
        .ok_or_else(|| StepError::Failed(format!("{} has no file name", local.display())))
}

/// Where a user script goes on the gateway.
pub(crate) fn script_dir_path(local: &Path) -> String {
    format!("{SCRIPT_DIR}/{}", remote_name(local).unwrap_or_default())
}

/// A host or file name made safe as one local path component.
pub(crate) fn sanitise(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    match cleaned.as_str() {
        "" | "." | ".." => "_".to_string(),
        _ => cleaned,
    }
}

/// The SHA-256 of `remote` on `host`, if the file exists.
async fn remote_digest(hosts: &dyn Hosts, host: &str, remote: &str) -> StepResult<Option<String>> {
    let out = hosts
        .exec(host, &command(commands::sha256sum(remote))?)
        .await?;
    Ok(match out.exit {
        Some(0) => out
            .stdout
            .split_whitespace()
            .next()
            .map(str::to_ascii_lowercase),
        _ => None,
    })
}

/// Files up to this size are sent without asking first whether the gateway has them: the
/// question (a `sha256sum` round trip) costs about what sending them does.
const ASK_FIRST_ABOVE: u64 = 1024 * 1024;

/// Copies `local` to `remote` unless the same content is already there, then checks what
/// arrived. Returns the remote path.
///
/// Whether it is there is known without a command when this run already checked that file at
/// that path ([`TargetMemory::verified`]); otherwise a file larger than 1 MiB is looked for
/// first (`sha256sum`), and a smaller one is sent at once. Either way the SHA-256 of what is
/// on the gateway is checked after the copy.
pub(crate) async fn copy(
    hosts: &dyn Hosts,
    host: &str,
    local: &Path,
    remote: &str,
    memory: &mut TargetMemory,
) -> StepResult<String> {
    let local_file = hosts.digest(local).await?;
    let want = local_file.sha256;
    if memory
        .verified
        .iter()
        .any(|(path, digest)| path == remote && *digest == want)
    {
        return Ok(remote.to_string());
    }
    let large = local_file.size > ASK_FIRST_ABOVE;
    let there =
        large && remote_digest(hosts, host, remote).await?.as_deref() == Some(want.as_str());
    if !there {
        hosts.put(host, local, remote).await?;
        match remote_digest(hosts, host, remote).await? {
            Some(got) if got == want => {}
            Some(got) => {
                return Err(StepError::Failed(format!(
                    "{host}: {remote} arrived damaged (SHA-256 {got}, expected {want})"
                )));
            }
            None => {
                return Err(StepError::Failed(format!(
                    "{host}: {remote} is missing after the copy"
                )));
            }
        }
    }
    memory.verified.retain(|(path, _)| path != remote);
    memory.verified.push((remote.to_string(), want));
    Ok(remote.to_string())
}

/// Copies a package to the upload folder (`send_package`). Returns the remote path.
pub(crate) async fn upload(
    hosts: &dyn Hosts,
    host: &str,
    local: &Path,
    memory: &mut TargetMemory,
) -> StepResult<String> {
    let remote = format!("{UPLOAD_DIR}/{}", name_of(local)?);
    copy(hosts, host, local, &remote, memory).await
}

/// The number CPUSE shows for the package, if it is imported.
async fn imported_number(hosts: &dyn Hosts, host: &str, name: &str) -> StepResult<Option<String>> {
    let list = parse::parse_installer_packages(
        &run_ok(
            hosts,
            host,
            &commands::show_installer_packages(PackageList::Imported),
        )
        .await?,
    )
    .map_err(|e| StepError::Failed(format!("{host}: show installer packages imported: {e}")))?;
    Ok(parse::find_package(&list.packages, name).map(|p| {
        p.number
            .map_or_else(|| cpuse_name(&p.name).to_string(), |n| n.to_string())
    }))
}

/// Copies and imports a package unless CPUSE already lists it; returns how to name it to
/// CPUSE (its number in the imported list). The number found is kept in
/// [`TargetMemory::imported`]: asked again in the same run, it is returned without a command.
pub(crate) async fn import(
    hosts: &dyn Hosts,
    host: &str,
    local: &Path,
    waits: &Waits,
    memory: &mut TargetMemory,
) -> StepResult<String> {
    let name = name_of(local)?;
    if let Some((known, number)) = &memory.imported
        && *known == name
    {
        return Ok(number.clone());
    }
    let number = match imported_number(hosts, host, &name).await? {
        Some(n) => n,
        None => {
            let remote = upload(hosts, host, local, memory).await?;
            run_cpuse_ok(
                hosts,
                host,
                &command(commands::installer_import(&remote))?,
                waits,
            )
            .await?;
            imported_number(hosts, host, &name).await?.ok_or_else(|| {
                StepError::Failed(format!("{host}: {name} is not listed after its import"))
            })?
        }
    };
    memory.imported = Some((name, number.clone()));
    Ok(number)
}

/// `download_from_cloud`: CPUSE fetches the package from the vendor cloud.
pub(crate) async fn download_from_cloud(
    hosts: &dyn Hosts,
    host: &str,
    local: &Path,
    waits: &Waits,
) -> StepResult<()> {
    let name = name_of(local)?;
    if imported_number(hosts, host, &name).await?.is_some() {
        return Ok(());
    }
    let line = command(commands::installer_download(cpuse_name(&name)))?;
    run_cpuse_ok(hosts, host, &line, waits).await?;
    Ok(())
}

/// What CPUSE says of the package it lists under a number.
enum Shown {
    /// Installed.
    Installed,
    /// Listed, not installed.
    NotInstalled,
    /// The number names another package (the list changed since it was read).
    Other,
}

/// Whether CPUSE reports the package `name` installed under `number`. While it reports an
/// install in progress, or the gateway does not answer (the reboot that ends an install),
/// waits within the longer reboot grace: a run resumed after the orchestrator died
/// mid-install finds it so. A number CPUSE shows for another package is [`Shown::Other`].
async fn installed(
    hosts: &dyn Hosts,
    host: &str,
    name: &str,
    number: &str,
    ctx: &StepContext,
) -> StepResult<Shown> {
    let mut waited = jiff::SignedDuration::ZERO;
    let line = command(commands::show_installer_package(number))?;
    loop {
        let outcome = match run_ok(hosts, host, &line).await {
            Ok(reply) => {
                let details = parse::parse_installer_package(&reply).map_err(|e| {
                    StepError::Failed(format!("{host}: show installer package: {e}"))
                })?;
                let status = details.status().unwrap_or_default().to_ascii_lowercase();
                if !shows_package(&details, name) {
                    Some(Ok(Shown::Other))
                } else if status.contains("installing") {
                    None
                } else if status == "installed" {
                    Some(Ok(Shown::Installed))
                } else {
                    Some(Ok(Shown::NotInstalled))
                }
            }
            Err(StepError::Unreachable(m)) => {
                (waited >= ctx.waits.reboot_grace_upgrade).then_some(Err(StepError::Unreachable(m)))
            }
            Err(e) => Some(Err(e)),
        };
        if let Some(result) = outcome {
            return result;
        }
        if waited >= ctx.waits.reboot_grace_upgrade {
            return Err(StepError::Failed(format!(
                "{host}: CPUSE still reports the install in progress"
            )));
        }
        hosts.sleep(ctx.waits.poll).await;
        waited += ctx.waits.poll;
    }
}

/// Whether the details CPUSE prints for a package name the package `name` (by its display
/// or file name, as [`parse::find_package`] matches them). Details that name no package
/// at all are taken at their number's word.
fn shows_package(details: &parse::InstallerPackageDetails, name: &str) -> bool {
    let shown: Vec<parse::InstallerPackage> = [details.display_name(), details.package_name()]
        .into_iter()
        .flatten()
        .map(|n| parse::InstallerPackage {
            number: None,
            name: n.to_string(),
            kind: None,
            status: None,
            section: None,
        })
        .collect();
    shown.is_empty()
        || shown
            .iter()
            .any(|p| parse::find_package(std::slice::from_ref(p), name).is_some())
}

/// `install_package`: import if needed; install (or upgrade) unless already installed; wait
/// for the reboot; check that CPUSE reports it installed.
pub(crate) async fn install(
    hosts: &dyn Hosts,
    host: &str,
    local: &Path,
    ctx: &StepContext,
    memory: &mut TargetMemory,
) -> StepResult<Outcome> {
    // A gateway that stops answering before the install command went out is rebooting at the
    // end of an install started before a crash: wait for it, then look again (every part of
    // the step checks first what is already done).
    let mut waited = jiff::SignedDuration::ZERO;
    loop {
        match install_once(hosts, host, local, ctx, memory).await {
            Err(StepError::Unreachable(_)) if waited < ctx.waits.reboot_grace_upgrade => {
                wait_until_back(hosts, host, ctx.waits.reboot_grace_upgrade, ctx.waits.poll)
                    .await?;
                waited += ctx.waits.reboot_grace_upgrade;
            }
            other => return other,
        }
    }
}

async fn install_once(
    hosts: &dyn Hosts,
    host: &str,
    local: &Path,
    ctx: &StepContext,
    memory: &mut TargetMemory,
) -> StepResult<Outcome> {
    let name = name_of(local)?;
    let mut number = import(hosts, host, local, &ctx.waits, memory).await?;
    let mut shown = installed(hosts, host, &name, &number, ctx).await?;
    if matches!(shown, Shown::Other) {
        // The number remembered names another package now: list again.
        memory.imported = None;
        number = import(hosts, host, local, &ctx.waits, memory).await?;
        shown = installed(hosts, host, &name, &number, ctx).await?;
    }
    match shown {
        Shown::Installed => return Ok(Outcome::Ok),
        Shown::Other => {
            return Err(StepError::Failed(format!(
                "{host}: CPUSE lists {name} as {number} but shows another package under it"
            )));
        }
        Shown::NotInstalled => {}
    }
    let upgrade = ctx.package_kind.is_version_upgrade();
    let line = if upgrade {
        commands::installer_upgrade(&number)
    } else {
        commands::installer_install(&number)
    };
    let out = run_cpuse(hosts, host, &command(line)?, &ctx.waits).await?;
    match out.exit {
        Some(0) => {}
        Some(code) => {
            return Err(StepError::Failed(format!(
                "{host}: CPUSE {} exited {code}: {}",
                if upgrade { "upgrade" } else { "install" },
                first_line(&out.stderr, &out.stdout)
            )));
        }
        None => {
            let grace = if upgrade {
                ctx.waits.reboot_grace_upgrade
            } else {
                ctx.waits.reboot_grace_hotfix
            };
            wait_until_back(hosts, host, grace, ctx.waits.poll).await?;
        }
    }
    match installed(hosts, host, &name, &number, ctx).await? {
        Shown::Installed => Ok(Outcome::Ok),
        _ => Err(StepError::Failed(format!(
            "{host}: CPUSE does not report the package installed"
        ))),
    }
}

/// `pull_file`: copies `remote` into `local_dir/<host>/<file name>`, never outside it.
pub(crate) async fn pull(
    hosts: &dyn Hosts,
    host: &str,
    remote: &str,
    local_dir: &Path,
) -> StepResult<()> {
    let folder = super::pull_folder(local_dir, host);
    std::fs::create_dir_all(&folder)
        .map_err(|e| StepError::Failed(format!("{}: {e}", folder.display())))?;
    let name = sanitise(remote.rsplit('/').next().unwrap_or(remote));
    hosts.get(host, remote, &folder.join(name)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details(text: &str) -> parse::InstallerPackageDetails {
        parse::parse_installer_package(text).unwrap()
    }

    #[test]
    fn a_number_is_trusted_only_for_the_package_its_details_name() {
        let jumbo = "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz";
        let shown = |name: &str| {
            details(&format!(
                "Display name: {name}\nType: Hotfix\nStatus: Imported\n"
            ))
        };
        assert!(shows_package(
            &shown("Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL"),
            jumbo
        ));
        assert!(shows_package(
            &shown("R81.20 Jumbo Hotfix Accumulator General Availability (Take 89)"),
            jumbo
        ));
        assert!(!shows_package(
            &shown("R81.20 Jumbo Hotfix Accumulator General Availability (Take 92)"),
            jumbo
        ));
        assert!(!shows_package(
            &shown("Check_Point_R81_20_Hotfix_sk123"),
            jumbo
        ));
        // Details that name no package at all are taken at the number's word.
        assert!(shows_package(
            &details("Type: Hotfix\nStatus: Imported\n"),
            jumbo
        ));
    }

    #[test]
    fn sanitised_names_cannot_climb_out_of_their_folder() {
        assert_eq!(sanitise(".."), "_");
        assert_eq!(sanitise("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(sanitise("gw-1"), "gw-1");
        assert_eq!(sanitise(""), "_");
    }
}
