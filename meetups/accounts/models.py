from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

from meetups.db import UTCDateTime, str_enum, utcnow


class Role(StrEnum):
    """Ordered from least to most powerful; see `Role.allows`."""

    viewer = "viewer"
    organizer = "organizer"
    admin = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, required: "Role") -> bool:
        return self.rank >= required.rank


class Organizer(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=200)
    password_hash: str = Field(max_length=500)
    role: Role = Field(default=Role.organizer, sa_type=str_enum(Role))
    is_active: bool = True
    language: str | None = Field(default=None, max_length=5)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_login_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class LoginSession(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random token; only its SHA-256 is stored."""

    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    organizer_id: int = Field(foreign_key="organizer.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)


class LoginFailure(SQLModel, table=True):
    """One failed sign-in, keyed by e-mail address and by client address, for throttling."""

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, index=True)
    failed_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


class ApiToken(SQLModel, table=True):
    """A personal API token. The token itself is shown once; only its SHA-256 is stored, and
    `prefix` (its first characters) lets its owner tell tokens apart."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class PasswordReset(SQLModel, table=True):
    """A password-reset link sent by e-mail: single use, short-lived, stored as a SHA-256."""

    __tablename__ = "password_reset"

    id: int | None = Field(default=None, primary_key=True)
    organizer_id: int = Field(foreign_key="organizer.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
