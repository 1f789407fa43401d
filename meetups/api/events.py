"""Events: list, read, create, change, publish."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.api import event_fields
from meetups.api.auth import ApiEditor, ApiViewer, AuthenticatedRoute
from meetups.api.errors import error_responses
from meetups.api.pagination import Page, Paging, fetch_page
from meetups.api.schemas import EventCreate, EventOut, EventUpdate, EventUpdated, GuestCountsOut
from meetups.calendar import changes
from meetups.config import Settings
from meetups.db import utcnow
from meetups.deps import SessionDep, SettingsDep
from meetups.events import manage
from meetups.events.listing import GuestCounts, Section, guest_counts, section_condition
from meetups.events.lookup import get_event_by_slug
from meetups.events.models import Event
from meetups.mail.background import wake_worker

router = APIRouter(route_class=AuthenticatedRoute, tags=["events"])


class EventPage(Page[EventOut]):
    pass


def event_out(event: Event, counts: GuestCounts, settings: Settings) -> EventOut:
    values = event_fields.event_values(event)
    for name in event_fields.TIME_FIELDS:
        values[name] = event_fields.in_zone(values[name], event.timezone)
    return EventOut(
        **values,
        id=event.id,  # type: ignore[arg-type]
        slug=event.slug,
        url=settings.absolute_url(f"/events/{event.slug}"),
        status=event.status,
        archived_at=event.archived_at,
        created_at=event.created_at,
        updated_at=event.updated_at,
        guests=GuestCountsOut(
            on_list=counts.on_list,
            not_invited=counts.not_invited,
            invited=counts.invited,
            accepted=counts.accepted,
            declined=counts.declined,
            maybe=counts.maybe,
            waitlisted=counts.waitlisted,
            free_places=counts.free_places(event.capacity),
        ),
    )


async def _out(event: Event, *, session: AsyncSession, settings: Settings) -> EventOut:
    counts = (await guest_counts([event.id], session=session))[event.id]  # type: ignore[list-item,index]
    return event_out(event, counts, settings)


@router.get(
    "/events",
    summary="List events",
    responses=error_responses(401, 422),
)
async def list_events(
    session: SessionDep,
    settings: SettingsDep,
    organizer: ApiViewer,
    paging: Paging,
    section: Annotated[
        Literal["upcoming", "drafts", "past", "archived"] | None,
        Query(description="Only the events of one section of the events page."),
    ] = None,
) -> EventPage:
    """Every event (or one section of them), the latest start first."""
    query = select(Event).order_by(col(Event.starts_at).desc(), col(Event.id).desc())
    if section is not None:
        query = query.where(section_condition(Section(section), utcnow()))
    events, total = await fetch_page(query, session=session, paging=paging)
    counts = await guest_counts([e.id for e in events if e.id is not None], session=session)
    return EventPage.of(
        [event_out(event, counts[event.id], settings) for event in events],  # type: ignore[index]
        total=total,
        paging=paging,
    )


@router.post(
    "/events",
    status_code=201,
    summary="Create an event",
    response_description="The new event, a draft.",
    responses=error_responses(400, 401, 403, 413, 422),
)
async def create_event(
    body: EventCreate,
    response: Response,
    session: SessionDep,
    settings: SettingsDep,
    organizer: ApiEditor,
) -> EventOut:
    """A new draft, checked like the event form; publish it before inviting guests."""
    values = body.model_dump()
    values["timezone"] = values["timezone"] or settings.default_timezone
    values["language"] = values["language"] or settings.default_language
    fields = event_fields.parse(
        values,
        default_timezone=settings.default_timezone,
        contact_name=organizer.name,
        contact_email=organizer.email,
    )
    event = await manage.create_event(fields, organizer=organizer, session=session)
    await session.commit()
    response.headers["Location"] = f"/api/v1/events/{event.slug}"
    return await _out(event, session=session, settings=settings)


@router.get(
    "/events/{slug}",
    summary="Read an event",
    responses=error_responses(401, 404),
)
async def read_event(
    slug: str, session: SessionDep, settings: SettingsDep, organizer: ApiViewer
) -> EventOut:
    event = await get_event_by_slug(slug, session=session)
    return await _out(event, session=session, settings=settings)


@router.patch(
    "/events/{slug}",
    summary="Change an event",
    responses=error_responses(400, 401, 403, 404, 409, 413, 422),
)
async def update_event(
    request: Request,
    slug: str,
    body: EventUpdate,
    session: SessionDep,
    settings: SettingsDep,
    organizer: ApiEditor,
) -> EventUpdated:
    """Changes the fields sent, with the checks of the event form. Archived events cannot be
    changed. A new time or place of a published event is e-mailed to everyone who accepted or
    said maybe, with the moved calendar entry, unless `notify_guests` is false."""
    event = await get_event_by_slug(slug, session=session)
    sent = body.model_dump(exclude_unset=True)
    fields = event_fields.parse(
        event_fields.updated_values(event, sent),
        default_timezone=settings.default_timezone,
        contact_name=organizer.name,
        contact_email=organizer.email,
    )
    outcome = await changes.save_event(
        event, fields, notify=body.notify_guests, session=session, settings=settings
    )
    await session.commit()
    if outcome.told:
        wake_worker(request.app.state)
    return EventUpdated(
        event=await _out(event, session=session, settings=settings), guests_told=outcome.told
    )


@router.post(
    "/events/{slug}/publish",
    summary="Publish a draft",
    responses=error_responses(401, 403, 404, 409),
)
async def publish_event(
    slug: str, session: SessionDep, settings: SettingsDep, organizer: ApiEditor
) -> EventOut:
    """Makes a draft ready for invitations (refused for events that are over, cancelled or
    archived)."""
    event = await get_event_by_slug(slug, session=session)
    await manage.publish_event(event, session=session)
    await session.commit()
    return await _out(event, session=session, settings=settings)
