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
SSH_FLEET = FIXTURES / "fleets/ssh-fleet.toml"


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

    def inventory(self) -> Any:
        """The fleet's inventory (a `cdt.Inventory`), each host at its server's address."""
        import cdt

        data = cdt.Fleet.load(SSH_FLEET).inventory().to_dict()
        for box in data["gateways"] + [m for c in data["clusters"] for m in c["members"]]:
            box["address"] = self.addresses[box["name"]]
        return cdt.Inventory.from_dict(data)


@pytest.fixture
def testfleet() -> Iterator[SshFleet]:
    """A fresh test fleet (its clock 300 times real time), stopped after the test."""
    if not Path("/usr/sbin/sshd").exists() or os.geteuid() != 0:
        pytest.skip("the SSH test fleet needs root and openssh-server")
    if not TESTFLEET.exists():
        pytest.fail(f"{TESTFLEET} is not built: run `cargo build -p cdt-testfleet`")
    process = subprocess.Popen(
        [str(TESTFLEET), str(SSH_FLEET), "--scale", "300"],
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
