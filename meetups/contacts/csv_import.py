"""Importing people from a CSV file: read it leniently, check every row, show what would change,
then apply it in one transaction.

Reading and checking are pure functions of the file's bytes; `plan_import` compares the rows
with the address book, and `apply_import` writes the plan (and, for an event, the guest list).
Rules for existing people (matched by e-mail address, case-insensitively): a cell that is empty
in the file leaves what the address book has, and tags from the file are added, never removed.
"""

import base64
import binascii
import csv
import hashlib
import hmac
import io
import re
import unicodedata
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.contacts.book import (
    MAX_CITY_LENGTH,
    MAX_NAME_LENGTH,
    MAX_NOTES_LENGTH,
    MAX_TAG_LENGTH,
    MAX_TAGS_PER_CONTACT,
    language_label,
    tags_named,
)
from meetups.contacts.models import Contact, fold
from meetups.db import utcnow
from meetups.errors import DomainError
from meetups.events.models import Event
from meetups.i18n import format_number
from meetups.i18n import gettext as _
from meetups.invitations.guest_list import add_contacts, ensure_open, listed_contact_ids
from meetups.validation import FORMULA_PREFIXES, clean_text, clean_url, normalize_email

MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
MAX_EMAIL_LENGTH = 254
MAX_URL_LENGTH = 500
# Larger cells than this are not part of any address list; csv refuses them with an error.
MAX_CELL_CHARS = 100_000


class CsvFileError(DomainError):
    """The file as a whole cannot be imported (not a CSV file, no e-mail column, too large...)."""


class ImportConflict(DomainError):
    """The address book changed under the import; nothing was written."""


class Column(StrEnum):
    name = "name"
    first_name = "first_name"
    last_name = "last_name"
    email = "email"
    blog_url = "blog_url"
    city = "city"
    language = "language"
    tags = "tags"
    notes = "notes"


# Header names as folded by `_header_key` (lower case, no accents, letters and digits only).
HEADER_ALIASES: dict[Column, frozenset[str]] = {
    Column.name: frozenset(
        {
            "name",
            "fullname",
            "vollername",
            "vollstandigername",
            "kontakt",
            "contact",
            "person",
            "anzeigename",
            "displayname",
            "blogger",
            "bloggerin",
        }
    ),
    Column.first_name: frozenset({"firstname", "vorname", "givenname"}),
    Column.last_name: frozenset({"lastname", "nachname", "surname", "familyname", "familienname"}),
    Column.email: frozenset(
        {
            "email",
            "mail",
            "emailadresse",
            "emailaddress",
            "mailadresse",
            "mailaddress",
            "emailadr",
            "epost",
            "courriel",
        }
    ),
    Column.blog_url: frozenset(
        {
            "blog",
            "website",
            "url",
            "web",
            "homepage",
            "blogurl",
            "webseite",
            "internetseite",
            "site",
            "websiteurl",
            "blogadresse",
            "link",
            "webadresse",
        }
    ),
    Column.city: frozenset({"city", "stadt", "ort", "wohnort", "town", "location", "standort"}),
    Column.language: frozenset({"language", "sprache", "lang", "locale"}),
    Column.tags: frozenset(
        {
            "tags",
            "tag",
            "schlagworte",
            "schlagworter",
            "schlagwort",
            "stichworte",
            "stichwort",
            "labels",
            "label",
            "kategorien",
            "categories",
            "themen",
            "topics",
        }
    ),
    Column.notes: frozenset(
        {
            "notes",
            "note",
            "notizen",
            "notiz",
            "bemerkung",
            "bemerkungen",
            "kommentar",
            "comment",
            "comments",
            "anmerkung",
            "anmerkungen",
        }
    ),
}

LANGUAGE_NAMES: dict[str, str] = {
    "de": "de",
    "deu": "de",
    "ger": "de",
    "german": "de",
    "deutsch": "de",
    "en": "en",
    "eng": "en",
    "english": "en",
    "englisch": "en",
}


def _mistaken_file(data: bytes) -> str | None:
    """What a file that people pick by mistake is (a workbook, a PDF, an image...), if it is one."""
    save_as = _("In Excel, use “Save as” → “CSV UTF-8”.")
    signatures = (
        (
            b"PK\x03\x04",
            _("This is an Excel workbook or another ZIP file, not a CSV file.") + " " + save_as,
        ),
        (
            b"\xd0\xcf\x11\xe0",
            _("This is an old Excel or Word file, not a CSV file.") + " " + save_as,
        ),
        (b"%PDF", _("This is a PDF document, not a CSV file.")),
        (b"\x89PNG", _("This is an image, not a CSV file.")),
        (b"\xff\xd8\xff", _("This is an image, not a CSV file.")),
        (b"GIF8", _("This is an image, not a CSV file.")),
        (b"\x1f\x8b", _("This is a compressed file, not a CSV file.")),
    )
    return next((message for signature, message in signatures if data.startswith(signature)), None)


ENCODING_UTF8 = "UTF-8"
ENCODING_UTF16 = "UTF-16"
ENCODING_CP1252 = "Windows-1252"


# Reading the file ----------------------------------------------------------------------------


def _not_csv(reason: str | None = None) -> CsvFileError:
    return CsvFileError(
        reason
        or _("This file is not a CSV file. Please export the list from your spreadsheet as CSV.")
    )


def decode(data: bytes) -> tuple[str, str]:
    """The file's text and the encoding it was written in: UTF-8 (with or without BOM), UTF-16
    with BOM (Excel's “Unicode text”), or else Windows-1252 (what German Excel writes)."""
    if len(data) > MAX_FILE_BYTES:
        raise CsvFileError(
            _(
                "The file is larger than %(size)s MB. Please split it into smaller files.",
                size=MAX_FILE_BYTES // (1024 * 1024),
            )
        )
    if not data.strip(b" \t\r\n\x00\xef\xbb\xbf\xff\xfe"):
        raise CsvFileError(_("The file is empty."))
    if (mistake := _mistaken_file(data[:8])) is not None:
        raise _not_csv(mistake)
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            text, encoding = data[3:].decode("utf-8"), ENCODING_UTF8
        elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
            text, encoding = data.decode("utf-16"), ENCODING_UTF16
        else:
            try:
                text, encoding = data.decode("utf-8"), ENCODING_UTF8
            except UnicodeDecodeError:
                text, encoding = data.decode("cp1252"), ENCODING_CP1252
    except UnicodeDecodeError:
        raise _not_csv() from None
    controls = sum(1 for ch in text if ch not in "\t\r\n" and unicodedata.category(ch) == "Cc")
    if "\x00" in text or controls > len(text) // 100:
        raise _not_csv()
    return text, encoding


def sniff_delimiter(header_line: str) -> str:
    """The separator the header line uses: semicolon, comma or tab, counted outside quotes."""
    counts = dict.fromkeys(";,\t", 0)
    quoted = False
    for ch in header_line:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in counts:
            counts[ch] += 1
    best = max(counts, key=lambda ch: counts[ch])
    return best if counts[best] else ","


def _header_key(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", fold(text))


def match_columns(header: Sequence[str]) -> tuple[dict[Column, int], list[str]]:
    """Which cell holds which field (the first matching header wins), and the ignored headers."""
    positions: dict[Column, int] = {}
    ignored: list[str] = []
    for index, cell in enumerate(header):
        key = _header_key(cell)
        column = next((c for c, aliases in HEADER_ALIASES.items() if key in aliases), None)
        if column is not None and column not in positions:
            positions[column] = index
        elif cell.strip():
            ignored.append(_shown(_cell_text(cell), 40))
    return positions, ignored


# Checking the rows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CsvRow:
    """One line of the file, checked. `problems` says why it cannot be imported (if it cannot)."""

    number: int  # as a spreadsheet counts: the header is row 1
    name: str
    email: str
    blog_url: str | None = None
    city: str | None = None
    language: str | None = None
    tags: tuple[str, ...] = ()
    notes: str | None = None
    problems: tuple[str, ...] = ()

    @property
    def is_valid(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ParsedFile:
    rows: list[CsvRow]
    encoding: str
    delimiter: str
    columns: frozenset[Column]
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def valid_rows(self) -> list[CsvRow]:
        return [row for row in self.rows if row.is_valid]

    @property
    def rejected_rows(self) -> list[CsvRow]:
        return [row for row in self.rows if not row.is_valid]

    @property
    def delimiter_label(self) -> str:
        return {";": _("semicolons"), ",": _("commas"), "\t": _("tabs")}[self.delimiter]


def _shown(value: str, limit: int = 40) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


def _cell_text(value: str) -> str:
    """One line of text: line breaks inside a cell become spaces, control characters go."""
    flat = re.sub(r"[\r\n\t\v\f]+", " ", value[:MAX_CELL_CHARS])
    return " ".join(clean_text(flat, max_length=MAX_CELL_CHARS).split())


def _check_name(cells: Mapping[Column, str]) -> tuple[str, list[str]]:
    name = _cell_text(cells.get(Column.name, ""))
    if not name:
        parts = (cells.get(Column.first_name, ""), cells.get(Column.last_name, ""))
        name = " ".join(text for part in parts if (text := _cell_text(part)))
    if not name:
        return name, [_("The name is missing.")]
    if len(name) > MAX_NAME_LENGTH:
        return name, [_("The name is longer than %(max)s characters.", max=MAX_NAME_LENGTH)]
    if name.startswith(FORMULA_PREFIXES):
        return name, [
            _("The name starts with “%(char)s” like a spreadsheet formula.", char=name[0])
        ]
    return name, []


def _check_email(cells: Mapping[Column, str]) -> tuple[str, list[str]]:
    raw = _cell_text(cells.get(Column.email, ""))
    if not raw:
        return raw, [_("The e-mail address is missing.")]
    if len(raw) > MAX_EMAIL_LENGTH:
        return raw, [
            _("The e-mail address is longer than %(max)s characters.", max=MAX_EMAIL_LENGTH)
        ]
    try:
        return normalize_email(raw), []
    except ValueError:
        return raw, [_("“%(value)s” is not a valid e-mail address.", value=_shown(raw))]


def _check_blog(cells: Mapping[Column, str]) -> tuple[str | None, list[str]]:
    raw = _cell_text(cells.get(Column.blog_url, ""))
    if len(raw) > MAX_URL_LENGTH:
        return None, [_("The blog address is longer than %(max)s characters.", max=MAX_URL_LENGTH)]
    try:
        return clean_url(raw), []
    except ValueError:
        return None, [_("“%(value)s” is not a web address.", value=_shown(raw))]


def _check_city(cells: Mapping[Column, str]) -> tuple[str | None, list[str]]:
    city = _cell_text(cells.get(Column.city, "")) or None
    if city and len(city) > MAX_CITY_LENGTH:
        return city, [_("The city is longer than %(max)s characters.", max=MAX_CITY_LENGTH)]
    return city, []


def _check_language(cells: Mapping[Column, str]) -> tuple[str | None, list[str]]:
    raw = _cell_text(cells.get(Column.language, "")).lower()
    if not raw:
        return None, []
    language = LANGUAGE_NAMES.get(raw) or LANGUAGE_NAMES.get(re.split(r"[-_]", raw)[0])
    if language is None:
        message = _("The language “%(value)s” is not offered; use de or en.", value=_shown(raw, 20))
        return None, [message]
    return language, []


def _check_tags(cells: Mapping[Column, str]) -> tuple[tuple[str, ...], list[str]]:
    tags: list[str] = []
    problems: list[str] = []
    for piece in re.split(r"[;,|]", cells.get(Column.tags, "")):
        tag = _cell_text(piece).lower()
        if len(tag) > MAX_TAG_LENGTH:
            problems.append(
                _(
                    "The tag “%(tag)s” is longer than %(max)s characters.",
                    tag=_shown(tag, 20),
                    max=MAX_TAG_LENGTH,
                )
            )
        elif tag and tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS_PER_CONTACT:
        problems.append(_("More than %(max)s tags.", max=MAX_TAGS_PER_CONTACT))
    return tuple(tags), problems


def _check_notes(cells: Mapping[Column, str]) -> tuple[str | None, list[str]]:
    raw = cells.get(Column.notes, "")[:MAX_CELL_CHARS]
    notes = clean_text(raw, max_length=MAX_CELL_CHARS, multiline=True) or None
    if notes and len(notes) > MAX_NOTES_LENGTH:
        return notes, [_("The notes are longer than %(max)s characters.", max=MAX_NOTES_LENGTH)]
    return notes, []


def _check_row(number: int, cells: Mapping[Column, str]) -> tuple[CsvRow, bool]:
    """The row checked, and whether its e-mail address is valid (for finding duplicates)."""
    name, name_problems = _check_name(cells)
    email, email_problems = _check_email(cells)
    blog_url, blog_problems = _check_blog(cells)
    city, city_problems = _check_city(cells)
    language, language_problems = _check_language(cells)
    tags, tag_problems = _check_tags(cells)
    notes, notes_problems = _check_notes(cells)
    problems = (
        name_problems
        + email_problems
        + blog_problems
        + city_problems
        + language_problems
        + tag_problems
        + notes_problems
    )
    row = CsvRow(
        number=number,
        name=name,
        email=email,
        blog_url=blog_url,
        city=city,
        language=language,
        tags=tags,
        notes=notes,
        problems=tuple(problems),
    )
    return row, not email_problems


def parse_contacts_csv(data: bytes) -> ParsedFile:
    """Reads and checks a whole file; raises CsvFileError when it cannot be imported at all."""
    text, encoding = decode(data)
    first_line = next(
        (line for line in re.split(r"\r\n|\n|\r", text[:100_000]) if line.strip()), ""
    )
    # Excel understands (and sometimes writes) a first line like "sep=;" and then hides it.
    declared = re.fullmatch(r'"?sep=(.)"?', first_line.strip())
    has_sep_line = bool(declared and declared.group(1) in ";,\t")
    delimiter = declared.group(1) if declared and has_sep_line else sniff_delimiter(first_line)

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, skipinitialspace=True)
    header: list[str] | None = None
    positions: dict[Column, int] = {}
    ignored: list[str] = []
    rows: list[CsvRow] = []
    first_row_of: dict[str, int] = {}
    skip_sep_line = has_sep_line
    try:
        for index, record in enumerate(reader):
            number = index + (0 if has_sep_line else 1)
            if not any(cell.strip() for cell in record):
                continue
            if skip_sep_line:
                skip_sep_line = False
                continue
            if header is None:
                header = record
                positions, ignored = match_columns(record)
                _require_columns(positions, record)
                continue
            if len(rows) >= MAX_ROWS:
                raise CsvFileError(
                    _(
                        "The file has more than %(max)s rows. Please split it into smaller files.",
                        max=format_number(MAX_ROWS),
                    )
                )
            cells = {
                column: record[i] if i < len(record) else "" for column, i in positions.items()
            }
            row, email_is_valid = _check_row(number, cells)
            if email_is_valid:
                earlier = first_row_of.setdefault(row.email, number)
                if earlier != number:
                    problem = _("Same e-mail address as row %(row)s.", row=earlier)
                    row = replace(row, problems=(*row.problems, problem))
            rows.append(row)
    except csv.Error as error:
        raise _not_csv(
            _("The file could not be read as CSV near row %(row)s.", row=reader.line_num)
        ) from error
    if header is None:
        raise CsvFileError(_("The file is empty."))
    if not rows:
        raise CsvFileError(_("The file has a header line but no people in it."))
    return ParsedFile(rows, encoding, delimiter, frozenset(positions), ignored)


def _require_columns(positions: Mapping[Column, int], header: Sequence[str]) -> None:
    found = ", ".join(f"“{_shown(cell.strip(), 30)}”" for cell in header[:10] if cell.strip())
    if Column.email not in positions:
        raise CsvFileError(
            _(
                "The file has no e-mail column. Its first line must name the columns, for example "
                "name, email, blog, city, language, tags; this file has %(found)s.",
                found=found or "–",
            )
        )
    if not {Column.name, Column.first_name, Column.last_name} & positions.keys():
        raise CsvFileError(
            _(
                "The file has no name column. Its first line must name the columns, for example "
                "name, email, blog, city, language, tags; this file has %(found)s.",
                found=found or "–",
            )
        )


# Comparing with the address book -------------------------------------------------------------


class Action(StrEnum):
    create = "create"
    update = "update"
    unchanged = "unchanged"
    rejected = "rejected"


@dataclass(frozen=True)
class Change:
    label: str
    old: str
    new: str


@dataclass
class PlannedRow:
    row: CsvRow
    action: Action
    contact: Contact | None = None
    updates: dict[str, object] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # what the file would have spoilt
    on_guest_list: bool = False

    @property
    def reason(self) -> str:
        return " ".join(self.row.problems)


def _is_lossy_copy(new: str, old: str) -> bool:
    """Whether `new` is `old` as Windows-1252 mangles it: letters it cannot write become '?'
    ('Özlem Y?lmaz' for 'Özlem Yılmaz'); such a cell must not overwrite the good name."""
    if len(new) != len(old) or new == old:
        return False
    for n, o in zip(new, old, strict=True):
        if n == o:
            continue
        if n != "?":
            return False
        try:
            o.encode("cp1252")
        except UnicodeEncodeError:
            continue
        return False
    return True


@dataclass
class _Comparison:
    updates: dict[str, object] = field(default_factory=dict)
    changes: list[Change] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def _compare(row: CsvRow, contact: Contact, columns: frozenset[Column], lossy: bool) -> _Comparison:
    """What the row would change about an existing person (only what the file says)."""
    result = _Comparison()

    def consider(attribute: str, label: str, new: str | None, shown: str | None = None) -> None:
        old = getattr(contact, attribute)
        if not new or new == old:
            return
        if lossy and old and _is_lossy_copy(new, old):
            result.kept.append(
                _(
                    "Keeps “%(old)s”: the file has “%(new)s”, as Windows-1252 cannot "
                    "write some of its letters.",
                    old=old,
                    new=new,
                )
            )
            return
        result.updates[attribute] = new
        old_shown = language_label(old) if attribute == "language" else (old or "–")
        result.changes.append(Change(label, old_shown, shown or new))

    if columns & {Column.name, Column.first_name, Column.last_name}:
        consider("name", _("Name"), row.name)
    if Column.blog_url in columns:
        consider("blog_url", _("Blog"), row.blog_url)
    if Column.city in columns:
        consider("city", _("City"), row.city)
    if Column.language in columns and row.language:
        consider("language", _("Language"), row.language, language_label(row.language))
    if Column.notes in columns:
        consider("notes", _("Notes"), row.notes)
    if Column.tags in columns:
        old_tags = contact.tag_names
        added = [tag for tag in row.tags if tag not in old_tags]
        if added:
            result.updates["tags"] = added
            result.changes.append(
                Change(_("Tags"), ", ".join(old_tags) or "–", ", ".join([*old_tags, *added]))
            )
    return result


def plan_rows(
    parsed: ParsedFile,
    existing: Mapping[str, Contact],
    listed: set[int] | None = None,
) -> list[PlannedRow]:
    """What importing would do to each row, given the people already in the address book (by
    e-mail) and, for an event, the ids of the contacts already on its guest list."""
    lossy = parsed.encoding == ENCODING_CP1252
    planned: list[PlannedRow] = []
    for row in parsed.rows:
        if not row.is_valid:
            planned.append(PlannedRow(row, Action.rejected))
            continue
        contact = existing.get(row.email)
        if contact is None:
            planned.append(PlannedRow(row, Action.create))
            continue
        comparison = _compare(row, contact, parsed.columns, lossy)
        planned.append(
            PlannedRow(
                row,
                Action.update if comparison.updates else Action.unchanged,
                contact,
                comparison.updates,
                comparison.changes,
                comparison.kept,
                on_guest_list=listed is not None and contact.id in listed,
            )
        )
    return planned


@dataclass
class ImportPlan:
    file: ParsedFile
    rows: list[PlannedRow]
    event: Event | None = None

    def count(self, action: Action) -> int:
        return sum(1 for row in self.rows if row.action == action)

    @property
    def created(self) -> int:
        return self.count(Action.create)

    @property
    def updated(self) -> int:
        return self.count(Action.update)

    @property
    def unchanged(self) -> int:
        return self.count(Action.unchanged)

    @property
    def rejected(self) -> int:
        return self.count(Action.rejected)

    @property
    def already_listed(self) -> int:
        return sum(1 for row in self.rows if row.on_guest_list)

    @property
    def to_add_to_guest_list(self) -> int:
        if self.event is None:
            return 0
        return sum(
            1 for row in self.rows if row.action != Action.rejected and not row.on_guest_list
        )

    @property
    def has_work(self) -> bool:
        return bool(self.created or self.updated or self.to_add_to_guest_list)


async def _existing_contacts(emails: Iterable[str], *, session: AsyncSession) -> dict[str, Contact]:
    wanted = sorted(set(emails))
    found: dict[str, Contact] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        for contact in (
            await session.exec(select(Contact).where(col(Contact.email).in_(chunk)))
        ).all():
            found[contact.email] = contact
    return found


async def plan_import(
    data: bytes, *, session: AsyncSession, event: Event | None = None
) -> ImportPlan:
    """Reads the file and compares it with the address book (and the event's guest list)."""
    parsed = parse_contacts_csv(data)
    existing = await _existing_contacts((row.email for row in parsed.valid_rows), session=session)
    listed = None
    if event is not None:
        listed = await listed_contact_ids(
            event, [c.id for c in existing.values() if c.id], session=session
        )
    return ImportPlan(parsed, plan_rows(parsed, existing, listed), event)


# Writing it ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    unchanged: int
    rejected: int
    added_to_guest_list: int = 0
    already_on_guest_list: int = 0


async def apply_import(
    data: bytes,
    *,
    session: AsyncSession,
    default_language: str,
    event: Event | None = None,
) -> ImportResult:
    """Reads and checks the file again and writes all of it, or nothing: the caller commits once.
    New people get `default_language` unless the file says otherwise. With an event, everyone
    valid in the file ends up on its guest list (once)."""
    if event is not None:
        ensure_open(event)
    plan = await plan_import(data, session=session, event=event)
    wanted_tags = {
        tag for p in plan.rows if p.action in {Action.create, Action.update} for tag in p.row.tags
    }
    added = 0
    try:
        async with session.begin_nested():
            tags = await tags_named(wanted_tags, session=session)
            now = utcnow()
            for planned in plan.rows:
                row = planned.row
                if planned.action == Action.create:
                    planned.contact = Contact(
                        name=row.name,
                        email=row.email,
                        blog_url=row.blog_url,
                        city=row.city,
                        language=row.language or default_language,
                        notes=row.notes,
                        tags=[tags[name] for name in row.tags],
                        created_at=now,
                        updated_at=now,
                    )
                    session.add(planned.contact)
                elif planned.action == Action.update and planned.contact is not None:
                    contact = planned.contact
                    for attribute, value in planned.updates.items():
                        if attribute == "tags":
                            contact.tags = [*contact.tags, *(tags[name] for name in value)]  # type: ignore[attr-defined]
                        else:
                            setattr(contact, attribute, value)
                    contact.updated_at = now
                    session.add(contact)
            await session.flush()
            if event is not None:
                ids = [
                    p.contact.id
                    for p in plan.rows
                    if p.contact is not None and p.contact.id is not None
                ]
                added = len(await add_contacts(event, ids, session=session))
    except IntegrityError:
        raise ImportConflict(
            _(
                "Someone changed the address book while this file was imported, "
                "so nothing was imported. Please upload the file again."
            )
        ) from None
    return ImportResult(
        created=plan.created,
        updated=plan.updated,
        unchanged=plan.unchanged,
        rejected=plan.rejected,
        added_to_guest_list=added,
        already_on_guest_list=plan.already_listed if event else 0,
    )


# Carrying the file from the preview to the confirmation --------------------------------------


def pack_upload(data: bytes, secret: bytes) -> str:
    """The file, compressed and signed, for a hidden field of the preview page: the confirmation
    re-reads it, so no upload needs to be kept on the server between the two steps."""
    payload = base64.urlsafe_b64encode(zlib.compress(data, 9)).decode("ascii")
    return f"{_signature(payload, secret)}.{payload}"


def unpack_upload(token: str, secret: bytes) -> bytes:
    signature, _dot, payload = token.strip().partition(".")
    if not payload or not hmac.compare_digest(signature, _signature(payload, secret)):
        raise CsvFileError(
            _("This preview cannot be confirmed any more. Please upload the file again.")
        )
    try:
        decompressor = zlib.decompressobj()
        data = decompressor.decompress(base64.urlsafe_b64decode(payload), MAX_FILE_BYTES + 1)
    except (binascii.Error, ValueError, zlib.error):
        raise CsvFileError(
            _("This preview cannot be confirmed any more. Please upload the file again.")
        ) from None
    return data


def _signature(payload: str, secret: bytes) -> str:
    return hmac.new(
        secret, b"contacts-csv-import:" + payload.encode("ascii", "replace"), hashlib.sha256
    ).hexdigest()


def split_for_form(token: str, size: int = 500_000) -> list[str]:
    """Pieces for several hidden fields: one form field may hold at most 1 MB."""
    return [token[i : i + size] for i in range(0, len(token), size)] or [""]
