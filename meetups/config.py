"""Settings, read from MEETUPS_* environment variables and an optional .env file."""

import contextlib
import ipaddress
import os
import secrets
from email.utils import parseaddr
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import available_timezones

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Language = Literal["de", "en"]
MIN_SECRET_LENGTH = 32


class SecretKeyError(RuntimeError):
    """The generated secret key file is unusable (empty, truncated); the message says what to do."""


class LogFormat(StrEnum):
    text = "text"
    json = "json"


class SmtpSecurity(StrEnum):
    none = "none"
    starttls = "starttls"
    tls = "tls"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEETUPS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    var_dir: Path = Field(
        default=Path("var"),
        description="Where the SQLite database and the generated secret key live.",
    )
    database_url: str = Field(
        default="", description="SQLAlchemy URL; empty means a SQLite file in var_dir."
    )
    base_url: AnyHttpUrl = Field(
        default=AnyHttpUrl("http://127.0.0.1:8000"),
        description="The public address of the app, used in every link it writes.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Signs tokens and links; at least 32 characters. "
        "Generated into var_dir when unset.",
    )

    smtp_host: str = Field(default="localhost", description="SMTP relay for outgoing mail.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="Port of the SMTP relay.")
    smtp_username: str | None = Field(
        default=None, description="SMTP login, if the relay needs one."
    )
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_security: SmtpSecurity = Field(
        default=SmtpSecurity.starttls,
        description="none, starttls (upgrade on the same port, required) "
        "or tls (implicit TLS, port 465).",
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description="PEM file of the certificate authorities to trust for the relay's TLS "
        "certificate (default: the system's).",
    )
    smtp_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Timeout of each SMTP operation."
    )
    smtp_max_per_minute: int = Field(
        default=120,
        ge=0,
        description="At most this many e-mails per minute per worker; 0 means no limit.",
    )
    mail_from: str = Field(
        default="meetups <meetups@localhost>", description="Sender of every e-mail."
    )
    mail_catcher: bool = Field(
        default=False, description="Run the built-in mail catcher instead of sending mail out."
    )
    mail_catcher_port: int = Field(
        default=8025, ge=1, le=65535, description="Port of the mail catcher's SMTP server."
    )
    worker_in_serve: bool = Field(
        default=True,
        description="`meetups serve` also delivers e-mail; "
        "turn off when `meetups worker` runs on its own.",
    )
    worker_poll_seconds: float = Field(
        default=5.0,
        gt=0,
        le=3600,
        description="How often the mail worker looks for e-mail that is due.",
    )
    worker_lease_seconds: float = Field(
        default=300.0,
        ge=1,
        le=86400,
        description="How long a worker's hold on the e-mails it is sending lasts (renewed after "
        "each one; never less than 12.5 SMTP timeouts): e-mail held by a worker that died goes "
        "out once the hold has run out.",
    )
    worker_heartbeat_max_age_seconds: float = Field(
        default=120.0,
        ge=1,
        le=86400,
        description="/readyz reports the mail worker missing when none said it is alive for this "
        "long; a worker says so every quarter of it.",
    )

    default_language: Language = Field(
        default="de", description="Language when neither the browser nor the organizer chose one."
    )
    default_timezone: str = Field(
        default="Europe/Berlin", description="Time zone of new events (an IANA name)."
    )

    session_lifetime_hours: int = Field(
        default=24 * 14, ge=1, description="How long a sign-in lasts."
    )
    login_max_failures: int = Field(
        default=5,
        ge=1,
        description="Failed sign-ins per e-mail address within the window before it is throttled "
        "(four times as many per client address).",
    )
    login_failure_window_minutes: int = Field(
        default=15, ge=1, description="The throttling window, and how long to wait."
    )

    retention_months: int = Field(
        default=12,
        ge=0,
        le=1200,
        description="Personal data of events that ended more than this many months ago is erased "
        "by the retention purge; 0 turns the purge off.",
    )
    password_reset_lifetime_minutes: int = Field(
        default=60, ge=5, le=24 * 60, description="How long a password-reset link works."
    )

    log_format: LogFormat = Field(
        default=LogFormat.text,
        description="text (readable, for a laptop) or json (one object per line, for production).",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1,::1",
        description="Addresses of the reverse proxies whose X-Forwarded-For / X-Forwarded-Proto "
        "`meetups serve` believes (comma-separated IPs or networks, or *).",
    )

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"unknown time zone {value!r}")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: str) -> str:
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        if entries == ["*"]:
            return "*"
        if not entries:
            raise ValueError("give at least one address (127.0.0.1 when the proxy runs locally)")
        for entry in entries:
            # uvicorn would silently treat a malformed entry as a name that never matches.
            try:
                ipaddress.ip_network(entry)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is no IP address or network; "
                    "give addresses like 10.0.0.5,10.1.0.0/16, or * alone"
                ) from None
        return ",".join(entries)

    @field_validator("mail_from")
    @classmethod
    def _sender_address(cls, value: str) -> str:
        if "@" not in parseaddr(value)[1] or any(ch in value for ch in "\r\n"):
            raise ValueError("must be an e-mail address, like 'meetups <meetups@example.com>'")
        return value

    @field_validator("secret_key")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"MEETUPS_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters long "
                "(or leave it unset to have one generated)"
            )
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.var_dir / 'meetups.db').resolve()}"

    @cached_property
    def secret(self) -> bytes:
        """The app secret; generated once into var_dir when not configured, never hard-coded."""
        if self.secret_key is not None:
            return self.secret_key.get_secret_value().encode()
        path = self.var_dir / "secret_key"
        if not path.exists():
            _write_new_secret(path)
        value = path.read_text().strip()
        if len(value) < MIN_SECRET_LENGTH:
            raise SecretKeyError(
                f"{path} holds no usable secret key. Delete it to have a new one generated "
                "(this signs everyone out), or set MEETUPS_SECRET_KEY."
            )
        return value.encode()

    @property
    def uses_https(self) -> bool:
        return self.base_url.scheme == "https"

    @property
    def site_domain(self) -> str:
        return self.base_url.host or "localhost"

    def absolute_url(self, path: str) -> str:
        return str(self.base_url).rstrip("/") + "/" + path.lstrip("/")


def _write_new_secret(path: Path) -> None:
    """Writes a random key readable by the owner only. Written to a temporary file and linked into
    place, so that processes starting at the same moment (app and worker) agree on one key and
    never read a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_urlsafe(48) + "\n")
            file.flush()
            os.fsync(file.fileno())
        with contextlib.suppress(FileExistsError):  # another process was first: use its key
            os.link(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
