//! The simulator and the Gaia vocabulary agree: commands built by `gaia::commands` run on the
//! simulated fleet, and its replies, printed in the real formats, are read by `gaia::parse`.

mod common;

use cdt_core::gaia::commands::{self, PackageList};
use cdt_core::gaia::parse::{self, MemberHaState, MvcState, VrrpRole, mgmt};
use cdt_core::model::Version;
use cdt_core::model::inventory::InventoryFormat;
use cdt_core::sim::{FleetFile, ReplyKind, Sim};
use common::fleets::SMALL_FLEET;
use jiff::SignedDuration;

const JUMBO: &str = "/var/log/upload/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz";
const UPGRADE: &str =
    "/var/log/upload/Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz";

fn sim() -> Sim {
    Sim::new(&FleetFile::parse(SMALL_FLEET, InventoryFormat::Toml, None).unwrap())
}

fn run(sim: &mut Sim, host: &str, command: &str) -> String {
    common::fleets::run_ok(sim, host, command)
}

#[test]
fn cphaprob_state_reads_the_roles_the_simulator_holds() {
    let mut sim = sim();
    let state =
        parse::parse_cluster_state(&run(&mut sim, "ha-b", &commands::cphaprob_state())).unwrap();
    assert_eq!(state.local().map(|m| m.name.as_deref()), Some(Some("ha-b")));
    assert_eq!(
        state.local().map(|m| &m.state),
        Some(&MemberHaState::Standby)
    );
    assert_eq!(state.members[0].state, MemberHaState::Active);
    assert_eq!(
        parse::parse_cluster_state(&run(&mut sim, "gw-1", &commands::cphaprob_state())),
        Err(parse::ParseError::NotClustered)
    );
}

#[test]
fn versions_read_the_same_from_fw_ver_show_version_all_and_cpinfo() {
    let mut sim = sim();
    assert_eq!(
        parse::parse_fw_ver(&run(&mut sim, "gw-1", &commands::fw_ver()))
            .unwrap()
            .version,
        Version::R81_20
    );
    assert_eq!(
        parse::parse_show_version_all(&run(&mut sim, "gw-1", &commands::show_version_all()))
            .unwrap()
            .version,
        Version::R81_20
    );
    assert_eq!(
        parse::parse_jumbo_take(&run(&mut sim, "gw-1", &commands::cpinfo_hotfixes())).unwrap(),
        Some(41)
    );
    assert_eq!(
        parse::parse_jumbo_take(&run(&mut sim, "gw-2", &commands::cpinfo_hotfixes())).unwrap(),
        None
    );
}

#[test]
fn cpwd_admin_list_shows_the_processes_and_their_comparison() {
    let mut sim = sim();
    let before = parse::parse_cpwd_list(&run(&mut sim, "gw-1", &commands::cpwd_list())).unwrap();
    let apps = parse::running_apps(&before);
    assert!(
        apps.iter().any(|a| format!("{a:?}").contains("FWD")),
        "{apps:?}"
    );
    assert!(parse::stopped_since(&before, &before).is_empty());
}

#[test]
fn a_cpuse_install_reads_through_the_package_lists() {
    let mut sim = sim();
    let at = sim.now();
    sim.put("gw-1", JUMBO, b"jumbo", at).unwrap();
    let digest = run(&mut sim, "gw-1", &commands::sha256sum(JUMBO).unwrap());
    assert!(digest.ends_with(&format!("  {JUMBO}\n")));
    run(
        &mut sim,
        "gw-1",
        &commands::installer_import(JUMBO).unwrap(),
    );
    let imported = parse::parse_installer_packages(&run(
        &mut sim,
        "gw-1",
        &commands::show_installer_packages(PackageList::Imported),
    ))
    .unwrap();
    let found =
        parse::find_package(&imported.packages, JUMBO).expect("the imported package is listed");
    let number = found
        .number
        .expect("imported rows are numbered")
        .to_string();
    run(
        &mut sim,
        "gw-1",
        &commands::installer_verify(&number).unwrap(),
    );
    let details = parse::parse_installer_package(&run(
        &mut sim,
        "gw-1",
        &commands::show_installer_package(&number).unwrap(),
    ))
    .unwrap();
    assert_eq!(details.status(), Some("Imported"));
    let at = sim.now();
    let r = sim
        .exec("gw-1", &commands::installer_install(&number).unwrap(), at)
        .unwrap();
    assert_eq!(
        r.kind,
        ReplyKind::Dropped,
        "the install reboots the gateway"
    );
    sim.advance(at + r.duration + SignedDuration::from_secs(600));
    let installed = parse::parse_installer_packages(&run(
        &mut sim,
        "gw-1",
        &commands::show_installer_packages(PackageList::Installed),
    ))
    .unwrap();
    assert!(
        installed
            .packages
            .iter()
            .any(|p| p.name.contains("Take 89")),
        "{installed:?}"
    );
    let details = parse::parse_installer_package(&run(
        &mut sim,
        "gw-1",
        &commands::show_installer_package(&number).unwrap(),
    ))
    .unwrap();
    assert_eq!(details.status(), Some("Installed"));
    let build =
        parse::parse_installer_build(&run(&mut sim, "gw-1", &commands::show_installer_build()))
            .unwrap();
    assert_eq!((build.build, build.up_to_date), (2412, Some(true)));
}

#[test]
fn the_mvc_failover_sequence_reads_through_the_parsers() {
    let mut sim = sim();
    let at = sim.now();
    sim.put("ha-b", UPGRADE, b"upgrade", at).unwrap();
    run(
        &mut sim,
        "ha-b",
        &commands::installer_import(UPGRADE).unwrap(),
    );
    let at = sim.now();
    let r = sim
        .exec("ha-b", &commands::installer_upgrade("1").unwrap(), at)
        .unwrap();
    sim.advance(at + r.duration + SignedDuration::from_secs(600));
    let state =
        parse::parse_cluster_state(&run(&mut sim, "ha-b", &commands::cphaprob_state())).unwrap();
    assert_eq!(state.local().map(|m| &m.state), Some(&MemberHaState::Ready));
    run(&mut sim, "ha-b", &commands::cphaconf_mvc(true));
    assert_eq!(
        parse::parse_mvc_state(&run(&mut sim, "ha-b", &commands::cphaprob_mvc())).unwrap(),
        MvcState::On
    );
    let state =
        parse::parse_cluster_state(&run(&mut sim, "ha-b", &commands::cphaprob_state())).unwrap();
    assert_eq!(
        state.local().map(|m| &m.state),
        Some(&MemberHaState::Standby)
    );
    let reply =
        parse::parse_clusterxl_admin(&run(&mut sim, "ha-a", &commands::clusterxl_admin(true)))
            .unwrap();
    assert_eq!(reply.state, Some(MemberHaState::Down));
    let state =
        parse::parse_cluster_state(&run(&mut sim, "ha-b", &commands::cphaprob_state())).unwrap();
    assert_eq!(
        state.local().map(|m| &m.state),
        Some(&MemberHaState::Active)
    );
}

#[test]
fn fcu_status_reads_ready_after_cphacu_start() {
    let mut sim = sim();
    assert_ne!(
        parse::parse_fcu_status(&run(&mut sim, "ha-b", &commands::cphacu_stat())).unwrap(),
        parse::FcuStatus::ReadyForFailover
    );
    run(&mut sim, "ha-b", &commands::cphacu_start());
    assert_eq!(
        parse::parse_fcu_status(&run(&mut sim, "ha-b", &commands::cphacu_stat())).unwrap(),
        parse::FcuStatus::ReadyForFailover
    );
}

#[test]
fn vrrp_roles_come_from_show_vrrp() {
    let mut sim = sim();
    assert_eq!(
        parse::parse_vrrp(&run(&mut sim, "vr-a", &commands::show_vrrp()))
            .unwrap()
            .role(),
        Some(VrrpRole::Master)
    );
    assert_eq!(
        parse::parse_vrrp(&run(&mut sim, "vr-b", &commands::show_vrrp()))
            .unwrap()
            .role(),
        Some(VrrpRole::Backup)
    );
    run(&mut sim, "vr-a", &commands::clusterxl_admin(true));
    assert_eq!(
        parse::parse_vrrp(&run(&mut sim, "vr-b", &commands::show_vrrp()))
            .unwrap()
            .role(),
        Some(VrrpRole::Master)
    );
}

#[test]
fn an_invalid_clish_command_is_recognised() {
    let mut sim = sim();
    let at = sim.now();
    let r = sim
        .exec("gw-1", &commands::clish("show nonsense").unwrap(), at)
        .unwrap();
    assert!(parse::clish_error(&r.stderr).is_some(), "{}", r.stderr);
}

#[test]
fn the_management_server_replies_read_as_api_objects() {
    let mut sim = sim();
    let objects = mgmt::parse_gateways_and_servers(&run(
        &mut sim,
        "mgmt",
        &commands::mgmt_cli(
            "show-gateways-and-servers",
            &[("details-level", "full")],
            None,
            None,
        )
        .unwrap(),
    ))
    .unwrap();
    assert!(format!("{objects:?}").contains("ha-a"));
    let cluster = mgmt::parse_simple_cluster(&run(
        &mut sim,
        "mgmt",
        &commands::mgmt_cli("show-simple-cluster", &[("name", "ha")], None, None).unwrap(),
    ))
    .unwrap();
    let members: Vec<&str> = cluster.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(members, ["ha-a", "ha-b"]);
    assert_eq!(cluster.version, "R81.20");
    let sid = mgmt::parse_login(&run(
        &mut sim,
        "mgmt",
        &commands::mgmt_cli("login", &[], None, None).unwrap(),
    ))
    .unwrap()
    .sid;
    let task = mgmt::parse_task_id(&run(
        &mut sim,
        "mgmt",
        &commands::mgmt_cli("publish", &[], Some(&sid), None).unwrap(),
    ))
    .unwrap();
    let show = mgmt::parse_show_task(&run(
        &mut sim,
        "mgmt",
        &commands::mgmt_cli("show-task", &[("task-id", &task.task_id)], None, None).unwrap(),
    ))
    .unwrap();
    assert_eq!(show.len(), 1);
    let at = sim.now();
    let r = sim
        .exec(
            "mgmt",
            &commands::mgmt_cli("publish", &[], Some("bogus"), None).unwrap(),
            at,
        )
        .unwrap();
    assert!(
        matches!(
            mgmt::parse_task_id(&r.stdout),
            Err(parse::ParseError::Api { .. })
        ),
        "{}",
        r.stdout
    );
    assert!(matches!(
        mgmt::parse_reply(&r.stdout),
        Err(parse::ParseError::Api { .. })
    ));
}
