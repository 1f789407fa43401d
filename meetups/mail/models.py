"""The outbox (every e-mail the app sends, written in the transaction that caused it) and the
inbox of the built-in mail catcher."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Index, Text
from sqlmodel import Field, SQLModel

from meetups.db import UTCDateTime, str_enum, utcnow


class OutboxStatus(StrEnum):
    queued = "queued"  # waiting for its turn (next_attempt_at)
    sending = "sending"  # claimed by a worker until lease_until
    sent = "sent"  # accepted by the SMTP server: never sent again
    failed = "failed"  # refused for good, or retried for too long; last_error says why


class OutboxMessage(SQLModel, table=True):
    """One e-mail to one recipient. `raw` is the complete message as rendered when it was queued,
    so every delivery attempt sends the same bytes (and the same Message-ID)."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        # The worker's two questions: what is due, and whose lease ran out.
        Index("ix_outbox_message_due", "status", "next_attempt_at"),
        Index("ix_outbox_message_lease", "status", "lease_until"),
    )

    id: int | None = Field(default=None, primary_key=True)
    message_id: str = Field(max_length=255, unique=True)
    kind: str = Field(max_length=40, index=True)
    event_id: int | None = Field(
        default=None, foreign_key="event.id", index=True, ondelete="SET NULL"
    )
    invitee_id: int | None = Field(
        default=None, foreign_key="invitee.id", index=True, ondelete="SET NULL"
    )
    recipient: str = Field(max_length=254)
    recipient_name: str = Field(default="", max_length=200)
    subject: str = Field(max_length=500)
    raw: str = Field(sa_type=Text)
    status: OutboxStatus = Field(default=OutboxStatus.queued, sa_type=str_enum(OutboxStatus))
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Which worker's batch holds the lease: a worker only ever records outcomes of its own claims.
    lease_owner: str | None = Field(default=None, max_length=32)
    last_error: str | None = Field(default=None, max_length=1000)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class CaughtMail(SQLModel, table=True):
    """A message received by the built-in mail catcher (development and demos)."""

    __tablename__ = "caught_mail"

    id: int | None = Field(default=None, primary_key=True)
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    mail_from: str = Field(default="", max_length=500)
    # The envelope recipients, comma-separated.
    recipients: str = Field(default="", sa_type=Text)
    subject: str = Field(default="", max_length=1000)
    raw: str = Field(sa_type=Text)


class WorkerHeartbeat(SQLModel, table=True):
    """A running `meetups worker` (or the embedded one) says it is alive; /readyz reads it."""

    __tablename__ = "worker_heartbeat"

    worker_id: str = Field(primary_key=True, max_length=100)
    hostname: str = Field(default="", max_length=255)
    pid: int = 0
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    seen_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
