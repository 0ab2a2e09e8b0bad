//! The command lines the engine sends (SPEC 5), each built here and nowhere else, with every
//! argument that comes from a file, a plan or an inventory quoted by [`quote::shell`] (or, for
//! words inside a clish command, checked by [`quote::clish_word`]).
//!
//! Commands run in the Expert shell; clish commands go through `clish -c '…'`, and CPUSE runs
//! non-interactively (`not-interactive`).
//!
//! ```
//! use cdt_core::gaia::commands;
//! assert_eq!(
//!     commands::installer_import("/var/log/upload/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz").unwrap(),
//!     "clish -c 'installer import local /var/log/upload/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz not-interactive'"
//! );
//! assert!(commands::installer_install("x;reboot").is_err());
//! assert_eq!(commands::sha256sum("/var/log/upload/a b.tgz").unwrap(), "sha256sum '/var/log/upload/a b.tgz'");
//! ```

use super::quote::{self, QuoteError};

/// Where packages are copied on a gateway (`send_package`, `import_package`).
pub const UPLOAD_DIR: &str = "/var/log/upload";

/// `clish -c '<command>'`.
pub fn clish(command: &str) -> Result<String, QuoteError> {
    quote::command("clish", ["-c", command])
}

/// `installer import local <path> not-interactive`.
pub fn installer_import(path: &str) -> Result<String, QuoteError> {
    clish(&format!(
        "installer import local {} not-interactive",
        quote::clish_word(path)?
    ))
}

/// `installer download <package> not-interactive`: CPUSE fetches it from the vendor cloud.
pub fn installer_download(package: &str) -> Result<String, QuoteError> {
    clish(&format!(
        "installer download {} not-interactive",
        quote::clish_word(package)?
    ))
}

/// `installer verify <package> not-interactive` (a name or the number the imported list shows).
pub fn installer_verify(package: &str) -> Result<String, QuoteError> {
    clish(&format!(
        "installer verify {} not-interactive",
        quote::clish_word(package)?
    ))
}

/// `installer install <package> not-interactive` (hotfixes and Jumbos).
pub fn installer_install(package: &str) -> Result<String, QuoteError> {
    clish(&format!(
        "installer install {} not-interactive",
        quote::clish_word(package)?
    ))
}

/// `installer upgrade <package> not-interactive` (major versions).
pub fn installer_upgrade(package: &str) -> Result<String, QuoteError> {
    clish(&format!(
        "installer upgrade {} not-interactive",
        quote::clish_word(package)?
    ))
}

/// `installer uninstall <package> not-interactive`.
pub fn installer_uninstall(package: &str) -> Result<String, QuoteError> {
    clish(&format!(
        "installer uninstall {} not-interactive",
        quote::clish_word(package)?
    ))
}

/// `installer agent install <path> not-interactive`.
pub fn installer_agent_install(path: &str) -> Result<String, QuoteError> {
    clish(&format!(
        "installer agent install {} not-interactive",
        quote::clish_word(path)?
    ))
}

/// Which CPUSE package list to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageList {
    /// `show installer packages imported`.
    Imported,
    /// `show installer packages installed`.
    Installed,
    /// `show installer packages`.
    All,
}

/// `show installer packages [imported|installed]`.
pub fn show_installer_packages(list: PackageList) -> String {
    let which = match list {
        PackageList::Imported => " imported",
        PackageList::Installed => " installed",
        PackageList::All => "",
    };
    format!("clish -c 'show installer packages{which}'")
}

/// `show installer package <n|name>`.
pub fn show_installer_package(package: &str) -> Result<String, QuoteError> {
    clish(&format!(
        "show installer package {}",
        quote::clish_word(package)?
    ))
}

/// `show installer status build`.
pub fn show_installer_build() -> String {
    "clish -c 'show installer status build'".to_string()
}

/// `show version all`.
pub fn show_version_all() -> String {
    "clish -c 'show version all'".to_string()
}

/// clish `show vrrp` (VRRP roles).
pub fn show_vrrp() -> String {
    "clish -c 'show vrrp'".to_string()
}

/// `add snapshot <name> desc "<text>"`: the name is a clish word; the description may hold
/// spaces but no quote, backslash or control character.
pub fn add_snapshot(name: &str, description: &str) -> Result<String, QuoteError> {
    let name = quote::clish_word(name)?;
    if let Some(ch) = description
        .chars()
        .find(|c| c.is_control() || *c == '"' || *c == '\\')
    {
        return Err(QuoteError::ClishCharacter {
            word: description.to_string(),
            ch,
        });
    }
    clish(&format!("add snapshot {name} desc \"{description}\""))
}

/// `show snapshots`.
pub fn show_snapshots() -> String {
    "clish -c 'show snapshots'".to_string()
}

/// `cpwd_admin list`: the processes `cpwd` watches.
pub fn cpwd_list() -> String {
    "cpwd_admin list".to_string()
}

/// `fw ver`.
pub fn fw_ver() -> String {
    "fw ver".to_string()
}

/// `cpinfo -y all`: installed hotfixes and Jumbo take.
pub fn cpinfo_hotfixes() -> String {
    "cpinfo -y all".to_string()
}

/// `cphaprob state`.
pub fn cphaprob_state() -> String {
    "cphaprob state".to_string()
}

/// `cphaprob mvc`.
pub fn cphaprob_mvc() -> String {
    "cphaprob mvc".to_string()
}

/// `cphaconf mvc on|off`.
pub fn cphaconf_mvc(on: bool) -> String {
    format!("cphaconf mvc {}", if on { "on" } else { "off" })
}

/// `cphacu start`.
pub fn cphacu_start() -> String {
    "cphacu start".to_string()
}

/// `cphacu stat`.
pub fn cphacu_stat() -> String {
    "cphacu stat".to_string()
}

/// `clusterXL_admin down|up` (not persistent: it does not survive a reboot).
pub fn clusterxl_admin(down: bool) -> String {
    format!("clusterXL_admin {}", if down { "down" } else { "up" })
}

/// `sha256sum <path>`.
pub fn sha256sum(path: &str) -> Result<String, QuoteError> {
    quote::command("sha256sum", [path])
}

/// `sh <script>`: runs a user script the engine copied to the gateway.
pub fn run_script(path: &str) -> Result<String, QuoteError> {
    quote::command("sh", [path])
}

/// `reboot`.
pub fn reboot() -> String {
    "reboot".to_string()
}

/// `mgmt_cli <command> <key> <value>… [--session-id SID] [-d DOMAIN] --format json`.
pub fn mgmt_cli(
    command: &str,
    params: &[(&str, &str)],
    session: Option<&str>,
    domain: Option<&str>,
) -> Result<String, QuoteError> {
    let mut args: Vec<&str> = vec![command];
    for (k, v) in params {
        args.push(k);
        args.push(v);
    }
    if let Some(s) = session {
        args.extend(["--session-id", s]);
    }
    if let Some(d) = domain {
        args.extend(["-d", d]);
    }
    args.extend(["--format", "json"]);
    quote::command("mgmt_cli", args)
}

/// Relaying through the Management Server (SPEC 6): `cprid_util -server <gateway> rexec
/// -rcmd /bin/sh -c '<command>'` runs `command` on the gateway over Check Point's trusted
/// channel; the Management Server's shell receives this line.
///
/// ```
/// use cdt_core::gaia::commands;
/// assert_eq!(
///     commands::cprid_rexec("10.1.1.1", "fw ver").unwrap(),
///     "cprid_util -server 10.1.1.1 -verbose rexec -rcmd /bin/sh -c 'fw ver'"
/// );
/// ```
pub fn cprid_rexec(server: &str, command: &str) -> Result<String, QuoteError> {
    quote::command(
        "cprid_util",
        [
            "-server", server, "-verbose", "rexec", "-rcmd", "/bin/sh", "-c", command,
        ],
    )
}

/// `cprid_util -server <gateway> putfile -local_file <on the Management Server>
/// -remote_file <on the gateway>`.
pub fn cprid_putfile(server: &str, local: &str, remote: &str) -> Result<String, QuoteError> {
    quote::command(
        "cprid_util",
        [
            "-server",
            server,
            "-verbose",
            "putfile",
            "-local_file",
            local,
            "-remote_file",
            remote,
        ],
    )
}

/// `cprid_util -server <gateway> getfile -remote_file <on the gateway> -local_file <on the
/// Management Server>`.
pub fn cprid_getfile(server: &str, remote: &str, local: &str) -> Result<String, QuoteError> {
    quote::command(
        "cprid_util",
        [
            "-server",
            server,
            "-verbose",
            "getfile",
            "-remote_file",
            remote,
            "-local_file",
            local,
        ],
    )
}

/// What `cprid_util` prints (on standard error, exiting 1) when it cannot reach the gateway.
pub const CPRID_UNREACHABLE: &str = "cprid_util: failed to connect to";

/// What `cprid_util` prints (on standard error, exiting 1) when the gateway's side ended
/// without finishing the command (a reboot).
pub const CPRID_DROPPED: &str = "cprid_util: connection lost to";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_clish_argument_is_checked() {
        for bad in ["a b", "a'b", "a;b", "$(x)", ""] {
            assert!(installer_import(bad).is_err(), "{bad:?}");
            assert!(installer_verify(bad).is_err(), "{bad:?}");
            assert!(installer_install(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shell_arguments_are_single_quoted() {
        assert_eq!(
            run_script("/home/admin/it's.sh").unwrap(),
            r"sh '/home/admin/it'\''s.sh'"
        );
        assert_eq!(
            mgmt_cli(
                "set-simple-gateway",
                &[("name", "gw 1"), ("version", "R82")],
                Some("s1"),
                None
            )
            .unwrap(),
            "mgmt_cli set-simple-gateway name 'gw 1' version R82 --session-id s1 --format json"
        );
    }

    #[test]
    fn a_snapshot_description_cannot_break_out_of_its_quotes() {
        assert!(add_snapshot("before", "taken by \"cdt\"").is_err());
        assert!(add_snapshot("before", "line\nbreak").is_err());
        assert_eq!(
            add_snapshot("before", "taken by cdt").unwrap(),
            r#"clish -c 'add snapshot before desc "taken by cdt"'"#
        );
    }
}
