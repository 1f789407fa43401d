"""The built-in mail catcher: an SMTP server on localhost that keeps every message it receives in
the database, for the organizers' mail page (`make run`, demos, development). Nothing leaves the
machine. It runs in the app's own event loop, so it stores messages with the app's database.
"""

import asyncio
import logging
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session
from sqlalchemy import delete, func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

import meetups.models  # noqa: F401 - every table, so that the foreign keys resolve
from meetups.config import Settings
from meetups.db import Database, utcnow
from meetups.mail.models import CaughtMail
from meetups.mail.sender import CATCHER_HOST
from meetups.paging import clamp_page, page_count

log = logging.getLogger("meetups.mail.catcher")

MAX_MESSAGE_BYTES = 25 * 1024 * 1024
PAGE_SIZE = 50


class CatcherUnavailable(RuntimeError):
    """The catcher's port is taken; the message says what to do."""


class CatcherHandler:
    """aiosmtpd handler: every message is stored, whatever its recipients."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content or b""
        data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogateescape")
        mail = CaughtMail(
            received_at=utcnow(),
            mail_from=_text(envelope.mail_from or "")[:500],
            recipients=_text(", ".join(envelope.rcpt_tos)),
            subject=_subject(data)[:1000],
            raw=_text(data.decode("utf-8", errors="replace")),
        )
        try:
            async with self.database.session(write=True) as db_session:
                db_session.add(mail)
                await db_session.commit()
        except Exception:
            log.exception("mail catcher: could not store a message")
            return "451 4.3.0 The message could not be stored; try again later"
        return "250 2.0.0 Message caught"


def _text(value: str) -> str:
    # PostgreSQL text cannot hold NUL characters.
    return value.replace("\x00", "\ufffd")


def _subject(data: bytes) -> str:
    try:
        headers = BytesHeaderParser(policy=default_policy).parsebytes(data)
        return " ".join(str(headers.get("subject", "")).split())
    except Exception:  # a malformed header must not lose the message
        return ""


async def start_catcher(*, database: Database, settings: Settings) -> asyncio.Server:
    """Listens on 127.0.0.1:mail_catcher_port. Raises CatcherUnavailable when the port is taken
    (mail sent there would end up elsewhere)."""
    loop = asyncio.get_running_loop()
    handler = CatcherHandler(database)

    def protocol() -> SMTP:
        return SMTP(
            handler,
            hostname="localhost",
            ident="meetups mail catcher",
            data_size_limit=MAX_MESSAGE_BYTES,
            enable_SMTPUTF8=True,
            loop=loop,
        )

    try:
        server = await loop.create_server(
            protocol, host=CATCHER_HOST, port=settings.mail_catcher_port
        )
    except OSError as error:
        raise CatcherUnavailable(
            f"The mail catcher cannot listen on {CATCHER_HOST}:{settings.mail_catcher_port} "
            f"({error.strerror or error}). Set MEETUPS_MAIL_CATCHER_PORT to a free port."
        ) from error
    log.info("mail catcher listens on %s:%s", CATCHER_HOST, settings.mail_catcher_port)
    return server


@dataclass(frozen=True)
class InboxPage:
    mails: list[CaughtMail]
    total: int
    page: int
    pages: int
    query: str


async def list_caught(*, session: AsyncSession, query: str = "", page: int = 1) -> InboxPage:
    """Newest first, PAGE_SIZE a page; `query` matches part of a recipient's address."""
    query = " ".join(query.split())[:254]
    condition: Any = True
    if query:
        condition = func.lower(col(CaughtMail.recipients)).contains(query.lower(), autoescape=True)
    total = (
        await session.exec(select(func.count()).select_from(CaughtMail).where(condition))
    ).one()
    pages = page_count(total, PAGE_SIZE)
    page = clamp_page(page, total, PAGE_SIZE)
    mails = (
        await session.exec(
            select(CaughtMail)
            .where(condition)
            .order_by(col(CaughtMail.received_at).desc(), col(CaughtMail.id).desc())
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    ).all()
    return InboxPage(list(mails), total, page, pages, query)


async def newest_caught_id(*, session: AsyncSession) -> int:
    """The number of the newest message (0 when there is none): an open inbox asks with it
    whether anything came in or went since it was shown."""
    newest = (await session.exec(select(func.max(CaughtMail.id)))).one()
    return newest or 0


async def get_caught(*, session: AsyncSession, mail_id: int) -> CaughtMail | None:
    return await session.get(CaughtMail, mail_id)


async def clear_caught(*, session: AsyncSession) -> int:
    result = await session.exec(delete(CaughtMail))  # type: ignore[call-overload]
    return result.rowcount
