"""The check-in tab: a phone at the door scans codes or searches names and checks guests in.

Every action answers an htmx request with the guest's card (the same markup wherever the guest is
shown) and an `HX-Trigger: checkin-changed` that refreshes the counts at once; without JavaScript
the forms post and come back to the page with a message.
"""

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups.accounts.models import Organizer
from meetups.checkin import desk
from meetups.checkin.codes import checkin_code, checkin_path, checkin_url, parse_code, qr_svg
from meetups.checkin.desk import CheckInRefused, DeskGuest
from meetups.contacts.book import clean_query
from meetups.deps import (
    CurrentOrganizer,
    Editor,
    LoginRequired,
    SessionDep,
    SettingsDep,
    current_organizer,
)
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.events.lookup import get_event_by_slug
from meetups.events.models import Event
from meetups.forms import form_data, is_checked
from meetups.htmx import is_htmx, redirect, render
from meetups.i18n import gettext as _
from meetups.invitations.models import InviteeStatus
from meetups.personal_link import PRIVATE_HEADERS, find_invitee

router = APIRouter()

CHANGED = {"HX-Trigger": "checkin-changed"}


def _desk_url(event: Event, **query: str) -> str:
    values = {key: value for key, value in query.items() if value}
    return f"/events/{event.slug}/checkin" + (f"?{urlencode(values)}" if values else "")


def _can_act(organizer: Organizer) -> bool:
    return organizer.role.value != "viewer"


async def _page_context(
    request: Request, event: Event, organizer: Organizer, *, session: SessionDep, query: str = ""
) -> dict[str, Any]:
    guests, more = await desk.search_guests(event, query, session=session)
    return {
        "event": event,
        "active_tab": "checkin",
        "counts": await desk.desk_counts(event, session=session),
        "problem": desk.desk_problem(event),
        "can_act": _can_act(organizer),
        "query": clean_query(query),
        "guests": guests,
        "more": more,
        "result": None,
        "result_message": "",
        "result_kind": "",
        "code": "",
        "walk_in": {},
        "walk_in_errors": {},
    }


@router.get("/events/{slug}/checkin")
async def checkin_page(
    request: Request,
    slug: str,
    session: SessionDep,
    settings: SettingsDep,
    organizer: CurrentOrganizer,
    q: str = "",
    code: str = "",
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    context = await _page_context(request, event, organizer, session=session, query=q)
    status_code = 200
    if code.strip():
        context["code"] = code.strip()[:200]
        try:
            context["result"] = await desk.guest_for_code(
                event, code, session=session, settings=settings
            )
        except CheckInRefused as refused:
            context["result_message"], context["result_kind"] = refused.message, "bad"
            status_code = 404
    return render(request, "checkin/desk.html", context, block="tab", status_code=status_code)


@router.get("/events/{slug}/checkin/counts")
async def checkin_counts(
    request: Request, slug: str, session: SessionDep, organizer: CurrentOrganizer
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    context = {
        "event": event,
        "active_tab": "checkin",
        "counts": await desk.desk_counts(event, session=session),
    }
    if not is_htmx(request):
        return redirect(request, _desk_url(event))
    return render(request, "checkin/desk.html", context, block="counts")


@router.get("/events/{slug}/checkin/search")
async def checkin_search(
    request: Request, slug: str, session: SessionDep, organizer: CurrentOrganizer, q: str = ""
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    if not is_htmx(request):
        return redirect(request, _desk_url(event, q=clean_query(q)))
    guests, more = await desk.search_guests(event, q, session=session)
    context = {
        "event": event,
        "guests": guests,
        "more": more,
        "query": clean_query(q),
        "can_act": _can_act(organizer),
        "problem": desk.desk_problem(event),
    }
    return render(request, "checkin/desk.html", context, block="results")


@router.get("/events/{slug}/checkin/code")
async def checkin_code_lookup(
    request: Request,
    slug: str,
    session: SessionDep,
    settings: SettingsDep,
    organizer: CurrentOrganizer,
    code: str = "",
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    if not is_htmx(request):
        return redirect(request, _desk_url(event, code=code.strip()[:200]))
    context: dict[str, Any] = {
        "event": event,
        "can_act": _can_act(organizer),
        "problem": desk.desk_problem(event),
        "result": None,
        "result_message": "",
        "result_kind": "",
    }
    try:
        context["result"] = await desk.guest_for_code(
            event, code, session=session, settings=settings
        )
    except CheckInRefused as refused:
        context["result_message"], context["result_kind"] = refused.message, "bad"
        return render(request, "checkin/desk.html", context, block="result", status_code=404)
    return render(request, "checkin/desk.html", context, block="result")


# Where a guest's card can be on the page, and how to find it there.
CARD_PLACES = {"result": "#checkin-result", "list": "#checkin-results"}


def _card(
    request: Request,
    event: Event,
    guest: DeskGuest,
    organizer: Organizer,
    *,
    where: str,
    message: str = "",
    kind: str = "ok",
    status_code: int = 200,
) -> Response:
    where = where if where in CARD_PLACES else "list"
    other = next(place for place in CARD_PLACES if place != where)
    context = {
        "event": event,
        "guest": guest,
        "can_act": _can_act(organizer),
        "problem": desk.desk_problem(event),
        "message": message,
        "kind": kind,
        "where": where,
        "other": other,
        "other_selector": f"{CARD_PLACES[other]} [data-guest=guest-{guest.invitee.id}]",
    }
    return render(
        request,
        "checkin/_guest_response.html",
        context,
        status_code=status_code,
        headers=CHANGED,
    )


async def _act(
    request: Request,
    event: Event,
    organizer: Organizer,
    session: SessionDep,
    action: Any,
    done: Any,
) -> Response:
    """Runs one desk action and answers with the card (htmx) or the page with a message."""
    data = await form_data(request)
    back = _desk_url(event, q=clean_query(data.get("q")))
    try:
        guest = await action(data)
    except CheckInRefused as refused:
        # Nothing was changed (a check-in that lost a race undid only its own savepoint): the
        # card shows the guest as they are, with the reason.
        if is_htmx(request) and refused.guest is not None:
            return _card(
                request,
                event,
                refused.guest,
                organizer,
                where=data.get("where", ""),
                message=refused.message,
                kind="warn",
                status_code=409,
            )
        return redirect(request, back, flash=refused.message)
    except NotFound:
        raise  # the friendly 404 page
    except DomainError as error:
        return redirect(request, back, flash=error.message)
    await session.commit()
    if not is_htmx(request):
        return redirect(request, back, flash=done(guest))
    return _card(request, event, guest, organizer, where=data.get("where", ""), message=done(guest))


@router.post("/events/{slug}/checkin/guests/{invitee_id}")
async def check_in_guest(
    request: Request, slug: str, invitee_id: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    return await _act(
        request,
        event,
        organizer,
        session,
        lambda _data: desk.check_in(event, invitee_id, organizer=organizer, session=session),
        lambda guest: _("%(name)s is checked in.", name=guest.contact.name),
    )


@router.post("/events/{slug}/checkin/guests/{invitee_id}/undo")
async def undo_check_in(
    request: Request, slug: str, invitee_id: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    return await _act(
        request,
        event,
        organizer,
        session,
        lambda _data: desk.undo_check_in(event, invitee_id, session=session),
        lambda guest: _("The check-in of %(name)s is undone.", name=guest.contact.name),
    )


@router.post("/events/{slug}/checkin/guests/{invitee_id}/plus-one")
async def plus_one_arrived(
    request: Request, slug: str, invitee_id: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)

    def done(guest: DeskGuest) -> str:
        if guest.check_in is not None and guest.check_in.plus_one_arrived:
            return _("%(name)s has arrived too.", name=guest.plus_one)
        return _("%(name)s is marked as not arrived.", name=guest.plus_one)

    return await _act(
        request,
        event,
        organizer,
        session,
        lambda data: desk.set_plus_one_arrived(
            event, invitee_id, is_checked(data, "arrived"), session=session
        ),
        done,
    )


@router.post("/events/{slug}/checkin/walk-in")
async def add_walk_in(
    request: Request, slug: str, session: SessionDep, organizer: Editor
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    data = await form_data(request)
    values = {key: data.get(key, "")[:300] for key in ("name", "email")}
    try:
        guest = await desk.add_walk_in(event, data, organizer=organizer, session=session)
    except ValidationFailed as error:
        # Refused before anything was added (the fields, or a guest who is in already).
        context = await _page_context(request, event, organizer, session=session)
        context.update(walk_in=values, walk_in_errors=error.errors)
        return render(request, "checkin/desk.html", context, block="walk_in", status_code=422)
    except CheckInRefused as refused:
        # Refused before anything was added (the fields, or a guest who is in already).
        context = await _page_context(request, event, organizer, session=session)
        context.update(walk_in=values, walk_in_errors={"_form": refused.message})
        return render(request, "checkin/desk.html", context, block="walk_in", status_code=409)
    except DomainError as error:
        return redirect(request, f"/events/{slug}/checkin", flash=error.message)
    await session.commit()
    message = (
        _("%(name)s is added to the guest list and checked in.", name=guest.contact.name)
        if guest.check_in is not None and guest.check_in.walk_in
        else _(
            "%(name)s was on the guest list already and is now checked in.",
            name=guest.contact.name,
        )
    )
    if not is_htmx(request):
        return redirect(request, _desk_url(event), flash=message)
    context = await _page_context(request, event, organizer, session=session)
    context.update(walk_in_done=guest, walk_in_message=message)
    return render(request, "checkin/desk.html", context, block="walk_in", headers=CHANGED)


@router.get("/checkin/{code}")
async def scanned_code(
    request: Request, code: str, session: SessionDep, settings: SettingsDep
) -> Response:
    """Where a phone's own camera app leads when it reads a guest's QR code: a signed-in
    organizer lands on the guest at the check-in page; anyone else (the guest, say) learns what
    the code is for."""
    parsed = parse_code(code, settings.secret)
    event = await session.get(Event, parsed.event_id) if parsed else None
    try:
        await current_organizer(request, session, settings)
    except LoginRequired:
        return render(
            request,
            "checkin/code_info.html",
            {
                "event": event,
                "valid": event is not None,
                "login_url": "/login?" + urlencode({"next": checkin_path(code.strip()[:200])}),
            },
            status_code=200 if event is not None else 404,
            headers={"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"},
        )
    if event is None:
        return render(
            request,
            "error.html",
            {
                "title": _("Not a check-in code"),
                "message": _("This is not a valid check-in code."),
                "status_code": 404,
            },
            status_code=404,
        )
    return redirect(request, _desk_url(event, code=code.strip()))


def qr_response(content: str, *, title: str) -> Response:
    return Response(
        qr_svg(content, title=title),
        media_type="image/svg+xml",
        headers={
            "Cache-Control": "private, no-store",
            "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


@router.get("/i/{token}/checkin.svg")
async def invitee_qr(
    request: Request, token: str, session: SessionDep, settings: SettingsDep
) -> Response:
    """The guest's own check-in QR code, shown on their page once they have a place."""
    found = await find_invitee(request, token, session, settings)
    if isinstance(found, Response):
        return found
    if found.status != InviteeStatus.accepted:
        return Response(status_code=404, headers=PRIVATE_HEADERS)
    code = checkin_code(found.event_id, found.id or 0, settings.secret)
    return Response(
        qr_svg(checkin_url(code, settings), title=_("Check-in code")),
        media_type="image/svg+xml",
        headers={**PRIVATE_HEADERS, "Content-Security-Policy": "default-src 'none'"},
    )
