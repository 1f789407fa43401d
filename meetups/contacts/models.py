from datetime import datetime

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
    """A person in the address book. `email` is stored normalized (see contacts.emails)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    email: str = Field(max_length=254, unique=True, index=True)
    blog_url: str | None = Field(default=None, max_length=500)
    city: str | None = Field(default=None, max_length=100)
    language: str = Field(default="de", max_length=5)
    notes: str | None = Field(default=None, max_length=5000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    anonymized_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

    tags: list[Tag] = Relationship(link_model=ContactTag, sa_relationship_kwargs={"lazy": "selectin", "order_by": "Tag.name"})
