//! Replies printed in the formats real Gaia prints (see the project's Gaia samples): the
//! layouts of `cphaprob state`, `cpwd_admin list`, `fw ver`, `show version all` and
//! `cpinfo -y all` follow real or vendor-documented output; those of CPUSE listings,
//! `show vrrp`, `cphaprob mvc` and `cphacu stat` follow the documented descriptions, since no
//! real sample of them is public.

use std::fmt::Write as _;

use jiff::Timestamp;

use super::state::{ClusterSim, Host};
use crate::model::ClusterKind;

fn pad(s: &str, width: usize) -> String {
    let mut out = String::with_capacity(width.max(s.len()));
    push_padded(&mut out, s, width);
    out
}

/// Appends `s` left-aligned in `width` characters (as `{s:<width$}` does).
fn push_padded(out: &mut String, s: &str, width: usize) {
    const SPACES: &str = "                                ";
    out.push_str(s);
    let mut missing = width.saturating_sub(s.chars().count());
    while missing > 0 {
        let n = missing.min(SPACES.len());
        out.push_str(&SPACES[..n]);
        missing -= n;
    }
}

/// `cphaprob state` (R80.20 and later layout, with the Name column).
pub(crate) fn cphaprob_state(
    c: &ClusterSim,
    local: &str,
    rows: &[(String, String, &str)],
    pnotes: &[&str],
    failovers: u32,
    boot: Timestamp,
) -> String {
    let mode = match c.kind {
        ClusterKind::VsxVsls => "Virtual System Load Sharing",
        ClusterKind::Vrrp => "Sync only (OPSEC)",
        _ => "High Availability (Active Up) with IGMP Membership",
    };
    let mut out = format!(
        "\nCluster Mode:   {mode}\n\nID         Unique Address  Assigned Load   State          Name\n\n"
    );
    for (i, (name, address, state)) in rows.iter().enumerate() {
        let id = if name == local {
            format!("{} (local)", i + 1)
        } else {
            (i + 1).to_string()
        };
        let load = if state.starts_with("ACTIVE") {
            "100%"
        } else {
            "0%"
        };
        push_padded(&mut out, &id, 11);
        push_padded(&mut out, address, 16);
        push_padded(&mut out, load, 16);
        push_padded(&mut out, state, 15);
        out.push_str(name);
        out.push('\n');
    }
    let pnotes = if pnotes.is_empty() {
        "None".to_string()
    } else {
        pnotes.join(", ")
    };
    let boot = ctime(boot);
    let _ = write!(
        out,
        "\n\nActive PNOTEs: {pnotes}\n\nLast member state change event:\n   Event Code:                 CLUS-114904\n   State change:               ACTIVE(!) -> ACTIVE\n   Reason for state change:    Reason for ACTIVE! alert has been resolved\n   Event time:                 {boot}\n\nCluster failover count:\n   Failover counter:           {failovers}\n   Time of counter reset:      {boot} (reboot)\n\n",
    );
    out
}

/// `Wed Mar 12 01:33:38 2025`.
pub(crate) fn ctime(t: Timestamp) -> String {
    t.strftime("%a %b %e %H:%M:%S %Y").to_string()
}

/// `cpwd_admin list`.
pub(crate) fn cpwd_list(h: &Host) -> String {
    let mut out = String::with_capacity(64 + 72 * h.processes.len());
    out.push_str("APP        PID    STAT  #START  START_TIME             MON  COMMAND\n");
    // `[%H:%M:%S] %-d/%-m/%Y`, written once for every row.
    let boot = jiff::tz::Offset::UTC.to_datetime(h.last_boot);
    let start = format!(
        "[{:02}:{:02}:{:02}] {}/{}/{}",
        boot.hour(),
        boot.minute(),
        boot.second(),
        boot.day(),
        boot.month(),
        boot.year()
    );
    let mut digits = [0u8; 20];
    for (i, app) in (0u64..).zip(h.processes.iter()) {
        push_padded(&mut out, app, 11);
        push_padded(
            &mut out,
            crate::json::decimal(4000 + i * 37, &mut digits),
            7,
        );
        out.push_str("E     1       ");
        push_padded(&mut out, &start, 23);
        out.push_str("Y    ");
        let at = out.len();
        out.push_str(app);
        out[at..].make_ascii_lowercase();
        out.push('\n');
    }
    out
}

/// `fw ver`.
pub(crate) fn fw_ver(h: &Host) -> String {
    format!(
        "This is Check Point's software version {} - Build {}\n",
        h.version, h.build
    )
}

/// `show version all` (clish).
pub(crate) fn show_version_all(h: &Host) -> String {
    format!(
        "Product version Check Point Gaia {}\nOS build {}\nOS kernel version 3.10.0-1160.15.2cpx86_64\nOS edition 64-bit\n",
        h.version, h.build
    )
}

/// `cpinfo -y all` (R81.20 layout).
pub(crate) fn cpinfo(h: &Host) -> String {
    let tag = h.version.to_string().replace('.', "_");
    let mut out = String::from(
        "This is Check Point CPinfo Build 914000274 for GAIA\n[IDA]\n        No hotfixes..\n[FW1]\n",
    );
    match h.take {
        Some(take) => {
            let _ = writeln!(out, "        HOTFIX_{tag}_JUMBO_HF_MAIN     Take:  {take}");
        }
        None => out.push_str("        No hotfixes..\n"),
    }
    for hf in &h.hotfixes {
        let _ = writeln!(out, "        {hf}");
    }
    out.push_str("[CPUpdates]\n");
    match h.take {
        Some(take) => {
            let _ = writeln!(out, "        BUNDLE_{tag}_JUMBO_HF_MAIN     Take:  {take}");
        }
        None => out.push_str("        No hotfixes..\n"),
    }
    out
}

/// clish `show vrrp` (summary form).
pub(crate) fn show_vrrp(master: bool, in_service: bool) -> String {
    let (init, backup, masters) = match (in_service, master) {
        (false, _) => (1, 0, 0),
        (true, true) => (0, 0, 1),
        (true, false) => (0, 1, 0),
    };
    format!(
        "VRRP State\n  Flags: On\n  1 interface enabled\n    In Init state {init}\n    In Backup state {backup}\n    In Master state {masters}\n"
    )
}

/// `cphaprob mvc`.
pub(crate) fn mvc(on: bool) -> String {
    format!("MVC: {}\n", if on { "on" } else { "off" })
}

/// `cphacu stat`.
pub(crate) fn cphacu_stat(ready: bool) -> String {
    if ready {
        "Connectivity upgrade status: ready for failover\n".to_string()
    } else {
        "Connectivity upgrade status: not started\n".to_string()
    }
}

/// `clusterXL_admin down|up`.
pub(crate) fn clusterxl_admin(down: bool, state: &str) -> String {
    let action = if down {
        "Setting member to administratively down state ..."
    } else {
        "Setting member to normal operation ..."
    };
    format!(
        "This command does not survive reboot. To make the change permanent, please run 'set cluster member admin down/up permanent' in clish or add '-p' at the end of the command in expert mode\n{action}\nMember current state is {state}\n"
    )
}

/// `show installer packages imported`.
pub(crate) fn installer_imported(rows: &[(usize, String, &str)]) -> String {
    let width = rows.iter().map(|r| r.1.len()).max().unwrap_or(12).max(12) + 2;
    let mut out = format!("Num  {}Type\n", pad("Display name", width));
    for (n, name, kind) in rows {
        let _ = writeln!(out, "{}{}{kind}", pad(&n.to_string(), 5), pad(name, width));
    }
    out
}

/// `show installer packages installed`.
pub(crate) fn installer_installed(rows: &[(String, &str)]) -> String {
    let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(12).max(12) + 2;
    let mut out = format!("**   Installed   **\n{}Type\n", pad("Display name", width));
    for (name, kind) in rows {
        let _ = writeln!(out, "{}{kind}", pad(name, width));
    }
    out
}

/// `show installer packages` (all).
pub(crate) fn installer_all(
    imported: &[(usize, String, &str)],
    installed: &[(String, &str)],
) -> String {
    let width = imported
        .iter()
        .map(|r| r.1.len())
        .chain(installed.iter().map(|r| r.0.len()))
        .max()
        .unwrap_or(12)
        .max(12)
        + 2;
    let mut out = format!("{}{}Status\n", pad("Display name", width), pad("Type", 8));
    for (name, kind) in installed {
        let _ = writeln!(out, "{}{}Installed", pad(name, width), pad(kind, 8));
    }
    for (_, name, kind) in imported {
        let _ = writeln!(out, "{}{}Imported", pad(name, width), pad(kind, 8));
    }
    out
}

/// `show installer package <n>`.
pub(crate) fn installer_package(name: &str, kind: &str, status: &str) -> String {
    format!("Display name: {name}\nType: {kind}\nStatus: {status}\n")
}

/// `show installer status build`.
pub(crate) fn installer_build(build: u32) -> String {
    format!(
        "Agent: Enabled\nBuild number: {build} (agent build is up to date)\nNetwork connection: not connected\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Version;

    #[test]
    fn cpwd_list_rows_line_up_under_the_header_with_the_boot_time() {
        let boot: Timestamp = "2026-03-04T05:06:07Z".parse().unwrap();
        let h = Host::new("gw-1", "10.0.0.1".into(), Version::R81_20, Some(41), boot);
        let text = cpwd_list(&h);
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let first = lines.next().unwrap();
        assert_eq!(
            first,
            "CI_CLEANUP 4000   E     1       [05:06:07] 4/3/2026    Y    ci_cleanup"
        );
        for column in ["PID", "STAT", "#START", "START_TIME", "MON", "COMMAND"] {
            let at = header.find(column).unwrap();
            assert!(
                lines
                    .clone()
                    .all(|row| row.as_bytes()[at - 1] == b' ' && row.as_bytes()[at] != b' '),
                "{column} at {at}:\n{text}"
            );
        }
        assert_eq!(lines.count(), h.processes.len() - 1);
    }
}
