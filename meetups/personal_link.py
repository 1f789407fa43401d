"""The pages behind an invitee's personal link, `/i/{token}/...`: what they all share.

Nobody signs in there: the link is the key. A wrong link gets a friendly page and is counted per
client address, so guessing is throttled. Every response carries `Referrer-Policy: no-referrer`,
so the link never leaks to another site, and is neither indexed nor cached. The invitation page,
travel costs, feedback, coverage and the invitee's own data all open the link here, so that every
page behind it behaves alike.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups import i18n
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import Database
from meetups.deps import release_connection
from meetups.errors import NotFound
from meetups.events.models import Event
from meetups.forms import form_data
from meetups.htmx import is_htmx, render
from meetups.i18n import gettext as _
from meetups.invitations import guessing
from meetups.invitations.links import invitee_for_token, link_holder_for_token
from meetups.invitations.models import Invitee

PRIVATE_HEADERS = {
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex, nofollow",
    "Cache-Control": "no-store",
}


def client_address(request: Request) -> str:
    """Whom wrong links are counted against."""
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


def _whole_page_on_htmx(request: Request) -> dict[str, str]:
    # An htmx request aimed at a fragment gets a whole-page answer (a wrong link, say).
    return {"HX-Retarget": "#main", "HX-Reswap": "innerHTML"} if is_htmx(request) else {}


def wrong_link_page(request: Request, settings: Settings, *, what: str = "invitation") -> Response:
    i18n.set_locale(page_language(request.query_params.get("lang"), None, settings))
    return personal_page(
        request,
        "rsvp/invalid.html",
        {"what": what},
        block="content",
        status_code=404,
        headers=_whole_page_on_htmx(request),
    )


def throttled_page(request: Request, settings: Settings) -> Response:
    i18n.set_locale(page_language(request.query_params.get("lang"), None, settings))
    minutes = settings.login_failure_window_minutes
    return personal_page(
        request,
        "rsvp/throttled.html",
        {"minutes": minutes},
        block="content",
        status_code=429,
        headers={"Retry-After": str(minutes * 60), **_whole_page_on_htmx(request)},
    )


async def count_wrong_link(request: Request, session: AsyncSession) -> None:
    """Counts a wrong (or spent) link against the client, so that guessing gets throttled."""
    if request.method == "GET":
        # A page view reads in its own session; the count is written separately, after handing
        # the reading session's connection back (see `release_connection`).
        await release_connection(session)
        database: Database = request.app.state.database
        async with database.session(write=True) as writer:
            await guessing.record_wrong_link(client_address(request), session=writer)
            await writer.commit()
    else:
        await session.rollback()
        await guessing.record_wrong_link(client_address(request), session=session)
        await session.commit()


async def _throttled(request: Request, session: AsyncSession, settings: Settings) -> bool:
    return await guessing.too_many_wrong_links(
        client_address(request), session=session, settings=settings
    )


async def find_invitee(
    request: Request, token: str, session: AsyncSession, settings: Settings
) -> Invitee | Response:
    """The invitee behind `token`, or the page to answer with instead."""
    if await _throttled(request, session, settings):
        return throttled_page(request, settings)
    invitee = await invitee_for_token(token, session=session)
    if invitee is None:
        await count_wrong_link(request, session)
        return wrong_link_page(request, settings)
    return invitee


@dataclass(frozen=True)
class PersonalLink:
    """An invitee reached through their personal link, with what every page behind it shows."""

    token: str
    invitee: Invitee
    event: Event
    contact: Contact
    language: str

    def url(self, path: str = "", anchor: str = "") -> str:
        """An address behind the link (`path` such as "/travel") in the page's language."""
        query = urlencode({"lang": self.language})
        return f"/i/{self.token}{path}?{query}" + (f"#{anchor}" if anchor else "")

    def page_context(self, title: str) -> dict[str, Any]:
        """What every page behind the link shows; each page adds its own."""
        return {
            "title": title,
            "event": self.event,
            "contact": self.contact,
            "token": self.token,
            "page_language": self.language,
        }


async def personal_link_for(
    request: Request, token: str, invitee: Invitee, session: AsyncSession, settings: Settings
) -> PersonalLink:
    """The found invitee's event and contact, and the page's language, set for this response."""
    event = await session.get(Event, invitee.event_id)
    contact = await session.get(Contact, invitee.contact_id)
    return await _personal_link(request, token, invitee, event, contact, settings)


async def _personal_link(
    request: Request,
    token: str,
    invitee: Invitee,
    event: Event | None,
    contact: Contact | None,
    settings: Settings,
) -> PersonalLink:
    """The language chosen on the page comes from the form on a POST (every form behind the link
    sends `lang`), else from the address (`?lang=`)."""
    choice = (await form_data(request)).get("lang") if request.method == "POST" else None
    language = page_language(choice or request.query_params.get("lang"), contact, settings)
    i18n.set_locale(language)
    if event is None or contact is None:
        # Both are foreign keys of the guest-list row: deleted since the link was looked up.
        raise NotFound(_("This invitation no longer exists."))
    return PersonalLink(
        token=token, invitee=invitee, event=event, contact=contact, language=language
    )


async def open_personal_link(
    request: Request, token: str, session: AsyncSession, settings: Settings
) -> PersonalLink | Response:
    """The link's invitee with their event and contact (read in one query) and the page language,
    or the page to answer with instead (a wrong link, or too many of them from this client)."""
    if await _throttled(request, session, settings):
        return throttled_page(request, settings)
    found = await link_holder_for_token(token, session=session)
    if found is None:
        await count_wrong_link(request, session)
        return wrong_link_page(request, settings)
    invitee, event, contact = found
    return await _personal_link(request, token, invitee, event, contact, settings)


async def invitee_after_rollback(invitee: Invitee, session: AsyncSession) -> Invitee:
    """Undoes what a failed attempt changed and reads the invitee afresh."""
    invitee_id = invitee.id  # read before the rollback expires it
    await session.rollback()
    fresh = await session.get(Invitee, invitee_id, populate_existing=True)
    return fresh if fresh is not None else invitee
