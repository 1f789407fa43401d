"""The invitee's side: the page behind the personal link, answering, details, unsubscribing.

Nobody signs in here: the link is the key (opened as on every page behind it, see
meetups.personal_link). Opening the page changes nothing but the "opened" mark (mail scanners
open links before people do); every answer is a POST.
"""

from collections.abc import Mapping
from typing import Any

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
from meetups.htmx import is_htmx, redirect
from meetups.i18n import gettext as _
from meetups.invitations import guessing, rsvp, unsubscribe
from meetups.invitations.messages import answers_close_at, map_url
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.invitations.unsubscribe import unsubscribe_url
from meetups.personal_link import (
    PersonalLink,
    client_address,
    count_wrong_link,
    find_invitee,
    invitee_after_rollback,
    open_personal_link,
    page_language,
    personal_page,
    throttled_page,
    wrong_link_page,
)

router = APIRouter()


def _details_values(invitee: Invitee) -> dict[str, Any]:
    return {name: getattr(invitee, name) for name in rsvp.DETAIL_FIELDS}


def _rsvp_page(
    request: Request,
    link: PersonalLink,
    state: rsvp.RsvpState,
    settings: Settings,
    *,
    notice: str = "",
    error: str = "",
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    event = state.event
    context = {
        **link.page_context(event.title),
        "state": state,
        "invitee": state.invitee,
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
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    state = await rsvp.page_state(link.invitee, session=session)
    if link.invitee.opened_at is None:
        await release_connection(session)
        database: Database = request.app.state.database
        async with database.session(write=True) as writer:
            await rsvp.record_opened(link.invitee, session=writer)
            await writer.commit()
    return _rsvp_page(request, link, state, settings)


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
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    data = await form_data(request)
    try:
        outcome = await rsvp.answer(
            link.invitee,
            data.get("answer"),
            session=session,
            settings=settings,
            language=link.language,
        )
    except DomainError as error:
        invitee = await invitee_after_rollback(link.invitee, session)
        state = await rsvp.page_state(invitee, session=session)
        status = 409 if isinstance(error, rsvp.AnswersClosed) else 422
        return _rsvp_page(request, link, state, settings, error=error.message, status_code=status)
    await session.commit()
    notice = _answer_notice(outcome)
    if not is_htmx(request):
        return redirect(request, link.url(anchor="answer"), flash=notice)
    state = await rsvp.page_state(link.invitee, session=session)
    return _rsvp_page(request, link, state, settings, notice=notice)


@router.post("/i/{token}/details")
async def save_details(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    link = await open_personal_link(request, token, session, settings)
    if isinstance(link, Response):
        return link
    data = await form_data(request)
    try:
        await rsvp.save_details(
            link.invitee, data, session=session, settings=settings, language=link.language
        )
    except DomainError as error:
        invitee = await invitee_after_rollback(link.invitee, session)
        state = await rsvp.page_state(invitee, session=session)
        errors = error.errors if isinstance(error, ValidationFailed) else {}
        status = 409 if isinstance(error, rsvp.AnswersClosed) else 422
        return _rsvp_page(
            request,
            link,
            state,
            settings,
            error="" if errors else error.message,
            values={**data, "needs_hotel": is_checked(data, "needs_hotel")} if errors else None,
            errors=errors,
            status_code=status,
        )
    await session.commit()
    notice = _("Your details are saved. Thank you!")
    if not is_htmx(request):
        return redirect(request, link.url(anchor="details"), flash=notice)
    state = await rsvp.page_state(link.invitee, session=session)
    return _rsvp_page(request, link, state, settings, notice=notice)


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
    if await guessing.too_many_wrong_links(
        client_address(request), session=session, settings=settings
    ):
        return throttled_page(request, settings)
    contact = await unsubscribe.contact_for_token(token, session=session, secret=settings.secret)
    if contact is None:
        await count_wrong_link(request, session)
        return wrong_link_page(request, settings, what="unsubscribe")
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
