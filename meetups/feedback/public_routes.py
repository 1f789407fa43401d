"""The feedback form behind the personal link: `/i/{token}/feedback`.

The link is opened as on every page behind it (meetups.personal_link): wrong links get the same
friendly page and are counted per client, so guessing is throttled, and every response carries
`Referrer-Policy: no-referrer`.

In anonymous mode the edit code of a response lives only with the invitee: in a cookie scoped to
this page of their link (so the same browser can change the answers without typing anything), and
on the page to note down for another device. The server keeps only a keyed hash of it.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups.config import Settings
from meetups.db import utcnow
from meetups.deps import SessionDep, SettingsDep
from meetups.errors import DomainError, ValidationFailed
from meetups.events.models import Event
from meetups.feedback import answers
from meetups.forms import MAX_FIELD_LENGTH, without_nul
from meetups.htmx import is_htmx, redirect
from meetups.i18n import gettext as _
from meetups.invitations import guessing
from meetups.invitations.messages import moment_text
from meetups.personal_link import (
    PersonalLink,
    client_address,
    open_personal_link,
    personal_page,
)

router = APIRouter()

MAX_VALUES_PER_FIELD = 50


def _form_url(link: PersonalLink) -> str:
    return link.url("/feedback", anchor="feedback")


def code_cookie(event: Event) -> str:
    return f"meetups_feedback_{event.id}"


def _cookie_path(token: str) -> str:
    return f"/i/{token}/feedback"


async def _answer_data(request: Request) -> dict[str, list[str]]:
    """Every submitted value by field name (a multiple-choice question sends several)."""
    form = await request.form()
    data: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str) and len(data.setdefault(key, [])) < MAX_VALUES_PER_FIELD:
            data[key].append(without_nul(value[:MAX_FIELD_LENGTH]))
    return data


def _feedback_page(
    request: Request,
    link: PersonalLink,
    page: answers.FeedbackPage,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    error: str = "",
    code_error: str = "",
    notice: str = "",
    status_code: int = 200,
) -> Response:
    context = {
        **link.page_context(_("Your feedback: %(title)s", title=page.event.title)),
        "page": page,
        "values": values
        if values is not None
        else answers.form_values(page.questions, page.answers),
        "errors": errors or {},
        "error": error,
        "code_error": code_error,
        "notice": notice,
        "anonymous": page.event.feedback_anonymous,
        "preview": False,
        "closes_text": moment_text(page.closes_at, page.event.timezone),
    }
    return personal_page(
        request, "feedback/answer.html", context, block="feedback", status_code=status_code
    )


def _set_code_cookie(
    response: Response, event: Event, token: str, code: str, settings: Settings, now: datetime
) -> None:
    lifetime = int((answers.closes_at(event) - now).total_seconds())
    response.set_cookie(
        code_cookie(event),
        answers.normalize_edit_code(code) or "",
        max_age=max(lifetime, 60),
        path=_cookie_path(token),
        httponly=True,
        samesite="lax",
        secure=settings.uses_https,
    )


@router.get("/i/{token}/feedback")
async def feedback_form(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    page = await answers.feedback_page(
        link.event,
        link.invitee,
        session=session,
        settings=settings,
        edit_code=request.cookies.get(code_cookie(link.event)),
    )
    return _feedback_page(request, link, page)


@router.post("/i/{token}/feedback")
async def send_feedback(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    event, invitee = link.event, link.invitee
    data = await _answer_data(request)
    code = request.cookies.get(code_cookie(event))
    now = utcnow()
    try:
        async with session.begin_nested():
            outcome = await answers.submit_feedback(
                event, invitee, data, session=session, settings=settings, edit_code=code, now=now
            )
    except DomainError as failure:
        page = await answers.feedback_page(
            event, invitee, session=session, settings=settings, edit_code=code
        )
        if isinstance(failure, ValidationFailed):
            return _feedback_page(
                request,
                link,
                page,
                values=_submitted_values(page.questions, data),
                errors=failure.errors,
                error=_("Some answers need another look; see the notes below."),
                status_code=422,
            )
        return _feedback_page(request, link, page, error=failure.message, status_code=409)
    await session.commit()
    notice = (
        _("Thank you! Your answers are saved.")
        if outcome.created
        else _("Thank you! Your changed answers are saved.")
    )
    if is_htmx(request):
        # The form's own block again, with the answers as stored (an htmx redirect to this
        # address plus "#feedback" would not load the page again).
        code = outcome.edit_code or code
        page = await answers.feedback_page(
            event, invitee, session=session, settings=settings, edit_code=code
        )
        response = _feedback_page(request, link, page, notice=notice)
    else:
        response = redirect(request, _form_url(link), flash=notice)
    if outcome.edit_code:
        _set_code_cookie(response, event, token, outcome.edit_code, settings, now)
    return response


def _submitted_values(
    questions: Sequence[Any], data: Mapping[str, Sequence[str]]
) -> dict[str, str | list[str]]:
    values: dict[str, str | list[str]] = {}
    for question in questions:
        given = list(data.get(question.field_name, []))
        if question.kind.value == "multiple":
            values[question.field_name] = [value[:20] for value in given]
        else:
            values[question.field_name] = (given[0] if given else "")[:10_000]
    return values


@router.post("/i/{token}/feedback/code")
async def enter_code(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    """The edit code typed in (on another device, say): kept in the cookie when it is right."""
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    event, invitee = link.event, link.invitee
    data = await _answer_data(request)
    code = (data.get("edit_code") or [""])[0]
    response_found = await answers.own_response(
        event, invitee, session=session, secret=settings.secret, edit_code=code
    )
    if response_found is None or response_found.edit_key_hash is None:
        # Counted like a wrong link: codes cannot be tried out at leisure.
        await guessing.record_wrong_link(client_address(request), session=session)
        await session.commit()
        page = await answers.feedback_page(event, invitee, session=session, settings=settings)
        return _feedback_page(
            request,
            link,
            page,
            code_error=_("This code does not fit. Please check it and try again."),
            status_code=422,
        )
    notice = _("Here are your answers again. You can change them until the form closes.")
    if is_htmx(request):
        page = await answers.feedback_page(
            event, invitee, session=session, settings=settings, edit_code=code
        )
        response = _feedback_page(request, link, page, notice=notice)
    else:
        response = redirect(request, _form_url(link), flash=notice)
    _set_code_cookie(response, event, token, code, settings, utcnow())
    return response


@router.post("/i/{token}/feedback/forget")
async def forget_code(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    """Takes the edit code off this device (a shared computer, say)."""
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    response = redirect(
        request, _form_url(link), flash=_("This device does not keep your code any more.")
    )
    response.delete_cookie(code_cookie(link.event), path=_cookie_path(token))
    return response
