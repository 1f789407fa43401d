"""Finding events."""

import re

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.errors import NotFound
from meetups.events.models import Event
from meetups.i18n import gettext as _

_SLUG = re.compile(r"[a-z0-9-]+", re.ASCII)


async def get_event_by_slug(slug: str, *, session: AsyncSession) -> Event:
    # Slugs are made of a-z, 0-9 and "-" only; anything else (a NUL byte, say) never reaches SQL.
    if len(slug) > 80 or not _SLUG.fullmatch(slug):
        raise NotFound(_("There is no such event."))
    event = (await session.exec(select(Event).where(Event.slug == slug))).first()
    if event is None:
        raise NotFound(_("There is no such event."))
    return event
