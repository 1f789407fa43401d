"""Readable, unique addresses for events: "Bloggertreffen Montabaur" -> bloggertreffen-montabaur."""

import re
import unicodedata

from sqlmodel import or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.events.models import Event

MAX_SLUG_LENGTH = 80
FALLBACK_SLUG = "event"
# Paths under /events that are pages of their own, not events.
RESERVED_SLUGS = frozenset({"new"})

# German first (ä -> ae, not a), then letters that Unicode does not decompose into a base letter.
_TRANSLITERATION = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ß": "ss",
        "ẞ": "SS",
        "æ": "ae",
        "Æ": "Ae",
        "œ": "oe",
        "Œ": "Oe",
        "ø": "o",
        "Ø": "O",
        "å": "aa",
        "Å": "Aa",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ð": "d",
        "Ð": "D",
        "þ": "th",
        "Þ": "Th",
        "ı": "i",
    }
)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slugify(text: str, *, max_length: int = MAX_SLUG_LENGTH) -> str:
    """Lower-case ASCII words joined by hyphens; umlauts spelled out, other accents dropped."""
    # NFC first, so that a decomposed "a" + combining diaeresis is seen as "ä".
    text = unicodedata.normalize("NFC", text).translate(_TRANSLITERATION)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_SLUG.sub("-", text.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        # Prefer to end at a word boundary, unless that would leave too little.
        boundary = cut.rfind("-")
        slug = (cut[:boundary] if boundary >= max_length // 2 else cut).strip("-")
    return slug or FALLBACK_SLUG


async def unique_slug(title: str, *, session: AsyncSession, exclude_id: int | None = None) -> str:
    """The slug of `title`, with -2, -3, ... appended when another event has it already."""
    base = slugify(title, max_length=MAX_SLUG_LENGTH - 5)  # room for a suffix up to "-9999"
    query = select(Event.slug).where(or_(Event.slug == base, Event.slug.startswith(base + "-")))
    if exclude_id is not None:
        query = query.where(Event.id != exclude_id)
    taken = set((await session.exec(query)).all()) | RESERVED_SLUGS
    if base not in taken:
        return base
    number = 2
    while f"{base}-{number}" in taken:
        number += 1
    return f"{base}-{number}"
