//! Property tests of generation and validation of candidates lists.
//!
//! Invariants, in words:
//! 1. A generated list, written and read back, validates against itself.
//! 2. Every illegal edit, drawn from an enumerated list of classes (one per rule of SPEC 2.3),
//!    is rejected. The classes are written here on the raw CSV cells, independently of the
//!    validator.
//! 3. Every sequence of allowed edits (sorting, padding, renumbering, the allowed partial
//!    exclusions of the SPEC's table) passes.

mod common;

use cdt_core::candidates::CandidatesList;
use cdt_core::candidates::generate::{GenerateOptions, generate};
use cdt_core::candidates::validate::validate_edit;
use cdt_core::model::{ClusterKind, Inventory, Package, Reachability, Version};
use common::{cluster, gateway};
use proptest::prelude::*;

const JUMBO_89: &str = "/var/packages/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz";

/// A fleet with a fixed backbone (so every edit class has something to act on) and random extras.
fn fleet() -> impl Strategy<Value = Inventory> {
    let versions = prop_oneof![
        Just(Version::R81_10),
        Just(Version::R81_20),
        Just(Version::R82)
    ];
    let takes = prop_oneof![Just(None), (1u32..120).prop_map(Some)];
    let extra_gateway = (versions.clone(), takes.clone(), any::<bool>());
    let kinds = prop_oneof![
        Just(ClusterKind::ClusterXlHa),
        Just(ClusterKind::Vrrp),
        Just(ClusterKind::VsxVsls),
        Just(ClusterKind::ClusterXlLoadSharing)
    ];
    let extra_cluster = (kinds, 2usize..5, versions, takes);
    (
        prop::collection::vec(extra_gateway, 0..20),
        prop::collection::vec(extra_cluster, 0..8),
        2usize..5,
        3usize..5,
    )
        .prop_map(|(gws, cls, ha_size, vsls_size)| {
            let mut inv = Inventory::default();
            inv.gateways
                .push(gateway("s-elig", 1, Version::R81_20, Some(41)));
            inv.gateways.push(gateway("s-na", 2, Version::R81_10, None));
            inv.gateways
                .push(gateway("s-inst", 3, Version::R81_20, Some(89)));
            inv.clusters.push(cluster(
                "c-ha",
                ClusterKind::ClusterXlHa,
                ha_size,
                10,
                Version::R81_20,
                None,
            ));
            inv.clusters.push(cluster(
                "c-vrrp",
                ClusterKind::Vrrp,
                2,
                20,
                Version::R81_20,
                Some(3),
            ));
            inv.clusters.push(cluster(
                "c-vsls",
                ClusterKind::VsxVsls,
                vsls_size,
                30,
                Version::R81_20,
                Some(41),
            ));
            for (i, (version, take, reachable)) in gws.into_iter().enumerate() {
                let mut g = gateway(&format!("g{i}"), 100 + i as u8, version, take);
                if !reachable {
                    g.reachability = Reachability::Unreachable;
                }
                inv.gateways.push(g);
            }
            for (i, (kind, size, version, take)) in cls.into_iter().enumerate() {
                inv.clusters.push(cluster(
                    &format!("k{i}"),
                    kind,
                    size,
                    130 + 5 * i as u8,
                    version,
                    take,
                ));
            }
            inv
        })
}

type Rows = Vec<Vec<String>>;

fn rows_of(list: &CandidatesList) -> Rows {
    list.to_csv()
        .split("\r\n")
        .skip(1)
        .filter(|l| !l.is_empty())
        .map(|l| l.split(',').map(|f| f.trim().to_string()).collect())
        .collect()
}

fn csv_of(rows: &Rows) -> String {
    let mut out = String::from(
        "Object Name,Cluster Name,IP Address,Version/JHF Take,State,Upgrade Order\r\n",
    );
    for row in rows {
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

fn is_batch(order: &str) -> bool {
    order.parse::<u32>().is_ok_and(|n| n > 0)
}

fn is_last_state(state: &str) -> bool {
    matches!(state, "Active" | "Master" | "VSLS active member")
}

/// Clusters (by name) whose every member is batched in the generated list.
fn batched_clusters(rows: &Rows) -> Vec<String> {
    let mut names: Vec<String> = rows
        .iter()
        .filter(|r| !r[1].is_empty())
        .map(|r| r[1].clone())
        .collect();
    names.dedup();
    names.retain(|c| rows.iter().filter(|r| &r[1] == c).all(|r| is_batch(&r[5])));
    names
}

fn pick<T: Clone>(items: &[T], seed: usize) -> T {
    items[seed % items.len()].clone()
}

fn indices(rows: &Rows, pred: impl Fn(&Vec<String>) -> bool) -> Vec<usize> {
    (0..rows.len()).filter(|&i| pred(&rows[i])).collect()
}

fn members(rows: &Rows, cluster: &str) -> (Vec<usize>, usize) {
    let all = indices(rows, |r| r[1] == cluster);
    let last = *all.iter().find(|&&i| is_last_state(&rows[i][4])).unwrap();
    (all.into_iter().filter(|&i| i != last).collect(), last)
}

/// One class per rule of SPEC 2.3 that an edit can break.
#[derive(Debug, Clone)]
enum Illegal {
    ChangeColumn { column: usize, row: usize },
    ChangeNotApplicable { row: usize, to: usize },
    ChangeInstalled { row: usize, to: usize },
    InventNotApplicableOrInstalled { row: usize, installed: bool },
    AddRow,
    RemoveRow { row: usize },
    NotAPositiveBatch { row: usize, bad: usize },
    ClusterSplitAcrossBatches { cluster: usize, member: usize },
    FirstWaveExcludedLastBatched { cluster: usize, mask: u8 },
    DuplicateObjectName { row: usize },
}

fn illegal() -> impl Strategy<Value = Illegal> {
    let s = any::<usize>();
    prop_oneof![
        (1usize..5, s).prop_map(|(column, row)| Illegal::ChangeColumn { column, row }),
        (s, s).prop_map(|(row, to)| Illegal::ChangeNotApplicable { row, to }),
        (s, s).prop_map(|(row, to)| Illegal::ChangeInstalled { row, to }),
        (s, any::<bool>()).prop_map(|(row, installed)| Illegal::InventNotApplicableOrInstalled {
            row,
            installed
        }),
        Just(Illegal::AddRow),
        s.prop_map(|row| Illegal::RemoveRow { row }),
        (s, s).prop_map(|(row, bad)| Illegal::NotAPositiveBatch { row, bad }),
        (s, s).prop_map(|(cluster, member)| Illegal::ClusterSplitAcrossBatches { cluster, member }),
        (s, 1u8..)
            .prop_map(|(cluster, mask)| Illegal::FirstWaveExcludedLastBatched { cluster, mask }),
        s.prop_map(|row| Illegal::DuplicateObjectName { row }),
    ]
}

fn apply_illegal(edit: &Illegal, rows: &mut Rows) {
    match *edit {
        Illegal::ChangeColumn { column, row } => {
            let i = row % rows.len();
            let cell = &mut rows[i][column];
            *cell = match column {
                1 if cell.is_empty() => "some-cluster".into(),
                1 => format!("{cell}-renamed"),
                2 => {
                    if cell == "203.0.113.250" {
                        "203.0.113.251".into()
                    } else {
                        "203.0.113.250".into()
                    }
                }
                3 if cell.contains("Take") => format!("{cell}0"),
                3 => format!("{cell} Take 1"),
                _ if cell == "Standby" => "Active".into(),
                _ => "Standby".into(),
            };
        }
        Illegal::ChangeNotApplicable { row, to } => {
            let i = pick(&indices(rows, |r| r[5] == "N/A"), row);
            rows[i][5] = pick(&["1", "-", "Installed", "7"], to).into();
        }
        Illegal::ChangeInstalled { row, to } => {
            let i = pick(&indices(rows, |r| r[5] == "Installed"), row);
            rows[i][5] = pick(&["1", "-", "N/A", "3"], to).into();
        }
        Illegal::InventNotApplicableOrInstalled { row, installed } => {
            let i = pick(&indices(rows, |r| is_batch(&r[5])), row);
            rows[i][5] = if installed { "Installed" } else { "N/A" }.into();
        }
        Illegal::AddRow => rows.push(vec![
            "brand-new".into(),
            String::new(),
            "203.0.113.9".into(),
            "R81.20".into(),
            String::new(),
            "1".into(),
        ]),
        Illegal::RemoveRow { row } => {
            let i = row % rows.len();
            rows.remove(i);
        }
        Illegal::NotAPositiveBatch { row, bad } => {
            let i = pick(&indices(rows, |r| is_batch(&r[5])), row);
            rows[i][5] = pick(&["0", "00", "-1", "1.5", "one", "", "+2", "N/A2"], bad).into();
        }
        Illegal::ClusterSplitAcrossBatches { cluster, member } => {
            let c = pick(&batched_clusters(rows), cluster);
            let all = indices(rows, |r| r[1] == c);
            let i = pick(&all, member);
            let current: u32 = rows[i][5].parse().unwrap();
            rows[i][5] = (current + 1).to_string();
        }
        Illegal::FirstWaveExcludedLastBatched { cluster, mask } => {
            let c = pick(&batched_clusters(rows), cluster);
            let (first_wave, _last) = members(rows, &c);
            let mut excluded = 0;
            for (k, &i) in first_wave.iter().enumerate() {
                if mask & (1 << (k % 8)) != 0 {
                    rows[i][5] = "-".into();
                    excluded += 1;
                }
            }
            if excluded == 0 {
                rows[first_wave[0]][5] = "-".into();
            }
        }
        Illegal::DuplicateObjectName { row } => {
            let i = row % rows.len();
            let copy = rows[i].clone();
            rows.push(copy);
        }
    }
}

/// Edits the SPEC allows.
#[derive(Debug, Clone)]
enum Allowed {
    Sort { seed: u64 },
    RenumberStandalone { row: usize, batch: u32 },
    ExcludeStandalone { row: usize },
    RenumberCluster { cluster: usize, batch: u32 },
    ExcludeCluster { cluster: usize },
    ExcludeLastMember { cluster: usize },
    ExcludeSomeFirstWaveAndLast { cluster: usize, mask: u8 },
}

fn allowed() -> impl Strategy<Value = Allowed> {
    let s = any::<usize>();
    prop_oneof![
        any::<u64>().prop_map(|seed| Allowed::Sort { seed }),
        (s, 1u32..50).prop_map(|(row, batch)| Allowed::RenumberStandalone { row, batch }),
        s.prop_map(|row| Allowed::ExcludeStandalone { row }),
        (s, 1u32..50).prop_map(|(cluster, batch)| Allowed::RenumberCluster { cluster, batch }),
        s.prop_map(|cluster| Allowed::ExcludeCluster { cluster }),
        s.prop_map(|cluster| Allowed::ExcludeLastMember { cluster }),
        (s, any::<u8>())
            .prop_map(|(cluster, mask)| Allowed::ExcludeSomeFirstWaveAndLast { cluster, mask }),
    ]
}

fn apply_allowed(edit: &Allowed, rows: &mut Rows, clusters: &[String]) {
    let editable = |r: &Vec<String>| is_batch(&r[5]) || r[5] == "-";
    match *edit {
        Allowed::Sort { seed } => {
            // A deterministic shuffle: sort by a hash of the name and the seed.
            rows.sort_by_key(|r| {
                r[0].bytes().fold(seed, |h, b| {
                    h.wrapping_mul(1_099_511_628_211).wrapping_add(u64::from(b))
                })
            });
        }
        Allowed::RenumberStandalone { row, batch } => {
            let i = pick(&indices(rows, |r| r[1].is_empty() && editable(r)), row);
            rows[i][5] = batch.to_string();
        }
        Allowed::ExcludeStandalone { row } => {
            let i = pick(&indices(rows, |r| r[1].is_empty() && editable(r)), row);
            rows[i][5] = "-".into();
        }
        Allowed::RenumberCluster { cluster, batch } => {
            let c = pick(clusters, cluster);
            for r in rows.iter_mut().filter(|r| r[1] == c && is_batch(&r[5])) {
                r[5] = batch.to_string();
            }
        }
        Allowed::ExcludeCluster { cluster } => {
            let c = pick(clusters, cluster);
            for r in rows.iter_mut().filter(|r| r[1] == c) {
                r[5] = "-".into();
            }
        }
        Allowed::ExcludeLastMember { cluster } => {
            let (_, last) = members(rows, &pick(clusters, cluster));
            rows[last][5] = "-".into();
        }
        Allowed::ExcludeSomeFirstWaveAndLast { cluster, mask } => {
            let (first_wave, last) = members(rows, &pick(clusters, cluster));
            rows[last][5] = "-".into();
            for (k, &i) in first_wave.iter().enumerate() {
                if mask & (1 << (k % 8)) != 0 {
                    rows[i][5] = "-".into();
                }
            }
        }
    }
}

fn judge(generated: &CandidatesList, text: &str) -> Result<(), String> {
    let edited = CandidatesList::parse_csv(text, None).map_err(|e| e.to_string())?;
    validate_edit(generated, &edited).map_err(|e| e.to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    #[test]
    fn a_generated_list_validates_against_itself(inv in fleet()) {
        let generated = generate(&inv, &Package::from_path(JUMBO_89).unwrap(), &GenerateOptions::default()).list;
        let back = CandidatesList::parse_csv(&generated.to_csv(), None).unwrap();
        prop_assert_eq!(&back.rows.len(), &inv.target_count());
        validate_edit(&generated, &back).unwrap();
    }

    #[test]
    fn every_illegal_edit_class_is_rejected(inv in fleet(), edit in illegal(), sort in any::<u64>()) {
        let generated = generate(&inv, &Package::from_path(JUMBO_89).unwrap(), &GenerateOptions::default()).list;
        let mut rows = rows_of(&generated);
        apply_illegal(&edit, &mut rows);
        apply_allowed(&Allowed::Sort { seed: sort }, &mut rows, &[]);
        let verdict = judge(&generated, &csv_of(&rows));
        prop_assert!(verdict.is_err(), "{:?} was accepted", edit);
    }

    #[test]
    fn every_sequence_of_allowed_edits_passes(inv in fleet(), edits in prop::collection::vec(allowed(), 1..8)) {
        let generated = generate(&inv, &Package::from_path(JUMBO_89).unwrap(), &GenerateOptions::default()).list;
        let mut rows = rows_of(&generated);
        let clusters = batched_clusters(&rows);
        for edit in &edits {
            apply_allowed(edit, &mut rows, &clusters);
        }
        let verdict = judge(&generated, &csv_of(&rows));
        prop_assert!(verdict.is_ok(), "{:?} was refused: {:?}", edits, verdict);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::default())]

    /// Reading never panics: any text gives a list or located errors.
    #[test]
    fn any_text_reads_as_a_list_or_located_errors(text in "(?s).{0,400}") {
        if let Err(e) = CandidatesList::parse_csv(&text, None) {
            prop_assert!(!e.diagnostics().is_empty());
        }
    }

    /// Damaging a generated list (a byte deleted, duplicated or replaced anywhere) never panics
    /// the reader or the validator.
    #[test]
    fn damaged_lists_never_panic(inv in fleet(), at in any::<usize>(), op in 0u8..3, byte in any::<u8>()) {
        let generated = generate(&inv, &Package::from_path(JUMBO_89).unwrap(), &GenerateOptions::default()).list;
        let mut bytes = generated.to_csv().into_bytes();
        let i = at % bytes.len();
        match op {
            0 => { bytes.remove(i); }
            1 => { let b = bytes[i]; bytes.insert(i, b); }
            _ => bytes[i] = byte,
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Ok(edited) = CandidatesList::parse_csv(&text, None) {
            let _ = validate_edit(&generated, &edited);
        }
    }

    /// Inventories: any text, as JSON or TOML, gives an inventory or a located error.
    #[test]
    fn any_text_reads_as_an_inventory_or_a_located_error(text in "(?s).{0,300}", json in any::<bool>()) {
        use cdt_core::model::inventory::InventoryFormat;
        let format = if json { InventoryFormat::Json } else { InventoryFormat::Toml };
        if let Err(e) = Inventory::parse(&text, format, None) {
            prop_assert!(!e.diagnostics().is_empty());
        }
    }
}
