"""Settings, read from MEETUPS_* environment variables and an optional .env file."""

import secrets
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import available_timezones

from pydantic import AnyHttpUrl, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Language = Literal["de", "en"]


class SmtpSecurity(StrEnum):
    none = "none"
    starttls = "starttls"
    tls = "tls"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MEETUPS_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    var_dir: Path = Field(default=Path("var"), description="Where the SQLite database and the generated secret key live.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means a SQLite file in var_dir.")
    base_url: AnyHttpUrl = Field(default=AnyHttpUrl("http://127.0.0.1:8000"))
    secret_key: SecretStr | None = None

    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: SmtpSecurity = SmtpSecurity.starttls
    smtp_timeout_seconds: float = Field(default=30.0, gt=0)
    mail_from: str = "meetups <meetups@localhost>"
    mail_catcher: bool = False
    mail_catcher_port: int = Field(default=8025, ge=1, le=65535)

    default_language: Language = "de"
    default_timezone: str = "Europe/Berlin"

    session_lifetime_hours: int = Field(default=24 * 14, ge=1)
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_minutes: int = Field(default=15, ge=1)

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"unknown time zone {value!r}")
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
            value = self.secret_key.get_secret_value()
            if len(value) < 32:
                raise ValueError("MEETUPS_SECRET_KEY must be at least 32 characters long")
            return value.encode()
        path = self.var_dir / "secret_key"
        if not path.exists():
            self.var_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(48))
        return path.read_text().strip().encode()

    @property
    def uses_https(self) -> bool:
        return self.base_url.scheme == "https"

    @property
    def site_domain(self) -> str:
        return self.base_url.host or "localhost"

    def absolute_url(self, path: str) -> str:
        return str(self.base_url).rstrip("/") + "/" + path.lstrip("/")
