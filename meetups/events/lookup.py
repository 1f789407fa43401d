"""Finding events."""

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.errors import NotFound
from meetups.events.models import Event
from meetups.i18n import gettext as _


async def get_event_by_slug(slug: str, *, session: AsyncSession) -> Event:
    if len(slug) > 80:
        raise NotFound(_("There is no such event."))
    event = (await session.exec(select(Event).where(Event.slug == slug))).first()
    if event is None:
        raise NotFound(_("There is no such event."))
    return event
