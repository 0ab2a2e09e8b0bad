"""Shared fixtures: the repository's fixture folder (the same files the Rust and C tests read)."""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
JUMBO = "Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T89_FULL.tgz"
UPGRADE = "Check_Point_R82_T777_Fresh_Install_and_Upgrade_Security_Gateway.tgz"


def expected_rows(folder: Path) -> list[list[str]]:
    """The rows of a fixture folder's EXPECTED.tsv (comments skipped)."""
    rows = []
    for line in (folder / "EXPECTED.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append(line.split("\t"))
    return rows


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES
