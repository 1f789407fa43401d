"""Unsubscribing: an address on the suppression list gets no further invitations or reminders.

The unsubscribe link (List-Unsubscribe, RFC 8058) names the contact and carries an HMAC of the
contact and their address under the app secret: it cannot be guessed or forged from the database,
it stays valid when the personal link is revoked (an old e-mail's one-click unsubscribe must keep
working), and it dies when the address changes (so it never suppresses someone else's address).
"""

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.db import MAX_ROW_ID
from meetups.i18n import gettext as _
from meetups.invitations.models import Suppression

REASON_UNSUBSCRIBED = "unsubscribed"
# Asked for their data to be deleted and never to be written to again (meetups.privacy.erasure).
REASON_ERASED = "erased"
_SIGNATURE_BYTES = 24
_TOKEN = re.compile(r"^([1-9][0-9]{0,9})-([A-Za-z0-9_-]{32})$")


def _signature(contact_id: int, email: str, secret: bytes) -> str:
    message = f"unsubscribe:{contact_id}:{email.strip().lower()}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()[:_SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).decode("ascii")


def unsubscribe_token(contact: Contact, secret: bytes) -> str:
    if contact.id is None:
        raise ValueError("the contact has no id yet")
    return f"{contact.id}-{_signature(contact.id, contact.email, secret)}"


def unsubscribe_url(contact: Contact, settings: Settings) -> str:
    return settings.absolute_url(f"/unsubscribe/{unsubscribe_token(contact, settings.secret)}")


async def contact_for_token(token: str, *, session: AsyncSession, secret: bytes) -> Contact | None:
    """The contact this unsubscribe token was made for; None for a wrong or outdated one."""
    match = _TOKEN.match(token)
    if match is None or int(match.group(1)) > MAX_ROW_ID:
        return None
    contact = await session.get(Contact, int(match.group(1)))
    if contact is None or contact.is_anonymized:
        return None
    expected = _signature(contact.id, contact.email, secret)  # type: ignore[arg-type]
    if not hmac.compare_digest(expected.encode(), match.group(2).encode()):
        return None
    return contact


async def suppression_for(email: str, *, session: AsyncSession) -> Suppression | None:
    query = select(Suppression).where(Suppression.email == email.strip().lower())
    return (await session.exec(query)).first()


async def is_suppressed(email: str, *, session: AsyncSession) -> bool:
    return await suppression_for(email, session=session) is not None


async def suppressed_addresses(emails: Iterable[str], *, session: AsyncSession) -> set[str]:
    """Which of these addresses (lower-cased) are on the suppression list."""
    wanted = sorted({email.strip().lower() for email in emails})
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        query = select(Suppression.email).where(
            col(Suppression.email).in_(wanted[start : start + 500])
        )
        found.update((await session.exec(query)).all())
    return found


async def suppress(email: str, reason: str, *, session: AsyncSession) -> bool:
    """Puts the address on the suppression list; False if it was there already (the reason it
    was put there first stays). Safe when the same address arrives twice at once."""
    address = email.strip().lower()
    if await suppression_for(address, session=session) is not None:
        return False
    try:
        async with session.begin_nested():
            session.add(Suppression(email=address, reason=reason[:200]))
    except IntegrityError:
        return False  # someone else suppressed it at the same moment
    return True


async def unsubscribe(contact: Contact, *, session: AsyncSession) -> bool:
    """The contact asked for no more invitations; True when this was news."""
    return await suppress(contact.email, REASON_UNSUBSCRIBED, session=session)


def reason_label(reason: str) -> str:
    """Why an address is suppressed, as organizers read it."""
    if reason == REASON_UNSUBSCRIBED:
        return _("Unsubscribed with the link in one of our e-mails")
    if reason == REASON_ERASED:
        return _("Had their data deleted and asked never to be written to again")
    return reason
