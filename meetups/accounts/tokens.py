"""Personal API tokens: an organizer creates and revokes their own in the browser; scripts send
them as `Authorization: Bearer mtk_...` to the JSON API.

A token is 256 random bits behind a recognisable prefix (`mtk_`, so that secret scanners and
people can tell what it is). It is shown once, at creation; the database keeps only its SHA-256
and its first characters (for the owner to tell tokens apart), so a copy of the database cannot
be used to call the API. A token acts with its owner's role at the moment of use and stops
working when it is revoked or its owner is deactivated.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import ApiToken, Organizer
from meetups.db import MAX_ROW_ID, utcnow
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.i18n import gettext as _
from meetups.validation import clean_text

TOKEN_PREFIX = "mtk_"  # noqa: S105 - a public marker, not a secret
# What the owner sees of a token afterwards: the prefix and 8 characters of the secret part.
SHOWN_PREFIX_LENGTH = len(TOKEN_PREFIX) + 8
MAX_NAME_LENGTH = 100
MAX_ACTIVE_TOKENS = 25
# A token longer than this is no token of ours: refused before any hashing or lookup.
MAX_TOKEN_LENGTH = 100
# "Last used" is a hint for the owner, not an audit log: written at most once a minute per token,
# so that a busy script does not turn every read into a write.
LAST_USED_PRECISION = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class CreatedToken:
    token: ApiToken
    secret: str  # the whole token: shown to its owner once, never stored


def _clean_name(value: str | None) -> str:
    try:
        name = " ".join(clean_text(value, max_length=MAX_NAME_LENGTH).split())
    except ValueError as error:
        raise ValidationFailed({"name": str(error)}) from None
    if not name:
        raise ValidationFailed(
            {"name": _("Please give the token a name, e.g. the script using it.")}
        )
    return name


async def active_count(organizer: Organizer, *, session: AsyncSession) -> int:
    query = (
        select(func.count())
        .select_from(ApiToken)
        .where(ApiToken.organizer_id == organizer.id, col(ApiToken.revoked_at).is_(None))
    )
    return (await session.exec(query)).one()


async def create_token(organizer: Organizer, name: str, *, session: AsyncSession) -> CreatedToken:
    """A new token of `organizer`; the caller shows `secret` once and commits."""
    clean = _clean_name(name)
    if await active_count(organizer, session=session) >= MAX_ACTIVE_TOKENS:
        raise DomainError(
            _(
                "You have %(max)s tokens already. Revoke one you no longer use first.",
                max=MAX_ACTIVE_TOKENS,
            )
        )
    secret = new_token()
    token = ApiToken(
        organizer_id=organizer.id,  # type: ignore[arg-type]
        name=clean,
        prefix=secret[:SHOWN_PREFIX_LENGTH],
        token_hash=_hash(secret),
    )
    session.add(token)
    await session.flush()
    return CreatedToken(token=token, secret=secret)


async def tokens_of(organizer: Organizer, *, session: AsyncSession) -> list[ApiToken]:
    """The organizer's tokens, active ones first, newest first."""
    query = (
        select(ApiToken)
        .where(ApiToken.organizer_id == organizer.id)
        .order_by(
            col(ApiToken.revoked_at).is_not(None),
            col(ApiToken.created_at).desc(),
            col(ApiToken.id).desc(),
        )
    )
    return list((await session.exec(query)).all())


async def revoke_token(
    organizer: Organizer, token_id: int, *, session: AsyncSession, now: datetime | None = None
) -> ApiToken:
    """Revokes one of the organizer's own tokens; another's token is as unknown as a missing one.
    Revoking twice changes nothing."""
    token = await session.get(ApiToken, token_id) if 0 < token_id <= MAX_ROW_ID else None
    if token is None or token.organizer_id != organizer.id:
        raise NotFound(_("There is no such token."))
    if token.revoked_at is None:
        token.revoked_at = now or utcnow()
        session.add(token)
        await session.flush()
    return token


def looks_like_token(value: str) -> bool:
    return (
        value.startswith(TOKEN_PREFIX)
        and len(value) <= MAX_TOKEN_LENGTH
        and value.isascii()
        and value.isprintable()
    )


async def organizer_for_api_token(
    value: str | None, *, session: AsyncSession
) -> tuple[Organizer, ApiToken] | None:
    """The active organizer behind a token that is theirs and not revoked, or None."""
    if not value or not looks_like_token(value):
        return None
    query = (
        select(Organizer, ApiToken)
        .join(ApiToken, col(ApiToken.organizer_id) == Organizer.id)
        .where(
            ApiToken.token_hash == _hash(value),
            col(ApiToken.revoked_at).is_(None),
            col(Organizer.is_active).is_(True),
        )
    )
    found = (await session.exec(query)).first()
    return (found[0], found[1]) if found else None


def needs_last_used_update(token: ApiToken, now: datetime | None = None) -> bool:
    now = now or utcnow()
    return token.last_used_at is None or token.last_used_at <= now - LAST_USED_PRECISION


async def mark_used(token_id: int, *, session: AsyncSession, now: datetime | None = None) -> None:
    """Notes that the token was used now (unless that was noted within the last minute)."""
    now = now or utcnow()
    statement = (
        update(ApiToken)
        .where(
            col(ApiToken.id) == token_id,
            or_(
                col(ApiToken.last_used_at).is_(None),
                col(ApiToken.last_used_at) <= now - LAST_USED_PRECISION,
            ),
        )
        .values(last_used_at=now)
    )
    await session.exec(statement)  # type: ignore[call-overload]
