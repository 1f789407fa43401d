"""The attendee list: a printable page and a CSV file, for catering and the door."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from meetups.deps import SessionDep, Viewer
from meetups.events.lookup import get_event_by_slug
from meetups.htmx import render
from meetups.invitations import attendees

router = APIRouter()


@router.get("/events/{slug}/attendees")
async def attendee_page(
    request: Request, slug: str, session: SessionDep, organizer: Viewer
) -> Response:
    event = await get_event_by_slug(slug, session=session)
    listing = await attendees.attendee_list(event, session=session)
    context = {"event": event, "active_tab": "guests", "listing": listing}
    return render(request, "invitations/attendees.html", context)


@router.get("/events/{slug}/attendees.csv")
async def attendee_csv(slug: str, session: SessionDep, organizer: Viewer) -> Response:
    event = await get_event_by_slug(slug, session=session)
    listing = await attendees.attendee_list(event, session=session)
    return Response(
        attendees.attendee_csv(listing),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{attendees.csv_filename(event)}"'},
    )
