"""Forgotten passwords: a link by e-mail that lets an organizer choose a new one.

- Asking for a link answers the same whatever the address (no list of accounts for whoever asks),
  and does the same work either way: the e-mail is rendered even when nobody gets it.
- The link carries 256 random bits; only their SHA-256 is stored. It works once, for
  MEETUPS_PASSWORD_RESET_LIFETIME_MINUTES, and only for an active organizer.
- Using one link voids every other link of that organizer, and ends all their sign-ins: whoever
  knew the old password is out. They then sign in with the new password like every day.
- Requests are throttled per address and per client, in the sign-in throttle's table.
"""

import hashlib
import logging
import re
import secrets
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.login import TooManyAttempts
from meetups.accounts.models import LoginFailure, LoginSession, Organizer, PasswordReset
from meetups.accounts.organizers import check_password
from meetups.accounts.passwords import hash_password
from meetups.config import Settings
from meetups.db import utcnow
from meetups.errors import DomainError, ValidationFailed
from meetups.i18n import LANGUAGES, ngettext
from meetups.i18n import gettext as _
from meetups.mail.models import OutboxMessage
from meetups.validation import normalize_email

log = logging.getLogger("meetups.accounts")

KIND = "password_reset"
TOKEN_BYTES = 32
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{43}")
# Each request may send an e-mail: few per address (nobody needs more), more per client (an
# office shares one address), both within the sign-in throttling window.
REQUESTS_PER_ADDRESS = 3
REQUESTS_PER_CLIENT = 10


class InvalidResetLink(DomainError):
    """Unknown, used, expired, or its organizer was deactivated."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _throttle_keys(email: str, client: str) -> tuple[str, str]:
    return f"password-reset:email:{email[:254]}", f"password-reset:client:{client[:100]}"


async def _requests_since(key: str, since: datetime, *, session: AsyncSession) -> int:
    query = (
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.key == key, col(LoginFailure.failed_at) >= since)
    )
    return (await session.exec(query)).one()


def reset_url(token: str, settings: Settings) -> str:
    return settings.absolute_url(f"/password-reset/{token}")


async def request_reset(
    email: str, *, client: str, session: AsyncSession, settings: Settings
) -> None:
    """Queues a reset link to `email` if it belongs to an active organizer; otherwise does the
    same work and sends nothing. Raises ValidationFailed for what is no address and
    TooManyAttempts when this address or client asked too often; neither depends on whether the
    account exists. The caller commits (the request counts towards throttling either way)."""
    try:
        address = normalize_email(email)
    except ValueError as error:
        raise ValidationFailed({"email": str(error)}) from None
    now = utcnow()
    window = timedelta(minutes=settings.login_failure_window_minutes)
    address_key, client_key = _throttle_keys(address, client)
    if (
        await _requests_since(address_key, now - window, session=session) >= REQUESTS_PER_ADDRESS
        or await _requests_since(client_key, now - window, session=session) >= REQUESTS_PER_CLIENT
    ):
        minutes = settings.login_failure_window_minutes
        raise TooManyAttempts(
            ngettext(
                "Too many requests. Please wait %(num)s minute and try again.",
                "Too many requests. Please wait %(num)s minutes and try again.",
                minutes,
            )
        )
    session.add(LoginFailure(key=address_key, failed_at=now))
    session.add(LoginFailure(key=client_key, failed_at=now))

    organizer = (await session.exec(select(Organizer).where(Organizer.email == address))).first()
    token = secrets.token_urlsafe(TOKEN_BYTES)
    lifetime = settings.password_reset_lifetime_minutes
    try:
        message = _queue_message(
            organizer.email if organizer else address,
            organizer.name if organizer else "",
            organizer.language if organizer else None,
            reset_url(token, settings),
            lifetime,
            session=session,
            settings=settings,
        )
    except ValueError:
        # An address the checks let through that no message header can carry: nobody to send to.
        log.warning("password reset: the address cannot be written into an e-mail")
        return
    if organizer is None or not organizer.is_active:
        # Rendered and composed like a real one, so that the answer takes as long; never stored.
        session.expunge(message)
        return
    session.add(
        PasswordReset(
            organizer_id=organizer.id,  # type: ignore[arg-type]
            token_hash=_hash(token),
            created_at=now,
            expires_at=now + timedelta(minutes=lifetime),
        )
    )


def _queue_message(
    address: str,
    name: str,
    language: str | None,
    link: str,
    minutes: int,
    *,
    session: AsyncSession,
    settings: Settings,
) -> OutboxMessage:
    # Imported here: the invitee e-mails' module pulls in most areas of the app.
    from meetups.invitations.messages import render_email
    from meetups.mail.outbox import queue_email

    rendered = render_email(
        KIND,
        language if language in LANGUAGES else settings.default_language,
        {
            "name": name,
            "email": address,
            "link": link,
            "minutes": minutes,
            "site": settings.site_domain,
            "organizer_name": "meetups",
        },
    )
    return queue_email(
        session=session,
        settings=settings,
        to=address,
        to_name=name,
        subject=rendered.subject,
        text=rendered.text,
        html=rendered.html,
        kind=KIND,
    )


async def valid_reset(token: str, *, session: AsyncSession) -> PasswordReset | None:
    """The unused, unexpired reset of an active organizer behind `token`, or None."""
    if not TOKEN_PATTERN.fullmatch(token):
        return None
    query = (
        select(PasswordReset)
        .join(Organizer, col(Organizer.id) == col(PasswordReset.organizer_id))
        .where(
            PasswordReset.token_hash == _hash(token),
            col(PasswordReset.used_at).is_(None),
            col(PasswordReset.expires_at) > utcnow(),
            col(Organizer.is_active),
        )
    )
    return (await session.exec(query)).first()


async def organizer_of(reset: PasswordReset, *, session: AsyncSession) -> Organizer:
    organizer = await session.get(Organizer, reset.organizer_id)
    if organizer is None:
        raise InvalidResetLink(link_gone_message())
    return organizer


async def complete_reset(token: str, *, new: str, repeat: str, session: AsyncSession) -> Organizer:
    """Sets the new password, uses up every reset link of the organizer and ends all their
    sign-ins. Raises InvalidResetLink, or ValidationFailed for a password the rules refuse."""
    reset = await valid_reset(token, session=session)
    if reset is None:
        raise InvalidResetLink(link_gone_message())
    if problem := check_password(new):
        raise ValidationFailed({"new_password": problem})
    if new != repeat:
        raise ValidationFailed({"new_password_repeat": _("The two passwords differ.")})
    now = utcnow()
    # Conditional, so that the same link sent twice at once changes the password only once.
    taken = await session.exec(  # type: ignore[call-overload]
        update(PasswordReset)
        .where(col(PasswordReset.id) == reset.id, col(PasswordReset.used_at).is_(None))
        .values(used_at=now)
    )
    if taken.rowcount != 1:
        raise InvalidResetLink(link_gone_message())
    organizer = await organizer_of(reset, session=session)
    await void_reset_links(organizer, session=session)
    organizer.password_hash = hash_password(new)
    session.add(organizer)
    await session.exec(  # type: ignore[call-overload]
        delete(LoginSession).where(col(LoginSession.organizer_id) == organizer.id)
    )
    # Failed sign-ins before the reset need not keep the owner waiting now.
    await session.exec(  # type: ignore[call-overload]
        delete(LoginFailure).where(col(LoginFailure.key) == f"email:{organizer.email}")
    )
    return organizer


async def void_reset_links(organizer: Organizer, *, session: AsyncSession) -> None:
    """Every reset link of `organizer` not used yet stops working (after a new password)."""
    await session.exec(  # type: ignore[call-overload]
        update(PasswordReset)
        .where(
            col(PasswordReset.organizer_id) == organizer.id,
            col(PasswordReset.used_at).is_(None),
        )
        .values(used_at=utcnow())
    )


def link_gone_message() -> str:
    return _(
        "This link does not work (any more): it may have been used already, or it expired. "
        "Ask for a new one."
    )
