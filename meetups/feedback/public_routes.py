"""The feedback form behind the personal link: `/i/{token}/feedback`.

The link is handled as on the invitation page (meetups.invitations.public_routes): wrong links get
the same friendly page and are counted per client, so guessing is throttled, and every response
carries `Referrer-Policy: no-referrer`.

In anonymous mode the edit code of a response lives only with the invitee: in a cookie scoped to
this page of their link (so the same browser can change the answers without typing anything), and
on the page to note down for another device. The server keeps only a keyed hash of it.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups import i18n
from meetups.config import Settings
from meetups.contacts.models import Contact
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
from meetups.invitations.models import Invitee

# The invitation page's own handling of personal links (throttling, the wrong-link page, the
# private headers), so that every page behind a link behaves alike.
from meetups.invitations.public_routes import find_invitee, page_language, personal_page

router = APIRouter()

MAX_VALUES_PER_FIELD = 50


def _url(token: str, language: str, suffix: str = "", anchor: str = "") -> str:
    return f"/i/{token}/feedback{suffix}?{urlencode({'lang': language})}" + (
        f"#{anchor}" if anchor else ""
    )


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


async def _context_for(
    request: Request,
    invitee: Invitee,
    session: SessionDep,
    settings: Settings,
    choice: str | None,
) -> tuple[Event, Contact, str]:
    event = await session.get(Event, invitee.event_id)
    contact = await session.get(Contact, invitee.contact_id)
    assert event is not None
    assert contact is not None
    language = page_language(choice or request.query_params.get("lang"), contact, settings)
    i18n.set_locale(language)
    return event, contact, language


def _feedback_page(
    request: Request,
    token: str,
    page: answers.FeedbackPage,
    contact: Contact,
    *,
    language: str,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    error: str = "",
    code_error: str = "",
    notice: str = "",
    status_code: int = 200,
) -> Response:
    context = {
        "title": _("Your feedback: %(title)s", title=page.event.title),
        "page": page,
        "event": page.event,
        "contact": contact,
        "token": token,
        "page_language": language,
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
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    event, contact, language = await _context_for(request, found, session, settings, None)
    page = await answers.feedback_page(
        event,
        found,
        session=session,
        settings=settings,
        edit_code=request.cookies.get(code_cookie(event)),
    )
    return _feedback_page(request, token, page, contact, language=language)


@router.post("/i/{token}/feedback")
async def send_feedback(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    data = await _answer_data(request)
    choice = (data.get("lang") or [""])[0]
    event, contact, language = await _context_for(request, found, session, settings, choice)
    code = request.cookies.get(code_cookie(event))
    now = utcnow()
    try:
        async with session.begin_nested():
            outcome = await answers.submit_feedback(
                event, found, data, session=session, settings=settings, edit_code=code, now=now
            )
    except DomainError as failure:
        page = await answers.feedback_page(
            event, found, session=session, settings=settings, edit_code=code
        )
        if isinstance(failure, ValidationFailed):
            return _feedback_page(
                request,
                token,
                page,
                contact,
                language=language,
                values=_submitted_values(page.questions, data),
                errors=failure.errors,
                error=_("Some answers need another look; see the notes below."),
                status_code=422,
            )
        return _feedback_page(
            request, token, page, contact, language=language, error=failure.message, status_code=409
        )
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
            event, found, session=session, settings=settings, edit_code=code
        )
        response = _feedback_page(request, token, page, contact, language=language, notice=notice)
    else:
        response = redirect(request, _url(token, language, anchor="feedback"), flash=notice)
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
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    data = await _answer_data(request)
    choice = (data.get("lang") or [""])[0]
    event, contact, language = await _context_for(request, found, session, settings, choice)
    code = (data.get("edit_code") or [""])[0]
    response_found = await answers.own_response(
        event, found, session=session, secret=settings.secret, edit_code=code
    )
    if response_found is None or response_found.edit_key_hash is None:
        # Counted like a wrong link: codes cannot be tried out at leisure.
        await guessing.record_wrong_link(
            request.client.host if request.client else "unknown", session=session
        )
        await session.commit()
        page = await answers.feedback_page(event, found, session=session, settings=settings)
        return _feedback_page(
            request,
            token,
            page,
            contact,
            language=language,
            code_error=_("This code does not fit. Please check it and try again."),
            status_code=422,
        )
    notice = _("Here are your answers again. You can change them until the form closes.")
    if is_htmx(request):
        page = await answers.feedback_page(
            event, found, session=session, settings=settings, edit_code=code
        )
        response = _feedback_page(request, token, page, contact, language=language, notice=notice)
    else:
        response = redirect(request, _url(token, language, anchor="feedback"), flash=notice)
    _set_code_cookie(response, event, token, code, settings, utcnow())
    return response


@router.post("/i/{token}/feedback/forget")
async def forget_code(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    """Takes the edit code off this device (a shared computer, say)."""
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    data = await _answer_data(request)
    choice = (data.get("lang") or [""])[0]
    event, _contact, language = await _context_for(request, found, session, settings, choice)
    response = redirect(
        request,
        _url(token, language, anchor="feedback"),
        flash=_("This device does not keep your code any more."),
    )
    response.delete_cookie(code_cookie(event), path=_cookie_path(token))
    return response
