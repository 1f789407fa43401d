"""The README tells the truth: every setting with its default, every command, `make run` first."""

import re
from enum import Enum
from pathlib import Path

import pytest
from pydantic import AnyHttpUrl
from typer.main import get_command

from meetups.cli import app
from meetups.config import Settings

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _table_after(heading: str) -> list[list[str]]:
    """The rows of the first table in the section under `heading`, cells stripped."""
    section = README.split(f"\n## {heading}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert len(rows) > 2, f"no table under {heading!r}"
    cells = [[cell.strip() for cell in re.split(r"(?<!\\)\|", row)[1:-1]] for row in rows[2:]]
    return cells


def _settings_rows() -> dict[str, tuple[str, str]]:
    rows = {}
    for name, default, meaning in _table_after("Settings"):
        match = re.fullmatch(r"`(MEETUPS_[A-Z0-9_]+)`", name)
        assert match, f"not a setting name: {name!r}"
        assert match.group(1) not in rows, f"{name} is listed twice"
        rows[match.group(1)] = (default, meaning)
    return rows


def test_make_run_and_make_test_come_first() -> None:
    first_block = README.split("```", 2)[1]
    assert "make run" in first_block
    assert "make test" in first_block
    assert README.index("make run") < README.index("## Settings")


def test_the_settings_table_lists_exactly_the_settings() -> None:
    documented = set(_settings_rows())
    actual = {f"MEETUPS_{name.upper()}" for name in Settings.model_fields}
    assert documented - actual == set(), "the README lists settings that do not exist"
    assert actual - documented == set(), "settings missing from the README's table"


def test_every_setting_is_explained() -> None:
    for name, (default, meaning) in _settings_rows().items():
        assert default, f"{name} has no default column"
        assert len(meaning) > 10, f"{name} is not explained"


def _shown(value: object) -> str | None:
    """How a default is written in the README, or None where the README describes it in words."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, AnyHttpUrl):
        return str(value).rstrip("/")
    return str(value)


@pytest.mark.parametrize("field", list(Settings.model_fields))
def test_the_defaults_in_the_readme_are_the_real_ones(field: str) -> None:
    expected = _shown(Settings.model_fields[field].default)
    default, _meaning = _settings_rows()[f"MEETUPS_{field.upper()}"]
    if expected is None:
        assert default.startswith("*("), (
            f"MEETUPS_{field.upper()}: describe the empty default in words"
        )
    else:
        assert default == f"`{expected}`", f"MEETUPS_{field.upper()}"


def test_every_command_is_documented() -> None:
    commands = set(get_command(app).commands)  # type: ignore[attr-defined]
    documented = {
        re.match(r"`meetups ([a-z-]+)", row[0]).group(1)
        for row in _table_after("The `meetups` command")
    }  # type: ignore[union-attr]
    assert documented == commands
