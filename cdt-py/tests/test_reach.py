"""Reaching real servers from Python: SSH settings and secrets, a command over SSH with its
errors (unknown host key, refused key, no answer), a whole deployment over the SSH test
fleet, and transports written in Python (plain methods and coroutines) plugged into the
engine, each over real OpenSSH servers."""

from __future__ import annotations

import asyncio
import json
import shlex
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import cdt
from conftest import UPGRADE, SshFleet

# The driver's clock runs as fast as the test fleet's.
SCALE = 300.0


def upgrade(tmp_path: Path, fleet: SshFleet) -> tuple[cdt.Inventory, cdt.CandidatesList, cdt.Plan]:
    """The test fleet's inventory, its candidates list and an R82 upgrade plan."""
    inventory: cdt.Inventory = fleet.inventory()
    package = tmp_path / UPGRADE
    package.write_text("the upgrade package\n")
    listed, _ = cdt.generate(inventory, cdt.Package(package))
    plan = cdt.Plan([cdt.Step("install_package", path=str(package))], update_cpuse=False)
    return inventory, listed, plan


def ssh_settings(fleet: SshFleet, **kwargs: Any) -> cdt.SshSettings:
    return cdt.SshSettings(
        fleet.user, key_file=fleet.client_key, known_hosts=fleet.known_hosts, **kwargs
    )


def check_fleet(fleet: SshFleet, upgraded: list[str]) -> None:
    """From the test fleet's own record: the cluster never stopped serving, nothing was
    installed twice, and `upgraded` run R82 now."""
    state = cdt.Fleet.state_in(fleet.state)
    record = state["record"]
    assert {c: s for c, s in record["cluster_down"].items() if s} == {}
    for host, installs in record["installs"].items():
        assert all(n == 1 for n in Counter(p for _, p in installs).values()), host
    assert {h: state["installed"][h] for h in upgraded} == {h: "R82" for h in upgraded}


ALL = ["gw-1", "gw-2", "gw-3", "ha-a", "ha-b"]


def test_secrets_never_show_in_a_repr() -> None:
    secret = cdt.Secret("hunter2-secret")
    assert "hunter2" not in repr(secret)
    settings = cdt.SshSettings("admin", password=secret, known_hosts="/dev/null")
    assert "hunter2" not in repr(settings)
    assert "hunter2" not in repr(cdt.SshSettings("admin", password="hunter2-plain"))


def test_ssh_settings_take_exactly_one_way_to_authenticate() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        cdt.SshSettings("admin", known_hosts="/dev/null")
    with pytest.raises(ValueError, match="exactly one"):
        cdt.SshSettings("admin", agent=True, password="x", known_hosts="/dev/null")
    with pytest.raises(ValueError, match="passphrase"):
        cdt.SshSettings("admin", agent=True, passphrase="x", known_hosts="/dev/null")
    with pytest.raises(TypeError, match="secret"):
        cdt.SshSettings("admin", password=42, known_hosts="/dev/null")  # type: ignore[arg-type]


def test_a_secret_comes_from_the_environment_or_a_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CDT_TEST_SECRET", "from-env")
    assert "from-env" not in repr(cdt.Secret.from_env("CDT_TEST_SECRET"))
    assert "CDT_TEST_SECRET" in repr(cdt.Secret.from_env("CDT_TEST_SECRET"))
    with pytest.raises(ValueError, match="CDT_TEST_UNSET"):
        cdt.Secret.from_env("CDT_TEST_UNSET")
    (tmp_path / "secret").write_text("from-file\nsecond line\n")
    assert "from-file" not in repr(cdt.Secret.from_file(tmp_path / "secret"))
    with pytest.raises(ValueError, match="missing"):
        cdt.Secret.from_file(tmp_path / "missing")


def test_a_command_over_ssh_returns_its_status_and_output(testfleet: SshFleet) -> None:
    exit, out, _ = ssh_settings(testfleet).exec(testfleet.addresses["gw-1"], "fw ver")
    assert exit == 0
    assert "R81.20" in out


def test_an_unknown_host_key_is_refused_with_host_key_error(
    testfleet: SshFleet, tmp_path: Path
) -> None:
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    settings = cdt.SshSettings(testfleet.user, key_file=testfleet.client_key, known_hosts=empty)
    with pytest.raises(cdt.HostKeyError) as caught:
        settings.exec(testfleet.addresses["gw-1"], "fw ver")
    assert caught.value.host == testfleet.addresses["gw-1"]
    assert isinstance(caught.value, cdt.TransportError)
    # Trusted on first use, then known.
    tofu = cdt.SshSettings(
        testfleet.user, key_file=testfleet.client_key, known_hosts=empty, trust_on_first_use=True
    )
    assert tofu.exec(testfleet.addresses["gw-1"], "fw ver")[0] == 0
    assert settings.exec(testfleet.addresses["gw-1"], "fw ver")[0] == 0


def test_a_key_the_host_does_not_accept_is_refused_with_auth_error(
    testfleet: SshFleet, tmp_path: Path
) -> None:
    key = tmp_path / "other_key"
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True
    )
    settings = cdt.SshSettings(testfleet.user, key_file=key, known_hosts=testfleet.known_hosts)
    with pytest.raises(cdt.AuthError):
        settings.exec(testfleet.addresses["gw-1"], "fw ver")


def test_a_host_that_does_not_answer_raises_connect_timeout(testfleet: SshFleet) -> None:
    testfleet.command("freeze gw-2")
    try:
        settings = ssh_settings(testfleet, connect_timeout=1.0)
        with pytest.raises(cdt.ConnectTimeout) as caught:
            settings.exec(testfleet.addresses["gw-2"], "fw ver")
        assert isinstance(caught.value, TimeoutError)
    finally:
        testfleet.command("thaw gw-2")


def test_a_deployment_over_ssh_upgrades_every_box_and_keeps_the_cluster_serving(
    testfleet: SshFleet, tmp_path: Path
) -> None:
    inventory, listed, plan = upgrade(tmp_path, testfleet)
    ssh = ssh_settings(testfleet, kept_shells=True)
    run = tmp_path / "run"
    d = cdt.Deployment.over_ssh(
        run,
        inventory,
        listed,
        plan,
        ssh=ssh,
        management="mgmt",
        management_address=testfleet.addresses["mgmt"],
        clock_scale=SCALE,
    )
    kinds: Counter[str] = Counter()
    report = d.run(lambda e: kinds.update([e.kind]))
    assert report.totals["succeeded"] == 5, report.to_json()
    assert kinds["target_finished"] == 5
    assert [f["to"] for f in report.clusters[0]["failovers"]] == ["ha-b"]
    check_fleet(testfleet, ALL)
    recorded = json.loads((run / "run.json").read_text())
    assert recorded["ssh"]["auth"]["key_file"] == str(testfleet.client_key)
    assert recorded["ssh"]["management"]["address"] == testfleet.addresses["mgmt"]
    # Secrets are not kept: resuming needs the settings again.
    with pytest.raises(cdt.RolloutError, match="ssh="):
        cdt.Deployment.resume(run)
    again = cdt.Deployment.resume(run, inventory=inventory, ssh=ssh, clock_scale=SCALE).run()
    assert again.totals == report.totals


class OpenSsh:
    """A transport as an automation engineer writes one: the OpenSSH client, one process
    per call, copies through `cat`."""

    def __init__(self, fleet: SshFleet) -> None:
        self.fleet = fleet
        self.calls: Counter[str] = Counter()

    def argv(self, host: str, command: str) -> list[str]:
        return [
            "ssh",
            "-i", str(self.fleet.client_key),
            "-o", f"UserKnownHostsFile={self.fleet.known_hosts}",
            "-o", "StrictHostKeyChecking=yes",
            "-o", "BatchMode=yes",
            "-o", "ConnectTimeout=5",
            f"{self.fleet.user}@{self.fleet.addresses[host]}",
            "--",
            command,
        ]  # fmt: skip

    @staticmethod
    def result(status: int, out: str, err: str) -> tuple[int | None, str, str]:
        if status == 255:
            # The client's own failure: no connection, or the connection dropped.
            if "refused" in err:
                raise ConnectionRefusedError(err.strip())
            if "timed out" in err:
                raise TimeoutError(err.strip())
            return None, out, err
        return status, out, err

    def exec(self, host: str, command: str) -> tuple[int | None, str, str]:
        self.calls[host] += 1
        p = subprocess.run(
            self.argv(host, command), capture_output=True, text=True, stdin=subprocess.DEVNULL
        )
        return self.result(p.returncode, p.stdout, p.stderr)

    def put(self, host: str, local: str, remote: str) -> None:
        with open(local, "rb") as source:
            p = subprocess.run(
                self.argv(host, f"cat > {shlex.quote(remote)}"), stdin=source, capture_output=True
            )
        if p.returncode != 0:
            raise OSError(f"copy to {host}:{remote} failed: {p.stderr.decode().strip()}")

    def get(self, host: str, remote: str, local: str) -> None:
        with open(local, "wb") as target:
            p = subprocess.run(
                self.argv(host, f"cat {shlex.quote(remote)}"),
                stdout=target,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
            )
        if p.returncode != 0:
            raise OSError(f"copy from {host}:{remote} failed: {p.stderr.decode().strip()}")


class AsyncOpenSsh(OpenSsh):
    """The same transport with asyncio's subprocesses: coroutine methods."""

    async def run(self, argv: list[str], data: bytes | None = None) -> tuple[int, bytes, bytes]:
        p = await asyncio.create_subprocess_exec(
            *argv,
            stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        out, err = await p.communicate(data)
        assert p.returncode is not None
        return p.returncode, out, err

    async def exec(self, host: str, command: str) -> tuple[int | None, str, str]:  # type: ignore[override]
        self.calls[host] += 1
        status, out, err = await self.run(self.argv(host, command))
        return self.result(status, out.decode(), err.decode())

    async def put(self, host: str, local: str, remote: str) -> None:  # type: ignore[override]
        status, _, err = await self.run(
            self.argv(host, f"cat > {shlex.quote(remote)}"), Path(local).read_bytes()
        )
        if status != 0:
            raise OSError(f"copy to {host}:{remote} failed: {err.decode().strip()}")

    async def get(self, host: str, remote: str, local: str) -> None:  # type: ignore[override]
        status, out, err = await self.run(self.argv(host, f"cat {shlex.quote(remote)}"))
        if status != 0:
            raise OSError(f"copy from {host}:{remote} failed: {err.decode().strip()}")
        Path(local).write_bytes(out)


class FailingOn(OpenSsh):
    """OpenSsh, except that every command to one host raises (a RuntimeError unless told)."""

    def __init__(self, fleet: SshFleet, host: str, error: type[Exception] = RuntimeError) -> None:
        super().__init__(fleet)
        self.host = host
        self.error = error

    def exec(self, host: str, command: str) -> tuple[int | None, str, str]:
        if host == self.host:
            raise self.error(f"the lab switch port of {host} is disabled")
        return super().exec(host, command)


def over(transport: object, tmp_path: Path, fleet: SshFleet, **kwargs: Any) -> cdt.Deployment:
    inventory, listed, plan = upgrade(tmp_path, fleet)
    return cdt.Deployment.over_transport(
        tmp_path / "run",
        inventory,
        listed,
        plan,
        transport=transport,
        management="mgmt",
        clock_scale=SCALE,
        **kwargs,
    )


def test_a_python_transport_with_plain_methods_runs_a_whole_deployment(
    testfleet: SshFleet, tmp_path: Path
) -> None:
    transport = OpenSsh(testfleet)
    report = over(transport, tmp_path, testfleet).run()
    assert report.totals["succeeded"] == 5, report.to_json()
    check_fleet(testfleet, ALL)
    assert set(transport.calls) == set(ALL) | {"mgmt"}
    recorded = json.loads((tmp_path / "run/run.json").read_text())
    assert recorded["ssh"]["transport"].endswith("OpenSsh")


def test_a_python_transport_with_coroutines_runs_a_whole_deployment_under_asyncio(
    testfleet: SshFleet, tmp_path: Path
) -> None:
    transport = AsyncOpenSsh(testfleet)
    d = over(transport, tmp_path, testfleet)

    async def main() -> cdt.Report:
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        ticking = asyncio.create_task(tick())
        report = await d.run_async()
        ticking.cancel()
        # The event loop kept running while the transport's coroutines ran on it.
        assert ticks > 10
        return report

    report = asyncio.run(main())
    assert report.totals["succeeded"] == 5, report.to_json()
    check_fleet(testfleet, ALL)
    assert set(transport.calls) == set(ALL) | {"mgmt"}


def test_a_coroutine_transport_needs_run_async(testfleet: SshFleet, tmp_path: Path) -> None:
    d = over(AsyncOpenSsh(testfleet), tmp_path, testfleet)
    with pytest.raises(cdt.RolloutError, match="run_async"):
        d.run()


def test_an_exception_raised_by_the_transport_fails_that_step_with_its_text(
    testfleet: SshFleet, tmp_path: Path
) -> None:
    transport = FailingOn(testfleet, "gw-2")
    d = over(transport, tmp_path, testfleet, settings={"failure_budget": {"count": 1}})
    report = d.run()
    gw2 = report.target("gw-2")
    assert gw2["status"] != "succeeded"
    errors = " ".join(str(s["error"]) for s in gw2["steps"] if s["error"])
    assert "RuntimeError: the lab switch port of gw-2 is disabled" in errors
    others = [report.target(t)["status"] for t in ALL if t != "gw-2"]
    assert others == ["succeeded"] * 4
    check_fleet(testfleet, ["gw-1", "gw-3", "ha-a", "ha-b"])


def test_a_transport_without_the_three_methods_is_refused(
    testfleet: SshFleet, tmp_path: Path
) -> None:
    class NoGet:
        def exec(self, host: str, command: str) -> tuple[int, str, str]:
            return 0, "", ""

        def put(self, host: str, local: str, remote: str) -> None:
            pass

    with pytest.raises(TypeError, match="get"):
        over(NoGet(), tmp_path, testfleet)


def test_a_deployment_relayed_through_the_management_server_reaches_every_gateway(
    testfleet: SshFleet, tmp_path: Path
) -> None:
    inventory, listed, plan = upgrade(tmp_path, testfleet)
    d = cdt.Deployment.over_ssh(
        tmp_path / "run",
        inventory,
        listed,
        plan,
        ssh=ssh_settings(testfleet, relay=True),
        management="mgmt",
        management_address=testfleet.addresses["mgmt"],
        clock_scale=SCALE,
    )
    report = d.run()
    assert report.totals["succeeded"] == 5, report.to_json()
    check_fleet(testfleet, ALL)
    recorded = json.loads((tmp_path / "run/run.json").read_text())
    assert recorded["ssh"]["relay"] is True


def test_relaying_needs_the_management_server(testfleet: SshFleet, tmp_path: Path) -> None:
    inventory, listed, plan = upgrade(tmp_path, testfleet)
    with pytest.raises(ValueError, match="management"):
        cdt.Deployment.over_ssh(
            tmp_path / "run", inventory, listed, plan, ssh=ssh_settings(testfleet, relay=True)
        )


def test_the_command_line_tool_sends_a_run_made_from_python_back_to_python(
    tmp_path: Path,
) -> None:
    class Unused:
        def exec(self, host: str, command: str) -> tuple[int, str, str]:
            raise AssertionError("never run")

        def put(self, host: str, local: str, remote: str) -> None:
            raise AssertionError("never run")

        def get(self, host: str, remote: str, local: str) -> None:
            raise AssertionError("never run")

    fleet = cdt.Fleet.load(Path(__file__).resolve().parents[2] / "fixtures/fleets/ssh-fleet.toml")
    package = tmp_path / UPGRADE
    package.write_text("the upgrade package\n")
    listed, _ = cdt.generate(fleet.inventory(), cdt.Package(package))
    plan = cdt.Plan([cdt.Step("install_package", path=str(package))], update_cpuse=False)
    cdt.Deployment.over_transport(
        tmp_path / "run", fleet.inventory(), listed, plan, transport=Unused(), management="mgmt"
    )
    cli = Path(__file__).resolve().parents[2] / "target/debug/cdt"
    out = subprocess.run([str(cli), "resume", str(tmp_path / "run")], capture_output=True, text=True)
    assert out.returncode != 0
    assert "cdt.Deployment.resume" in out.stderr, out.stderr


def test_a_refused_connection_raised_by_the_transport_makes_that_host_unreachable(
    testfleet: SshFleet, tmp_path: Path
) -> None:
    transport = FailingOn(testfleet, "gw-2", ConnectionRefusedError)
    d = over(transport, tmp_path, testfleet, settings={"failure_budget": {"count": 1}})
    report = d.run()
    assert report.target("gw-2")["status"] == "unreachable", report.target("gw-2")
    assert [report.target(t)["status"] for t in ALL if t != "gw-2"] == ["succeeded"] * 4
