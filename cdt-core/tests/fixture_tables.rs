//! Every input file in the shared fixture folder with an EXPECTED.tsv: every bad one gives the typed error, location and
//! message its folder's EXPECTED.tsv promises, and never a panic. The same tables are read by
//! the Python and C tests.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use cdt_core::Error;
use cdt_core::candidates::CandidatesList;
use cdt_core::formats::config::PrimaryConfig;
use cdt_core::formats::plan::Plan;
use cdt_core::model::Inventory;
use common::{expected_table, fixtures};

/// What the fourth column of an EXPECTED table holds.
#[derive(Clone, Copy)]
enum Fourth {
    /// The column of the error (XML inputs).
    Column,
    /// The object the error names, `-` for none (lists and inventories).
    Object,
}

/// Checks every row of `dir`'s table against `load`, and that every file has a row.
fn check_folder(dir: &Path, fourth: Fourth, load: impl Fn(&Path) -> Result<(), Error>) {
    let table = expected_table(dir);
    let mut listed = BTreeSet::new();
    let mut mismatches = Vec::new();
    for row in &table {
        let [file, kind, line, x, message] = &row[..] else {
            panic!("{}: malformed EXPECTED row {row:?}", dir.display());
        };
        assert!(listed.insert(file.clone()), "{file}: two rows");
        let path = dir.join(file);
        let err = load(&path).expect_err(file);
        let d = err
            .diagnostics()
            .iter()
            .find(|d| d.message.contains(message.as_str()))
            .unwrap_or_else(|| panic!("{file}: no diagnostic contains {message:?}: {err}"));
        assert_eq!(d.location.path.as_deref(), Some(path.as_path()), "{file}");
        let got_x = match fourth {
            Fourth::Column => d.location.column.map(|c| c.to_string()).unwrap_or_default(),
            Fourth::Object => d.object.clone().unwrap_or_else(|| "-".to_string()),
        };
        let got = [
            format!("{:?}", err.kind()),
            d.location.line.to_string(),
            got_x,
        ];
        if got != [kind.as_str(), line.as_str(), x.as_str()] {
            mismatches.push(format!("{file}\t{}\t{err}", got.join("\t")));
        }
    }
    assert!(
        mismatches.is_empty(),
        "not as listed:\n{}",
        mismatches.join("\n")
    );
    let on_disk: BTreeSet<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "EXPECTED.tsv")
        .collect();
    assert_eq!(
        on_disk,
        listed,
        "{}: files and EXPECTED.tsv rows differ",
        dir.display()
    );
}

#[test]
fn every_bad_plan_fixture_fails_as_expected() {
    check_folder(&fixtures().join("plans/bad"), Fourth::Column, |p| {
        Plan::load(p).map(drop)
    });
}

#[test]
fn every_bad_config_fixture_fails_as_expected() {
    check_folder(&fixtures().join("configs/bad"), Fourth::Column, |p| {
        PrimaryConfig::load(p).map(drop)
    });
}

#[test]
fn every_bad_candidates_list_fixture_fails_as_expected() {
    check_folder(&fixtures().join("candidates/bad"), Fourth::Object, |p| {
        CandidatesList::load(p).map(drop)
    });
}

#[test]
fn every_bad_inventory_fixture_fails_as_expected() {
    check_folder(&fixtures().join("inventories/bad"), Fourth::Object, |p| {
        Inventory::load(p).map(drop)
    });
}

#[test]
fn an_input_over_the_size_cap_is_refused_before_it_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge.csv");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(cdt_core::input::DEFAULT_INPUT_CAP + 1)
        .unwrap();
    let err = CandidatesList::load(&path).unwrap_err();
    assert!(
        matches!(err, Error::TooLarge { size, .. } if size == cdt_core::input::DEFAULT_INPUT_CAP + 1),
        "{err}"
    );
    let err = Inventory::load(&path.with_extension("csv")).unwrap_err();
    assert_eq!(err.kind(), cdt_core::ErrorKind::TooLarge);
}

#[test]
fn a_file_that_is_not_utf8_is_an_io_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("latin1.csv");
    std::fs::write(&path, b"Object Name\xe9\r\n").unwrap();
    let err = CandidatesList::load(&path).unwrap_err();
    assert_eq!(err.kind(), cdt_core::ErrorKind::Io);
    assert!(
        err.to_string().contains("latin1.csv") && err.to_string().contains("UTF-8"),
        "{err}"
    );
}

#[test]
fn the_sample_fleet_reads_the_same_from_toml_and_json() {
    let toml = Inventory::load(&fixtures().join("inventories/sample-fleet.toml")).unwrap();
    let json = Inventory::load(&fixtures().join("inventories/sample-fleet.json")).unwrap();
    assert_eq!(toml, json);
}

#[test]
fn the_sample_fleet_inventory_loads() {
    let inv = Inventory::load(&fixtures().join("inventories/sample-fleet.toml")).unwrap();
    assert_eq!(inv.target_count(), 17);
}

#[test]
fn every_edit_fixture_is_judged_as_its_table_says() {
    use cdt_core::candidates::validate::validate_edit;
    let dir = fixtures().join("candidates/edits");
    let generated_path = dir.join("generated.csv");
    let generated = CandidatesList::load(&generated_path).unwrap();
    assert!(
        generated.rows.iter().any(|r| r.reason.is_some()),
        "reasons file attached"
    );
    let mut listed = BTreeSet::from([
        "generated.csv".to_string(),
        "generated.reasons.csv".to_string(),
    ]);
    for row in expected_table(&dir) {
        let file = &row[0];
        listed.insert(file.clone());
        let path = dir.join(file);
        let verdict = validate_edit(&generated, &CandidatesList::load(&path).unwrap());
        match row[1].as_str() {
            "ok" => verdict.unwrap_or_else(|e| panic!("{file}: {e}")),
            "error" => {
                let err = verdict.expect_err(file);
                let d = &err.diagnostics()[0];
                let in_file = if row[2] == "edited" {
                    &path
                } else {
                    &generated_path
                };
                assert_eq!(
                    d.location.path.as_deref(),
                    Some(in_file.as_path()),
                    "{file}: {err}"
                );
                assert_eq!(d.location.line.to_string(), row[3], "{file}: {err}");
                assert_eq!(d.object.as_deref(), Some(row[4].as_str()), "{file}: {err}");
                assert!(d.message.contains(row[5].as_str()), "{file}: {err}");
            }
            other => panic!("{file}: unknown verdict {other}"),
        }
    }
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "EXPECTED.tsv")
        .collect();
    assert_eq!(on_disk, listed);
}
