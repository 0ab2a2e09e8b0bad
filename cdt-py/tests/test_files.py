"""Plans and primary configurations: load, inspect, edit, save; round trips."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import cdt
from conftest import FIXTURES, JUMBO


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "plans/good").iterdir()))
def test_a_good_plan_survives_a_round_trip(name: str, tmp_path: Path) -> None:
    plan = cdt.Plan.load(FIXTURES / "plans/good" / name)
    again = cdt.Plan.parse(plan.to_xml())
    assert again == plan
    out = tmp_path / name
    plan.save(out)
    assert cdt.Plan.load(out) == plan
    assert cdt.Plan.load(out).to_dict() == plan.to_dict()


def test_a_plan_built_in_python_is_checked_and_written_canonically(tmp_path: Path) -> None:
    package = f"/var/pkg/{JUMBO}"
    plan = cdt.Plan(
        [
            cdt.Step("create_snapshot", name="before"),
            cdt.Step("install_package", path=package),
        ],
        name="jumbo 89",
        update_cpuse=False,
    )
    plan.append(cdt.Step("log", level="NORMAL", value="done"))
    plan.insert(1, cdt.Step("execute_command", command="fw stat", critical=False))
    assert [s.action for s in plan.steps] == [
        "create_snapshot",
        "execute_command",
        "install_package",
        "log",
    ]
    assert plan[1].critical is False
    assert plan[-2].attributes == {"path": package}
    assert plan.first_package() == package
    del plan[-1]
    assert len(plan) == 3
    text = plan.to_xml()
    assert 'iscritical="false"' in text
    assert cdt.Plan.parse(text) == plan
    plan.name = "renamed"
    assert cdt.Plan.parse(plan.to_xml()).name == "renamed"
    assert repr(plan) == (
        "Plan(name=\"renamed\", steps=[create_snapshot, execute_command, install_package])"
    )
    assert repr(plan[2]) == f"Step('install_package', path='{package}')"


@pytest.mark.parametrize(
    "action,attributes,message",
    [
        ("execute_command", {"command": "fw stat; reboot"}, "character ';' is not allowed"),
        ("install_package", {"path": "relative.tgz"}, "absolute"),
        ("install_package", {}, "needs a path attribute"),
        ("install_package", {"path": "/a.tgz", "colour": "red"}, "unknown attribute"),
        ("format_disk", {"path": "/"}, "unknown action"),
        ("log", {"level": "LOUD", "value": "x"}, "unknown log level"),
    ],
)
def test_a_step_that_breaks_a_plan_rule_is_refused(
    action: str, attributes: dict[str, Any], message: str
) -> None:
    with pytest.raises(cdt.PlanError) as caught:
        cdt.Step(action, **attributes)
    assert message in str(caught.value)


def test_steps_compare_by_value_and_give_plain_data() -> None:
    a = cdt.Step("execute_script", path="/opt/pre.sh", execute_always=True)
    b = cdt.Step("execute_script", path="/opt/pre.sh", execute_always=True)
    assert a == b
    assert a != cdt.Step("execute_script", path="/opt/pre.sh")
    assert a.to_dict() == {
        "action": "execute_script",
        "critical": True,
        "path": "/opt/pre.sh",
        "execute_always": True,
    }


@pytest.mark.parametrize("name", sorted(p.name for p in (FIXTURES / "configs/good").iterdir()))
def test_a_good_config_survives_a_round_trip(name: str, tmp_path: Path) -> None:
    config = cdt.Config.load(FIXTURES / "configs/good" / name)
    assert cdt.Config.parse(config.to_xml()) == config
    config.save(tmp_path / name)
    assert cdt.Config.load(tmp_path / name).to_dict() == config.to_dict()


def test_a_basic_config_names_its_package_and_scripts_and_edits_are_written() -> None:
    config = cdt.Config.load(FIXTURES / "configs/good/basic.xml")
    assert config.mode == "basic"
    assert config.package_to_install == (
        "/home/admin/CDT/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T99.tar"
    )
    assert config.connectivity_upgrade is False
    assert config.batch_end_time == "2026-12-01T06:00:00+01:00"
    assert config.pre_installation_scripts == [
        ("/home/admin/CDT/pre_check.sh", True),
        ("/home/admin/CDT/pre_backup.sh", False),
    ]
    config.package_to_install = "/home/admin/CDT/Check_Point_R81_20_JUMBO_HF_MAIN_Bundle_T41.tar"
    again = cdt.Config.parse(config.to_xml())
    assert again.package_to_install is not None and again.package_to_install.endswith("T41.tar")
    # Pre-installation scripts alone still make a Basic-mode configuration.
    config.package_to_install = None
    assert config.mode == "basic"
    assert cdt.Config().mode == "advanced"
