"""Coverage for the demo's past event: a few posts by attendees (one without the disclosure of
the paid travel, to show the warning) and one an organizer found. Written once."""

from datetime import timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import Organizer
from meetups.checkin.desk import attended_invitees
from meetups.coverage.models import CoverageKind, CoverageLink
from meetups.events.models import Event

# (attendee's place among the attendees or None for an organizer's find, kind, title, site, url,
#  days after the event, discloses the paid travel)
ENTRIES = (
    (
        0,
        CoverageKind.blog_post,
        "Zu Besuch in Montabaur: Was ein Provider von Bloggern lernen will",
        "Netzgeflüster",
        "https://netzgefluester.example.org/2026/montabaur",
        2,
        True,
    ),
    (
        1,
        CoverageKind.video,
        "Blogger-Treffen beim Provider – mein Vlog",
        "YouTube",
        "https://video.example.com/watch?v=montabaur-vlog",
        4,
        True,
    ),
    (
        4,
        CoverageKind.social_post,
        "Thread: 7 Dinge, die ich heute über Glasfaser gelernt habe",
        "Mastodon",
        "https://social.example.net/@technikliebe/112233",
        0,
        False,
    ),
    (
        None,
        CoverageKind.article,
        "Blogger zu Gast in der Firmenzentrale",
        "Westerwald-Kurier",
        "https://westerwald-kurier.example.com/lokales/blogger-zu-gast",
        3,
        None,
    ),
)


async def add_demo_coverage(event: Event, organizer: Organizer, *, session: AsyncSession) -> int:
    existing = await session.exec(
        select(CoverageLink.id).where(CoverageLink.event_id == event.id).limit(1)
    )
    if existing.first() is not None:
        return 0
    attendees = await attended_invitees(event, session=session)
    added = 0
    for place, kind, title, site, url, days, discloses in ENTRIES:
        invitee = None
        if place is not None:
            if place >= len(attendees):
                continue
            invitee = attendees[place]
        session.add(
            CoverageLink(
                event_id=event.id,  # type: ignore[arg-type]
                url=url,
                title=title,
                site=site,
                kind=kind,
                published_on=(event.ends_at + timedelta(days=days)).date(),
                discloses_paid_travel=discloses,
                invitee_id=invitee.id if invitee else None,
                author_name="" if invitee else "Redaktion Westerwald-Kurier",
                added_by_id=None if invitee else organizer.id,
            )
        )
        added += 1
    await session.flush()
    return added
