"""The address book: people, their tags, finding them, and deleting (or anonymizing) them."""

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import ColumnElement, delete, exists, func, or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from meetups.checkin.models import CheckIn
from meetups.contacts.models import Contact, ContactTag, Tag, fold
from meetups.db import utcnow
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.events.models import Event
from meetups.i18n import gettext as _
from meetups.invitations.models import Invitee
from meetups.paging import PageNumbers, clamp_page
from meetups.validation import clean_name, clean_text, clean_url, normalize_email

LANGUAGE_CODES = ("de", "en")
MAX_TAG_LENGTH = 50
MAX_TAGS_PER_CONTACT = 20
MAX_NAME_LENGTH = 200
MAX_CITY_LENGTH = 100
MAX_NOTES_LENGTH = 5000
PAGE_SIZE = 50
# Ids beyond this cannot exist (INTEGER columns) and would make PostgreSQL refuse the query.
MAX_ID = 2**31 - 1


def language_label(code: str) -> str:
    labels = {"de": _("German"), "en": _("English")}
    return labels.get(code, code)


def parse_id(value: object) -> int | None:
    """An id from a URL or a form, or None when it cannot be one of ours."""
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 1 <= number <= MAX_ID else None


def clean_tag(value: str) -> str:
    """A tag as stored: trimmed, single spaces, lower-case; raises ValueError when unusable."""
    tag = " ".join(clean_text(value, max_length=10_000).split()).lower()
    if len(tag) > MAX_TAG_LENGTH:
        raise ValueError(
            _(
                "The tag “%(tag)s…” is longer than %(max)s characters.",
                tag=tag[:20],
                max=MAX_TAG_LENGTH,
            )
        )
    return tag


def parse_tags(text: str | None) -> list[str]:
    """Tags from one input, separated by commas (or semicolons); duplicates and blanks dropped."""
    tags: list[str] = []
    for piece in re.split(r"[,;]", text or ""):
        tag = clean_tag(piece)
        if tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS_PER_CONTACT:
        raise ValueError(_("At most %(max)s tags, please.", max=MAX_TAGS_PER_CONTACT))
    return tags


def check_language(value: str | None) -> str:
    code = (value or "").strip().lower()
    if code not in LANGUAGE_CODES:
        raise ValueError(_("Please choose German or English."))
    return code


@dataclass(frozen=True)
class ContactFields:
    """What a person filled in for a contact, checked."""

    name: str
    email: str
    blog_url: str | None
    city: str | None
    language: str
    tags: list[str]
    notes: str | None


def check_contact_form(data: Mapping[str, str]) -> ContactFields:
    """Checks every field at once; raises ValidationFailed with a message per wrong field."""
    errors: dict[str, str] = {}
    values: dict[str, object] = {}
    checks = {
        "name": lambda v: clean_name(v, max_length=MAX_NAME_LENGTH),
        "email": normalize_email,
        "blog_url": clean_url,
        "city": lambda v: clean_text(v, max_length=MAX_CITY_LENGTH) or None,
        "language": check_language,
        "tags": parse_tags,
        "notes": lambda v: clean_text(v, max_length=MAX_NOTES_LENGTH, multiline=True) or None,
    }
    for name, check in checks.items():
        try:
            values[name] = check(data.get(name, ""))
        except ValueError as error:
            errors[name] = str(error)
    if errors:
        raise ValidationFailed(errors)
    return ContactFields(**values)  # type: ignore[arg-type]


async def get_contact(contact_id: object, *, session: AsyncSession) -> Contact:
    number = parse_id(contact_id)
    contact = await session.get(Contact, number) if number else None
    if contact is None:
        raise NotFound(_("There is no such contact. It may have been deleted."))
    return contact


async def find_by_email(email: str, *, session: AsyncSession) -> Contact | None:
    """The contact with this address (compared normalized, so case does not matter)."""
    return (await session.exec(select(Contact).where(Contact.email == email.lower()))).first()


async def tags_named(names: Iterable[str], *, session: AsyncSession) -> dict[str, Tag]:
    """The tags with these (clean) names, creating the missing ones."""
    wanted = sorted(set(names))
    found: dict[str, Tag] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for tag in (await session.exec(select(Tag).where(col(Tag.name).in_(chunk)))).all():
            found[tag.name] = tag
    for name in wanted:
        if name not in found:
            found[name] = Tag(name=name)
            session.add(found[name])
    return found


async def drop_unused_tags(*, session: AsyncSession) -> None:
    """Tags exist only as labels of people: one that nobody carries any more goes away."""
    await session.flush()
    in_use = select(ContactTag.tag_id)
    await session.exec(delete(Tag).where(col(Tag.id).not_in(in_use)))


async def _ensure_email_free(
    email: str, *, session: AsyncSession, other_than: int | None = None
) -> None:
    existing = await find_by_email(email, session=session)
    if existing is not None and existing.id != other_than:
        raise ValidationFailed(
            {
                "email": _(
                    "%(email)s is already in the address book (%(name)s).",
                    email=email,
                    name=existing.name,
                )
            }
        )


async def _flush_or_duplicate(email: str, *, session: AsyncSession) -> None:
    """Flushes; if someone saved the same address a moment ago, says so instead of failing."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise ValidationFailed(
            {"email": _("%(email)s is already in the address book.", email=email)}
        ) from None


async def create_contact(data: Mapping[str, str], *, session: AsyncSession) -> Contact:
    fields = check_contact_form(data)
    await _ensure_email_free(fields.email, session=session)
    tags = await tags_named(fields.tags, session=session)
    contact = Contact(
        name=fields.name,
        email=fields.email,
        blog_url=fields.blog_url,
        city=fields.city,
        language=fields.language,
        notes=fields.notes,
        tags=[tags[name] for name in fields.tags],
    )
    session.add(contact)
    await _flush_or_duplicate(fields.email, session=session)
    return contact


def refuse_if_anonymized(contact: Contact) -> None:
    if contact.is_anonymized:
        raise DomainError(_("This contact was deleted; only what the events need of it is kept."))


async def update_contact(
    contact: Contact, data: Mapping[str, str], *, session: AsyncSession
) -> Contact:
    refuse_if_anonymized(contact)
    fields = check_contact_form(data)
    await _ensure_email_free(fields.email, session=session, other_than=contact.id)
    tags = await tags_named(fields.tags, session=session)
    contact.name = fields.name
    contact.email = fields.email
    contact.blog_url = fields.blog_url
    contact.city = fields.city
    contact.language = fields.language
    contact.notes = fields.notes
    contact.tags = [tags[name] for name in fields.tags]
    contact.updated_at = utcnow()
    session.add(contact)
    await _flush_or_duplicate(fields.email, session=session)
    await drop_unused_tags(session=session)
    return contact


class Removal(StrEnum):
    deleted = "deleted"
    anonymized = "anonymized"


async def has_answered(contact: Contact, *, session: AsyncSession) -> bool:
    """Whether they answered an invitation or came (checked in at the door): then their entry
    stays, as it counts for the event."""
    checked_in = exists().where(CheckIn.invitee_id == Invitee.id)
    query = select(Invitee.id).where(
        Invitee.contact_id == contact.id,
        or_(col(Invitee.responded_at).is_not(None), checked_in),
    )
    return (await session.exec(query.limit(1))).first() is not None


async def anonymize_contact(contact: Contact, *, session: AsyncSession) -> None:
    """Removes everything personal of the address book entry but keeps the row, so the events'
    numbers stay right. Only a part of deleting a person: meetups.privacy.erasure.erase_person
    does the whole (their answers, claims, e-mails), for the address book's "Delete" too."""
    contact.name = _("Deleted contact")
    # A unique address that can never receive mail (.invalid is reserved, RFC 2606).
    contact.email = f"deleted-{contact.id}@invalid"
    contact.blog_url = None
    contact.city = None
    contact.notes = None
    contact.tags = []
    contact.anonymized_at = contact.updated_at = utcnow()
    session.add(contact)
    await drop_unused_tags(session=session)


async def guest_list_count(contact: Contact, *, session: AsyncSession) -> int:
    query = select(func.count()).select_from(Invitee).where(Invitee.contact_id == contact.id)
    return (await session.exec(query)).one()


@dataclass(frozen=True)
class HistoryEntry:
    event: Event
    invitee: Invitee


async def contact_history(contact: Contact, *, session: AsyncSession) -> list[HistoryEntry]:
    """Every event the person is on, latest first, with where they stand there."""
    query = (
        select(Invitee, Event)
        .join(Event, col(Event.id) == Invitee.event_id)
        .where(Invitee.contact_id == contact.id)
        .order_by(col(Event.starts_at).desc())
    )
    return [
        HistoryEntry(event=event, invitee=invitee)
        for invitee, event in (await session.exec(query)).all()
    ]


def like_pattern(text: str) -> str:
    """A LIKE pattern for `text` anywhere, with the wildcards in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def contains_words(query: str) -> list[ColumnElement[bool]]:
    """Conditions for a search: each word in the person's name, e-mail, city or tags."""
    conditions: list[ColumnElement[bool]] = []
    for word in fold(clean_query(query)).split()[:10]:
        tagged = exists().where(
            ContactTag.contact_id == Contact.id,
            ContactTag.tag_id == Tag.id,
            col(Tag.name).like(like_pattern(word.lower()), escape="\\"),
        )
        conditions.append(
            or_(col(Contact.search_key).like(like_pattern(word), escape="\\"), tagged)
        )
    return conditions


def has_tag(tag: str) -> ColumnElement[bool]:
    return exists().where(
        ContactTag.contact_id == Contact.id, ContactTag.tag_id == Tag.id, Tag.name == tag
    )


@dataclass
class ContactPage(PageNumbers):
    contacts: list[Contact]
    total: int
    page: int
    page_size: int
    query: str = ""
    tag: str = ""
    limited: bool = field(default=False)

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.page_size + 1 if self.contacts else 0

    @property
    def last_number(self) -> int:
        return (self.page - 1) * self.page_size + len(self.contacts)


def clean_query(value: str | None) -> str:
    """A search as typed, tamed: no control characters, at most 200 characters."""
    text = "".join(ch for ch in (value or "") if ch.isprintable())
    return " ".join(text.split())[:200]


def _matching(query: str, tag: str, not_on_event: int | None) -> SelectOfScalar[Contact]:
    statement = select(Contact).where(col(Contact.anonymized_at).is_(None), *contains_words(query))
    if tag:
        statement = statement.where(has_tag(tag))
    if not_on_event is not None:
        statement = statement.where(
            ~exists().where(Invitee.contact_id == Contact.id, Invitee.event_id == not_on_event)
        )
    return statement


async def search_contacts(
    *,
    session: AsyncSession,
    query: str = "",
    tag: str = "",
    page: int = 1,
    page_size: int = PAGE_SIZE,
    not_on_event: int | None = None,
) -> ContactPage:
    """People whose name, e-mail, city or tags contain every word of `query`, by name."""
    query, tag = clean_query(query), clean_query(tag).lower()
    statement = _matching(query, tag, not_on_event)
    total = (await session.exec(select(func.count()).select_from(statement.subquery()))).one()
    page = clamp_page(page, total, page_size)
    rows = await session.exec(
        statement.order_by(col(Contact.search_key), col(Contact.id))
        .offset((page - 1) * page_size)
        .limit(page_size)
    )
    return ContactPage(list(rows.all()), total, page, page_size, query, tag)


async def contact_count(*, session: AsyncSession) -> int:
    query = select(func.count()).select_from(Contact).where(col(Contact.anonymized_at).is_(None))
    return (await session.exec(query)).one()


async def tag_counts(*, session: AsyncSession) -> list[tuple[str, int]]:
    """Every tag with how many people carry it, alphabetically."""
    query = (
        select(Tag.name, func.count(col(ContactTag.contact_id)))
        .join(ContactTag, col(ContactTag.tag_id) == Tag.id)
        .group_by(col(Tag.name))
        .order_by(col(Tag.name))
    )
    return [(name, count) for name, count in (await session.exec(query)).all()]
