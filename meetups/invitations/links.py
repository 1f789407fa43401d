"""Personal links: each invitee's key to their page, without an account.

The token is an HMAC of a random per-invitee nonce under the app secret (192 bits), so the app
can write the same link into every e-mail, while the database holds only the nonce and a SHA-256
of the token to look it up: a copy of the database can neither forge nor reveal a link. A new
nonce revokes the old link at once.
"""

import base64
import hashlib
import hmac
import re
import secrets

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.events.models import Event
from meetups.invitations.models import Invitee

TOKEN_BYTES = 24
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32}$")


def link_token(nonce: str, secret: bytes) -> str:
    digest = hmac.new(secret, b"invitee-link:" + nonce.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:TOKEN_BYTES]).decode("ascii")


def lookup_hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def issue_link(invitee: Invitee, secret: bytes) -> str:
    """Gives the invitee a new link (revoking any earlier one) and returns its token."""
    invitee.link_nonce = secrets.token_hex(16)
    token = link_token(invitee.link_nonce, secret)
    invitee.link_lookup = lookup_hash(token)
    return token


def token_of(invitee: Invitee, secret: bytes) -> str | None:
    """The current token, for writing the link into another e-mail; None before the first."""
    return link_token(invitee.link_nonce, secret) if invitee.link_nonce else None


def personal_url(invitee: Invitee, settings: Settings) -> str | None:
    token = token_of(invitee, settings.secret)
    return settings.absolute_url(f"/i/{token}") if token else None


async def invitee_for_token(token: str, *, session: AsyncSession) -> Invitee | None:
    """The invitee whose current link this is; None for a wrong, malformed or revoked token."""
    if not TOKEN_PATTERN.match(token):
        return None
    query = select(Invitee).where(Invitee.link_lookup == lookup_hash(token))
    return (await session.exec(query)).first()


async def link_holder_for_token(
    token: str, *, session: AsyncSession
) -> tuple[Invitee, Event | None, Contact | None] | None:
    """Like `invitee_for_token`, with the invitee's event and contact read in the same query:
    the pages behind the link show both, and each query is a round trip on the busiest pages.
    Outer joins, so that a missing event or contact reads as None, as `session.get` would."""
    if not TOKEN_PATTERN.match(token):
        return None
    query = (
        select(Invitee, Event, Contact)
        .outerjoin(Event, col(Event.id) == Invitee.event_id)
        .outerjoin(Contact, col(Contact.id) == Invitee.contact_id)
        .where(Invitee.link_lookup == lookup_hash(token))
    )
    found = (await session.exec(query)).first()
    return (found[0], found[1], found[2]) if found else None
