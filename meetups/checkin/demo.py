"""The demo's past event at the door: most guests who accepted came, two did not."""

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import Organizer
from meetups.checkin.models import CheckIn
from meetups.events.models import Event
from meetups.invitations.models import Invitee, InviteeStatus

NO_SHOWS = 2


async def add_demo_check_ins(event: Event, organizer: Organizer, *, session: AsyncSession) -> int:
    """Checks in all accepted guests but the last two, arriving around the start; returns how
    many were checked in now (0 when the event has check-ins already)."""
    existing = select(func.count()).select_from(CheckIn).where(CheckIn.event_id == event.id)
    if (await session.exec(existing)).one():
        return 0
    query = (
        select(Invitee)
        .where(Invitee.event_id == event.id, Invitee.status == InviteeStatus.accepted)
        .order_by(col(Invitee.id))
    )
    accepted = list((await session.exec(query)).all())
    arriving = accepted[: max(len(accepted) - NO_SHOWS, 0)]
    for index, invitee in enumerate(arriving):
        session.add(
            CheckIn(
                invitee_id=invitee.id,  # type: ignore[arg-type]
                event_id=event.id,  # type: ignore[arg-type]
                checked_in_at=event.starts_at + timedelta(minutes=index * 2 - 20),
                checked_in_by_id=organizer.id,
                # One plus-one stayed at home after all.
                plus_one_arrived=bool(invitee.plus_one_name) and index != 0,
            )
        )
    await session.flush()
    return len(arriving)
