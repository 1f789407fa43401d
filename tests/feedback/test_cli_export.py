"""`meetups export-feedback EVENT_SLUG --format csv|xlsx|json -o FILE`: the same exports as the
results page, from the command line."""

import asyncio
import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner, Result

from meetups.cli import app
from tests.conftest import TEST_SECRET
from tests.feedback.helpers import SLUG, answer, attendee, by_kind, default_form, past_event


async def _export(settings: Any, *arguments: str) -> Result:
    """Runs the command as a shell would, on the test's database (in a thread: the command runs
    its own event loop)."""
    environment = {key: None for key in os.environ if key.startswith("MEETUPS_")}
    environment.update(
        {
            "MEETUPS_DATABASE_URL": settings.resolved_database_url,
            "MEETUPS_SECRET_KEY": TEST_SECRET,
            "MEETUPS_VAR_DIR": str(settings.var_dir),
            "MEETUPS_DEFAULT_LANGUAGE": "en",
        }
    )
    return await asyncio.to_thread(
        CliRunner().invoke, app, ["export-feedback", *arguments], env=environment
    )


async def _answered(session: Any, settings: Any) -> list[Any]:
    event = await past_event(session)
    questions = await default_form(session, event)
    for name, rating in (("Anna Müller", 5), ("Ben Baker", 3)):
        invitee, _token = await attendee(session, settings, event, name)
        values = {questions[0].field_name: rating, by_kind(questions, "nps").field_name: 9}
        await answer(session, settings, event, invitee, values)
    await session.commit()
    return questions


@pytest.mark.parametrize("export_format", ["csv", "xlsx", "json"])
async def test_each_format_is_written_to_the_file(
    session: Any, settings: Any, tmp_path: Path, export_format: str
) -> None:
    questions = await _answered(session, settings)
    target = tmp_path / f"out.{export_format}"
    result = await _export(settings, SLUG, "--format", export_format, "-o", str(target))
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"2 responses written to {target}."
    assert not list(tmp_path.glob(".*partial"))  # noqa: ASYNC240 - a test
    if export_format == "csv":
        table = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8-sig"))))
        assert [row[1] for row in table[1:]] == ["Anna Müller", "Ben Baker"]
        assert table[0][5] == questions[0].question.label
    elif export_format == "xlsx":
        sheet = openpyxl.load_workbook(target)["Responses"]
        assert [row[5].value for row in sheet.iter_rows(min_row=2)] == [5, 3]
    else:
        data = json.loads(target.read_text(encoding="utf-8"))
        assert [r["answers"][str(questions[0].id)] for r in data["responses"]] == [5, 3]


async def test_semicolons_and_german_headings(session: Any, settings: Any, tmp_path: Path) -> None:
    await _answered(session, settings)
    target = tmp_path / "excel.csv"
    result = await _export(
        settings, SLUG, "--format", "csv", "--semicolon", "--language", "de", "-o", str(target)
    )
    assert result.exit_code == 0, result.output
    first = target.read_text(encoding="utf-8-sig").splitlines()[0]
    assert first.startswith("Nr.;Name;") or first.startswith("No.;Name;")


async def test_mistakes_are_reported_without_a_file(
    session: Any, settings: Any, tmp_path: Path
) -> None:
    await _answered(session, settings)
    target = tmp_path / "out.csv"
    unknown = await _export(settings, "no-such-event", "-o", str(target))
    assert unknown.exit_code == 1
    assert "There is no such event." in unknown.output
    wrong_format = await _export(settings, SLUG, "--format", "pdf", "-o", str(target))
    assert wrong_format.exit_code == 2
    assert "csv, xlsx, json" in wrong_format.output
    directory = await _export(settings, SLUG, "-o", str(tmp_path))
    assert directory.exit_code == 2
    missing_folder = await _export(settings, SLUG, "-o", str(tmp_path / "nowhere" / "out.csv"))
    assert missing_folder.exit_code == 1
    assert "Cannot write" in missing_folder.output
    assert not target.exists()
