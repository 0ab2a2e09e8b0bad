//! Validating an operator's edits of a candidates list (SPEC 2.3): every rule, the
//! partial-exclusion table, and the error format.

mod common;

use std::path::Path;

use cdt_core::ErrorKind;
use cdt_core::candidates::CandidatesList;
use cdt_core::candidates::generate::{GenerateOptions, generate};
use cdt_core::candidates::validate::validate_edit;
use cdt_core::model::{ClusterKind, Inventory, Package, Version};
use common::{cluster, gateway};

const JUMBO_89: &str = "/var/packages/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz";

/// A small fleet: two standalone gateways (one eligible, one N/A, one Installed), an HA cluster
/// of three and a VRRP pair, written as `generated.csv`.
fn generated() -> CandidatesList {
    let mut inv = Inventory::default();
    inv.gateways
        .push(gateway("gw-a", 1, Version::R81_20, Some(41)));
    inv.gateways
        .push(gateway("gw-old", 2, Version::R81_10, None));
    inv.gateways
        .push(gateway("gw-done", 3, Version::R81_20, Some(89)));
    inv.clusters.push(cluster(
        "ha",
        ClusterKind::ClusterXlHa,
        3,
        10,
        Version::R81_20,
        Some(41),
    ));
    inv.clusters.push(cluster(
        "vr",
        ClusterKind::Vrrp,
        2,
        20,
        Version::R81_20,
        Some(41),
    ));
    let list = generate(
        &inv,
        &Package::from_path(JUMBO_89).unwrap(),
        &GenerateOptions::default(),
    )
    .list;
    CandidatesList::parse_csv(&list.to_csv(), Some(Path::new("generated.csv"))).unwrap()
}

/// The generated list with column `column` of each named row replaced.
fn edit_column(column: usize, values: &[(&str, &str)]) -> String {
    let mut text = String::new();
    for line in generated().to_csv().split_inclusive("\r\n") {
        let mut fields: Vec<String> = line
            .trim_end()
            .split(',')
            .map(|f| f.trim().to_string())
            .collect();
        if let Some((_, value)) = values.iter().find(|(n, _)| *n == fields[0]) {
            fields[column] = value.to_string();
        }
        text.push_str(&fields.join(" , "));
        text.push_str("\r\n");
    }
    text
}

/// The generated list with the Upgrade Order of each named row replaced.
fn edit(orders: &[(&str, &str)]) -> String {
    edit_column(5, orders)
}

fn check(text: &str) -> Result<(), String> {
    let edited = CandidatesList::parse_csv(text, Some(Path::new("edited.csv")))
        .map_err(|e| e.to_string())?;
    validate_edit(&generated(), &edited).map_err(|e| {
        assert_eq!(e.kind(), ErrorKind::Candidates);
        e.to_string()
    })
}

#[test]
fn the_generated_list_validates_against_itself() {
    check(&generated().to_csv()).unwrap();
}

#[test]
fn batches_may_be_renumbered_and_standalone_gateways_excluded() {
    check(&edit(&[
        ("gw-a", "-"),
        ("ha-m0", "3"),
        ("ha-m1", "3"),
        ("ha-m2", "3"),
        ("vr-m0", "7"),
        ("vr-m1", "7"),
    ]))
    .unwrap();
}

#[test]
fn rows_may_be_sorted_and_padding_changed() {
    let text = generated().to_csv();
    let mut lines: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    lines[1..].reverse();
    let resorted: String = lines
        .iter()
        .map(|l| {
            format!(
                "{}\n",
                l.split(',').map(str::trim).collect::<Vec<_>>().join(",")
            )
        })
        .collect();
    check(&resorted).unwrap();
}

#[test]
fn excluding_every_member_of_a_cluster_is_allowed() {
    check(&edit(&[("ha-m0", "-"), ("ha-m1", "-"), ("ha-m2", "-")])).unwrap();
}

#[test]
fn excluding_only_the_last_member_is_the_semi_automatic_first_run() {
    check(&edit(&[("ha-m2", "-")])).unwrap();
    check(&edit(&[("vr-m1", "-")])).unwrap();
}

#[test]
fn excluding_some_of_the_first_wave_and_the_last_member_is_allowed() {
    check(&edit(&[("ha-m0", "-"), ("ha-m2", "-")])).unwrap();
}

#[test]
fn excluding_a_first_wave_member_while_the_last_is_batched_is_refused() {
    let e = check(&edit(&[("ha-m0", "-")])).unwrap_err();
    insta::assert_snapshot!("first_wave_excluded_last_batched", e);
}

#[test]
fn members_of_one_cluster_in_different_batches_are_refused() {
    let e = check(&edit(&[("vr-m1", "2")])).unwrap_err();
    insta::assert_snapshot!("cluster_split_across_batches", e);
}

#[test]
fn na_and_installed_must_not_change_nor_be_invented() {
    let e = check(&edit(&[("gw-old", "1"), ("gw-done", "-"), ("gw-a", "N/A")])).unwrap_err();
    insta::assert_snapshot!("na_installed_changed", e);
}

#[test]
fn columns_other_than_upgrade_order_must_not_change() {
    let text = edit_column(2, &[("gw-a", "192.0.2.99")]);
    let text = text
        .replace("R81.10", "R81.20")
        .replace("ha-m1 , ha ,", "ha-m1 , hb ,");
    let text = text.replace(
        "vr-m0 , vr , 192.0.2.20 , R81.20 Take 41 , Backup",
        "vr-m0 , vr , 192.0.2.20 , R81.20 Take 41 , Master",
    );
    let e = check(&text).unwrap_err();
    insta::assert_snapshot!("columns_changed", e);
}

#[test]
fn added_and_removed_rows_are_reported_each_in_its_own_file() {
    let text = generated().to_csv();
    let without_gw_a: String = text
        .split_inclusive("\r\n")
        .filter(|l| !l.starts_with("gw-a "))
        .collect();
    let added = format!("{without_gw_a}gw-new, , 192.0.2.77, R81.20, , 1\r\n");
    let e = check(&added).unwrap_err();
    insta::assert_snapshot!("rows_added_and_removed", e);
    assert!(
        e.contains("generated.csv:2: object gw-a: row removed"),
        "{e}"
    );
}

#[test]
fn every_error_is_reported_not_only_the_first() {
    let e = check(&edit(&[("gw-old", "1"), ("ha-m0", "-"), ("vr-m0", "4")])).unwrap_err();
    assert_eq!(e.lines().count(), 3, "{e}");
}

#[test]
fn malformed_rows_are_all_reported_at_their_lines() {
    let text = edit(&[("gw-a", "0"), ("ha-m0", "first"), ("vr-m0", "-2")]);
    let e = check(&text).unwrap_err();
    insta::assert_snapshot!("malformed_orders", e);
}
