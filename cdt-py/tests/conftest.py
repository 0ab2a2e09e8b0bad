"""Shared fixtures: the repository's fixture folder (the same files the Rust and C tests read)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


# The SSH test bed (`cdt-testfleet`: real OpenSSH servers on loopback running the project's
# Gaia emulator), built with the workspace.
TESTFLEET = Path(
    os.environ.get(
        "CDT_TESTFLEET", Path(__file__).resolve().parents[2] / "target/debug/cdt-testfleet"
    )
)

# Three gateways and an HA pair behind a Management Server; the test fleet gives each host
# its own loopback address.
SSH_FLEET = """start = "2026-12-01T01:00:00Z"
[management]
name = "mgmt"
address = "192.0.2.250"
"""
for _n, _gw in enumerate(["gw-1", "gw-2", "gw-3"]):
    SSH_FLEET += f'[[gateways]]\nname = "{_gw}"\naddress = "192.0.2.{_n + 1}"\nversion = "R81.20"\n'
SSH_FLEET += '[[clusters]]\nname = "ha"\nkind = "clusterxl_ha"\n'
for _n, (_m, _role) in enumerate([("ha-a", "Active"), ("ha-b", "Standby")]):
    SSH_FLEET += (
        f'[[clusters.members]]\nname = "{_m}"\naddress = "192.0.2.{_n + 10}"\n'
        f'version = "R81.20"\nrole = "{_role}"\n'
    )


class SshFleet:
    """A running test fleet: each host's address, the client key, known_hosts, the shared
    state folder; `command` kills, freezes or thaws a host."""

    def __init__(self, process: subprocess.Popen[str], description: dict[str, Any]) -> None:
        self.process = process
        self.user: str = description["user"]
        self.client_key = Path(description["client_key"])
        self.known_hosts = Path(description["known_hosts"])
        self.state = Path(description["state"])
        self.scale: float = description["scale"]
        self.addresses: dict[str, str] = {
            name: host["address"] for name, host in description["hosts"].items()
        }

    def command(self, line: str) -> None:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline().strip()
        assert answer == "ok", answer

    def inventory_toml(self) -> str:
        """The fleet's inventory, each host at its server's address."""
        text = ""
        for gw in ["gw-1", "gw-2", "gw-3"]:
            text += (
                f'[[gateways]]\nname = "{gw}"\naddress = "{self.addresses[gw]}"\n'
                'version = "R81.20"\n'
            )
        text += '[[clusters]]\nname = "ha"\nkind = "clusterxl_ha"\n'
        for m, role in [("ha-a", "Active"), ("ha-b", "Standby")]:
            text += (
                f'[[clusters.members]]\nname = "{m}"\naddress = "{self.addresses[m]}"\n'
                f'version = "R81.20"\nrole = "{role}"\n'
            )
        return text


@pytest.fixture
def testfleet(tmp_path: Path) -> Iterator[SshFleet]:
    """A fresh test fleet (its clock 300 times real time), stopped after the test."""
    if not Path("/usr/sbin/sshd").exists() or os.geteuid() != 0:
        pytest.skip("the SSH test fleet needs root and openssh-server")
    if not TESTFLEET.exists():
        pytest.fail(f"{TESTFLEET} is not built: run `cargo build -p cdt-testfleet`")
    fleet_file = tmp_path / "testfleet.toml"
    fleet_file.write_text(SSH_FLEET)
    process = subprocess.Popen(
        [str(TESTFLEET), str(fleet_file), "--scale", "300"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stdin is not None
    line = process.stdout.readline()
    if not line:
        process.wait()
        pytest.fail(f"cdt-testfleet did not start (status {process.returncode})")
    try:
        yield SshFleet(process, json.loads(line))
    finally:
        process.stdin.close()
        process.wait(timeout=60)
