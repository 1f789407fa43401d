"""Feedback after an event: the form's questions, who was asked, and the responses.

Anonymous responses (Event.feedback_anonymous) are stored so that they cannot be tied to the
person who gave them, while each person can still answer only once:

- `FeedbackAnswered` holds one marker per invitee who has answered: an HMAC of the event and the
  invitee under the app secret. It has no timestamp and no serial number, so it cannot be lined up
  with a response by time or by order; a copy of the database alone does not even tell who
  answered (the app, holding the secret, can: it needs that for "remind those who have not
  answered").
- An anonymous `FeedbackResponse` has no invitee and no timestamp; its id is random, and its
  answers are keyed by (response, question, position), so no serial number orders them either.
- On SQLite these three tables are WITHOUT ROWID: rows are stored in the order of their random
  keys, so neither a hidden row number nor the file's layout tells in which order markers and
  responses arrived. PostgreSQL keeps new rows roughly in arrival order in its data files until
  they are rewritten (VACUUM FULL, CLUSTER); someone who can read those files and also holds the
  app secret could line markers up with responses by their physical position. Protecting the
  secret and the database files is therefore part of anonymity on PostgreSQL.
- To see and change their answers later, the invitee holds a random edit code; the response stores
  only its SHA-256. Nothing the server keeps leads from the invitee to the code, so the code cannot
  be sent by e-mail (the outbox would keep it next to the address): it is shown on the page and
  kept in a cookie on their device. Lose both, and the answers can no longer be changed, but still
  not given twice. That is the price of anonymity: editability rests on the invitee's device.

Named responses carry the invitee and their times, and are edited through the personal link.
"""

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from meetups.db import UTCDateTime, str_enum, utcnow


class QuestionKind(StrEnum):
    rating = "rating"  # 1 to 5
    nps = "nps"  # 0 to 10, "How likely are you to recommend ...?"
    single = "single"  # one of the options
    multiple = "multiple"  # any of the options
    short_text = "short_text"
    long_text = "long_text"

    @property
    def has_options(self) -> bool:
        return self in (QuestionKind.single, QuestionKind.multiple)

    @property
    def is_scale(self) -> bool:
        return self in (QuestionKind.rating, QuestionKind.nps)

    @property
    def is_text(self) -> bool:
        return self in (QuestionKind.short_text, QuestionKind.long_text)


class FeedbackSettings(SQLModel, table=True):
    """How an event asks for feedback. Whether it does, until when, and whether anonymously are
    fields of the event itself (the event form edits them)."""

    __tablename__ = "feedback_settings"

    event_id: int = Field(foreign_key="event.id", primary_key=True, ondelete="CASCADE")
    intro: str = Field(default="", max_length=2000)
    # None: the morning after the event at 9:00 in the event's zone; else this many hours after
    # its end.
    request_delay_hours: int | None = Field(default=None, ge=0)
    # The reminder to those who have not answered goes out this many days before the form closes
    # (0: no reminder).
    reminder_days_before_close: int = Field(default=3, ge=0)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FeedbackQuestion(SQLModel, table=True):
    __tablename__ = "feedback_question"

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0)
    kind: QuestionKind = Field(sa_type=str_enum(QuestionKind))
    label: str = Field(max_length=300)
    help: str = Field(default="", max_length=1000)
    required: bool = False


class FeedbackOption(SQLModel, table=True):
    """A choice of a single- or multiple-choice question. Answers point at it, so its wording can
    be corrected without changing what people chose."""

    __tablename__ = "feedback_option"

    id: int | None = Field(default=None, primary_key=True)
    question_id: int = Field(foreign_key="feedback_question.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0)
    label: str = Field(max_length=200)


class FeedbackRequest(SQLModel, table=True):
    """An invitee was asked for feedback (`kind` "request"), or reminded ("reminder"). The unique
    key makes "nobody gets the same request twice" hold however many workers look at once."""

    __tablename__ = "feedback_request"
    __table_args__ = (
        UniqueConstraint("invitee_id", "kind", name="uq_feedback_request_invitee_kind"),
    )

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    invitee_id: int = Field(foreign_key="invitee.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    sent_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class FeedbackAnswered(SQLModel, table=True):
    """'This invitee has answered', as an HMAC marker (see the module's docstring)."""

    __tablename__ = "feedback_answered"
    # Stored in the order of the random-looking key, not of insertion (see the module docstring).
    __table_args__ = {"sqlite_with_rowid": False}

    marker: str = Field(primary_key=True, max_length=64)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")


def new_response_id() -> str:
    return secrets.token_hex(12)


class FeedbackResponse(SQLModel, table=True):
    __tablename__ = "feedback_response"
    __table_args__ = (
        # The exports page through an event's responses in this order (keyset pagination).
        Index("ix_feedback_response_export_order", "event_id", "submitted_at", "id"),
        {"sqlite_with_rowid": False},
    )

    id: str = Field(default_factory=new_response_id, primary_key=True, max_length=32)
    event_id: int = Field(foreign_key="event.id", index=True, ondelete="CASCADE")
    anonymous: bool = False
    # Named responses only: who answered, and when. An invitee removed from the guest list leaves
    # the response behind without a name.
    invitee_id: int | None = Field(
        default=None, foreign_key="invitee.id", unique=True, ondelete="SET NULL"
    )
    submitted_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    updated_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Anonymous responses only: SHA-256 of the edit code the invitee holds.
    edit_key_hash: str | None = Field(default=None, max_length=64, unique=True)


class FeedbackAnswer(SQLModel, table=True):
    """One answer to one question: a number (rating, NPS), a chosen option (single; multiple
    choice has one row per option, numbered by `seq`), or text."""

    __tablename__ = "feedback_answer"
    __table_args__ = {"sqlite_with_rowid": False}

    response_id: str = Field(
        foreign_key="feedback_response.id", primary_key=True, max_length=32, ondelete="CASCADE"
    )
    question_id: int = Field(
        foreign_key="feedback_question.id", primary_key=True, index=True, ondelete="CASCADE"
    )
    seq: int = Field(default=0, primary_key=True)
    number: int | None = None
    option_id: int | None = Field(
        default=None, foreign_key="feedback_option.id", index=True, ondelete="CASCADE"
    )
    text: str = Field(default="", max_length=5000)
