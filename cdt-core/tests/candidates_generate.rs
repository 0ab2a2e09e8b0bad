//! Generating candidates lists: eligibility, reasons, batches, filters, and the CSV form.

mod common;

use cdt_core::candidates::filter::{FilterMode, ObjectFilter};
use cdt_core::candidates::generate::{GenerateOptions, generate};
use cdt_core::candidates::{CandidatesList, ReasonCode, UpgradeOrder};
use cdt_core::model::{
    ClusterKind, Inventory, MemberRole, Package, PackageKind, Platform, Reachability, Version,
};
use common::{cluster, fixtures, gateway};

const JUMBO_89: &str = "/var/packages/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz";

fn sample_fleet() -> Inventory {
    Inventory::load(&fixtures().join("inventories/sample-fleet.toml")).unwrap()
}

fn order_of(list: &CandidatesList, name: &str) -> UpgradeOrder {
    list.rows
        .iter()
        .find(|r| r.object_name == name)
        .unwrap()
        .order
}

fn reason_of(list: &CandidatesList, name: &str) -> ReasonCode {
    let row = list.rows.iter().find(|r| r.object_name == name).unwrap();
    row.reason
        .as_ref()
        .unwrap_or_else(|| panic!("{name} has no reason"))
        .code
}

#[test]
fn the_sample_fleet_list_is_written_as_cdt_writes_it() {
    let list = generate(
        &sample_fleet(),
        &Package::from_path(JUMBO_89).unwrap(),
        &GenerateOptions::default(),
    )
    .list;
    insta::assert_snapshot!("sample_fleet_csv", list.to_csv().replace("\r\n", "⏎\n"));
    insta::assert_snapshot!(
        "sample_fleet_reasons",
        list.reasons_csv().replace("\r\n", "⏎\n")
    );
}

#[test]
fn every_eligible_target_and_cluster_defaults_to_batch_1() {
    let list = generate(
        &sample_fleet(),
        &Package::from_path(JUMBO_89).unwrap(),
        &GenerateOptions::default(),
    )
    .list;
    for name in [
        "gw-paris", "lyon-a", "lyon-b", "milan-a", "milan-b", "vienna-1", "vienna-2", "vienna-3",
    ] {
        assert_eq!(order_of(&list, name), UpgradeOrder::batch(1), "{name}");
    }
    assert_eq!(order_of(&list, "gw-berlin"), UpgradeOrder::Installed);
}

#[test]
fn each_ineligible_target_of_the_sample_fleet_has_its_reason_code() {
    let list = generate(
        &sample_fleet(),
        &Package::from_path(JUMBO_89).unwrap(),
        &GenerateOptions::default(),
    )
    .list;
    for (name, code) in [
        ("gw-madrid", ReasonCode::JumboTakeOlder),
        ("gw-rome", ReasonCode::JumboForOtherVersion),
        ("gw-oslo", ReasonCode::Unreachable),
        ("spark-lisbon", ReasonCode::UnsupportedPlatform),
        ("prague-a", ReasonCode::UnsupportedClusterKind),
        ("prague-b", ReasonCode::UnsupportedClusterKind),
        ("zurich-a", ReasonCode::MixedVersions),
        ("zurich-b", ReasonCode::MixedVersions),
    ] {
        assert_eq!(order_of(&list, name), UpgradeOrder::NotApplicable, "{name}");
        assert_eq!(reason_of(&list, name), code, "{name}");
    }
}

#[test]
fn an_upgrade_to_an_older_or_equal_version_is_na_or_installed() {
    let mut inv = Inventory::default();
    inv.gateways.push(gateway("newer", 1, Version::R82, None));
    inv.gateways
        .push(gateway("same", 2, Version::R81_20, Some(10)));
    inv.gateways
        .push(gateway("older", 3, Version::R81_10, None));
    let pkg = Package::new(
        "/p/x.tgz",
        PackageKind::Upgrade {
            target: Version::R81_20,
            take: None,
        },
    );
    let list = generate(&inv, &pkg, &GenerateOptions::default()).list;
    assert_eq!(reason_of(&list, "newer"), ReasonCode::VersionNotNewer);
    assert_eq!(order_of(&list, "same"), UpgradeOrder::Installed);
    assert_eq!(order_of(&list, "older"), UpgradeOrder::batch(1));
}

#[test]
fn a_hotfix_is_installed_where_cpuse_lists_it_and_na_on_other_versions() {
    let mut inv = Inventory::default();
    let mut has = gateway("has", 1, Version::R81_10, None);
    has.installed_hotfixes
        .push("Check_Point_R81_10_HF_sk1_FULL.tgz".into());
    inv.gateways.push(has);
    inv.gateways
        .push(gateway("lacks", 2, Version::R81_10, None));
    inv.gateways
        .push(gateway("other", 3, Version::R81_20, None));
    let pkg = Package::from_path("/p/Check_Point_R81_10_HF_sk1_FULL.tar").unwrap();
    let list = generate(&inv, &pkg, &GenerateOptions::default()).list;
    assert_eq!(order_of(&list, "has"), UpgradeOrder::Installed);
    assert_eq!(order_of(&list, "lacks"), UpgradeOrder::batch(1));
    assert_eq!(reason_of(&list, "other"), ReasonCode::HotfixForOtherVersion);
}

#[test]
fn a_cluster_with_unexpected_roles_is_na_as_a_whole() {
    let mut inv = Inventory::default();
    let mut cl = cluster(
        "cl",
        ClusterKind::ClusterXlHa,
        2,
        10,
        Version::R81_20,
        Some(41),
    );
    cl.members[0].role = MemberRole::Down;
    inv.clusters.push(cl);
    let list = generate(
        &inv,
        &Package::from_path(JUMBO_89).unwrap(),
        &GenerateOptions::default(),
    )
    .list;
    for row in &list.rows {
        assert_eq!(
            row.reason.as_ref().unwrap().code,
            ReasonCode::UnexpectedClusterState
        );
    }
}

#[test]
fn one_unreachable_member_makes_its_cluster_na_naming_the_member() {
    let mut inv = Inventory::default();
    let mut cl = cluster("cl", ClusterKind::Vrrp, 2, 10, Version::R81_20, Some(41));
    cl.members[1].gateway.reachability = Reachability::Unknown;
    inv.clusters.push(cl);
    let list = generate(
        &inv,
        &Package::from_path(JUMBO_89).unwrap(),
        &GenerateOptions::default(),
    )
    .list;
    for row in &list.rows {
        let reason = row.reason.as_ref().unwrap();
        assert_eq!(reason.code, ReasonCode::Unreachable);
        assert!(reason.message.contains("cl-m1"), "{}", reason.message);
    }
}

#[test]
fn semi_automatic_second_run_batches_only_the_former_active() {
    let mut inv = Inventory::default();
    let mut cl = cluster(
        "cl",
        ClusterKind::ClusterXlHa,
        3,
        10,
        Version::R81_20,
        Some(41),
    );
    cl.members[0].gateway.take = Some(89);
    cl.members[1].gateway.take = Some(89);
    inv.clusters.push(cl);
    let list = generate(
        &inv,
        &Package::from_path(JUMBO_89).unwrap(),
        &GenerateOptions::default(),
    )
    .list;
    let orders: Vec<_> = list.rows.iter().map(|r| r.order).collect();
    assert_eq!(
        orders,
        [
            UpgradeOrder::Installed,
            UpgradeOrder::Installed,
            UpgradeOrder::batch(1)
        ]
    );
}

fn vrrp_upgrade_list(options: &GenerateOptions, target: Version) -> CandidatesList {
    let mut inv = Inventory::default();
    inv.clusters.push(cluster(
        "vr",
        ClusterKind::Vrrp,
        2,
        10,
        Version::R80_10,
        None,
    ));
    let pkg = Package::new("/p/up.tgz", PackageKind::Upgrade { target, take: None });
    generate(&inv, &pkg, options).list
}

#[test]
fn vrrp_connectivity_upgrade_to_r80_20_needs_cusync_and_a_take_17_jumbo() {
    let na = |o: &GenerateOptions| {
        vrrp_upgrade_list(o, Version::R80_20).rows[0].order == UpgradeOrder::NotApplicable
    };
    let mut options = GenerateOptions::default();
    assert!(na(&options));
    assert_eq!(
        vrrp_upgrade_list(&options, Version::R80_20).rows[0]
            .reason
            .as_ref()
            .unwrap()
            .code,
        ReasonCode::ConnectivityUpgradeImpossible
    );
    options.cu_sync_for_vrrp = true;
    assert!(na(&options), "CUSyncForVRRP alone is not enough");
    options.later_packages.push(Package::new(
        "/p/j16.tgz",
        PackageKind::Jumbo {
            version: Version::R80_20,
            take: 16,
        },
    ));
    assert!(na(&options), "take 16 is below 17");
    options.later_packages.push(Package::new(
        "/p/j17.tgz",
        PackageKind::Jumbo {
            version: Version::R80_20,
            take: 17,
        },
    ));
    assert!(!na(&options));
    let cu_off = GenerateOptions {
        connectivity_upgrade: false,
        ..GenerateOptions::default()
    };
    assert!(!na(&cu_off));
}

#[test]
fn vrrp_upgrades_to_other_versions_are_not_held_by_the_cu_rule() {
    assert_eq!(
        vrrp_upgrade_list(&GenerateOptions::default(), Version::R81_20).rows[0].order,
        UpgradeOrder::batch(1)
    );
    let r77 = vrrp_upgrade_list(&GenerateOptions::default(), Version::R77_30);
    assert_eq!(
        r77.rows[0].order,
        UpgradeOrder::NotApplicable,
        "R77.30 is older than R80.10 anyway"
    );
}

#[test]
fn an_outdated_cpuse_agent_is_a_warning_not_na() {
    let mut inv = Inventory::default();
    let mut g = gateway("old-agent", 1, Version::R81_20, None);
    g.cpuse_build = Some(1000);
    inv.gateways.push(g);
    let mut pkg = Package::from_path(JUMBO_89).unwrap();
    pkg.min_cpuse_build = Some(2000);
    let list = generate(&inv, &pkg, &GenerateOptions::default()).list;
    assert_eq!(list.rows[0].order, UpgradeOrder::batch(1));
    assert_eq!(
        list.rows[0].warnings[0].code,
        ReasonCode::CpuseAgentOutdated
    );
    assert!(
        list.reasons_csv()
            .contains("old-agent,warning,cpuse_agent_outdated,")
    );
}

#[test]
fn unsupported_platforms_are_na() {
    let mut inv = Inventory::default();
    let mut g = gateway("spark", 1, Version::R81_20, None);
    g.platform = Platform::QuantumSpark;
    inv.gateways.push(g);
    let list = generate(
        &inv,
        &Package::from_path(JUMBO_89).unwrap(),
        &GenerateOptions::default(),
    )
    .list;
    assert_eq!(
        list.rows[0].reason.as_ref().unwrap().code,
        ReasonCode::UnsupportedPlatform
    );
}

#[test]
fn the_filter_file_excludes_objects_and_a_member_name_takes_its_cluster() {
    let filter = ObjectFilter::parse(
        "# not this week\ngw-paris\n  lyon-b  \nno-such-box\n",
        FilterMode::Exclude,
    );
    let options = GenerateOptions {
        filter: Some(filter),
        ..GenerateOptions::default()
    };
    let generated = generate(
        &sample_fleet(),
        &Package::from_path(JUMBO_89).unwrap(),
        &options,
    );
    let names: Vec<&str> = generated
        .list
        .rows
        .iter()
        .map(|r| r.object_name.as_str())
        .collect();
    assert!(!names.contains(&"gw-paris"));
    assert!(!names.contains(&"lyon-a") && !names.contains(&"lyon-b"));
    assert!(names.contains(&"gw-berlin"));
    assert_eq!(generated.unmatched_filter_names, ["no-such-box"]);
}

#[test]
fn include_only_keeps_just_the_named_objects() {
    let filter = ObjectFilter::parse("gw-paris\ncl-vienna\n", FilterMode::IncludeOnly);
    let options = GenerateOptions {
        filter: Some(filter),
        ..GenerateOptions::default()
    };
    let list = generate(
        &sample_fleet(),
        &Package::from_path(JUMBO_89).unwrap(),
        &options,
    )
    .list;
    let names: Vec<&str> = list.rows.iter().map(|r| r.object_name.as_str()).collect();
    assert_eq!(names, ["gw-paris", "vienna-1", "vienna-2", "vienna-3"]);
}

#[test]
fn a_package_described_in_the_inventory_is_resolved_by_file_name() {
    let inv = sample_fleet();
    let pkg = inv
        .resolve_package(std::path::Path::new("/elsewhere/site_fix_2026_11.tgz"))
        .unwrap();
    assert_eq!(
        pkg.kind,
        PackageKind::Hotfix {
            version: Version::R81_20
        }
    );
    assert_eq!(
        pkg.path,
        std::path::Path::new("/elsewhere/site_fix_2026_11.tgz")
    );
    assert!(
        inv.resolve_package(std::path::Path::new("/x/unknown.tgz"))
            .is_err()
    );
}

#[test]
fn a_written_list_reads_back_equal_with_its_reasons() {
    let list = generate(
        &sample_fleet(),
        &Package::from_path(JUMBO_89).unwrap(),
        &GenerateOptions::default(),
    )
    .list;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("candidates.csv");
    list.save(&path).unwrap();
    assert!(dir.path().join("candidates.reasons.csv").is_file());
    let back = CandidatesList::load(&path).unwrap();
    assert_eq!(back, list);
    assert_eq!(back.source.lines[0], 2, "the header is line 1");
}

#[test]
fn the_reader_tolerates_a_bom_lf_line_ends_and_blank_lines() {
    let list = generate(
        &sample_fleet(),
        &Package::from_path(JUMBO_89).unwrap(),
        &GenerateOptions::default(),
    )
    .list;
    let text = format!("\u{feff}{}\n\n", list.to_csv().replace("\r\n", "\n"));
    let back = CandidatesList::parse_csv(&text, None).unwrap();
    let orders = |l: &CandidatesList| {
        l.rows
            .iter()
            .map(|r| (r.object_name.clone(), r.order))
            .collect::<Vec<_>>()
    };
    assert_eq!(orders(&back), orders(&list));
    assert_eq!(
        back.source.lines.last(),
        Some(&(list.rows.len() as u32 + 1))
    );
}

#[test]
fn names_with_commas_and_quotes_survive_the_csv() {
    let mut inv = Inventory::default();
    inv.gateways
        .push(gateway("odd, \"name\"", 1, Version::R81_20, None));
    inv.gateways.push(gateway(
        "a-much-longer-gateway-name",
        2,
        Version::R81_20,
        None,
    ));
    let package = Package::from_path(JUMBO_89).unwrap();
    let list = generate(&inv, &package, &GenerateOptions::default()).list;
    let csv = list.to_csv();
    assert!(
        csv.contains("\"odd, \"\"name\"\"\"   "),
        "the quoted field is padded after its closing quote: {csv}"
    );
    assert_eq!(CandidatesList::parse_csv(&csv, None).unwrap(), list);
}

#[test]
fn the_json_form_carries_the_reasons() {
    let list = generate(
        &sample_fleet(),
        &Package::from_path(JUMBO_89).unwrap(),
        &GenerateOptions::default(),
    )
    .list;
    let json: serde_json::Value = serde_json::from_str(&list.to_json()).unwrap();
    let madrid = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["object_name"] == "gw-madrid")
        .unwrap();
    assert_eq!(madrid["order"], "N/A");
    assert_eq!(madrid["reason"]["code"], "jumbo_take_older");
    let paris = json["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["object_name"] == "gw-paris")
        .unwrap();
    assert_eq!(paris["order"], 1);
}
