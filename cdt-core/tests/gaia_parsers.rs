//! The Gaia reply parsers (`cdt_core::gaia::parse`) against the fixtures in `fixtures/gaia/`:
//! every fixture reads to the expected value, garbage is refused with a typed error, and no input
//! (arbitrary text, or a fixture with lines deleted, duplicated, truncated or squeezed) panics.

// Helpers outside #[test] functions panic on purpose: a failed expectation is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

use cdt_core::gaia::parse::mgmt::{self, ObjectKind, TaskStatus};
use cdt_core::gaia::parse::*;
use cdt_core::model::Version;
use proptest::prelude::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../fixtures/gaia");

fn fixture(name: &str) -> String {
    let path = Path::new(FIXTURES).join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn family(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(Path::new(FIXTURES).join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

fn member(state: &ClusterState, id: u32) -> &ClusterMember {
    state
        .members
        .iter()
        .find(|m| m.id == id)
        .expect("member exists")
}

// ---------------------------------------------------------------- cphaprob state

#[test]
fn cphaprob_state_reads_the_r80_20_plus_layout_with_names() {
    let state =
        parse_cluster_state(&fixture("cphaprob_state/ha_r81_20_active_standby.txt")).unwrap();
    assert_eq!(
        state.mode,
        "High Availability (Active Up) with IGMP Membership"
    );
    let local = state.local().unwrap();
    assert_eq!((local.id, local.state.clone()), (1, MemberHaState::Active));
    assert_eq!(member(&state, 2).name.as_deref(), Some("fw-hq-b"));
    assert_eq!(member(&state, 2).state, MemberHaState::Standby);
    assert_eq!(member(&state, 2).load_percent, Some(0));
    assert!(state.active_pnotes.is_empty());
    assert_eq!(state.failover_count, Some(1));
    insta::assert_debug_snapshot!("cphaprob_state_r81_20", state);
}

#[test]
fn cphaprob_state_reads_active_attention_down_and_pnotes_from_clish() {
    let state = parse_cluster_state(&fixture(
        "cphaprob_state/ha_r80_40_clish_attention_down.txt",
    ))
    .unwrap();
    assert_eq!(state.local().unwrap().state, MemberHaState::ActiveAttention);
    assert!(state.local().unwrap().state.is_active());
    assert_eq!(member(&state, 2).state, MemberHaState::Down);
    assert_eq!(state.active_pnotes, ["COREXL", "FULLSYNC"]);
    assert_eq!(state.failover_count, Some(3));
}

#[test]
fn cphaprob_state_reads_spark_without_a_name_column() {
    let state = parse_cluster_state(&fixture(
        "cphaprob_state/spark_r81_10_sync_mode_no_name.txt",
    ))
    .unwrap();
    assert_eq!(state.mode, "High Availability (Primary Up)");
    assert!(state.members.iter().all(|m| m.name.is_none()));
    assert_eq!(state.local().unwrap().id, 2);
    assert_eq!(member(&state, 1).state, MemberHaState::Standby);
    assert_eq!(state.failover_count, Some(12));
}

#[test]
fn cphaprob_state_reads_collapsed_whitespace_and_a_bare_echoed_command() {
    let state =
        parse_cluster_state(&fixture("cphaprob_state/vsx_ha_collapsed_whitespace.txt")).unwrap();
    assert_eq!(
        state.mode,
        "VSX High Availability (Active Up) with IGMP Membership"
    );
    let local = state.local().unwrap();
    assert_eq!(local.id, 2);
    assert_eq!(local.name.as_deref(), Some("vsx-core-b"));
    assert_eq!(local.address, "198.51.100.42");
    assert_eq!(local.load_percent, Some(100));
    assert_eq!(state.failover_count, None);
}

#[test]
fn cphaprob_state_reads_the_old_vs_context_layout() {
    let state = parse_cluster_state(&fixture(
        "cphaprob_state/vsls_vs_context_r80_10_old_layout.txt",
    ))
    .unwrap();
    assert_eq!(state.mode, "Virtual System Load Sharing");
    assert_eq!(state.local().unwrap().state, MemberHaState::Standby);
    assert_eq!(member(&state, 2).state, MemberHaState::Active);
    assert!(state.members.iter().all(|m| m.name.is_none()));
    insta::assert_debug_snapshot!("cphaprob_state_old_vs_context", state);
}

#[test]
fn cphaprob_state_reads_the_watch_form() {
    let state =
        parse_cluster_state(&fixture("cphaprob_state/watch_r82_two_blank_lines.txt")).unwrap();
    assert_eq!(state.members.len(), 2);
    assert_eq!(state.local().unwrap().name.as_deref(), Some("fw-lab-a"));
}

#[test]
fn cphaprob_state_skips_crlf_and_interleaved_syslog_broadcasts() {
    let text = fixture("cphaprob_state/ha_crlf_syslog_broadcast.txt");
    assert!(text.contains("\r\n") && text.contains("Message from syslogd@"));
    let state = parse_cluster_state(&text).unwrap();
    assert_eq!(state.members.len(), 2);
    assert_eq!(state.local().unwrap().name.as_deref(), Some("fw-edge-2"));
    assert_eq!(state.local().unwrap().state, MemberHaState::Standby);
    assert_eq!(state.failover_count, Some(0));
}

#[test]
fn cphaprob_state_reads_ready_and_admin_down_members() {
    let ready = parse_cluster_state(&fixture(
        "cphaprob_state/ha_ready_member_during_upgrade.txt",
    ))
    .unwrap();
    assert_eq!(ready.local().unwrap().state, MemberHaState::Ready);
    let down = parse_cluster_state(&fixture("cphaprob_state/ha_admin_down_local.txt")).unwrap();
    assert_eq!(down.local().unwrap().state, MemberHaState::Down);
    assert_eq!(down.active_pnotes, ["admin_down"]);
    assert_eq!(down.members_in(&MemberHaState::Active).count(), 1);
}

#[test]
fn cphaprob_state_tells_a_non_member_from_garbage() {
    assert_eq!(
        parse_cluster_state(&fixture("cphaprob_state/not_clustered.txt")),
        Err(ParseError::NotClustered)
    );
    assert_eq!(parse_cluster_state(""), Err(ParseError::Empty));
    assert_eq!(
        parse_cluster_state("\r\n  \n[Expert@gw:0]# "),
        Err(ParseError::Empty)
    );
    assert_eq!(
        parse_cluster_state("total 0\ndrwxr-xr-x 2 admin root 4096 ."),
        Err(ParseError::MissingField("`Cluster Mode:` line"))
    );
}

#[test]
fn cphaprob_state_refuses_a_truncated_member_row_with_its_line() {
    let text = "Cluster Mode:   High Availability (Active Up)\n\nID  Unique Address  Assigned Load  State  Name\n\n1 (local)  192.0.2.1  100%  ACTIVE  a\n2          192.0.2.2  0%\n";
    assert_eq!(
        parse_cluster_state(text),
        Err(ParseError::UnexpectedLine {
            line: 6,
            text: "2          192.0.2.2  0%".into()
        })
    );
}

#[test]
fn cphaprob_state_refuses_a_row_cut_inside_the_load_column() {
    let text = "Cluster Mode: HA\nID  Unique Address  Assigned Load  State  Name\n1 (local)  192.0.2.11  10\n";
    assert!(matches!(
        parse_cluster_state(text),
        Err(ParseError::UnexpectedLine { line: 3, .. })
    ));
    let opsec = "Cluster Mode: Sync only (OPSEC)\nNumber  Unique Address  Firewall State (*)\n1 (local)  192.0.2.1  Active\n(*) FW-1 monitors only the sync operation and the security policy\n";
    let state = parse_cluster_state(opsec).unwrap();
    assert_eq!(
        (state.members[0].load_percent, &state.members[0].state),
        (None, &MemberHaState::Active)
    );
}

#[test]
fn cphaprob_state_refuses_duplicate_ids_and_two_local_members() {
    let dup = "Cluster Mode: HA\nID Unique Address Assigned Load State Name\n1 (local) 192.0.2.1 100% ACTIVE a\n1 192.0.2.2 0% STANDBY b\n";
    assert!(matches!(
        parse_cluster_state(dup),
        Err(ParseError::UnexpectedLine { line: 4, .. })
    ));
    let two_local = "Cluster Mode: HA\nID Unique Address Assigned Load State Name\n1 (local) 192.0.2.1 100% ACTIVE a\n2 (local) 192.0.2.2 0% STANDBY b\n";
    assert!(matches!(
        parse_cluster_state(two_local),
        Err(ParseError::UnexpectedLine { line: 4, .. })
    ));
    let no_rows =
        "Cluster Mode: HA\nID Unique Address Assigned Load State Name\n\nActive PNOTEs: None\n";
    assert_eq!(
        parse_cluster_state(no_rows),
        Err(ParseError::MissingField("member rows"))
    );
}

#[test]
fn cphaprob_state_passes_clish_refusals_on() {
    assert_eq!(
        parse_cluster_state(&fixture("clish/invalid_command.txt")),
        Err(ParseError::Clish(ClishError::InvalidCommand {
            command: "uname -a".into()
        }))
    );
}

#[test]
fn member_states_keep_unknown_text() {
    let text = "Cluster Mode: HA\nID Unique Address Assigned Load State Name\n1 (local) 192.0.2.1 50% ACTIVE(!P) a\n2 192.0.2.2 50% Lost b\n3 192.0.2.3 0% ClusterXL-Inactive c\n";
    let state = parse_cluster_state(text).unwrap();
    assert_eq!(member(&state, 1).state, MemberHaState::ActiveAttention);
    assert_eq!(member(&state, 2).state, MemberHaState::Lost);
    assert_eq!(
        member(&state, 3).state,
        MemberHaState::Other("ClusterXL-Inactive".into())
    );
}

// ---------------------------------------------------------------- show vrrp

#[test]
fn show_vrrp_reads_a_master_summary() {
    let vrrp = parse_vrrp(&fixture("show_vrrp/master_summary.txt")).unwrap();
    assert_eq!(
        vrrp,
        VrrpState {
            master: 2,
            backup: 0,
            init: 0
        }
    );
    assert_eq!(vrrp.role(), Some(VrrpRole::Master));
}

#[test]
fn show_vrrp_reads_counts_printed_after_the_words() {
    let vrrp = parse_vrrp(&fixture("show_vrrp/backup_summary_count_after.txt")).unwrap();
    assert_eq!(
        vrrp,
        VrrpState {
            master: 0,
            backup: 2,
            init: 0
        }
    );
    assert_eq!(vrrp.role(), Some(VrrpRole::Backup));
}

#[test]
fn show_vrrp_gives_no_role_when_mixed_or_initialising() {
    assert_eq!(
        parse_vrrp(&fixture("show_vrrp/mixed_summary.txt"))
            .unwrap()
            .role(),
        None
    );
    let init = parse_vrrp(&fixture("show_vrrp/init_summary.txt")).unwrap();
    assert_eq!((init.init, init.role()), (1, None));
    assert_eq!(VrrpState::default().role(), None);
}

#[test]
fn show_vrrp_counts_detail_lines_without_a_summary() {
    let vrrp = parse_vrrp(&fixture("show_vrrp/interfaces_detail_backup.txt")).unwrap();
    assert_eq!(
        vrrp,
        VrrpState {
            master: 0,
            backup: 2,
            init: 0
        }
    );
}

#[test]
fn show_vrrp_refuses_garbage_and_a_partial_summary() {
    assert_eq!(
        parse_vrrp("VRRP State\n  Flags: Off\n"),
        Err(ParseError::MissingField("VRRP state counts"))
    );
    assert_eq!(
        parse_vrrp("VRRP State\n 2 in Master state\n 0 in Init state\n"),
        Err(ParseError::MissingField("`in Backup state` count"))
    );
    assert!(matches!(
        parse_vrrp("0 in Init state\n0 in Backup state\n2 in Master state\n1 in Master state\n"),
        Err(ParseError::UnexpectedLine { line: 4, .. })
    ));
}

// ---------------------------------------------------------------- cpwd_admin list

#[test]
fn cpwd_admin_list_reads_a_gateway() {
    let list = parse_cpwd_list(&fixture("cpwd_admin_list/gateway_r81_20.txt")).unwrap();
    assert_eq!(list.len(), 7);
    let cpd = list.iter().find(|p| p.app == "CPD").unwrap();
    assert_eq!(
        (cpd.ctx, cpd.pid, &cpd.stat, cpd.starts, cpd.monitored),
        (None, Some(8712), &ProcessStat::Executing, 1, true)
    );
    let mpd = list.iter().find(|p| p.app == "MPDAEMON").unwrap();
    assert_eq!(
        mpd.command,
        "mpdaemon /opt/CPshrd-R81.20/log/mpdaemon.elg /opt/CPshrd-R81.20/conf/mpdaemon.conf"
    );
    insta::assert_debug_snapshot!("cpwd_admin_list_gateway", list);
}

#[test]
fn cpwd_admin_list_reads_the_vsx_context_column() {
    let list = parse_cpwd_list(&fixture("cpwd_admin_list/vsx_r80_40_ctx.txt")).unwrap();
    assert_eq!(list.len(), 9);
    let running = running_apps(&list);
    assert_eq!(
        running.len(),
        9,
        "same APP in different contexts stays apart"
    );
    assert!(running.contains(&RunningApp {
        app: "FWK".into(),
        ctx: Some(2)
    }));
    assert_eq!(list.iter().find(|p| p.ctx == Some(2)).unwrap().starts, 2);
}

#[test]
fn cpwd_admin_list_comparison_names_what_a_plan_left_stopped() {
    let before = parse_cpwd_list(&fixture("cpwd_admin_list/gateway_r81_20.txt")).unwrap();
    let after = parse_cpwd_list(&fixture(
        "cpwd_admin_list/gateway_r81_20_after_install_fwd_terminated.txt",
    ))
    .unwrap();
    assert_eq!(
        after.iter().find(|p| p.app == "FWD").unwrap().stat,
        ProcessStat::Terminated
    );
    let stopped = stopped_since(&before, &after);
    assert_eq!(
        stopped,
        [RunningApp {
            app: "FWD".into(),
            ctx: None
        }]
    );
    assert_eq!(stopped[0].to_string(), "FWD");
    assert!(stopped_since(&after, &before).is_empty());
}

#[test]
fn cpwd_admin_list_tolerates_an_empty_pid_and_start_time() {
    let text = "APP        PID    STAT  #START  START_TIME             MON  COMMAND\nWSDNSD            T     0                              N    wsdnsd\n";
    let list = parse_cpwd_list(text).unwrap();
    assert_eq!(list[0].pid, None);
    assert_eq!(list[0].stat, ProcessStat::Terminated);
    assert_eq!(list[0].command, "wsdnsd");
}

#[test]
fn cpwd_admin_list_refuses_garbage_and_bad_rows() {
    assert_eq!(
        parse_cpwd_list("bash: cpwd_admin: command not found\n"),
        Err(ParseError::MissingField("`APP ... COMMAND` header"))
    );
    let bad = "[Expert@gw:0]# cpwd_admin list\nAPP        PID    STAT  #START  START_TIME             MON  COMMAND\nCPD        12     E     x       [02:15:21] 10/3/2026   Y    cpd\n";
    assert!(matches!(
        parse_cpwd_list(bad),
        Err(ParseError::UnexpectedLine { line: 3, .. })
    ));
    let bad_mon =
        "APP PID STAT #START START_TIME MON COMMAND\nCPD 12 E 1 [02:15:21] 10/3/2026 maybe cpd\n";
    assert!(matches!(
        parse_cpwd_list(bad_mon),
        Err(ParseError::UnexpectedLine { line: 2, .. })
    ));
}

// ---------------------------------------------------------------- fw ver, show version all, cpinfo

#[test]
fn fw_ver_reads_version_and_build() {
    assert_eq!(
        parse_fw_ver(&fixture("fw_ver/r81_20_expert_prompt.txt")).unwrap(),
        FwVersion {
            version: Version::R81_20,
            build: Some(12)
        }
    );
    assert_eq!(
        parse_fw_ver(&fixture("fw_ver/r80_40_bare.txt")).unwrap(),
        FwVersion {
            version: Version::R80_40,
            build: Some(294)
        }
    );
    let spark =
        parse_fw_ver("This is Check Point's 1550 Appliance R81.10.16 - Build 996\n").unwrap();
    assert_eq!(
        spark,
        FwVersion {
            version: Version::R81_10,
            build: Some(996)
        }
    );
}

#[test]
fn fw_ver_refuses_garbage() {
    assert_eq!(
        parse_fw_ver("-bash: fw: command not found"),
        Err(ParseError::MissingField(
            "`This is Check Point's ... version` line"
        ))
    );
    assert!(matches!(
        parse_fw_ver("This is Check Point's software version Rx - Build 1"),
        Err(ParseError::UnexpectedLine { line: 1, .. })
    ));
    assert!(matches!(
        parse_fw_ver("This is Check Point's software version R81.20 - Build"),
        Err(ParseError::UnexpectedLine { .. })
    ));
}

#[test]
fn show_version_all_reads_every_field() {
    let v = parse_show_version_all(&fixture("show_version_all/r81_20_clish.txt")).unwrap();
    assert_eq!(v.product, "Check Point Gaia");
    assert_eq!(v.version, Version::R81_20);
    assert_eq!(v.os_build, Some(631));
    assert_eq!(v.kernel.as_deref(), Some("3.10.0-957.21.3cpx86_64"));
    assert_eq!(v.edition.as_deref(), Some("64-bit"));
    let old = parse_show_version_all(&fixture("show_version_all/r77_30_32bit.txt")).unwrap();
    assert_eq!(
        (old.version, old.edition.as_deref()),
        (Version::R77_30, Some("32-bit"))
    );
}

#[test]
fn show_version_all_on_spark_is_a_clish_error() {
    let err =
        parse_show_version_all(&fixture("show_version_all/spark_bad_parameter.txt")).unwrap_err();
    assert!(
        matches!(err, ParseError::Clish(ClishError::BadParameter { .. })),
        "{err:?}"
    );
    assert_eq!(
        parse_show_version_all("OS build 631\n"),
        Err(ParseError::MissingField("`Product version` line"))
    );
}

#[test]
fn cpinfo_gives_the_highest_jumbo_take() {
    let text = fixture("cpinfo_y_all/r81_20_gateway_take_98.txt");
    assert_eq!(parse_jumbo_take(&text), Ok(Some(98)));
    let hotfixes = parse_cpinfo_hotfixes(&text).unwrap();
    let names: Vec<&str> = hotfixes.sections.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "IDA",
            "CPFC",
            "FW1",
            "SecurePlatform",
            "CPinfo",
            "DIAG",
            "CPUpdates"
        ]
    );
    let updates = hotfixes.sections.last().unwrap();
    assert_eq!(
        updates.hotfixes[0],
        CpinfoHotfix {
            name: "BUNDLE_INFRA_AUTOUPDATE".into(),
            take: Some(63)
        }
    );
    insta::assert_debug_snapshot!("cpinfo_r81_20_sections", hotfixes);
}

#[test]
fn cpinfo_without_takes_or_jumbo_gives_none() {
    assert_eq!(
        parse_jumbo_take(&fixture("cpinfo_y_all/r77_30_no_takes.txt")),
        Ok(None)
    );
    assert_eq!(
        parse_jumbo_take(&fixture("cpinfo_y_all/r81_10_no_jumbo.txt")),
        Ok(None)
    );
    let old = parse_cpinfo_hotfixes(&fixture("cpinfo_y_all/r77_30_no_takes.txt")).unwrap();
    assert_eq!(old.sections[0].hotfixes.len(), 2);
    assert!(
        old.sections
            .iter()
            .find(|s| s.name == "rtm")
            .unwrap()
            .hotfixes
            .is_empty()
    );
}

#[test]
fn cpinfo_refuses_garbage_and_a_take_without_number() {
    assert_eq!(
        parse_jumbo_take("cpinfo: command not found\n"),
        Err(ParseError::MissingField("`[SECTION]` heading"))
    );
    assert!(matches!(
        parse_jumbo_take("[FW1]\n  HOTFIX_R81_20_JUMBO_HF_MAIN  Take:  abc\n"),
        Err(ParseError::UnexpectedLine { line: 2, .. })
    ));
}

// ---------------------------------------------------------------- CPUSE

#[test]
fn installer_packages_reads_sections_types_and_statuses() {
    let list = parse_installer_packages(&fixture("cpuse/packages_all_r81_20.txt")).unwrap();
    assert!(!list.incomplete);
    assert_eq!(list.packages.len(), 5);
    let upgrade = &list.packages[0];
    assert_eq!(upgrade.section.as_deref(), Some("Major Versions"));
    assert_eq!(upgrade.kind.as_deref(), Some("Major Version"));
    assert_eq!(upgrade.status.as_deref(), Some("Available for Download"));
    assert_eq!(
        list.packages[4].status.as_deref(),
        Some("Installed as part of R81.20 Jumbo Take 89")
    );
    insta::assert_debug_snapshot!("installer_packages_all", list);
}

#[test]
fn installer_packages_imported_reads_row_numbers() {
    let list = parse_installer_packages(&fixture("cpuse/packages_imported_numbered.txt")).unwrap();
    let numbers: Vec<Option<u32>> = list.packages.iter().map(|p| p.number).collect();
    assert_eq!(numbers, [Some(1), Some(2)]);
    assert_eq!(list.packages[1].name, "Check_Point_R81_20_HF_sk181234_FULL");
    assert_eq!(list.packages[1].kind.as_deref(), Some("Hotfix"));
    assert_eq!(list.packages[1].status, None);
}

#[test]
fn installer_packages_marks_a_list_cut_short_by_a_connection_error() {
    let list = parse_installer_packages(&fixture("cpuse/packages_installed_connection_error.txt"))
        .unwrap();
    assert!(list.incomplete);
    assert_eq!(list.packages.len(), 1);
    assert_eq!(list.packages[0].section.as_deref(), Some("Hotfixes"));
}

#[test]
fn installer_packages_follows_the_header_column_order() {
    let list = parse_installer_packages(&fixture("cpuse/packages_columns_reordered.txt")).unwrap();
    assert_eq!(
        list.packages[1].name,
        "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T98_FULL.tgz"
    );
    assert_eq!(list.packages[1].status.as_deref(), Some("Imported"));
    assert_eq!(list.packages[1].kind.as_deref(), Some("Hotfix"));
}

#[test]
fn installer_packages_gives_extra_columns_to_the_name_and_refuses_garbage() {
    let text = "Display name                Type      Status\nSome  odd  name             Hotfix    Imported\n";
    let list = parse_installer_packages(text).unwrap();
    assert_eq!(list.packages[0].name, "Some  odd  name");
    assert_eq!(list.packages[0].status.as_deref(), Some("Imported"));
    assert_eq!(
        parse_installer_packages("hello world  foo\n"),
        Err(ParseError::MissingField("installer package list header"))
    );
    assert_eq!(
        parse_installer_packages(&fixture("clish/configuration_lock.txt")),
        Err(ParseError::Clish(ClishError::ConfigurationLocked))
    );
}

#[test]
fn find_package_matches_the_cpuse_name_or_the_jumbo_take() {
    let all = parse_installer_packages(&fixture("cpuse/packages_all_r81_20.txt")).unwrap();
    let hf = find_package(
        &all.packages,
        "/var/log/upload/check_point_r81_20_hf_sk181234_full.TGZ",
    );
    assert_eq!(hf.unwrap().status.as_deref(), Some("Downloaded"));
    let t98 = find_package(
        &all.packages,
        "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T98_FULL.tgz",
    );
    assert_eq!(t98.unwrap().status.as_deref(), Some("Imported"));
    let t89 = find_package(
        &all.packages,
        "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tar",
    );
    assert_eq!(t89.unwrap().status.as_deref(), Some("Installed"));
    // Take 8 is not Take 89 or 98; another version's Jumbo with the same take does not match.
    assert!(
        find_package(
            &all.packages,
            "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T8_FULL.tgz"
        )
        .is_none()
    );
    assert!(
        find_package(
            &all.packages,
            "Check_Point_R81_10_JUMBO_HF_MAIN_Bundle_T98_FULL.tgz"
        )
        .is_none()
    );
    let reordered =
        parse_installer_packages(&fixture("cpuse/packages_columns_reordered.txt")).unwrap();
    let by_file = find_package(
        &reordered.packages,
        "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T98_FULL",
    );
    assert_eq!(by_file.unwrap().status.as_deref(), Some("Imported"));
}

#[test]
fn find_package_refuses_an_ambiguous_take() {
    let packages: Vec<InstallerPackage> = [
        "R81.20 Jumbo Take 98 (GA)",
        "R81.20 Jumbo Hotfix Take 98 Ongoing",
    ]
    .iter()
    .map(|name| InstallerPackage {
        number: None,
        name: (*name).into(),
        kind: None,
        status: None,
        section: None,
    })
    .collect();
    assert!(
        find_package(
            &packages,
            "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T98_FULL.tgz"
        )
        .is_none()
    );
}

#[test]
fn installer_package_details_give_the_status() {
    let details =
        parse_installer_package(&fixture("cpuse/package_detail_jumbo_take_98.txt")).unwrap();
    assert_eq!(details.status(), Some("Imported"));
    assert_eq!(details.kind(), Some("Hotfix"));
    assert_eq!(
        details.package_name(),
        Some("Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T98_FULL.tgz")
    );
    assert_eq!(
        details.display_name(),
        Some("R81.20 Jumbo Hotfix Accumulator Recommended Jumbo Take 98")
    );
    assert_eq!(details.get("size"), Some("1.2 GB"));
    assert_eq!(
        parse_installer_package("no such package\n"),
        Err(ParseError::MissingField("`Key: value` lines"))
    );
}

#[test]
fn installer_build_reads_the_agent_build() {
    assert_eq!(
        parse_installer_build(&fixture("cpuse/status_build_up_to_date.txt")),
        Ok(AgentBuild {
            build: 2771,
            up_to_date: Some(true)
        })
    );
    assert_eq!(
        parse_installer_build(&fixture("cpuse/status_all_newer_agent_available.txt")),
        Ok(AgentBuild {
            build: 2698,
            up_to_date: Some(false)
        })
    );
    assert_eq!(
        parse_installer_build("Agent: Enabled\n"),
        Err(ParseError::MissingField("`Build number:` line"))
    );
    assert!(matches!(
        parse_installer_build("Build number: unknown\n"),
        Err(ParseError::UnexpectedLine { line: 1, .. })
    ));
}

// ---------------------------------------------------------------- MVC, FCU, clusterXL_admin

#[test]
fn mvc_state_reads_on_and_off() {
    assert_eq!(
        parse_mvc_state(&fixture("cphaprob_mvc/on_status_line.txt")),
        Ok(MvcState::On)
    );
    assert_eq!(
        parse_mvc_state(&fixture("cphaprob_mvc/off_sentence.txt")),
        Ok(MvcState::Off)
    );
    assert_eq!(parse_mvc_state("mvc: ENABLED\n"), Ok(MvcState::On));
}

#[test]
fn mvc_state_refuses_garbage_and_contradictions() {
    assert_eq!(
        parse_mvc_state("HA module not started.\n"),
        Err(ParseError::NotClustered)
    );
    assert_eq!(
        parse_mvc_state("Usage: cphaprob ...\n"),
        Err(ParseError::MissingField("MVC state"))
    );
    assert!(matches!(
        parse_mvc_state("MVC status: On\nMVC status: Off\n"),
        Err(ParseError::UnexpectedLine { line: 2, .. })
    ));
    assert!(matches!(
        parse_mvc_state("MVC is enabled, no wait, disabled\n"),
        Err(ParseError::UnexpectedLine { line: 1, .. })
    ));
}

#[test]
fn fcu_status_reads_readiness() {
    assert_eq!(
        parse_fcu_status(&fixture("cphacu_stat/ready_for_failover.txt")),
        Ok(FcuStatus::ReadyForFailover)
    );
    assert_eq!(
        parse_fcu_status(&fixture("cphacu_stat/not_ready_sync_in_progress.txt")),
        Ok(FcuStatus::NotReady(
            "Connectivity upgrade status: Not ready for failover (connection sync in progress)"
                .into()
        ))
    );
    assert_eq!(
        parse_fcu_status(&fixture("cphacu_stat/not_running.txt")),
        Ok(FcuStatus::NotRunning)
    );
}

#[test]
fn fcu_status_never_reads_an_ambiguous_reply_as_ready() {
    let mixed = "Member is ready for failover\nMember is not ready for failover\n";
    assert!(matches!(
        parse_fcu_status(mixed),
        Ok(FcuStatus::NotReady(_))
    ));
    assert_eq!(
        parse_fcu_status("Connectivity upgrade status: Syncing\n"),
        Ok(FcuStatus::NotReady("Syncing".into()))
    );
    assert_eq!(
        parse_fcu_status("hello\n"),
        Err(ParseError::MissingField("Connectivity Upgrade status"))
    );
}

#[test]
fn clusterxl_admin_reads_the_direction_and_the_reported_state() {
    assert_eq!(
        parse_clusterxl_admin(&fixture("clusterxl_admin/down.txt")),
        Ok(ClusterXlAdminReply {
            direction: Some(AdminDirection::Down),
            state: Some(MemberHaState::Down)
        })
    );
    assert_eq!(
        parse_clusterxl_admin(&fixture("clusterxl_admin/up.txt")),
        Ok(ClusterXlAdminReply {
            direction: Some(AdminDirection::Up),
            state: Some(MemberHaState::Standby)
        })
    );
}

#[test]
fn clusterxl_admin_refuses_garbage() {
    assert!(matches!(
        parse_clusterxl_admin("Usage: clusterXL_admin <up|down> [-p]\n"),
        Err(ParseError::MissingField(_))
    ));
    assert_eq!(
        parse_clusterxl_admin("HA module not started.\n"),
        Err(ParseError::NotClustered)
    );
    assert!(matches!(
        parse_clusterxl_admin(
            "Setting member to administratively down state ...\nSetting member to normal operation ...\n"
        ),
        Err(ParseError::UnexpectedLine { line: 2, .. })
    ));
}

// ---------------------------------------------------------------- clish errors and prompts

#[test]
fn clish_errors_are_recognised_by_kind() {
    assert_eq!(
        clish_error(&fixture("clish/invalid_command.txt")),
        Some(ClishError::InvalidCommand {
            command: "uname -a".into()
        })
    );
    assert_eq!(
        clish_error(&fixture("clish/configuration_lock.txt")),
        Some(ClishError::ConfigurationLocked)
    );
    assert_eq!(
        clish_error(&fixture("clish/nmshnm_error.txt")),
        Some(ClishError::Other {
            code: "NMSHNM0679".into(),
            message: "Invalid interface name: eth9".into()
        })
    );
    assert!(matches!(
        clish_error(&fixture("clish/spark_bad_parameter.txt")),
        Some(ClishError::BadParameter { .. })
    ));
}

#[test]
fn ordinary_replies_are_not_clish_errors() {
    for name in [
        "cphaprob_state/ha_r81_20_active_standby.txt",
        "cpinfo_y_all/r81_20_gateway_take_98.txt",
        "cpwd_admin_list/vsx_r80_40_ctx.txt",
        "cpuse/packages_all_r81_20.txt",
        "clish/prompts_clish_and_expert.txt",
    ] {
        assert_eq!(clish_error(&fixture(name)), None, "{name}");
    }
}

#[test]
fn strip_prompts_removes_prompts_and_echoed_commands_of_both_shells() {
    let stripped = strip_prompts(&fixture("clish/prompts_clish_and_expert.txt"));
    insta::assert_snapshot!("strip_prompts_transcript", stripped);
    assert!(!stripped.contains("fw-hq-a>"));
    assert!(!stripped.contains("[Expert@"));
    assert!(stripped.contains("This is Check Point's software version R81.20 - Build 012"));
    assert_eq!(strip_prompts("a\r\nb\r\n"), "a\nb\n");
}

// ---------------------------------------------------------------- Management API JSON

#[test]
fn gateways_and_servers_reads_objects_kinds_and_paging() {
    let page = mgmt::parse_gateways_and_servers(&fixture(
        "mgmt_api/show_gateways_and_servers_page_1_of_2.json",
    ))
    .unwrap();
    assert_eq!((page.from, page.to, page.total), (Some(1), Some(4), 6));
    assert_eq!(page.next_offset(), Some(4));
    let kinds: Vec<ObjectKind> = page.objects.iter().map(|o| o.kind()).collect();
    assert_eq!(
        kinds,
        [
            ObjectKind::SimpleGateway,
            ObjectKind::SimpleCluster,
            ObjectKind::ClusterMember,
            ObjectKind::ClusterMember
        ]
    );
    assert_eq!(
        page.objects[0].ipv4_address.as_deref(),
        Some("198.51.100.4")
    );
    assert_eq!(page.objects[0].parsed_version(), Some(Version::R81_10));
    assert_eq!(page.objects[2].object_type, "CpmiClusterMember");
    insta::assert_debug_snapshot!("gateways_and_servers_page_1", page);
}

#[test]
fn gateways_and_servers_reads_vsx_types_and_the_last_page() {
    let page = mgmt::parse_gateways_and_servers(&fixture(
        "mgmt_api/show_gateways_and_servers_page_2_of_2_vsx.json",
    ))
    .unwrap();
    assert_eq!(page.next_offset(), None);
    let kinds: Vec<ObjectKind> = page.objects.iter().map(|o| o.kind()).collect();
    assert_eq!(
        kinds,
        [
            ObjectKind::VsxCluster,
            ObjectKind::VsxClusterMember,
            ObjectKind::VirtualSystem,
            ObjectKind::GatewayCluster,
            ObjectKind::CheckPointHost
        ]
    );
    let empty =
        mgmt::parse_gateways_and_servers(&fixture("mgmt_api/show_gateways_and_servers_empty.json"))
            .unwrap();
    assert!(empty.objects.is_empty() && empty.next_offset().is_none());
}

#[test]
fn simple_cluster_reads_mode_version_and_members() {
    let cluster =
        mgmt::parse_simple_cluster(&fixture("mgmt_api/show_simple_cluster_r81_20.json")).unwrap();
    assert_eq!(cluster.name, "cl-hq");
    assert_eq!(cluster.parsed_version(), Some(Version::R81_20));
    assert_eq!(cluster.cluster_mode, "cluster-xl-ha");
    let members: Vec<(&str, Option<&str>)> = cluster
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.ipv4_address.as_deref()))
        .collect();
    assert_eq!(
        members,
        [
            ("fw-hq-a", Some("192.0.2.11")),
            ("fw-hq-b", Some("192.0.2.12"))
        ]
    );
}

#[test]
fn task_replies_give_their_task_ids() {
    let id = mgmt::parse_task_id(&fixture("mgmt_api/task_id_install_policy.json")).unwrap();
    assert_eq!(id.task_id, "2c6a4f1e-7b3d-4e2a-9c5f-0d1e2f3a4b01");
    let refs =
        mgmt::parse_task_references(&fixture("mgmt_api/tasks_install_database.json")).unwrap();
    assert_eq!(refs.len(), 2);
    assert_eq!(refs[1].target.as_deref(), Some("log-01"));
    let tasks = mgmt::parse_show_task(&fixture("mgmt_api/tasks_set_simple_cluster.json")).unwrap();
    assert_eq!(tasks[0].status, TaskStatus::Succeeded);
    assert_eq!(tasks[0].details[0]["message"], "Successfully finished");
}

#[test]
fn show_task_reads_status_progress_and_details() {
    let running = mgmt::parse_show_task(&fixture(
        "mgmt_api/show_task_install_policy_in_progress.json",
    ))
    .unwrap();
    assert_eq!(running[0].status, TaskStatus::InProgress);
    assert!(!running[0].is_finished());
    assert_eq!(running[0].progress_percentage, Some(40));
    assert_eq!(
        running[0].progress_description.as_deref(),
        Some("Installing policy on fw-hq-a")
    );
    let done = mgmt::parse_show_task(&fixture("mgmt_api/show_task_install_policy_succeeded.json"))
        .unwrap();
    assert!(done[0].is_finished());
    assert_eq!(done[0].details.as_array().map(Vec::len), Some(2));
    let failed =
        mgmt::parse_show_task(&fixture("mgmt_api/show_task_install_policy_failed.json")).unwrap();
    assert_eq!(failed[0].status, TaskStatus::Failed);
    insta::assert_debug_snapshot!("show_task_failed", failed);
    for (raw, status) in [
        ("succeeded with warnings", TaskStatus::SucceededWithWarnings),
        ("partially succeeded", TaskStatus::PartiallySucceeded),
        ("In Progress", TaskStatus::InProgress),
    ] {
        let json = format!(r#"{{"tasks":[{{"task-id":"t","task-name":"n","status":"{raw}"}}]}}"#);
        assert_eq!(mgmt::parse_show_task(&json).unwrap()[0].status, status);
    }
}

#[test]
fn api_error_objects_are_typed_errors() {
    assert_eq!(
        mgmt::parse_simple_cluster(&fixture("mgmt_api/error_object_not_found.json")),
        Err(ParseError::Api {
            code: "generic_err_object_not_found".into(),
            message: "Requested object [cl-gone] not found".into()
        })
    );
    let err = mgmt::parse_task_id(&fixture("mgmt_api/error_publish_validation.json")).unwrap_err();
    let ParseError::Api { code, message } = err else {
        panic!("{err:?}")
    };
    assert_eq!(code, "err_validation_failed");
    assert!(
        message.contains("is not supported by the installed policy package"),
        "{message}"
    );
}

#[test]
fn management_replies_name_a_missing_field_and_refuse_garbage() {
    let err = mgmt::parse_show_task(r#"{"tasks" : [ {"task-id" : "t", "status" : "failed"} ]}"#)
        .unwrap_err();
    assert!(
        matches!(&err, ParseError::Json { message } if message.contains("task-name")),
        "{err:?}"
    );
    let err =
        mgmt::parse_show_task(r#"{"tasks":[{"task-id":"t","task-name":"n","status":"exploded"}]}"#)
            .unwrap_err();
    assert!(
        matches!(&err, ParseError::Json { message } if message.contains("exploded")),
        "{err:?}"
    );
    assert!(matches!(
        mgmt::parse_task_id("Failed to login"),
        Err(ParseError::Json { .. })
    ));
    assert_eq!(mgmt::parse_task_id("  \n"), Err(ParseError::Empty));
    let err = mgmt::parse_simple_cluster(
        r#"{"name":"c","uid":"u","version":"R81.20","cluster-members":[]}"#,
    )
    .unwrap_err();
    assert!(
        matches!(&err, ParseError::Json { message } if message.contains("cluster-mode")),
        "{err:?}"
    );
}

#[test]
fn management_replies_tolerate_prompts_and_an_echoed_command() {
    let text = format!(
        "[Expert@mgmt-01:0]# mgmt_cli -r true show task task-id 1 --format json\r\n{}\r\n[Expert@mgmt-01:0]# ",
        fixture("mgmt_api/task_id_install_policy.json").replace('\n', "\r\n")
    );
    assert!(mgmt::parse_task_id(&text).is_ok());
    let echoed = format!(
        "mgmt_cli publish --format json\n{}",
        fixture("mgmt_api/task_id_install_policy.json")
    );
    assert!(mgmt::parse_task_id(&echoed).is_ok());
}

// ---------------------------------------------------------------- errors and fixtures in general

#[test]
fn error_messages_quote_at_most_two_hundred_characters_of_the_input() {
    let long = "x".repeat(5000);
    let row = format!("Cluster Mode: HA\nID Unique Address State\n1 {long}\n");
    let message = parse_cluster_state(&row).unwrap_err().to_string();
    assert!(message.len() < 260, "{} chars", message.len());
    let api = format!(r#"{{"code":"c","message":"{long}"}}"#);
    assert!(mgmt::parse_task_id(&api).unwrap_err().to_string().len() < 260);
    let json = format!(r#"{{"tasks":[{{"task-id":"t","task-name":"n","status":"{long}"}}]}}"#);
    assert!(mgmt::parse_show_task(&json).unwrap_err().to_string().len() < 300);
    let clish = format!("CLINFR0329  Invalid command:'{long}'.");
    assert!(clish_error(&clish).unwrap().to_string().len() < 260);
}

#[test]
fn error_messages_read_well() {
    insta::assert_snapshot!(
        "error_display",
        [
            ParseError::Empty,
            ParseError::NotClustered,
            parse_cluster_state("Cluster Mode: HA\nID Unique Address State\n7 (local)\n")
                .unwrap_err(),
            ParseError::MissingField("`Cluster Mode:` line"),
            ParseError::Clish(ClishError::ConfigurationLocked),
            ParseError::Api {
                code: "err_login_failed".into(),
                message: "Authentication to server failed.".into()
            },
        ]
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
    );
}

/// Every fixture reads with its family's parser; the ones that stand for a refusal are refused.
#[test]
fn every_fixture_reads_with_its_family_parser() {
    let refused = [
        "not_clustered.txt",
        "spark_bad_parameter.txt",
        "invalid_command.txt",
        "configuration_lock.txt",
        "nmshnm_error.txt",
        "error_object_not_found.json",
        "error_publish_validation.json",
    ];
    let mut count = 0;
    for entry in std::fs::read_dir(FIXTURES).unwrap() {
        let dir = entry.unwrap().path();
        if !dir.is_dir() {
            continue;
        }
        let family_name = dir.file_name().unwrap().to_string_lossy().into_owned();
        for path in family(&family_name) {
            let text = std::fs::read_to_string(&path).unwrap();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let ok = parse_any(&family_name, &file, &text);
            assert_eq!(
                ok,
                !refused.contains(&file.as_str()),
                "{family_name}/{file}"
            );
            count += 1;
        }
    }
    assert!(count >= 50, "{count} fixtures");
}

/// Runs the parser of `family` on `text`: whether it was accepted.
fn parse_any(family: &str, file: &str, text: &str) -> bool {
    match family {
        "cphaprob_state" => parse_cluster_state(text).is_ok(),
        "show_vrrp" => parse_vrrp(text).is_ok(),
        "cpwd_admin_list" => parse_cpwd_list(text).is_ok(),
        "fw_ver" => parse_fw_ver(text).is_ok(),
        "show_version_all" => parse_show_version_all(text).is_ok(),
        "cpinfo_y_all" => parse_cpinfo_hotfixes(text).is_ok(),
        "cpuse" if file.starts_with("package_detail") => parse_installer_package(text).is_ok(),
        "cpuse" if file.starts_with("status") => parse_installer_build(text).is_ok(),
        "cpuse" => parse_installer_packages(text).is_ok(),
        "cphaprob_mvc" => parse_mvc_state(text).is_ok(),
        "cphacu_stat" => parse_fcu_status(text).is_ok(),
        "clusterxl_admin" => parse_clusterxl_admin(text).is_ok(),
        "clish" => clish_error(text).is_none(),
        "mgmt_api" if file.starts_with("show_gateways") => {
            mgmt::parse_gateways_and_servers(text).is_ok()
        }
        "mgmt_api" if file.starts_with("show_simple_cluster") => {
            mgmt::parse_simple_cluster(text).is_ok()
        }
        "mgmt_api" if file.starts_with("task_id") => mgmt::parse_task_id(text).is_ok(),
        "mgmt_api" if file.starts_with("tasks_install") => {
            mgmt::parse_task_references(text).is_ok()
        }
        "mgmt_api" if file.starts_with("tasks_") || file.starts_with("show_task") => {
            mgmt::parse_show_task(text).is_ok()
        }
        "mgmt_api" => mgmt::parse_task_id(text).is_ok(),
        other => panic!("fixture family {other} has no parser"),
    }
}

// ---------------------------------------------------------------- no input panics

/// Text built from the words the parsers look for, so arbitrary input reaches deep branches.
fn gaia_like_text() -> impl Strategy<Value = String> {
    let vocabulary = prop::sample::select(vec![
        "\n",
        "\r\n",
        " ",
        "  ",
        "\t",
        "\u{7}",
        "Cluster Mode:",
        "ID",
        "Number",
        "Unique Address",
        "Name",
        "1",
        "2",
        "(local)",
        "100%",
        "0%",
        "101%",
        "ACTIVE",
        "ACTIVE(!)",
        "Standby",
        "Active PNOTEs:",
        "Failover counter:",
        "HA module not started.",
        "APP",
        "CTX",
        "PID",
        "STAT",
        "#START",
        "MON",
        "COMMAND",
        "[02:15:21]",
        "10/3/2026",
        "E",
        "T",
        "Y",
        "N",
        "[FW1]",
        "Take:",
        "_JUMBO_HF",
        "**",
        "Display name",
        "Type",
        "Status",
        "Build number:",
        "in",
        "Master",
        "Backup",
        "Init",
        "state",
        "State",
        "MVC",
        "on",
        "off",
        "enabled",
        "ready for failover",
        "not",
        "Member current state is",
        "Setting member to normal operation",
        "CLINFR0329",
        "Bad parameter starting at",
        "[Expert@gw-1:0]# ",
        "gw-1> ",
        "Message from syslogd@gw",
        " kernel:x",
        "Every 2.0s:",
        "This is Check Point's software version",
        "R81.20",
        "R81.10.16",
        "Build",
        "Product version",
        "OS build",
        "{",
        "}",
        "[",
        "]",
        "\"task-id\"",
        "\"tasks\"",
        ":",
        ",",
        "\"code\"",
        "é",
        "ß",
        "\u{0}",
    ]);
    let piece = prop_oneof![3 => vocabulary.prop_map(str::to_string), 1 => ".{0,6}"];
    prop::collection::vec(piece, 0..60).prop_map(|pieces| pieces.concat())
}

/// A fixture of `dir` with random line-level mutations: lines deleted, duplicated, truncated,
/// or with their whitespace collapsed.
fn mutated_fixture(dir: &'static str) -> impl Strategy<Value = String> {
    let files = family(dir);
    let op = (
        0u8..4,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
    );
    (prop::sample::select(files), prop::collection::vec(op, 0..8)).prop_map(|(path, ops)| {
        let text = std::fs::read_to_string(path).unwrap();
        let mut lines: Vec<String> = text.split('\n').map(str::to_string).collect();
        for (kind, at, cut) in ops {
            if lines.is_empty() {
                break;
            }
            let i = at.index(lines.len());
            match kind {
                0 => {
                    lines.remove(i);
                }
                1 => {
                    let copy = lines[i].clone();
                    lines.insert(i, copy);
                }
                2 => {
                    let chars: Vec<char> = lines[i].chars().collect();
                    let keep = cut.index(chars.len() + 1);
                    lines[i] = chars[..keep].iter().collect();
                }
                _ => lines[i] = lines[i].split_whitespace().collect::<Vec<_>>().join(" "),
            }
        }
        lines.join("\n")
    })
}

fn input_for(dir: &'static str) -> impl Strategy<Value = String> {
    prop_oneof![gaia_like_text(), mutated_fixture(dir), ".*"]
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn cluster_state_never_panics(text in input_for("cphaprob_state")) {
        let _ = parse_cluster_state(&text);
    }

    #[test]
    fn vrrp_never_panics(text in input_for("show_vrrp")) {
        if let Ok(state) = parse_vrrp(&text) {
            let _ = state.role();
        }
    }

    #[test]
    fn cpwd_list_never_panics(text in input_for("cpwd_admin_list")) {
        if let Ok(list) = parse_cpwd_list(&text) {
            let _ = stopped_since(&list, &[]);
        }
    }

    #[test]
    fn the_running_processes_read_alone_are_those_of_the_whole_list(
        text in input_for("cpwd_admin_list"),
    ) {
        let whole = parse_cpwd_list(&text).map(|list| running_apps(&list));
        let alone = parse_running(&text).map(|running| {
            running
                .into_iter()
                .map(|(app, ctx)| RunningApp { app: app.to_string(), ctx })
                .collect::<std::collections::BTreeSet<_>>()
        });
        prop_assert_eq!(alone, whole);
    }

    #[test]
    fn fw_ver_never_panics(text in input_for("fw_ver")) {
        let _ = parse_fw_ver(&text);
    }

    #[test]
    fn show_version_all_never_panics(text in input_for("show_version_all")) {
        let _ = parse_show_version_all(&text);
    }

    #[test]
    fn cpinfo_never_panics(text in input_for("cpinfo_y_all")) {
        let _ = parse_jumbo_take(&text);
    }

    #[test]
    fn installer_parsers_never_panic(text in input_for("cpuse"), wanted in ".{0,40}") {
        if let Ok(list) = parse_installer_packages(&text) {
            let _ = find_package(&list.packages, &wanted);
            let _ = find_package(&list.packages, "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T98_FULL.tgz");
        }
        let _ = parse_installer_package(&text);
        let _ = parse_installer_build(&text);
    }

    #[test]
    fn mvc_never_panics(text in input_for("cphaprob_mvc")) {
        let _ = parse_mvc_state(&text);
    }

    #[test]
    fn fcu_never_panics(text in input_for("cphacu_stat")) {
        let _ = parse_fcu_status(&text);
    }

    #[test]
    fn clusterxl_admin_never_panics(text in input_for("clusterxl_admin")) {
        let _ = parse_clusterxl_admin(&text);
    }

    #[test]
    fn clish_helpers_never_panic(text in input_for("clish")) {
        let _ = clish_error(&text);
        let _ = strip_prompts(&text);
    }

    #[test]
    fn management_parsers_never_panic(text in input_for("mgmt_api")) {
        let _ = mgmt::parse_gateways_and_servers(&text);
        let _ = mgmt::parse_simple_cluster(&text);
        let _ = mgmt::parse_task_id(&text);
        let _ = mgmt::parse_task_references(&text);
        let _ = mgmt::parse_show_task(&text);
    }

    /// Whatever the input, an error quotes at most 200 characters of it (plus the message's
    /// own words).
    #[test]
    fn errors_stay_short(text in input_for("cphaprob_state")) {
        for err in [
            parse_cluster_state(&text).err(),
            parse_cpwd_list(&text).err(),
            parse_installer_packages(&text).err(),
            mgmt::parse_show_task(&text).err(),
        ]
        .into_iter()
        .flatten()
        {
            prop_assert!(err.to_string().chars().count() < 320, "{err}");
        }
    }
}
