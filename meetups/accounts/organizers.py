"""Organizer accounts: the first admin, adding people, roles, deactivation, own settings."""

from sqlalchemy import func, text
from sqlmodel import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import LoginSession, Organizer, Role
from meetups.accounts.passwords import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    hash_password,
    verify_password,
)
from meetups.db import MAX_ROW_ID
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.i18n import LANGUAGES
from meetups.i18n import gettext as _
from meetups.validation import clean_name, normalize_email


async def organizer_count(*, session: AsyncSession) -> int:
    return (await session.exec(select(func.count()).select_from(Organizer))).one()


def check_password(password: str) -> str | None:
    """The reason a new password is refused, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return _("Use at least %(min)s characters.", min=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        return _("At most %(max)s characters, please.", max=MAX_PASSWORD_LENGTH)
    if password.strip() == "" or len(set(password)) < 4:
        return _("This password is too easy to guess.")
    return None


async def _validated(
    *, session: AsyncSession, name: str, email: str, password: str, password_repeat: str | None
) -> tuple[str, str]:
    errors: dict[str, str] = {}
    try:
        name = clean_name(name)
    except ValueError as error:
        errors["name"] = str(error)
    try:
        email = normalize_email(email)
    except ValueError as error:
        errors["email"] = str(error)
    else:
        taken = await session.exec(select(Organizer.id).where(Organizer.email == email))
        if taken.first() is not None:
            errors["email"] = _("An organizer with this e-mail address exists already.")
    if problem := check_password(password):
        errors["password"] = problem
    elif password_repeat is not None and password != password_repeat:
        errors["password_repeat"] = _("The two passwords differ.")
    if errors:
        raise ValidationFailed(errors)
    return name, email


async def create_first_admin(
    *,
    session: AsyncSession,
    name: str,
    email: str,
    password: str,
    password_repeat: str,
    language: str,
) -> Organizer:
    if session.get_bind().dialect.name == "postgresql":
        # Two set-up forms sent at once must not both find "nobody yet" (SQLite writers are
        # serialized already: they begin IMMEDIATE).
        await session.exec(text("LOCK TABLE organizer IN SHARE ROW EXCLUSIVE MODE"))  # type: ignore[call-overload]
    if await organizer_count(session=session) > 0:
        raise DomainError(_("The first administrator has been created already. Please sign in."))
    name, email = await _validated(
        session=session, name=name, email=email, password=password, password_repeat=password_repeat
    )
    admin = Organizer(
        name=name,
        email=email,
        password_hash=hash_password(password),
        role=Role.admin,
        language=language if language in LANGUAGES else None,
    )
    session.add(admin)
    await session.flush()
    return admin


async def add_organizer(
    *, session: AsyncSession, name: str, email: str, password: str, role: str
) -> Organizer:
    try:
        chosen_role = Role(role)
    except ValueError:
        raise ValidationFailed({"role": _("Please choose a role.")}) from None
    name, email = await _validated(
        session=session, name=name, email=email, password=password, password_repeat=None
    )
    organizer = Organizer(
        name=name, email=email, password_hash=hash_password(password), role=chosen_role
    )
    session.add(organizer)
    await session.flush()
    return organizer


async def get_organizer(organizer_id: int, *, session: AsyncSession) -> Organizer:
    organizer = (
        await session.get(Organizer, organizer_id) if 0 < organizer_id <= MAX_ROW_ID else None
    )
    if organizer is None:
        raise NotFound(_("This organizer does not exist."))
    return organizer


async def _active_admins(*, session: AsyncSession) -> int:
    """How many active administrators there are, locking them (on PostgreSQL) so that two admins
    demoting each other at the same moment cannot leave nobody in charge."""
    query = (
        select(Organizer.id)
        .where(Organizer.role == Role.admin, Organizer.is_active)
        .with_for_update()
    )
    return len((await session.exec(query)).all())


async def change_role(organizer: Organizer, role: str, *, session: AsyncSession) -> None:
    try:
        new_role = Role(role)
    except ValueError:
        raise ValidationFailed({"role": _("Please choose a role.")}) from None
    if (
        organizer.role == Role.admin
        and new_role != Role.admin
        and organizer.is_active
        and await _active_admins(session=session) <= 1
    ):
        raise DomainError(
            _("The last active administrator must stay an administrator."), field="role"
        )
    organizer.role = new_role
    session.add(organizer)


async def set_active(organizer: Organizer, active: bool, *, session: AsyncSession) -> None:
    if (
        not active
        and organizer.role == Role.admin
        and organizer.is_active
        and await _active_admins(session=session) <= 1
    ):
        raise DomainError(_("The last active administrator cannot be deactivated."))
    organizer.is_active = active
    session.add(organizer)
    if not active:
        # A deactivated account is signed out everywhere at once.
        await session.exec(delete(LoginSession).where(LoginSession.organizer_id == organizer.id))  # type: ignore[call-overload]


async def set_language(organizer: Organizer, language: str, *, session: AsyncSession) -> None:
    if language not in LANGUAGES:
        raise DomainError(_("This language is not available."))
    organizer.language = language
    session.add(organizer)


async def list_organizers(*, session: AsyncSession) -> list[Organizer]:
    result = await session.exec(
        select(Organizer).order_by(Organizer.is_active.desc(), Organizer.name)
    )  # type: ignore[attr-defined]
    return list(result.all())


async def change_password(
    organizer: Organizer, *, current: str, new: str, repeat: str, session: AsyncSession
) -> None:
    if not verify_password(current[:MAX_PASSWORD_LENGTH], organizer.password_hash):
        raise ValidationFailed({"current_password": _("This is not your current password.")})
    if problem := check_password(new):
        raise ValidationFailed({"new_password": problem})
    if new != repeat:
        raise ValidationFailed({"new_password_repeat": _("The two passwords differ.")})
    organizer.password_hash = hash_password(new)
    session.add(organizer)


def role_label(role: Role) -> str:
    return {
        Role.admin: _("Administrator"),
        Role.organizer: _("Organizer"),
        Role.viewer: _("Viewer"),
    }[role]
