"""Inventories, packages and candidates lists: generation, editing, validation, round trips."""

from __future__ import annotations

from pathlib import Path

import pytest

import cdt
from conftest import FIXTURES, JUMBO


def sample() -> cdt.Inventory:
    return cdt.Inventory.load(FIXTURES / "inventories/sample-fleet.toml")


def test_the_sample_fleet_reads_the_same_from_toml_json_and_a_dict() -> None:
    toml = sample()
    assert cdt.Inventory.load(FIXTURES / "inventories/sample-fleet.json") == toml
    assert cdt.Inventory.from_dict(toml.to_dict()) == toml
    assert cdt.Inventory.parse(toml.to_toml(), "toml") == toml
    assert len(toml) == 17


def test_an_inventory_built_in_python_is_checked_as_a_file_is() -> None:
    inventory = cdt.Inventory.from_dict(
        {
            "gateways": [{"name": "gw-1", "address": "192.0.2.1", "version": "R81.20"}],
            "clusters": [
                {
                    "name": "cl",
                    "kind": "clusterxl_ha",
                    "members": [
                        {"name": "a", "address": "192.0.2.2", "version": "R81.20", "role": "Active"},
                        {"name": "b", "address": "192.0.2.3", "version": "R81.20", "role": "Standby"},
                    ],
                }
            ],
        }
    )
    assert inventory.gateways == ["gw-1"] and inventory.clusters == ["cl"]
    with pytest.raises(cdt.InventoryError) as caught:
        cdt.Inventory.from_dict({"gateways": [{"name": "x", "address": "nowhere", "version": "R81.20"}]})
    assert "invalid IP address" in str(caught.value)


def test_a_package_is_understood_from_the_vendors_file_name() -> None:
    p = cdt.Package(f"/var/pkg/{JUMBO}")
    assert (p.kind, p.version, p.take, p.file_name) == ("jumbo", "R81.20", 89, JUMBO)
    with pytest.raises(cdt.PackageError):
        cdt.Package("/var/pkg/holiday_photos.tgz")


def test_generation_gives_the_list_the_fixtures_hold(tmp_path: Path) -> None:
    listed, unmatched = cdt.generate(sample(), cdt.Package(f"/var/packages/{JUMBO}"))
    assert unmatched == []
    expected = cdt.CandidatesList.load(FIXTURES / "candidates/edits/generated.csv")
    assert listed == expected
    written = (FIXTURES / "candidates/edits/generated.csv").read_bytes().decode("utf-8")
    assert listed.to_csv() == written
    listed.save(tmp_path / "candidates.csv")
    assert (tmp_path / "candidates.reasons.csv").exists()
    again = cdt.CandidatesList.load(tmp_path / "candidates.csv")
    assert again == listed
    assert [r.reason for r in again.rows] == [r.reason for r in listed.rows]


def test_a_filter_leaves_out_whole_clusters_and_reports_unknown_names() -> None:
    listed, unmatched = cdt.generate(
        sample(), cdt.Package(f"/var/packages/{JUMBO}"), exclude=["milan-a", "nowhere"]
    )
    assert unmatched == ["nowhere"]
    everything, _ = cdt.generate(sample(), cdt.Package(f"/var/packages/{JUMBO}"))
    assert any(r.cluster_name == "cl-milan" for r in everything.rows)
    assert not any(r.cluster_name == "cl-milan" for r in listed.rows)


def test_an_operators_edit_is_validated_with_every_problem_located() -> None:
    generated, _ = cdt.generate(sample(), cdt.Package(f"/var/packages/{JUMBO}"))
    edited = cdt.CandidatesList.parse(generated.to_csv(), "edited.csv")
    batched = [r for r in edited.rows if r.batch is not None and r.cluster_name is None]
    edited.set_order(batched[0].object_name, 2)
    cdt.validate_edit(generated, edited)
    not_applicable = next(r for r in edited.rows if r.order == "N/A")
    edited.set_order(not_applicable.object_name, 1)
    with pytest.raises(cdt.CandidatesError) as caught:
        cdt.validate_edit(generated, edited)
    e = caught.value
    assert (e.path, e.object) == ("edited.csv", not_applicable.object_name)
    assert "must not be changed" in str(e)
    with pytest.raises(ValueError):
        edited.set_order(batched[0].object_name, "soon")


def test_rows_are_objects_with_attributes_and_plain_data() -> None:
    listed, _ = cdt.generate(sample(), cdt.Package(f"/var/packages/{JUMBO}"))
    row = listed[0]
    assert row.to_dict()["object_name"] == row.object_name
    assert repr(row).startswith("Candidate(")
    assert listed.counts()[0] + listed.counts()[1] + listed.counts()[2] + listed.counts()[3] == len(listed)
