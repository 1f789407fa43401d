"""An event's guests: the list with their status and answers, adding and removing them.

A guest id names a guest of one event: under another event's address it is not found."""

from collections.abc import Iterable
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.api.auth import ApiEditor, ApiViewer, AuthenticatedRoute
from meetups.api.errors import error_responses, invalid_fields
from meetups.api.event_fields import in_zone
from meetups.api.pagination import Page, Paging, fetch_page
from meetups.api.schemas import GuestAdd, GuestAnswers, GuestOut, GuestRef, GuestRemoved
from meetups.config import Settings
from meetups.contacts import book
from meetups.contacts.models import Contact
from meetups.db import MAX_ROW_ID
from meetups.deps import SessionDep, SettingsDep
from meetups.errors import NotFound
from meetups.events.lookup import get_event_by_slug
from meetups.events.models import Event
from meetups.i18n import gettext as _
from meetups.invitations import guest_list, waitlist
from meetups.invitations.models import Invitee
from meetups.invitations.tracking import GuestFilter, filter_condition
from meetups.mail.background import wake_worker

router = APIRouter(route_class=AuthenticatedRoute, tags=["guests"])

GuestId = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="The guest's id.")]


class GuestPage(Page[GuestOut]):
    pass


def guest_out(
    event: Event,
    invitee: Invitee,
    contact: Contact,
    settings: Settings,
    position: int | None,
) -> GuestOut:
    zone = event.timezone
    return GuestOut(
        id=invitee.id,  # type: ignore[arg-type]
        contact_id=contact.id,  # type: ignore[arg-type]
        name=contact.name,
        email=contact.email,
        language=contact.language,
        status=invitee.status,
        url=settings.absolute_url(f"/events/{event.slug}/guests/{invitee.id}"),
        added_at=in_zone(invitee.added_at, zone),  # type: ignore[arg-type]
        invited_at=in_zone(invitee.invited_at, zone),
        opened_at=in_zone(invitee.opened_at, zone),
        responded_at=in_zone(invitee.responded_at, zone),
        seats=invitee.seats,
        waitlist_position=position,
        erased_at=in_zone(invitee.erased_at, zone),
        answers=GuestAnswers(
            plus_one_name=invitee.plus_one_name,
            dietary_needs=invitee.dietary_needs,
            accessibility_needs=invitee.accessibility_needs,
            travelling_from=invitee.travelling_from,
            needs_hotel=invitee.needs_hotel,
            comment=invitee.comment,
        ),
    )


async def waitlist_positions(event: Event, *, session: AsyncSession) -> dict[int, int]:
    return {
        invitee.id: position
        for position, invitee in enumerate(await waitlist.waitlisted(event, session=session), 1)
        if invitee.id is not None
    }


async def guest_ids_by_contact(
    event: Event, contacts: Iterable[Contact], *, session: AsyncSession
) -> dict[int, int]:
    """contact id -> guest id, for these contacts on the event's guest list (a contact is on a
    guest list once)."""
    contact_ids = sorted({contact.id for contact in contacts if contact.id is not None})
    found: dict[int, int] = {}
    for start in range(0, len(contact_ids), 500):
        query = select(Invitee.contact_id, Invitee.id).where(
            Invitee.event_id == event.id,
            col(Invitee.contact_id).in_(contact_ids[start : start + 500]),
        )
        found.update((await session.exec(query)).all())  # type: ignore[arg-type]
    return found


async def guest_refs(
    event: Event, contacts: Iterable[Contact], *, session: AsyncSession
) -> list[GuestRef]:
    """These contacts as guests of `event`, in the order given."""
    people = list(contacts)
    ids = await guest_ids_by_contact(event, people, session=session)
    return [
        GuestRef(id=ids[contact.id], name=contact.name)
        for contact in people
        if contact.id is not None and contact.id in ids
    ]


async def _one_guest_out(
    event: Event, invitee_id: int, *, session: AsyncSession, settings: Settings
) -> GuestOut:
    guest = await guest_list.get_guest(event, invitee_id, session=session)
    position = await waitlist.waitlist_position(guest.invitee, session=session)
    return guest_out(event, guest.invitee, guest.contact, settings, position)


@router.get(
    "/events/{slug}/guests",
    summary="List an event's guests",
    responses=error_responses(401, 404, 422),
)
async def list_guests(
    slug: str,
    session: SessionDep,
    settings: SettingsDep,
    organizer: ApiViewer,
    paging: Paging,
    status: Annotated[
        GuestFilter | None,
        Query(
            description="Only these guests: a status, or all_invited (everyone who got an "
            "invitation), opened, bounced, unsubscribed."
        ),
    ] = None,
    q: Annotated[
        str, Query(max_length=200, description="Words in the name, e-mail address, city or tags.")
    ] = "",
) -> GuestPage:
    """The guest list by name, with each guest's status and answers (never their personal
    link: it goes to the guest alone)."""
    event = await get_event_by_slug(slug, session=session)
    query = (
        select(Invitee, Contact)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(Invitee.event_id == event.id, *book.contains_words(q))
        .order_by(col(Contact.search_key), col(Invitee.id))
    )
    if status is not None:
        query = query.where(filter_condition(status, event.id))  # type: ignore[arg-type]
    rows, total = await fetch_page(query, session=session, paging=paging)
    positions = await waitlist_positions(event, session=session)
    return GuestPage.of(
        [
            guest_out(event, invitee, contact, settings, positions.get(invitee.id))  # type: ignore[arg-type]
            for invitee, contact in rows
        ],
        total=total,
        paging=paging,
    )


@router.get(
    "/events/{slug}/guests/{guest_id}",
    summary="Read one guest",
    responses=error_responses(401, 404),
)
async def read_guest(
    slug: str, guest_id: GuestId, session: SessionDep, settings: SettingsDep, organizer: ApiViewer
) -> GuestOut:
    event = await get_event_by_slug(slug, session=session)
    return await _one_guest_out(event, guest_id, session=session, settings=settings)


async def _contact_to_add(contact_id: int, *, session: AsyncSession) -> Contact:
    try:
        contact = await book.get_contact(contact_id, session=session)
    except NotFound as error:
        raise invalid_fields({"contact_id": error.message}) from None
    if contact.is_anonymized:
        raise invalid_fields({"contact_id": _("This person is no longer in the address book.")})
    return contact


@router.post(
    "/events/{slug}/guests",
    status_code=201,
    summary="Add a guest",
    response_description="The guest, newly on the guest list.",
    responses={
        200: {"model": GuestOut, "description": "The person was on the guest list already."},
        **error_responses(400, 401, 403, 404, 409, 413, 422),
    },
)
async def add_guest(
    slug: str,
    body: GuestAdd,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    organizer: ApiEditor,
) -> GuestOut:
    """Puts someone from the address book (`contact_id`) or a new person (`name`, `email`) on
    the guest list, not invited yet. Someone on the list already is answered with 200 and left
    as they are."""
    event = await get_event_by_slug(slug, session=session)
    person = body.model_dump(exclude={"contact_id"}, exclude_none=True)
    if body.contact_id is not None:
        if person:
            raise invalid_fields(
                {"contact_id": _("Send either contact_id or a new person's details, not both.")}
            )
        contact = await _contact_to_add(body.contact_id, session=session)
        result = await guest_list.add_guests(event, [str(contact.id)], session=session)
        added = bool(result.added)
    else:
        guest = await guest_list.add_new_guest(event, person, session=session)
        contact, added = guest.contact, guest.added
    await session.commit()
    invitee = (
        await session.exec(
            select(Invitee).where(Invitee.event_id == event.id, Invitee.contact_id == contact.id)
        )
    ).one()
    if added:
        response.headers["Location"] = f"/api/v1/events/{event.slug}/guests/{invitee.id}"
    else:
        response.status_code = 200
    return await _one_guest_out(event, invitee.id, session=session, settings=settings)  # type: ignore[arg-type]


@router.delete(
    "/events/{slug}/guests/{guest_id}",
    summary="Remove a guest",
    responses=error_responses(401, 403, 404, 409),
)
async def remove_guest(
    request: Request,
    slug: str,
    guest_id: GuestId,
    session: SessionDep,
    settings: SettingsDep,
    organizer: ApiEditor,
) -> GuestRemoved:
    """Takes someone off the guest list (their address book entry stays). Their personal link
    stops working; places they held are freed and the waitlist moves up, the guests moving up
    told by e-mail. Refused for cancelled and archived events."""
    event = await get_event_by_slug(slug, session=session)
    guest = await guest_list.get_guest(event, guest_id, session=session)
    removal = await guest_list.remove_guest(event, guest_id, session=session, settings=settings)
    promoted = await guest_refs(event, removal.promoted, session=session)
    await session.commit()
    if removal.promoted:
        wake_worker(request.app.state)
    return GuestRemoved(
        guest=GuestRef(id=guest_id, name=guest.contact.name),
        places_freed=removal.freed,
        promoted=promoted,
    )
