"""The three exports read back (csv module, openpyxl, json) and compared with the stored answers;
names only for named feedback; formulas neutralized; large exports in batches."""

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from meetups.db import utcnow
from meetups.feedback import exports
from meetups.feedback.answers import submit_feedback
from meetups.feedback.models import FeedbackAnswer, FeedbackAnswered, FeedbackResponse
from tests.feedback.helpers import attendee, by_kind, default_form, past_event


async def _collect(chunks: Any) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def _arranged(session: Any, settings: Any, *, anonymous: bool = False) -> dict[str, Any]:
    """Three responses with every kind of answer, umlauts and text that looks like formulas."""
    event = await past_event(session, anonymous=anonymous)
    questions = await default_form(session, event)
    overall, nps = questions[0], by_kind(questions, "nps")
    liked, again = by_kind(questions, "multiple"), by_kind(questions, "single")
    better, topic = by_kind(questions, "long_text"), by_kind(questions, "short_text")
    people = [
        (
            "Anna Müller",
            {
                overall: 5,
                nps: 10,
                liked: [0, 2],
                again: 0,
                better: '=HYPERLINK("x")',
                topic: "Glasfaser für alle",
            },
        ),
        (
            "Ben Baker",
            {
                overall: 3,
                nps: 6,
                liked: [1],
                again: 2,
                better: "-nothing-\nreally",
                topic: "@mention",
            },
        ),
        ("Çiğdem Öztürk", {overall: 4, nps: 9}),
    ]
    expected = []
    start = utcnow() - timedelta(hours=3)
    for index, (name, given) in enumerate(people):
        invitee, _token = await attendee(session, settings, event, name)
        data: dict[str, list[str]] = {}
        stored: dict[int, Any] = {}
        for question, value in given.items():
            if question.kind.has_options:
                chosen = value if isinstance(value, list) else [value]
                data[question.field_name] = [str(question.options[i].id) for i in chosen]
                labels = [question.options[i].label for i in chosen]
                stored[question.id] = labels if question.kind.value == "multiple" else labels[0]
            else:
                data[question.field_name] = [str(value)]
                stored[question.id] = value
        await submit_feedback(
            event,
            invitee,
            data,
            session=session,
            settings=settings,
            now=start + timedelta(minutes=index),
        )
        expected.append((name, invitee, stored))
    await session.commit()
    return {"event": event, "questions": questions, "expected": expected}


def _cell_text(question: Any, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "; ".join(value)
    return str(value)


@pytest.mark.parametrize("semicolon", [False, True])
async def test_csv_has_one_row_per_response_and_reads_back(
    session: Any, settings: Any, semicolon: bool
) -> None:
    arranged = await _arranged(session, settings)
    questions = arranged["questions"]
    data = await _collect(
        exports.csv_chunks(arranged["event"], session=session, semicolon=semicolon)
    )
    assert data.startswith(b"\xef\xbb\xbf")  # Excel reads the umlauts
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    table = list(csv.reader(io.StringIO(text), delimiter=";" if semicolon else ","))
    header, body = table[0], table[1:]
    assert header == ["No.", "Name", "E-mail address", "Submitted", "Last changed"] + [
        q.question.label for q in questions
    ]
    assert len(body) == 3
    for row, (name, _invitee, stored) in zip(body, arranged["expected"], strict=True):
        assert row[1] == name
        assert row[2].endswith("@example.org")
        assert row[3]
        assert row[3] == row[4]
        for question, cell in zip(questions, row[5:], strict=True):
            expected = exports.neutralize(_cell_text(question, stored.get(question.id)))
            assert cell == expected, question.question.label
    anna, ben = body[0], body[1]
    better = questions.index(by_kind(questions, "long_text")) + 5
    topic = questions.index(by_kind(questions, "short_text")) + 5
    # Formula-looking text starts with an apostrophe, so no spreadsheet runs it.
    assert anna[better] == '\'=HYPERLINK("x")'
    assert ben[better] == "'-nothing-\nreally"
    assert ben[topic] == "'@mention"
    assert body[2][1] == "Çiğdem Öztürk"


async def test_xlsx_has_a_responses_and_a_summary_sheet(
    session: Any, settings: Any, tmp_path: Path
) -> None:
    arranged = await _arranged(session, settings)
    questions = arranged["questions"]
    path = tmp_path / "feedback.xlsx"
    await exports.write_xlsx(arranged["event"], path, session=session, settings=settings)
    workbook = openpyxl.load_workbook(path)
    assert workbook.sheetnames == ["Responses", "Summary"]
    sheet = workbook["Responses"]
    table = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert table[0][5:] == [q.question.label for q in questions]
    assert len(table) == 4
    for row, (name, _invitee, stored) in zip(table[1:], arranged["expected"], strict=True):
        assert row[0] == table.index(row)
        assert row[1] == name
        for question, value in zip(questions, row[5:], strict=True):
            given = stored.get(question.id)
            wanted = (
                None
                if given is None
                else (given if isinstance(given, int) else _cell_text(question, given))
            )
            assert value == wanted, question.question.label
    # Text that looks like a formula is stored as text, shown as written, never computed.
    formula = sheet.cell(row=2, column=5 + questions.index(by_kind(questions, "long_text")) + 1)
    assert formula.value == '=HYPERLINK("x")'
    assert formula.data_type == "s"
    assert formula.quotePrefix
    # The summary: the numbers of the results page.
    lines = [[c.value for c in row] for row in workbook["Summary"].iter_rows()]
    summary: dict[Any, list[Any]] = {}
    for line in lines:  # the first of each label: the overall rating comes first
        summary.setdefault(line[0], line[1:])
    assert lines[0][0] == arranged["event"].title
    assert summary["Responses"][0] == 3
    assert summary["Net Promoter Score"][0] == pytest.approx(100 * (2 - 1) / 3)
    assert summary["Average"][0] == pytest.approx(4.0)
    assert summary["Promoters (9–10)"][:2] == [2, pytest.approx(2 / 3)]


async def test_json_holds_the_questions_with_their_metadata_and_the_responses(
    session: Any, settings: Any
) -> None:
    arranged = await _arranged(session, settings)
    questions = arranged["questions"]
    data = json.loads(
        await _collect(exports.json_chunks(arranged["event"], session=session, settings=settings))
    )
    assert data["event"]["slug"] == arranged["event"].slug
    assert data["anonymous"] is False
    assert [q["label"] for q in data["questions"]] == [q.question.label for q in questions]
    nps = next(q for q in data["questions"] if q["kind"] == "nps")
    assert nps["scale"] == {"min": 0, "max": 10}
    assert nps["required"] is True
    liked = by_kind(questions, "multiple")
    assert next(q for q in data["questions"] if q["id"] == liked.id)["options"] == [
        {"id": o.id, "label": o.label} for o in liked.options
    ]
    assert len(data["responses"]) == 3
    for item, (name, _invitee, stored) in zip(data["responses"], arranged["expected"], strict=True):
        assert item["name"] == name
        assert item["email"].endswith("@example.org")
        assert item["submitted_at"]
        for question in questions:
            assert item["answers"][str(question.id)] == stored.get(question.id)


async def test_anonymous_exports_never_carry_names_or_addresses(
    session: Any, settings: Any, tmp_path: Path
) -> None:
    arranged = await _arranged(session, settings, anonymous=True)
    event = arranged["event"]
    csv_data = await _collect(exports.csv_chunks(event, session=session))
    json_data = await _collect(exports.json_chunks(event, session=session, settings=settings))
    path = tmp_path / "anonymous.xlsx"
    await exports.write_xlsx(event, path, session=session, settings=settings)
    sheet_text = " ".join(
        str(cell.value)
        for row in openpyxl.load_workbook(path)["Responses"].iter_rows()
        for cell in row
    )
    for name, _invitee, _stored in arranged["expected"]:
        for blob in (csv_data.decode("utf-8-sig"), json_data.decode(), sheet_text):
            assert name not in blob
            assert "@example.org" not in blob
    header = next(csv.reader(io.StringIO(csv_data.decode("utf-8-sig"))))
    assert header[:2] == ["No.", arranged["questions"][0].question.label]
    parsed = json.loads(json_data)
    assert parsed["anonymous"] is True
    assert all(set(item) == {"number", "answers"} for item in parsed["responses"])
    # The answers are all there.
    ratings = sorted(
        item["answers"][str(arranged["questions"][0].id)] for item in parsed["responses"]
    )
    assert ratings == [3, 4, 5]


async def test_large_exports_go_in_batches_and_include_every_response_once(
    session: Any, settings: Any
) -> None:
    event = await past_event(session, anonymous=True)
    questions = await default_form(session, event)
    overall = questions[0]
    count = 2 * exports.BATCH_SIZE + 17
    for number in range(count):
        response = FeedbackResponse(event_id=event.id, anonymous=True)
        session.add(response)
        session.add(FeedbackAnswered(marker=f"{number:064d}", event_id=event.id))
        await session.flush()
        session.add(
            FeedbackAnswer(response_id=response.id, question_id=overall.id, number=number % 5 + 1)
        )
    await session.commit()
    chunks = [chunk async for chunk in exports.csv_chunks(event, session=session)]
    assert len(chunks) >= 3  # written and sent a batch at a time
    body = list(csv.reader(io.StringIO(b"".join(chunks).decode("utf-8-sig"))))[1:]
    assert [row[0] for row in body] == [str(n) for n in range(1, count + 1)]
    seen = [
        row.response.id async for row in exports.iter_rows(event, session=session, batch_size=37)
    ]
    assert len(seen) == len(set(seen)) == count
    parsed = json.loads(
        await _collect(exports.json_chunks(event, session=session, settings=settings))
    )
    assert len(parsed["responses"]) == count


async def test_named_responses_at_the_same_time_are_all_exported(
    session: Any, settings: Any
) -> None:
    event = await past_event(session)
    questions = await default_form(session, event)
    moment = utcnow() - timedelta(hours=1)
    for number in range(9):
        invitee, _token = await attendee(session, settings, event, f"Guest {number}")
        data = {questions[0].field_name: ["4"], by_kind(questions, "nps").field_name: ["8"]}
        await submit_feedback(event, invitee, data, session=session, settings=settings, now=moment)
    await session.commit()
    names = [row.name async for row in exports.iter_rows(event, session=session, batch_size=2)]
    assert sorted(names) == [f"Guest {n}" for n in range(9)]
