"""The Feedback tab for organizers: the form builder and its settings, sending the request, the
preview as invitees see it, the results with charts, and the exports."""

import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
from babel.numbers import format_percent
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from meetups import i18n
from meetups.contacts.models import Contact
from meetups.db import Database, utcnow
from meetups.deps import Editor, RowId, SessionDep, SettingsDep, Viewer
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.events.lookup import get_event_by_slug
from meetups.events.models import Event
from meetups.feedback import exports, forms, report, requests
from meetups.feedback.answers import FeedbackPage, closes_at, opens_at
from meetups.feedback.charts import svg_file
from meetups.feedback.models import QuestionKind
from meetups.forms import form_data
from meetups.htmx import is_htmx, redirect, render
from meetups.i18n import gettext as _
from meetups.i18n import ngettext
from meetups.invitations.messages import moment_text
from meetups.invitations.models import Invitee, InviteeStatus

router = APIRouter()

EXPORT_CHUNK = 64 * 1024


def _url(event: Event, suffix: str = "") -> str:
    return f"/events/{event.slug}/feedback{suffix}"


def _back(request: Request, url: str, *, flash: str | None = None) -> Response:
    """After a change, back to the page. htmx follows HX-Redirect by assigning the address, and
    an address that differs from the current one only in its #fragment would not load the page
    again: htmx requests go to the address without it."""
    if request.headers.get("hx-request") == "true":
        url = url.split("#", 1)[0]
    return redirect(request, url, flash=flash)


def _blank_question() -> dict[str, Any]:
    return {"kind": "rating", "label": "", "help": "", "required": "", "new_options": ""}


async def _builder_context(
    event: Event,
    *,
    session: SessionDep,
    new_values: dict[str, Any] | None = None,
    new_errors: dict[str, str] | None = None,
    settings_values: dict[str, Any] | None = None,
    settings_errors: dict[str, str] | None = None,
    problems: dict[int, str] | None = None,
    problem: str = "",
) -> dict[str, Any]:
    questions = await forms.questions_of(event, session=session, with_counts=True)
    options = await forms.settings_of(event, session=session)
    counts = await requests.request_counts(event, session=session)
    responses = await forms.response_count(event, session=session)
    now = utcnow()
    return {
        "event": event,
        "active_tab": "feedback",
        "subtab": "form",
        "questions": questions,
        "kind_labels": forms.kind_labels(),
        "kinds": list(QuestionKind),
        "responses": responses,
        "counts": counts,
        "opens_at": opens_at(event),
        "closes_at": closes_at(event),
        "is_open": event.feedback_enabled and opens_at(event) <= now < closes_at(event),
        "has_ended": event.has_ended(now),
        "send_problem": requests.send_problem(event, bool(questions), now),
        "copy_sources": await forms.events_with_forms(event, session=session),
        "new": new_values or _blank_question(),
        "new_errors": new_errors or {},
        "settings_values": settings_values
        or {
            "intro": options.intro,
            "request_timing": "after"
            if options.request_delay_hours is not None
            else "next_morning",
            "request_delay_hours": ""
            if options.request_delay_hours is None
            else str(options.request_delay_hours),
            "reminder_days_before_close": str(options.reminder_days_before_close),
        },
        "settings_errors": settings_errors or {},
        "problems": problems or {},
        "problem": problem,
        "max_questions": forms.MAX_QUESTIONS,
    }


@router.get("/events/{slug}/feedback")
async def feedback_tab(
    request: Request, slug: str, session: SessionDep, organizer: Viewer
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    context = await _builder_context(event, session=session)
    return render(request, "feedback/form.html", context, block="tab")


async def _refused(
    request: Request,
    event: Event,
    session: SessionDep,
    error: DomainError,
    *,
    question_id: int | None = None,
) -> Response:
    """The builder again with the reason a change was refused (the change itself was undone:
    every change runs in a savepoint, so that the objects of the page stay loaded)."""
    problems = {question_id: error.message} if question_id is not None else {}
    context = await _builder_context(
        event, session=session, problems=problems, problem="" if problems else error.message
    )
    return render(request, "feedback/form.html", context, block="builder", status_code=409)


@router.post("/events/{slug}/feedback/questions")
async def add_question(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    try:
        entry = forms.parse_question(data)
        async with session.begin_nested():
            await forms.add_question(event, entry, session=session)
    except ValidationFailed as error:
        values = {**_blank_question(), **{k: v[:10_000] for k, v in data.items()}}
        context = await _builder_context(
            event, session=session, new_values=values, new_errors=error.errors
        )
        return render(request, "feedback/form.html", context, block="builder", status_code=422)
    except DomainError as error:
        return await _refused(request, event, session, error)
    await session.commit()
    return _back(request, _url(event) + "#questions", flash=_("The question is added."))


async def _question_page(
    request: Request,
    event: Event,
    question: forms.Question,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "event": event,
        "active_tab": "feedback",
        "subtab": "form",
        "q": question,
        "editing": True,
        "values": values
        or {
            "kind": question.kind.value,
            "label": question.question.label,
            "help": question.question.help,
            "required": "on" if question.question.required else "",
            "new_options": "",
            **{f"option-{o.id}": o.label for o in question.options},
        },
        "errors": errors or {},
        "kind_labels": forms.kind_labels(),
        "kinds": list(QuestionKind),
    }
    return render(
        request, "feedback/question.html", context, block="question_form", status_code=status_code
    )


@router.get("/events/{slug}/feedback/questions/{question_id}")
async def edit_question_form(
    request: Request, slug: str, question_id: RowId, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    question = await forms.get_question(event, question_id, session=session)
    return await _question_page(request, event, question)


@router.post("/events/{slug}/feedback/questions/{question_id}")
async def save_question(
    request: Request, slug: str, question_id: RowId, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    question = await forms.get_question(event, question_id, session=session)
    data = await form_data(request)
    try:
        entry = forms.parse_question(data, question)
        async with session.begin_nested():
            await forms.update_question(event, question_id, entry, session=session)
    except ValidationFailed as error:
        question = await forms.get_question(event, question_id, session=session)
        values = {k: v[:10_000] for k, v in data.items()}
        return await _question_page(
            request, event, question, values=values, errors=error.errors, status_code=422
        )
    except NotFound:
        raise
    except DomainError as error:
        question = await forms.get_question(event, question_id, session=session)
        return await _question_page(
            request, event, question, errors={"_form": error.message}, status_code=409
        )
    await session.commit()
    return _back(
        request, _url(event) + f"#question-{question_id}", flash=_("The question is saved.")
    )


@router.post("/events/{slug}/feedback/questions/{question_id}/move")
async def move_question(
    request: Request, slug: str, question_id: RowId, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    try:
        async with session.begin_nested():
            await forms.move_question(
                event, question_id, data.get("direction", ""), session=session
            )
    except NotFound:
        raise
    except DomainError as error:
        return await _refused(request, event, session, error)
    await session.commit()
    if is_htmx(request):
        context = await _builder_context(event, session=session)
        return render(request, "feedback/form.html", context, block="builder")
    return _back(request, _url(event) + f"#question-{question_id}")


@router.post("/events/{slug}/feedback/questions/{question_id}/remove")
async def remove_question(
    request: Request, slug: str, question_id: RowId, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    try:
        async with session.begin_nested():
            await forms.remove_question(event, question_id, session=session)
    except NotFound:
        raise
    except DomainError as error:
        return await _refused(request, event, session, error, question_id=question_id)
    await session.commit()
    return _back(request, _url(event) + "#questions", flash=_("The question is removed."))


@router.post("/events/{slug}/feedback/default")
async def use_default_form(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    try:
        async with session.begin_nested():
            count = await forms.use_default_form(event, data.get("language", ""), session=session)
    except DomainError as error:
        return await _refused(request, event, session, error)
    await session.commit()
    return _back(
        request,
        _url(event) + "#questions",
        flash=ngettext(
            "The form has %(num)s question now. Adapt it as you like.",
            "The form has %(num)s questions now. Adapt them as you like.",
            count,
        ),
    )


@router.post("/events/{slug}/feedback/copy")
async def copy_form(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    try:
        source = await get_event_by_slug(data.get("source", ""), session=session)
    except NotFound:
        return await _refused(
            request, event, session, DomainError(_("Please choose an event to copy from."))
        )
    try:
        async with session.begin_nested():
            count = await forms.copy_form(event, source, session=session)
    except DomainError as error:
        return await _refused(request, event, session, error)
    await session.commit()
    return _back(
        request,
        _url(event) + "#questions",
        flash=ngettext(
            "%(num)s question copied from “%(title)s”.",
            "%(num)s questions copied from “%(title)s”.",
            count,
            title=source.title,
        ),
    )


@router.post("/events/{slug}/feedback/settings")
async def save_settings(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    try:
        entry = forms.parse_settings(data)
        async with session.begin_nested():
            await forms.save_settings(event, entry, session=session)
    except ValidationFailed as error:
        values = {k: v[:10_000] for k, v in data.items()}
        context = await _builder_context(
            event, session=session, settings_values=values, settings_errors=error.errors
        )
        return render(request, "feedback/form.html", context, block="builder", status_code=422)
    except DomainError as error:
        return await _refused(request, event, session, error)
    await session.commit()
    return _back(request, _url(event) + "#settings", flash=_("The settings are saved."))


@router.post("/events/{slug}/feedback/send")
async def send_now(
    request: Request, slug: str, session: SessionDep, settings: SettingsDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    try:
        async with session.begin_nested():
            sent = await requests.send_now(event, session=session, settings=settings)
    except DomainError as error:
        return await _refused(request, event, session, error)
    await session.commit()
    parts = [
        ngettext(
            "The request is on its way to %(num)s person.",
            "The request is on its way to %(num)s people.",
            len(sent.sent),
        )
    ]
    if sent.already:
        parts.append(
            ngettext(
                "%(num)s had it already.",
                "%(num)s had it already.",
                len(sent.already),
            )
        )
    if sent.suppressed:
        parts.append(
            ngettext(
                "%(num)s asked not to get e-mail from us and was left out.",
                "%(num)s asked not to get e-mail from us and were left out.",
                len(sent.suppressed),
            )
        )
    return _back(request, _url(event), flash=" ".join(parts))


# The preview: the form exactly as an invitee sees it, answering nothing.


@router.get("/events/{slug}/feedback/preview")
async def preview(request: Request, slug: str, session: SessionDep, organizer: Viewer) -> Response:
    event = await get_event_by_slug(slug, session=session)
    # In the attendees' language (the event's), unless another is chosen on the page.
    chosen = request.query_params.get("lang")
    i18n.set_locale(chosen if chosen in i18n.LANGUAGES else event.language)
    questions = await forms.questions_of(event, session=session)
    sample = Contact(name=_("Alex Example"), email="alex@example.com", language=event.language)
    page = FeedbackPage(
        event=event,
        invitee=Invitee(event_id=event.id, contact_id=0, status=InviteeStatus.accepted),  # type: ignore[arg-type]
        questions=questions,
        settings=await forms.settings_of(event, session=session),
        reason=None,
        answered=False,
        response=None,
        answers={},
        edit_code=None,
    )
    context = {
        "title": _("Preview: %(title)s", title=event.title),
        "page": page,
        "event": event,
        "contact": sample,
        "preview": True,
        "back_url": _url(event),
        "values": {},
        "errors": {},
        "token": "preview",
        "page_language": event.language,
        "anonymous": event.feedback_anonymous,
        "closes_text": moment_text(closes_at(event), event.timezone),
    }
    return render(request, "feedback/answer.html", context)


# Results and exports.


@router.get("/events/{slug}/feedback/results")
async def results(
    request: Request, slug: str, session: SessionDep, settings: SettingsDep, organizer: Viewer
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    found = await report.event_results(event, session=session, settings=settings)
    charts = {result.question.id: report.question_chart(result) for result in found.questions}
    context = {
        "event": event,
        "active_tab": "feedback",
        "subtab": "results",
        "results": found,
        "charts": charts,
        "kind_labels": forms.kind_labels(),
        "closes_at": closes_at(event),
        "now": utcnow(),
        "percent": lambda share: format_percent(share, locale=i18n.current_locale()),
    }
    return render(request, "feedback/results.html", context, block="tab")


@router.get("/events/{slug}/feedback/charts/{question_id}.svg")
async def chart_image(
    slug: str, question_id: RowId, session: SessionDep, settings: SettingsDep, organizer: Viewer
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    found = await report.event_results(event, session=session, settings=settings, with_texts=False)
    result = next((r for r in found.questions if r.question.id == question_id), None)
    svg = report.question_chart(result, with_heading=True) if result else None
    if svg is None:
        raise NotFound(_("This question has no chart."))
    name = f"feedback-{event.slug}-{result.question.question.position + 1}.svg"  # type: ignore[union-attr]
    return Response(
        svg_file(svg),
        media_type="image/svg+xml",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            # A drawing, never a document: no scripts even if opened on its own.
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


async def _stream(database: Database, slug: str, produce: Any) -> AsyncIterator[bytes]:
    """Runs an export in a session of its own, which lives as long as the response streams."""
    async with database.session() as session:
        event = await get_event_by_slug(slug, session=session)
        async for chunk in produce(event, session):
            yield chunk


async def _xlsx_chunks(event: Event, session: Any, settings: Any) -> AsyncIterator[bytes]:
    descriptor, name = tempfile.mkstemp(prefix="meetups-feedback-", suffix=".xlsx")
    os.close(descriptor)
    path = Path(name)
    try:
        await exports.write_xlsx(event, path, session=session, settings=settings)
        async with await anyio.open_file(path, "rb") as file:
            while chunk := await file.read(EXPORT_CHUNK):
                yield chunk
    finally:
        with contextlib.suppress(OSError):
            await anyio.Path(path).unlink()


@router.get("/events/{slug}/feedback/export.{extension}")
async def export(
    request: Request,
    slug: str,
    extension: str,
    session: SessionDep,
    settings: SettingsDep,
    organizer: Viewer,
    semicolon: str = "",
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    if extension not in exports.FORMATS:
        raise NotFound(_("There is no export in this format."))
    database: Database = request.app.state.database

    async def produce(found: Event, reader: Any) -> AsyncIterator[bytes]:
        if extension == "csv":
            async for chunk in exports.csv_chunks(
                found, session=reader, semicolon=semicolon == "1"
            ):
                yield chunk
        elif extension == "json":
            async for chunk in exports.json_chunks(found, session=reader, settings=settings):
                yield chunk
        else:
            async for chunk in _xlsx_chunks(found, reader, settings):
                yield chunk

    return StreamingResponse(
        _stream(database, event.slug, produce),
        media_type=exports.MEDIA_TYPES[extension],
        headers={
            "Content-Disposition": f'attachment; filename="{exports.filename(event, extension)}"'
        },
    )
