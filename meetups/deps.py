"""Typed FastAPI dependencies shared by every area's routes."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.login import organizer_for_token
from meetups.accounts.models import Organizer, Role
from meetups.config import Settings
from meetups.db import MAX_ROW_ID, Database

SESSION_COOKIE = "meetups_session"
LANGUAGE_COOKIE = "meetups_lang"


class LoginRequired(Exception):
    """Raised for organizer pages without a valid session; answered with a redirect to login."""


class RoleRequired(Exception):
    def __init__(self, role: Role) -> None:
        super().__init__(role.value)
        self.role = role


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_database(request: Request) -> Database:
    return request.app.state.database


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; unsafe methods write, and on SQLite take the write lock at once."""
    database: Database = request.app.state.database
    async with database.session(write=request.method not in {"GET", "HEAD"}) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]
SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def release_connection(session: AsyncSession) -> None:
    """Ends the reading session's transaction, which hands its connection back to the pool, before
    a write in a session of its own: a request holding one connection while it waits for a second
    deadlocks the pool once every connection is held that way (a burst of first openings did,
    in bench/). What was read stays usable (nothing expires on commit)."""
    await session.commit()


# A row id taken from the path (`organizer_id: RowId`); not a number or out of range gives a 404
# instead of reaching the database and failing there.
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]


def session_cookie_name(settings: Settings) -> str:
    # The __Host- prefix pins the cookie to our origin, but browsers accept it only over https.
    return f"__Host-{SESSION_COOKIE}" if settings.uses_https else SESSION_COOKIE


async def current_organizer(
    request: Request, session: SessionDep, settings: SettingsDep
) -> Organizer:
    organizer = await organizer_for_token(
        request.cookies.get(session_cookie_name(settings)), session=session
    )
    if organizer is None:
        raise LoginRequired
    request.state.organizer = organizer
    return organizer


def require_role(role: Role) -> Callable[[Organizer], Awaitable[Organizer]]:
    """A dependency that lets through organizers whose role includes `role`, and answers the
    others with a 403 page."""

    async def dependency(organizer: Annotated[Organizer, Depends(current_organizer)]) -> Organizer:
        if not organizer.role.allows(role):
            raise RoleRequired(role)
        return organizer

    return dependency


CurrentOrganizer = Annotated[Organizer, Depends(current_organizer)]
Viewer = CurrentOrganizer
Editor = Annotated[Organizer, Depends(require_role(Role.organizer))]
Admin = Annotated[Organizer, Depends(require_role(Role.admin))]
