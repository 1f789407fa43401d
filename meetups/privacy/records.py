"""The privacy log: every export, erasure and purge leaves a PrivacyRecord, and administrators read
them under Settings → Privacy log.

A record names people only by number and says what was affected in counts ("invitations=3
receipts=2"), so that it may outlive the data it speaks of; the page words the counts in the
reader's language.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import Organizer
from meetups.db import utcnow
from meetups.events.models import Event
from meetups.i18n import gettext as _
from meetups.i18n import ngettext
from meetups.paging import PageNumbers, clamp_page
from meetups.privacy.models import PrivacyAction, PrivacyActor, PrivacyRecord

PAGE_SIZE = 50


def summary_text(counts: Mapping[str, int]) -> str:
    """Counts as stored: "invitations=3 receipts=2", the zeros left out."""
    return " ".join(f"{key}={value}" for key, value in counts.items() if value)[:1000]


def parse_summary(text: str) -> list[tuple[str, int]]:
    pairs: list[tuple[str, int]] = []
    for piece in text.split():
        key, _sep, value = piece.partition("=")
        if key and value.isdigit():
            pairs.append((key, int(value)))
    return pairs


def _count_phrases() -> dict[str, Callable[[int], str]]:
    return {
        "invitations": lambda n: ngettext(
            "%(num)s guest-list entry", "%(num)s guest-list entries", n
        ),
        "claims": lambda n: ngettext("%(num)s travel claim", "%(num)s travel claims", n),
        "emails": lambda n: ngettext("%(num)s e-mail", "%(num)s e-mails", n),
        "seats_released": lambda n: ngettext(
            "%(num)s place given up", "%(num)s places given up", n
        ),
        "claims_kept": lambda n: ngettext(
            "%(num)s decided claim kept without bank details",
            "%(num)s decided claims kept without bank details",
            n,
        ),
        "claims_withdrawn": lambda n: ngettext(
            "%(num)s open claim withdrawn", "%(num)s open claims withdrawn", n
        ),
        "receipts": lambda n: ngettext("%(num)s receipt", "%(num)s receipts", n),
        "feedback_unlinked": lambda n: ngettext(
            "%(num)s feedback response unlinked", "%(num)s feedback responses unlinked", n
        ),
        "free_texts": lambda n: ngettext(
            "%(num)s free-text answer removed", "%(num)s free-text answers removed", n
        ),
        "coverage_unlinked": lambda n: ngettext(
            "%(num)s coverage link unlinked", "%(num)s coverage links unlinked", n
        ),
        "emails_scrubbed": lambda n: ngettext(
            "%(num)s e-mail scrubbed", "%(num)s e-mails scrubbed", n
        ),
        "emails_cancelled": lambda n: ngettext(
            "%(num)s queued e-mail cancelled", "%(num)s queued e-mails cancelled", n
        ),
        "caught_mails": lambda n: ngettext(
            "%(num)s caught e-mail deleted", "%(num)s caught e-mails deleted", n
        ),
    }


def describe_summary(text: str) -> str:
    """A stored summary in words of the current language."""
    words = {
        "contact_anonymized": _("address book entry anonymized"),
        "contact_deleted": _("address book entry deleted"),
        "suppressed": _("address kept on the do-not-contact list"),
    }
    phrases = _count_phrases()
    parts: list[str] = []
    for key, value in parse_summary(text):
        if key in words:
            parts.append(words[key])
        elif key in phrases:
            parts.append(phrases[key](value))
        else:
            parts.append(f"{key}: {value}")
    return ", ".join(parts) if parts else "–"


def add_record(
    *,
    session: AsyncSession,
    action: PrivacyAction,
    actor: PrivacyActor,
    organizer: Organizer | None = None,
    event_id: int | None = None,
    contact_id: int | None = None,
    invitee_id: int | None = None,
    counts: Mapping[str, int] | None = None,
) -> PrivacyRecord:
    """Adds a record to `session`, in the transaction of the change it records."""
    record = PrivacyRecord(
        at=utcnow(),
        action=action,
        actor=actor,
        organizer_id=organizer.id if organizer is not None else None,
        event_id=event_id,
        contact_id=contact_id,
        invitee_id=invitee_id,
        summary=summary_text(counts or {}),
    )
    session.add(record)
    return record


def action_labels() -> dict[PrivacyAction, str]:
    return {
        PrivacyAction.exported: _("Data downloaded"),
        PrivacyAction.erased: _("Data deleted"),
        PrivacyAction.purged: _("Retention purge"),
    }


@dataclass(frozen=True)
class LogEntry:
    record: PrivacyRecord
    organizer_name: str
    event: Event | None

    @property
    def actor_label(self) -> str:
        actor = self.record.actor
        if actor == PrivacyActor.invitee:
            return _("The person themselves, with their personal link")
        if actor == PrivacyActor.retention:
            return _("Retention purge (automatic)")
        return self.organizer_name or _("An organizer who was removed since")

    @property
    def summary(self) -> str:
        return describe_summary(self.record.summary)


@dataclass(frozen=True)
class LogPage(PageNumbers):
    entries: list[LogEntry]
    total: int
    page: int
    page_size: int


async def log_page(*, session: AsyncSession, page: int = 1, page_size: int = PAGE_SIZE) -> LogPage:
    """The records, newest first."""
    total = (await session.exec(select(func.count()).select_from(PrivacyRecord))).one()
    page = clamp_page(page, total, page_size)
    query = (
        select(PrivacyRecord, Organizer.name, Event)
        .outerjoin(Organizer, col(Organizer.id) == PrivacyRecord.organizer_id)
        .outerjoin(Event, col(Event.id) == PrivacyRecord.event_id)
        .order_by(col(PrivacyRecord.at).desc(), col(PrivacyRecord.id).desc())
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    entries = [
        LogEntry(record=record, organizer_name=name or "", event=event)
        for record, name, event in (await session.exec(query)).all()
    ]
    return LogPage(entries=entries, total=total, page=page, page_size=page_size)


async def records_about(contact_id: int, *, session: AsyncSession) -> list[PrivacyRecord]:
    query = (
        select(PrivacyRecord)
        .where(PrivacyRecord.contact_id == contact_id)
        .order_by(col(PrivacyRecord.at), col(PrivacyRecord.id))
    )
    return list((await session.exec(query)).all())
