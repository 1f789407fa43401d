"""Throttling people who try personal links at random.

A link holds 192 bits of secret, so guessing cannot succeed; throttling keeps the attempts from
costing us much and makes them visible. Wrong links are counted per client address, in the table
the sign-in throttling uses; a client over the limit gets a polite "wait a few minutes" page for
every personal link until the window has passed.
"""

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import LoginFailure
from meetups.config import Settings
from meetups.db import utcnow

# An office or a mobile network shares one address among many people: be generous.
WRONG_LINKS_PER_WINDOW = 20
KEEP_FAILURES = timedelta(days=1)


def _key(client: str) -> str:
    return f"invitee-link:{client[:100]}"


def window(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.login_failure_window_minutes)


async def too_many_wrong_links(client: str, *, session: AsyncSession, settings: Settings) -> bool:
    since = utcnow() - window(settings)
    query = (
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.key == _key(client), LoginFailure.failed_at >= since)
    )
    return (await session.exec(query)).one() >= WRONG_LINKS_PER_WINDOW


async def record_wrong_link(client: str, *, session: AsyncSession) -> None:
    """Counts one wrong link from `client`, and forgets counts older than a day."""
    now = utcnow()
    session.add(LoginFailure(key=_key(client), failed_at=now))
    await session.exec(  # type: ignore[call-overload]
        delete(LoginFailure).where(
            LoginFailure.key == _key(client),  # type: ignore[arg-type]
            LoginFailure.failed_at < now - KEEP_FAILURES,  # type: ignore[arg-type]
        )
    )
