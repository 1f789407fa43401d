import unicodedata
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlmodel import Field, Relationship, SQLModel

from meetups.db import UTCDateTime, utcnow


class ContactTag(SQLModel, table=True):
    __tablename__ = "contact_tag"

    contact_id: int = Field(foreign_key="contact.id", primary_key=True, ondelete="CASCADE")
    tag_id: int = Field(foreign_key="tag.id", primary_key=True, ondelete="CASCADE", index=True)


class Tag(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=50, unique=True, index=True)


class Contact(SQLModel, table=True):
    """A person in the address book. `email` is stored normalized (validation.normalize_email)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254, unique=True, index=True)
    blog_url: str | None = Field(default=None, max_length=500)
    city: str | None = Field(default=None, max_length=100)
    language: str = Field(default="de", max_length=5)
    notes: str | None = Field(default=None, max_length=5000)
    # Name, e-mail and city folded (no case, no accents), kept up to date by the hooks below:
    # searching and sorting then behave alike on SQLite, whose LIKE and lower() know only ASCII,
    # and on PostgreSQL.
    search_key: str = Field(default="", max_length=600, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    anonymized_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    tags: list[Tag] = Relationship(
        link_model=ContactTag, sa_relationship_kwargs={"lazy": "selectin", "order_by": "Tag.name"}
    )

    @property
    def is_anonymized(self) -> bool:
        return self.anonymized_at is not None

    @property
    def tag_names(self) -> list[str]:
        return [tag.name for tag in self.tags]


def fold(text: str) -> str:
    """Text for comparing loosely: 'Özlem Yılmaz' and 'ozlem yilmaz' fold alike."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.replace("ı", "i").casefold().split())


def search_key_for(name: str, email: str, city: str | None) -> str:
    return fold(" ".join(part for part in (name, email, city or "") if part))[:600]


@event.listens_for(Contact, "before_insert")
@event.listens_for(Contact, "before_update")
def _refresh_search_key(_mapper: Any, _connection: Any, contact: Contact) -> None:
    contact.search_key = search_key_for(contact.name, contact.email, contact.city)
