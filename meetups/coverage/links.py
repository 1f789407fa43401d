"""Coverage: links to what was published about an event, added by attendees behind their
personal link or by organizers. Title and site are typed in by hand: the app never fetches
anything from other sites (no previews, no third-party requests).

Each link says whether the post discloses that the travel was paid for (German law asks
advertising to be recognizable as such); organizers can leave that open when they have not checked.
"""

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import Organizer
from meetups.contacts.models import Contact
from meetups.coverage.models import CoverageKind, CoverageLink
from meetups.db import utcnow
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.events.models import Event, EventStatus
from meetups.i18n import gettext as _
from meetups.invitations.models import Invitee
from meetups.validation import FORMULA_PREFIXES, clean_text

MAX_URL = 2000
MAX_TITLE = 300
MAX_SITE = 200
MAX_AUTHOR = 200
MAX_LINKS_PER_INVITEE = 30


def kind_labels() -> dict[CoverageKind, str]:
    return {
        CoverageKind.blog_post: _("Blog post"),
        CoverageKind.video: _("Video"),
        CoverageKind.social_post: _("Social media post"),
        CoverageKind.podcast: _("Podcast"),
        CoverageKind.article: _("Article"),
        CoverageKind.other: _("Other"),
    }


def disclosure_label(value: bool | None) -> str:
    if value is None:
        return _("not checked")
    return _("yes") if value else _("no")


@dataclass(frozen=True)
class CoverageInput:
    url: str
    title: str
    site: str
    kind: CoverageKind
    published_on: date | None
    discloses_paid_travel: bool | None
    author_name: str


def site_of(url: str) -> str:
    """The host of a web address without "www.", as a default for the site's name."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.")


def clean_web_address(value: str | None) -> str:
    text = clean_text(value, max_length=MAX_URL)
    if not text:
        raise ValueError(_("Please enter the web address of the post."))
    if "://" not in text and " " not in text and "." in text.split("/")[0]:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
    except ValueError:
        parts, host = None, ""
    if parts is None or parts.scheme not in {"http", "https"} or "." not in host or " " in text:
        raise ValueError(_("Please enter a web address starting with https://."))
    return text


def parse_coverage(
    data: Mapping[str, str], *, by_organizer: bool, today: date | None = None
) -> CoverageInput:
    """Reads the coverage form; attendees must say whether the post discloses the paid travel,
    organizers may leave it open. Raises ValidationFailed by field."""
    today = today or utcnow().date()
    errors: dict[str, str] = {}
    url = title = site = author = ""
    try:
        url = clean_web_address(data.get("url"))
    except ValueError as error:
        errors["url"] = str(error)
    try:
        title = " ".join(clean_text(data.get("title"), max_length=MAX_TITLE).split())
        if not title:
            errors["title"] = _("Please enter the title of the post.")
    except ValueError as error:
        errors["title"] = str(error)
    try:
        site = " ".join(clean_text(data.get("site"), max_length=MAX_SITE).split())
    except ValueError as error:
        errors["site"] = str(error)
    kind_value = (data.get("kind") or "").strip()
    kind = CoverageKind(kind_value) if kind_value in CoverageKind.__members__ else None
    if kind is None:
        errors["kind"] = _("Please choose what kind of post it is.")
    published_on: date | None = None
    raw_date = (data.get("published_on") or "").strip()
    if raw_date:
        try:
            published_on = date.fromisoformat(raw_date[:10]) if len(raw_date) == 10 else None
        except ValueError:
            published_on = None
        if published_on is None:
            errors["published_on"] = _("Please enter a date like 2026-05-14.")
        elif published_on > today + timedelta(days=1):
            errors["published_on"] = _("The date lies in the future.")
        elif published_on.year < 2000:
            errors["published_on"] = _("Please check the year.")
    disclosure = data.get("discloses_paid_travel", "")
    discloses: bool | None = None
    if disclosure == "yes":
        discloses = True
    elif disclosure == "no":
        discloses = False
    elif not (by_organizer and disclosure in ("", "unknown")):
        errors["discloses_paid_travel"] = _(
            "Please say whether the post mentions that we paid for the travel."
        )
    if by_organizer:
        try:
            author = " ".join(clean_text(data.get("author_name"), max_length=MAX_AUTHOR).split())
        except ValueError as error:
            errors["author_name"] = str(error)
    if errors:
        raise ValidationFailed(errors)
    assert kind is not None
    return CoverageInput(
        url=url,
        title=title,
        site=site or site_of(url),
        kind=kind,
        published_on=published_on,
        discloses_paid_travel=discloses,
        author_name=author,
    )


@dataclass(frozen=True)
class CoverageEntry:
    link: CoverageLink
    author: str  # the attendee's name, or the name an organizer typed

    @property
    def by_attendee(self) -> bool:
        return self.link.invitee_id is not None


async def coverage_of(
    event: Event, *, session: AsyncSession, invitee: Invitee | None = None
) -> list[CoverageEntry]:
    """The event's links, newest first (or only those `invitee` added)."""
    query = (
        select(CoverageLink, Contact.name)
        .outerjoin(Invitee, col(Invitee.id) == CoverageLink.invitee_id)
        .outerjoin(Contact, col(Contact.id) == Invitee.contact_id)
        .where(CoverageLink.event_id == event.id)
        .order_by(
            col(CoverageLink.published_on).desc(),
            col(CoverageLink.created_at).desc(),
            col(CoverageLink.id).desc(),
        )
    )
    if invitee is not None:
        query = query.where(CoverageLink.invitee_id == invitee.id)
    rows = (await session.exec(query)).all()
    return [CoverageEntry(link, name or link.author_name) for link, name in rows]


async def counts_by_kind(event: Event, *, session: AsyncSession) -> dict[CoverageKind, int]:
    query = (
        select(CoverageLink.kind, func.count())
        .where(CoverageLink.event_id == event.id)
        .group_by(col(CoverageLink.kind))
    )
    counts = dict.fromkeys(CoverageKind, 0)
    for kind, count in (await session.exec(query)).all():
        counts[CoverageKind(kind)] = count
    return counts


def coverage_open(event: Event, now: datetime | None = None) -> bool:
    """Attendees can add links once the event has begun (and it was not cancelled)."""
    now = now or utcnow()
    return event.status == EventStatus.published and event.starts_at <= now


def _duplicate() -> ValidationFailed:
    return ValidationFailed({"url": _("This link is on the list already.")})


async def _url_taken(
    event: Event, url: str, *, session: AsyncSession, except_id: int | None = None
) -> bool:
    query = select(CoverageLink.id).where(
        CoverageLink.event_id == event.id, CoverageLink.url == url
    )
    if except_id is not None:
        query = query.where(CoverageLink.id != except_id)
    return (await session.exec(query)).first() is not None


async def _store(link: CoverageLink, *, session: AsyncSession) -> CoverageLink:
    try:
        async with session.begin_nested():
            session.add(link)
            await session.flush()
    except IntegrityError as error:  # the same link added at the same moment by someone else
        raise _duplicate() from error
    return link


def _apply(link: CoverageLink, entry: CoverageInput) -> None:
    link.url = entry.url
    link.title = entry.title
    link.site = entry.site
    link.kind = entry.kind
    link.published_on = entry.published_on
    link.discloses_paid_travel = entry.discloses_paid_travel
    link.updated_at = utcnow()


async def add_link(
    event: Event,
    entry: CoverageInput,
    *,
    session: AsyncSession,
    invitee: Invitee | None = None,
    organizer: Organizer | None = None,
) -> CoverageLink:
    if await _url_taken(event, entry.url, session=session):
        raise _duplicate()
    if invitee is not None:
        mine = (
            await session.exec(
                select(func.count())
                .select_from(CoverageLink)
                .where(CoverageLink.invitee_id == invitee.id)
            )
        ).one()
        if mine >= MAX_LINKS_PER_INVITEE:
            raise DomainError(
                _(
                    "You can add up to %(num)s links. Thank you for writing so much!",
                    num=MAX_LINKS_PER_INVITEE,
                )
            )
    link = CoverageLink(
        event_id=event.id,  # type: ignore[arg-type]
        url=entry.url,
        title=entry.title,
        kind=entry.kind,
        invitee_id=invitee.id if invitee else None,
        author_name="" if invitee else entry.author_name,
        added_by_id=organizer.id if organizer else None,
    )
    _apply(link, entry)
    return await _store(link, session=session)


async def get_link(
    event: Event, link_id: int, *, session: AsyncSession, invitee: Invitee | None = None
) -> CoverageLink:
    """One link of the event (of `invitee`'s own, when given); NotFound otherwise."""
    link = await session.get(CoverageLink, link_id)
    if (
        link is None
        or link.event_id != event.id
        or (invitee is not None and link.invitee_id != invitee.id)
    ):
        raise NotFound(_("This link is not on the list (any more)."))
    return link


async def update_link(
    event: Event, link_id: int, entry: CoverageInput, *, session: AsyncSession
) -> CoverageLink:
    """Organizers correct a link (the attendee who added it stays its author)."""
    link = await get_link(event, link_id, session=session)
    if await _url_taken(event, entry.url, session=session, except_id=link.id):
        raise _duplicate()
    _apply(link, entry)
    if link.invitee_id is None:
        link.author_name = entry.author_name
    return await _store(link, session=session)


async def remove_link(
    event: Event, link_id: int, *, session: AsyncSession, invitee: Invitee | None = None
) -> None:
    link = await get_link(event, link_id, session=session, invitee=invitee)
    await session.delete(link)
    await session.flush()


def _neutralize(value: str) -> str:
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def coverage_csv(entries: list[CoverageEntry], *, semicolon: bool = False) -> bytes:
    """The list as CSV (UTF-8 with a byte order mark), in the organizer's language."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";" if semicolon else ",", lineterminator="\r\n")
    labels = kind_labels()
    writer.writerow(
        [
            _("Published"),
            _("Kind"),
            _("Title"),
            _("Site"),
            _("Web address"),
            _("Author"),
            _("Discloses paid travel"),
            _("Added by"),
        ]
    )
    for entry in entries:
        link = entry.link
        writer.writerow(
            [
                link.published_on.isoformat() if link.published_on else "",
                labels[CoverageKind(link.kind)],
                _neutralize(link.title),
                _neutralize(link.site),
                _neutralize(link.url),
                _neutralize(entry.author),
                disclosure_label(link.discloses_paid_travel),
                _("the attendee") if entry.by_attendee else _("an organizer"),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def csv_filename(event: Event) -> str:
    return f"coverage-{event.slug}.csv"
