"""Every bad input file of the shared fixture folder, loaded from Python: its exception class,
file, line and column or object, as its folder's EXPECTED.tsv says; and every edit of the
generated candidates list judged as its table says."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

import cdt
from conftest import FIXTURES, expected_rows

# The exception class each Rust error kind raises.
CLASSES: dict[str, type[cdt.CdtError]] = {
    "Io": cdt.FileError,
    "TooLarge": cdt.TooLargeError,
    "Xml": cdt.XmlError,
    "Config": cdt.ConfigError,
    "Plan": cdt.PlanError,
    "Inventory": cdt.InventoryError,
    "Package": cdt.PackageError,
    "Candidates": cdt.CandidatesError,
}

FOLDERS: list[tuple[str, Callable[[Path], object], str]] = [
    ("plans/bad", cdt.Plan.load, "column"),
    ("configs/bad", cdt.Config.load, "column"),
    ("inventories/bad", cdt.Inventory.load, "object"),
    ("candidates/bad", cdt.CandidatesList.load, "object"),
]


def cases() -> list[tuple[str, Callable[[Path], object], str, list[str]]]:
    return [
        (folder, load, fourth, row)
        for folder, load, fourth in FOLDERS
        for row in expected_rows(FIXTURES / folder)
    ]


@pytest.mark.parametrize(
    "folder,load,fourth,row", cases(), ids=lambda v: v[0] if isinstance(v, list) else ""
)
def test_a_bad_file_raises_its_class_at_its_line(
    folder: str, load: Callable[[Path], object], fourth: str, row: list[str]
) -> None:
    name, kind, line, where, message = row
    path = FIXTURES / folder / name
    with pytest.raises(cdt.CdtError) as caught:
        load(path)
    e = caught.value
    assert type(e) is CLASSES[kind], f"{name}: {type(e).__name__}: {e}"
    assert isinstance(e, cdt.InputError)
    assert e.kind == kind
    assert e.path == str(path), e
    assert e.line == int(line), e
    if fourth == "column":
        assert e.column == int(where), e
    else:
        assert e.object == (None if where == "-" else where), e
    assert message in str(e), e
    assert e.diagnostics and e.diagnostics[0].line == int(line)


@pytest.mark.parametrize("folder", [f for f, _, _ in FOLDERS])
def test_every_file_of_a_bad_folder_has_a_row_and_every_row_a_file(folder: str) -> None:
    listed = {row[0] for row in expected_rows(FIXTURES / folder)}
    on_disk = {p.name for p in (FIXTURES / folder).iterdir() if p.name != "EXPECTED.tsv"}
    assert listed == on_disk


def test_every_edit_of_the_generated_list_is_judged_as_its_table_says() -> None:
    folder = FIXTURES / "candidates/edits"
    generated_path = folder / "generated.csv"
    generated = cdt.CandidatesList.load(generated_path)
    assert any(r.reason is not None for r in generated.rows), "reasons file attached"
    for row in expected_rows(folder):
        path = folder / row[0]
        edited = cdt.CandidatesList.load(path)
        if row[1] == "ok":
            cdt.validate_edit(generated, edited)
            continue
        with pytest.raises(cdt.CandidatesError) as caught:
            cdt.validate_edit(generated, edited)
        e = caught.value
        in_file = path if row[2] == "edited" else generated_path
        assert (e.path, e.line, e.object) == (str(in_file), int(row[3]), row[4]), e
        assert row[5] in e.diagnostics[0].message, e


def test_a_missing_file_is_a_file_error_that_is_an_os_error(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.xml"
    with pytest.raises(OSError) as caught:
        cdt.Plan.load(missing)
    assert isinstance(caught.value, cdt.FileError)
    assert caught.value.path == str(missing)


def test_an_input_over_the_size_cap_is_refused(tmp_path: Path) -> None:
    big = tmp_path / "big.xml"
    with big.open("wb") as f:
        f.truncate(17 << 20)
    with pytest.raises(cdt.TooLargeError):
        cdt.Plan.load(big)


def test_input_errors_are_value_errors_and_transport_timeouts_are_timeouts() -> None:
    assert issubclass(cdt.PlanError, ValueError)
    assert issubclass(cdt.ConnectTimeout, TimeoutError)
    assert issubclass(cdt.HostKeyError, cdt.TransportError)
    assert issubclass(cdt.JournalError, cdt.CdtError)
