"""The invitee's side: the page behind the personal link, answering, details, unsubscribing.

Nobody signs in here: the link is the key. Opening the page changes nothing but the "opened"
mark (mail scanners open links before people do); every answer is a POST. Wrong links get a
friendly page and are counted per client address, so guessing is throttled. Every response
carries `Referrer-Policy: no-referrer`, so the link never leaks to another site.
"""

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups import i18n
from meetups.calendar.invites import guest_page_context
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import Database
from meetups.deps import SessionDep, SettingsDep, release_connection
from meetups.errors import DomainError, ValidationFailed
from meetups.forms import form_data, is_checked
from meetups.htmx import is_htmx, redirect, render
from meetups.i18n import gettext as _
from meetups.invitations import guessing, rsvp, unsubscribe
from meetups.invitations.links import invitee_for_token
from meetups.invitations.messages import answers_close_at, map_url
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.invitations.unsubscribe import unsubscribe_url

router = APIRouter()

PRIVATE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def page_language(choice: str | None, contact: Contact | None, settings: Settings) -> str:
    """The language chosen on the page, else the contact's, else the site's default."""
    if choice in i18n.LANGUAGES:
        return choice  # type: ignore[return-value]
    if contact is not None and contact.language in i18n.LANGUAGES:
        return contact.language
    return settings.default_language


def personal_page(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    block: str | None = None,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return render(
        request,
        template,
        context,
        block=block,
        status_code=status_code,
        headers={**PRIVATE_HEADERS, **(headers or {})},
    )


def _whole_page_on_htmx() -> dict[str, str]:
    # An htmx request aimed at a fragment gets a whole-page answer (a wrong link, say).
    return {"HX-Retarget": "#main", "HX-Reswap": "innerHTML"}


def _wrong_link(request: Request, settings: Settings, *, what: str = "invitation") -> Response:
    i18n.set_locale(page_language(request.query_params.get("lang"), None, settings))
    return personal_page(
        request,
        "rsvp/invalid.html",
        {"what": what},
        block="content",
        status_code=404,
        headers=_whole_page_on_htmx() if is_htmx(request) else None,
    )


def _throttled(request: Request, settings: Settings) -> Response:
    i18n.set_locale(page_language(request.query_params.get("lang"), None, settings))
    minutes = settings.login_failure_window_minutes
    return personal_page(
        request,
        "rsvp/throttled.html",
        {"minutes": minutes},
        block="content",
        status_code=429,
        headers={
            "Retry-After": str(minutes * 60),
            **(_whole_page_on_htmx() if is_htmx(request) else {}),
        },
    )


async def _count_wrong_link(request: Request, session: SessionDep) -> None:
    if request.method == "GET":
        # A page view reads in its own session; the count is written separately, after handing
        # the reading session's connection back (see `release_connection`).
        await release_connection(session)
        database: Database = request.app.state.database
        async with database.session(write=True) as writer:
            await guessing.record_wrong_link(_client(request), session=writer)
            await writer.commit()
    else:
        await session.rollback()
        await guessing.record_wrong_link(_client(request), session=session)
        await session.commit()


async def find_invitee(
    request: Request, token: str, session: SessionDep, settings: Settings
) -> Invitee | Response:
    """The invitee behind `token`, or the page to answer with instead."""
    if await guessing.too_many_wrong_links(_client(request), session=session, settings=settings):
        return _throttled(request, settings)
    invitee = await invitee_for_token(token, session=session)
    if invitee is None:
        await _count_wrong_link(request, session)
        return _wrong_link(request, settings)
    return invitee


async def _after_rollback(invitee: Invitee, session: SessionDep) -> Invitee:
    """Undoes what the failed attempt changed and reads the invitee afresh."""
    invitee_id = invitee.id
    await session.rollback()
    fresh = await session.get(Invitee, invitee_id, populate_existing=True)
    return fresh if fresh is not None else invitee


def _page_url(token: str, language: str, anchor: str = "answer") -> str:
    return f"/i/{token}?{urlencode({'lang': language})}#{anchor}"


def _details_values(invitee: Invitee) -> dict[str, Any]:
    return {name: getattr(invitee, name) for name in rsvp.DETAIL_FIELDS}


def _rsvp_page(
    request: Request,
    token: str,
    state: rsvp.RsvpState,
    settings: Settings,
    *,
    language: str,
    notice: str = "",
    error: str = "",
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    event = state.event
    context = {
        "title": event.title,
        "state": state,
        "invitee": state.invitee,
        "contact": state.contact,
        "event": event,
        "token": token,
        "page_language": language,
        "map_url": map_url(event),
        "deadline": answers_close_at(event),
        "unsubscribe_url": unsubscribe_url(state.contact, settings),
        "notice": notice,
        "error": error,
        "values": values if values is not None else _details_values(state.invitee),
        "errors": errors or {},
        "statuses": InviteeStatus,
        **guest_page_context(event, state.invitee, settings),  # Add to calendar, check-in code
    }
    return personal_page(request, "rsvp/page.html", context, block="rsvp", status_code=status_code)


@router.get("/i/{token}")
async def invitation_page(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    state = await rsvp.page_state(found, session=session)
    language = page_language(request.query_params.get("lang"), state.contact, settings)
    i18n.set_locale(language)
    if found.opened_at is None:
        await release_connection(session)
        database: Database = request.app.state.database
        async with database.session(write=True) as writer:
            await rsvp.record_opened(found, session=writer)
            await writer.commit()
    return _rsvp_page(request, token, state, settings, language=language)


def _answer_notice(outcome: rsvp.AnswerOutcome) -> str:
    if not outcome.changed:
        if outcome.status == InviteeStatus.waitlisted:
            return _("You are still on the waitlist. We will write to you when a place is free.")
        return _("This was your answer already; nothing has changed.")
    notices = {
        InviteeStatus.accepted: _(
            "Thank you! You are on the guest list. We have sent you a confirmation by e-mail."
        ),
        InviteeStatus.maybe: _(
            "Thank you! Please let us know for certain as soon as you can. "
            "We have sent you a confirmation by e-mail."
        ),
        InviteeStatus.declined: _(
            "Thank you for letting us know. We have sent you a confirmation by e-mail."
        ),
        InviteeStatus.waitlisted: _(
            "All places are taken at the moment, so you are on the waitlist. "
            "We will write to you as soon as a place is free for you."
        ),
    }
    return notices.get(outcome.status, "")


@router.post("/i/{token}")
async def answer_invitation(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    data = await form_data(request)
    contact = await session.get(Contact, found.contact_id)
    language = page_language(data.get("lang"), contact, settings)
    i18n.set_locale(language)
    try:
        outcome = await rsvp.answer(
            found, data.get("answer"), session=session, settings=settings, language=language
        )
    except DomainError as error:
        found = await _after_rollback(found, session)
        state = await rsvp.page_state(found, session=session)
        status = 409 if isinstance(error, rsvp.AnswersClosed) else 422
        return _rsvp_page(
            request,
            token,
            state,
            settings,
            language=language,
            error=error.message,
            status_code=status,
        )
    await session.commit()
    notice = _answer_notice(outcome)
    if not is_htmx(request):
        return redirect(request, _page_url(token, language), flash=notice)
    state = await rsvp.page_state(found, session=session)
    return _rsvp_page(request, token, state, settings, language=language, notice=notice)


@router.post("/i/{token}/details")
async def save_details(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    data = await form_data(request)
    contact = await session.get(Contact, found.contact_id)
    language = page_language(data.get("lang"), contact, settings)
    i18n.set_locale(language)
    try:
        await rsvp.save_details(found, data, session=session, settings=settings, language=language)
    except DomainError as error:
        found = await _after_rollback(found, session)
        state = await rsvp.page_state(found, session=session)
        errors = error.errors if isinstance(error, ValidationFailed) else {}
        status = 409 if isinstance(error, rsvp.AnswersClosed) else 422
        return _rsvp_page(
            request,
            token,
            state,
            settings,
            language=language,
            error="" if errors else error.message,
            values={**data, "needs_hotel": is_checked(data, "needs_hotel")} if errors else None,
            errors=errors,
            status_code=status,
        )
    await session.commit()
    notice = _("Your details are saved. Thank you!")
    if not is_htmx(request):
        return redirect(request, _page_url(token, language, "details"), flash=notice)
    state = await rsvp.page_state(found, session=session)
    return _rsvp_page(request, token, state, settings, language=language, notice=notice)


@router.api_route("/i/{token}/{rest:path}", methods=["GET", "POST"])
async def beside_the_page(
    request: Request, token: str, rest: str, session: SessionDep, settings: SettingsDep
) -> Response:
    """Any other address under a personal link (a link cut or garbled in transit): the page itself
    for a good link, the friendly page for a wrong one."""
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    return redirect(request, f"/i/{token}")


# Unsubscribing (RFC 8058): the link in List-Unsubscribe takes a POST without cookies and
# without a CSRF token (its prefix is exempt in meetups.web), and answers it without a redirect.
# A GET shows a page with a button, so that a link scanner unsubscribes nobody.


def _masked(email: str) -> str:
    """a•••@example.com: enough to recognize one's own address, not to harvest it."""
    local, _at, domain = email.partition("@")
    return f"{local[:2]}•••@{domain}" if domain else "•••"


async def _unsubscribe_contact(
    request: Request, token: str, session: SessionDep, settings: Settings
) -> Contact | Response:
    if await guessing.too_many_wrong_links(_client(request), session=session, settings=settings):
        return _throttled(request, settings)
    contact = await unsubscribe.contact_for_token(token, session=session, secret=settings.secret)
    if contact is None:
        await _count_wrong_link(request, session)
        return _wrong_link(request, settings, what="unsubscribe")
    return contact


@router.get("/unsubscribe/{token:path}")
async def unsubscribe_page(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    found = await _unsubscribe_contact(request, token, session, settings)
    if isinstance(found, Response):
        return found
    i18n.set_locale(page_language(request.query_params.get("lang"), found, settings))
    already = await unsubscribe.is_suppressed(found.email, session=session)
    context = {
        "title": _("Unsubscribe"),
        "address": _masked(found.email),
        "done": already,
        "token": token,
    }
    return personal_page(request, "rsvp/unsubscribe.html", context)


@router.post("/unsubscribe/{token:path}")
async def unsubscribe_now(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    found = await _unsubscribe_contact(request, token, session, settings)
    if isinstance(found, Response):
        return found
    i18n.set_locale(page_language(request.query_params.get("lang"), found, settings))
    await unsubscribe.unsubscribe(found, session=session)
    await session.commit()
    context = {
        "title": _("Unsubscribed"),
        "address": _masked(found.email),
        "done": True,
        "token": token,
    }
    return personal_page(request, "rsvp/unsubscribe.html", context)
