"""Feedback leaving the tool: CSV, XLSX and JSON, one response per row (or object).

All three read the responses in batches (keyset pagination) and write as they go, so memory stays
bounded however many responses there are: CSV and JSON stream as they are written, the XLSX
workbook is written in openpyxl's write-only mode to a temporary file and streamed from there.

Named responses carry the person's name and e-mail address; anonymous ones never do. Text a
spreadsheet could take for a formula is neutralized: in CSV with a leading apostrophe (OWASP),
in XLSX by storing it as a string with Excel's quote prefix (the cell shows the text as written
and never computes it).
"""

import csv
import io
import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import anyio
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from sqlalchemy import and_, or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.events.models import Event
from meetups.feedback.answers import AnswerValue, closes_at
from meetups.feedback.forms import Question, kind_labels, questions_of
from meetups.feedback.models import FeedbackAnswer, FeedbackResponse, QuestionKind
from meetups.feedback.report import EventResults, event_results
from meetups.i18n import gettext as _
from meetups.invitations.models import Invitee
from meetups.validation import FORMULA_PREFIXES

BATCH_SIZE = 200
MULTIPLE_SEPARATOR = "; "
TIME = "yyyy-mm-dd hh:mm"
FORMATS = ("csv", "xlsx", "json")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def neutralize(value: str) -> str:
    """A CSV cell a spreadsheet shows as text, never runs as a formula."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def filename(event: Event, extension: str) -> str:
    return f"feedback-{event.slug}.{extension}"


@dataclass(frozen=True)
class ExportRow:
    number: int  # 1, 2, ... in the order of the export
    response: FeedbackResponse
    name: str
    email: str
    answers: dict[int, AnswerValue]


def shows_names(event: Event) -> bool:
    return not event.feedback_anonymous


async def _batch_answers(
    response_ids: Sequence[str], *, session: AsyncSession
) -> dict[str, dict[int, AnswerValue]]:
    # Plain columns, not ORM objects: building an object per answer cost a third of an export's
    # time (bench/, benchmark 4).
    rows = (
        await session.exec(
            select(
                FeedbackAnswer.response_id,
                FeedbackAnswer.question_id,
                FeedbackAnswer.number,
                FeedbackAnswer.option_id,
                FeedbackAnswer.text,
            )
            .where(col(FeedbackAnswer.response_id).in_(list(response_ids)))
            .order_by(
                col(FeedbackAnswer.response_id),
                col(FeedbackAnswer.question_id),
                col(FeedbackAnswer.seq),
            )
        )
    ).all()
    found: dict[str, dict[int, AnswerValue]] = {}
    for response_id, question_id, number, option_id, text in rows:
        value = found.setdefault(response_id, {}).setdefault(question_id, AnswerValue())
        if number is not None:
            value.number = number
        if option_id is not None:
            value.option_ids.append(option_id)
        if text:
            value.text = text
    return found


async def _batch_people(
    responses: Sequence[FeedbackResponse], *, session: AsyncSession
) -> dict[int, Contact]:
    invitee_ids = [r.invitee_id for r in responses if r.invitee_id is not None and not r.anonymous]
    if not invitee_ids:
        return {}
    query = (
        select(Invitee.id, Contact)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(col(Invitee.id).in_(invitee_ids))
    )
    return dict((await session.exec(query)).all())  # type: ignore[arg-type]


async def iter_rows(
    event: Event, *, session: AsyncSession, batch_size: int = BATCH_SIZE
) -> AsyncIterator[ExportRow]:
    """Every response of the event with its answers, a batch at a time: first those without a
    time (anonymous ones, in the random order of their ids), then the named ones by time."""
    names = shows_names(event)
    number = 0
    base = select(FeedbackResponse).where(FeedbackResponse.event_id == event.id)
    last_id = ""
    while True:  # responses without a time, by id
        query = base.where(col(FeedbackResponse.submitted_at).is_(None))
        if last_id:
            query = query.where(col(FeedbackResponse.id) > last_id)
        batch = list(
            (await session.exec(query.order_by(col(FeedbackResponse.id)).limit(batch_size))).all()
        )
        if not batch:
            break
        last_id = batch[-1].id
        async for row in _rows(batch, number, names, session=session):
            number = row.number
            yield row
    last_at: datetime | None = None
    last_id = ""
    while True:  # responses with a time, by time
        query = base.where(col(FeedbackResponse.submitted_at).is_not(None))
        if last_at is not None:
            # The first condition says nothing new; it gives an index on (event_id, submitted_at,
            # id) a range to seek to, which the OR alone does not (every page would scan).
            query = query.where(
                col(FeedbackResponse.submitted_at) >= last_at,
                or_(
                    col(FeedbackResponse.submitted_at) > last_at,
                    and_(
                        col(FeedbackResponse.submitted_at) == last_at,
                        col(FeedbackResponse.id) > last_id,
                    ),
                ),
            )
        query = query.order_by(col(FeedbackResponse.submitted_at), col(FeedbackResponse.id))
        batch = list((await session.exec(query.limit(batch_size))).all())
        if not batch:
            break
        last_at, last_id = batch[-1].submitted_at, batch[-1].id
        async for row in _rows(batch, number, names, session=session):
            number = row.number
            yield row


async def rows_page(
    event: Event, *, session: AsyncSession, offset: int, limit: int
) -> list[ExportRow]:
    """One page of the responses in the order of `iter_rows` (for the JSON API), numbered from
    `offset + 1`."""
    query = (
        select(FeedbackResponse)
        .where(FeedbackResponse.event_id == event.id)
        .order_by(
            col(FeedbackResponse.submitted_at).is_not(None),
            col(FeedbackResponse.submitted_at),
            col(FeedbackResponse.id),
        )
        .offset(offset)
        .limit(limit)
    )
    batch = list((await session.exec(query)).all())
    return [row async for row in _rows(batch, offset, shows_names(event), session=session)]


async def _rows(
    batch: list[FeedbackResponse], number: int, names: bool, *, session: AsyncSession
) -> AsyncIterator[ExportRow]:
    answers = await _batch_answers([r.id for r in batch], session=session)
    people = await _batch_people(batch, session=session) if names else {}
    for response in batch:
        number += 1
        contact = people.get(response.invitee_id) if response.invitee_id is not None else None
        named = names and not response.anonymous and contact is not None
        yield ExportRow(
            number=number,
            response=response,
            name=contact.name if named and contact else "",
            email=contact.email if named and contact else "",
            answers=answers.get(response.id, {}),
        )


def answer_value(question: Question, value: AnswerValue | None) -> int | str | list[str] | None:
    """An answer as data: a number, a choice's wording, the wordings chosen, or the text."""
    if value is None:
        return None
    kind = question.kind
    if kind.is_scale:
        return value.number
    if kind.has_options:
        labels = {option.id: option.label for option in question.options}
        chosen = [labels[o] for o in value.option_ids if o in labels]
        if kind == QuestionKind.single:
            return chosen[0] if chosen else None
        return chosen
    return value.text or None


def cell_value(question: Question, value: AnswerValue | None) -> int | str:
    """An answer for one spreadsheet cell ("" when not answered)."""
    data = answer_value(question, value)
    if data is None:
        return ""
    if isinstance(data, list):
        return MULTIPLE_SEPARATOR.join(data)
    return data


def local_time(moment: datetime | None, event: Event) -> datetime | None:
    """A moment in the event's zone without the zone (spreadsheets know no zones)."""
    if moment is None:
        return None
    return moment.astimezone(ZoneInfo(event.timezone)).replace(tzinfo=None, microsecond=0)


def _header(event: Event, questions: Sequence[Question]) -> list[str]:
    people = [_("Name"), _("E-mail address"), _("Submitted"), _("Last changed")]
    return [
        _("No."),
        *(people if shows_names(event) else []),
        *(q.question.label for q in questions),
    ]


def _time_text(moment: datetime | None, event: Event) -> str:
    local = local_time(moment, event)
    return local.strftime("%Y-%m-%d %H:%M") if local else ""


# CSV


async def csv_chunks(
    event: Event, *, session: AsyncSession, semicolon: bool = False
) -> AsyncIterator[bytes]:
    """UTF-8 with a byte order mark (Excel then reads the umlauts), comma-separated, or with
    semicolons as German Excel expects."""
    questions = await questions_of(event, session=session)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if semicolon else ",", lineterminator="\r\n")
    buffer.write("\ufeff")
    writer.writerow([neutralize(cell) for cell in _header(event, questions)])
    count = 0
    async for row in iter_rows(event, session=session):
        cells: list[str] = [str(row.number)]
        if shows_names(event):
            cells += [
                neutralize(row.name),
                neutralize(row.email),
                _time_text(row.response.submitted_at, event),
                _time_text(row.response.updated_at, event),
            ]
        for question in questions:
            value = cell_value(question, row.answers.get(question.id))
            cells.append(str(value) if isinstance(value, int) else neutralize(value))
        writer.writerow(cells)
        count += 1
        if count % BATCH_SIZE == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


# JSON


def _question_data(question: Question) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": question.id,
        "position": question.question.position + 1,
        "kind": question.kind.value,
        "label": question.question.label,
        "help": question.question.help,
        "required": question.question.required,
    }
    if question.kind == QuestionKind.rating:
        data["scale"] = {"min": 1, "max": 5}
    elif question.kind == QuestionKind.nps:
        data["scale"] = {"min": 0, "max": 10}
    if question.kind.has_options:
        data["options"] = [{"id": o.id, "label": o.label} for o in question.options]
    return data


def _moment(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


async def json_chunks(
    event: Event, *, session: AsyncSession, settings: Settings
) -> AsyncIterator[bytes]:
    """{"event": ..., "questions": [...], "responses": [...]}, written a response at a time."""
    questions = await questions_of(event, session=session)
    results = await event_results(event, session=session, settings=settings, with_texts=False)
    head = {
        "event": {
            "slug": event.slug,
            "title": event.title,
            "starts_at": _moment(event.starts_at),
            "ends_at": _moment(event.ends_at),
            "timezone": event.timezone,
        },
        "anonymous": event.feedback_anonymous,
        "closes_at": _moment(closes_at(event)),
        "exported_at": _moment(utcnow()),
        "asked": results.rate.asked,
        "answered": results.rate.answered,
        "questions": [_question_data(q) for q in questions],
    }
    opening = json.dumps(head, ensure_ascii=False, indent=1)
    yield (opening[: opening.rindex("}")].rstrip() + ',\n "responses": [').encode("utf-8")
    first = True
    async for row in iter_rows(event, session=session):
        item: dict[str, Any] = {"number": row.number}
        if shows_names(event):
            item.update(
                name=row.name or None,
                email=row.email or None,
                submitted_at=_moment(row.response.submitted_at),
                updated_at=_moment(row.response.updated_at),
            )
        item["answers"] = {str(q.id): answer_value(q, row.answers.get(q.id)) for q in questions}
        text = json.dumps(item, ensure_ascii=False)
        yield (("\n  " if first else ",\n  ") + text).encode("utf-8")
        first = False
    yield b"\n ]\n}\n"


# XLSX


def _sheet_title(text: str) -> str:
    cleaned = "".join(" " if ch in "[]:*?/\\" else ch for ch in text).strip()
    return cleaned[:31] or "Sheet"


def _cell(sheet: Any, value: Any, *, bold: bool = False, number_format: str | None = None) -> Any:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text, even when it looks like a formula
        if value.startswith(FORMULA_PREFIXES):
            cell.quotePrefix = True
    if bold:
        cell.font = Font(bold=True)
    if number_format:
        cell.number_format = number_format
    return cell


@dataclass(frozen=True)
class SummaryLine:
    values: tuple[Any, ...] = ()
    heading: bool = False
    percent_column: int | None = None  # the column holding a share (shown as a percentage)


def _share_line(label: str, count: int, part: float) -> SummaryLine:
    return SummaryLine((label, count, part), percent_column=2)


def summary_lines(event: Event, results: EventResults) -> list[SummaryLine]:
    rate = results.rate
    lines = [
        SummaryLine((event.title,), heading=True),
        SummaryLine((_("Responses"), results.responses)),
        SummaryLine((_("Asked"), rate.asked)),
        SummaryLine((_("Answered (of those asked)"), rate.answered)),
        SummaryLine(
            (_("Response rate"), rate.share if rate.share is not None else ""), percent_column=1
        ),
        SummaryLine((_("Anonymous"), _("yes") if results.anonymous else _("no"))),
        SummaryLine(),
    ]
    labels = kind_labels()
    for result in results.questions:
        question = result.question
        lines.append(SummaryLine((question.question.label, labels[question.kind]), heading=True))
        lines.append(SummaryLine((_("Answers"), result.respondents)))
        if result.nps is not None:
            nps = result.nps
            score = nps.score if nps.score is not None else ""
            lines.append(SummaryLine((_("Net Promoter Score"), score)))
            detractors, passives, promoters = nps.groups
            lines.append(_share_line(_("Promoters (9–10)"), nps.promoters, promoters.share))
            lines.append(_share_line(_("Passives (7–8)"), nps.passives, passives.share))
            lines.append(_share_line(_("Detractors (0–6)"), nps.detractors, detractors.share))
        if result.scale is not None:
            if result.nps is None:
                average = result.scale.average
                lines.append(SummaryLine((_("Average"), average if average is not None else "")))
            lines.extend(_share_line(b.label, b.count, b.share) for b in result.scale.bars)
        if result.choices is not None:
            lines.extend(_share_line(b.label, b.count, b.share) for b in result.choices.bars)
        lines.append(SummaryLine())
    return lines


async def write_xlsx(
    event: Event, path: Path, *, session: AsyncSession, settings: Settings
) -> None:
    """A workbook with a "Responses" sheet (one row per response) and a "Summary" sheet."""
    questions = await questions_of(event, session=session)
    workbook = Workbook(write_only=True)
    responses = workbook.create_sheet(_sheet_title(_("Responses")))
    summary = workbook.create_sheet(_sheet_title(_("Summary")))
    responses.append([_cell(responses, text, bold=True) for text in _header(event, questions)])
    async for row in iter_rows(event, session=session):
        cells: list[Any] = [_cell(responses, row.number)]
        if shows_names(event):
            cells += [
                _cell(responses, row.name),
                _cell(responses, row.email),
                _cell(
                    responses,
                    local_time(row.response.submitted_at, event),
                    number_format="yyyy-mm-dd hh:mm",
                ),
                _cell(
                    responses,
                    local_time(row.response.updated_at, event),
                    number_format="yyyy-mm-dd hh:mm",
                ),
            ]
        cells += [
            _cell(responses, cell_value(q, row.answers.get(q.id)) if q.id in row.answers else None)
            for q in questions
        ]
        responses.append(cells)
    results = await event_results(event, session=session, settings=settings, with_texts=False)
    for line in summary_lines(event, results):
        summary.append(
            [
                _cell(
                    summary,
                    value,
                    bold=line.heading and index == 0,
                    number_format="0%" if index == line.percent_column else None,
                )
                for index, value in enumerate(line.values)
            ]
        )
    # Zipping the sheets' files together is blocking work: off the event loop.
    await anyio.to_thread.run_sync(workbook.save, path)


# Writing an export to a file (the `meetups export-feedback` command).


async def export_to_file(
    event: Event,
    extension: str,
    path: Path,
    *,
    session: AsyncSession,
    settings: Settings,
    semicolon: bool = False,
) -> None:
    """Writes the export next to `path` first and moves it into place when complete, so that a
    failed export never leaves half a file behind."""
    if extension not in FORMATS:
        raise ValueError(f"unknown export format {extension!r}")
    partial = path.with_name(f".{path.name}.partial")
    try:
        if extension == "xlsx":
            await write_xlsx(event, partial, session=session, settings=settings)
        else:
            chunks = (
                csv_chunks(event, session=session, semicolon=semicolon)
                if extension == "csv"
                else json_chunks(event, session=session, settings=settings)
            )
            async with await anyio.open_file(partial, "wb") as file:
                async for chunk in chunks:
                    await file.write(chunk)
        await anyio.Path(partial).replace(path)
    finally:
        await anyio.Path(partial).unlink(missing_ok=True)
