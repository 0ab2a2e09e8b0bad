//! Packages and files on gateways: copies checked by SHA-256 (skipped when already there),
//! CPUSE import, install with the reboot that follows, and pulls into a safe local folder.

use std::path::Path;

use super::{
    Hosts, StepContext, StepError, StepResult, Waits, command, first_line, run_cpuse, run_cpuse_ok,
    run_ok, wait_until_back,
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

/// Copies `local` to `remote` unless the same content is already there, then checks what
/// arrived. Returns the remote path.
pub(crate) async fn copy(
    hosts: &dyn Hosts,
    host: &str,
    local: &Path,
    remote: &str,
) -> StepResult<String> {
    let want = hosts.digest(local).await?;
    if remote_digest(hosts, host, remote).await?.as_deref() == Some(want.as_str()) {
        return Ok(remote.to_string());
    }
    hosts.put(host, local, remote).await?;
    match remote_digest(hosts, host, remote).await? {
        Some(got) if got == want => Ok(remote.to_string()),
        Some(got) => Err(StepError::Failed(format!(
            "{host}: {remote} arrived damaged (SHA-256 {got}, expected {want})"
        ))),
        None => Err(StepError::Failed(format!(
            "{host}: {remote} is missing after the copy"
        ))),
    }
}

/// Copies a package to the upload folder (`send_package`). Returns the remote path.
pub(crate) async fn upload(hosts: &dyn Hosts, host: &str, local: &Path) -> StepResult<String> {
    let remote = format!("{UPLOAD_DIR}/{}", name_of(local)?);
    copy(hosts, host, local, &remote).await
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
/// CPUSE (its number in the imported list).
pub(crate) async fn import(
    hosts: &dyn Hosts,
    host: &str,
    local: &Path,
    waits: &Waits,
) -> StepResult<String> {
    let name = name_of(local)?;
    if let Some(n) = imported_number(hosts, host, &name).await? {
        return Ok(n);
    }
    let remote = upload(hosts, host, local).await?;
    run_cpuse_ok(
        hosts,
        host,
        &command(commands::installer_import(&remote))?,
        waits,
    )
    .await?;
    imported_number(hosts, host, &name)
        .await?
        .ok_or_else(|| StepError::Failed(format!("{host}: {name} is not listed after its import")))
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

/// Whether CPUSE reports the package installed. While it reports an install in progress, or
/// the gateway does not answer (the reboot that ends an install), waits within the longer
/// reboot grace: a run resumed after the orchestrator died mid-install finds it so.
async fn installed(
    hosts: &dyn Hosts,
    host: &str,
    number: &str,
    ctx: &StepContext,
) -> StepResult<bool> {
    let mut waited = jiff::SignedDuration::ZERO;
    let line = command(commands::show_installer_package(number))?;
    loop {
        let outcome = match run_ok(hosts, host, &line).await {
            Ok(reply) => {
                let details = parse::parse_installer_package(&reply).map_err(|e| {
                    StepError::Failed(format!("{host}: show installer package: {e}"))
                })?;
                let status = details.status().unwrap_or_default().to_ascii_lowercase();
                if status.contains("installing") {
                    None
                } else {
                    Some(Ok(status == "installed"))
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

/// `install_package`: import if needed; install (or upgrade) unless already installed; wait
/// for the reboot; check that CPUSE reports it installed.
pub(crate) async fn install(
    hosts: &dyn Hosts,
    host: &str,
    local: &Path,
    ctx: &StepContext,
) -> StepResult<Outcome> {
    // A gateway that stops answering before the install command went out is rebooting at the
    // end of an install started before a crash: wait for it, then look again (every part of
    // the step checks first what is already done).
    let mut waited = jiff::SignedDuration::ZERO;
    loop {
        match install_once(hosts, host, local, ctx).await {
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
) -> StepResult<Outcome> {
    let number = import(hosts, host, local, &ctx.waits).await?;
    if installed(hosts, host, &number, ctx).await? {
        return Ok(Outcome::Ok);
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
    if installed(hosts, host, &number, ctx).await? {
        Ok(Outcome::Ok)
    } else {
        Err(StepError::Failed(format!(
            "{host}: CPUSE does not report the package installed"
        )))
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

    #[test]
    fn sanitised_names_cannot_climb_out_of_their_folder() {
        assert_eq!(sanitise(".."), "_");
        assert_eq!(sanitise("../../etc/passwd"), ".._.._etc_passwd");
        assert_eq!(sanitise("gw-1"), "gw-1");
        assert_eq!(sanitise(""), "_");
    }
}
