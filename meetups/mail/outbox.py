"""Queueing e-mail: a row in the outbox, written in the caller's transaction.

Whatever causes an e-mail (sending invitations, an RSVP, a promotion from the waitlist) calls
`queue_email` with its own session and commits once: the change and its e-mail are stored together
or not at all. The worker (meetups.mail.worker) delivers the row later.
"""

from collections.abc import Sequence
from datetime import datetime
from email.utils import make_msgid

from sqlalchemy import func
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

import meetups.models  # noqa: F401 - every table, so that the foreign keys resolve
from meetups.config import Settings
from meetups.db import utcnow
from meetups.mail.compose import Alternative, Attachment, compose_message, one_line, render_raw
from meetups.mail.models import OutboxMessage, OutboxStatus

MAX_KIND_LENGTH = 40


def queue_email(
    *,
    session: AsyncSession,
    settings: Settings,
    to: str,
    to_name: str = "",
    subject: str,
    text: str,
    html: str | None = None,
    kind: str,
    reply_to: str | None = None,
    reply_to_name: str = "",
    event_id: int | None = None,
    invitee_id: int | None = None,
    unsubscribe_url: str | None = None,
    attachments: Sequence[Attachment] = (),
    alternatives: Sequence[Alternative] = (),
    now: datetime | None = None,
) -> OutboxMessage:
    """Renders the message now and adds its outbox row to `session` (nothing is flushed or
    committed here: the caller commits, together with the change that caused the e-mail).
    Raises ValueError for an address or URL that cannot go into a message."""
    kind = kind.strip()
    if not kind or len(kind) > MAX_KIND_LENGTH:
        raise ValueError(f"an e-mail kind needs 1 to {MAX_KIND_LENGTH} characters: {kind!r}")
    now = now or utcnow()
    message_id = make_msgid(domain=settings.site_domain)
    message = compose_message(
        message_id=message_id,
        date=now,
        sender=settings.mail_from,
        to=to,
        to_name=to_name,
        subject=subject,
        text=text,
        html=html,
        reply_to=reply_to,
        reply_to_name=reply_to_name,
        unsubscribe_url=unsubscribe_url,
        attachments=attachments,
        alternatives=alternatives,
    )
    row = OutboxMessage(
        message_id=message_id,
        kind=kind,
        event_id=event_id,
        invitee_id=invitee_id,
        recipient=to.strip(),
        recipient_name=one_line(to_name)[:200],
        subject=one_line(subject)[:500],
        raw=render_raw(message),
        status=OutboxStatus.queued,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(row)
    return row


async def delivery_counts(
    *, session: AsyncSession, event_id: int, kind: str | None = None
) -> dict[OutboxStatus, int]:
    """How many of an event's e-mails are queued, being sent, sent and failed."""
    query = (
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.event_id == event_id)
        .group_by(OutboxMessage.status)
    )
    if kind is not None:
        query = query.where(OutboxMessage.kind == kind)
    counts = dict.fromkeys(OutboxStatus, 0)
    for status, count in (await session.exec(query)).all():
        counts[OutboxStatus(status)] = count
    return counts
