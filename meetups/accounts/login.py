"""Signing in and out: server-side sessions, and throttling of failed attempts."""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import LoginFailure, LoginSession, Organizer
from meetups.accounts.passwords import MAX_PASSWORD_LENGTH, verify_password
from meetups.db import utcnow
from meetups.errors import DomainError
from meetups.i18n import gettext as _
from meetups.i18n import ngettext

# An address may try more often than one account: an office shares its address.
FAILURES_PER_CLIENT_FACTOR = 4


@dataclass(frozen=True)
class ThrottlePolicy:
    max_failures: int
    window: timedelta


class TooManyAttempts(DomainError):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _throttle_keys(email: str, client: str) -> tuple[str, str]:
    return f"email:{email.strip().lower()[:254]}", f"client:{client[:100]}"


async def _failures_since(key: str, *, session: AsyncSession, policy: ThrottlePolicy) -> int:
    since = utcnow() - policy.window
    query = (
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.key == key, LoginFailure.failed_at >= since)
    )
    return (await session.exec(query)).one()


async def authenticate(
    email: str, password: str, *, client: str, session: AsyncSession, policy: ThrottlePolicy
) -> Organizer:
    """The organizer for these credentials; raises DomainError and records the failure otherwise."""
    email_key, client_key = _throttle_keys(email, client)
    if (
        await _failures_since(email_key, session=session, policy=policy) >= policy.max_failures
        or await _failures_since(client_key, session=session, policy=policy)
        >= policy.max_failures * FAILURES_PER_CLIENT_FACTOR
    ):
        minutes = int(policy.window.total_seconds() // 60)
        raise TooManyAttempts(
            ngettext(
                "Too many failed attempts. Please wait %(num)s minute and try again.",
                "Too many failed attempts. Please wait %(num)s minutes and try again.",
                minutes,
            )
        )
    normalized = email.strip().lower()
    organizer = None
    if normalized and len(password) <= MAX_PASSWORD_LENGTH:
        organizer = (
            await session.exec(select(Organizer).where(Organizer.email == normalized))
        ).first()
    password_ok = verify_password(
        password[:MAX_PASSWORD_LENGTH], organizer.password_hash if organizer else None
    )
    if organizer is None or not password_ok or not organizer.is_active:
        session.add(LoginFailure(key=email_key))
        session.add(LoginFailure(key=client_key))
        raise DomainError(_("E-mail address or password is wrong, or the account is deactivated."))
    await session.exec(delete(LoginFailure).where(LoginFailure.key == email_key))  # type: ignore[call-overload]
    return organizer


async def start_session(organizer: Organizer, *, session: AsyncSession, lifetime: timedelta) -> str:
    """A new session token (a new id at every sign-in, against session fixation)."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    session.add(
        LoginSession(token_hash=_hash(token), organizer_id=organizer.id, expires_at=now + lifetime)
    )  # type: ignore[arg-type]
    organizer.last_login_at = now
    session.add(organizer)
    # Housekeeping that needs no scheduler: expired sessions and old failures go at each sign-in.
    await session.exec(delete(LoginSession).where(LoginSession.expires_at < now))  # type: ignore[call-overload]
    await session.exec(delete(LoginFailure).where(LoginFailure.failed_at < now - timedelta(days=1)))  # type: ignore[call-overload]
    return token


async def organizer_for_token(token: str | None, *, session: AsyncSession) -> Organizer | None:
    if not token or len(token) > 100:
        return None
    query = (
        select(Organizer)
        .join(LoginSession, LoginSession.organizer_id == Organizer.id)  # type: ignore[arg-type]
        .where(
            LoginSession.token_hash == _hash(token),
            LoginSession.expires_at > utcnow(),
            Organizer.is_active,
        )
    )
    return (await session.exec(query)).first()


async def end_session(token: str | None, *, session: AsyncSession) -> None:
    if token:
        await session.exec(delete(LoginSession).where(LoginSession.token_hash == _hash(token)))  # type: ignore[call-overload]


async def end_other_sessions(
    organizer: Organizer, *, keep: str | None, session: AsyncSession
) -> None:
    """Signs the organizer out everywhere but in the browser holding `keep` (after a new
    password)."""
    query = delete(LoginSession).where(LoginSession.organizer_id == organizer.id)  # type: ignore[arg-type]
    if keep:
        query = query.where(LoginSession.token_hash != _hash(keep))  # type: ignore[arg-type]
    await session.exec(query)  # type: ignore[call-overload]
