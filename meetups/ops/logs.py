"""Logging for `meetups serve` and `meetups worker`: readable lines on a laptop, one JSON object
per line in production (MEETUPS_LOG_FORMAT). Each line written while a request is handled carries
its request id.

Personal links are secrets: every line is scrubbed of them on its way out, whatever logger wrote
it (ours, uvicorn's, a library's), so that a log file never becomes a list of working links.
"""

import json
import logging
import logging.config
import re
import secrets
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from meetups.config import LogFormat

# The first segment of every path that carries a secret after it.
SECRET_PATH_PREFIXES = ("i", "unsubscribe", "feeds", "checkin", "password-reset")
_SECRET_IN_PATH = re.compile(r"/(" + "|".join(map(re.escape, SECRET_PATH_PREFIXES)) + r")/[^/]+")
_SECRET_IN_TEXT = re.compile(
    r"/(" + "|".join(map(re.escape, SECRET_PATH_PREFIXES)) + r")/[^/\s\"'<>?#]+"
)
# What a client may send as its own X-Request-ID; anything else gets a fresh id.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:@-]{1,128}")
# Fields a request's lines carry besides the message (set with `extra=`).
REQUEST_FIELDS = ("method", "path", "status", "duration_ms")

request_id: ContextVar[str | None] = ContextVar("meetups_request_id", default=None)


def redact_path(path: str) -> str:
    """`path` with the secret part of any personal link replaced by an ellipsis."""
    return _SECRET_IN_PATH.sub(r"/\1/…", path)


def redact_text(text: str) -> str:
    """Any text (a message, a traceback) with the secret of any personal link in it blanked."""
    return _SECRET_IN_TEXT.sub(r"/\1/…", text)


def request_id_from(header: str | None) -> str:
    """The client's (or the proxy's) X-Request-ID when it looks like one, else a new one."""
    if header and _SANE_REQUEST_ID.fullmatch(header):
        return header
    return secrets.token_hex(16)


class RequestContext(logging.Filter):
    """Puts the current request's id on every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, and for a request's
    access line method, path, status and duration_ms."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_text(record.getMessage()),
        }
        if getattr(record, "request_id", None):
            entry["request_id"] = record.request_id  # type: ignore[attr-defined]
        for name in REQUEST_FIELDS:
            if hasattr(record, name):
                value = getattr(record, name)
                entry[name] = redact_path(value) if name == "path" else value
        if record.exc_info:
            entry["exception"] = redact_text(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        if getattr(record, "request_id", None):
            text += f" [request {record.request_id}]"  # type: ignore[attr-defined]
        return redact_text(text)


def logging_config(log_format: LogFormat) -> dict[str, Any]:
    """A dictConfig for the whole process; handed to uvicorn too, so that each of its worker
    processes sets up the same. uvicorn's own access log stays off: the app writes one itself,
    with the request id and without personal links (meetups.web)."""
    formatter = JsonFormatter if log_format == LogFormat.json else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request": {"()": f"{__name__}.RequestContext"}},
        "formatters": {"default": {"()": f"{__name__}.{formatter.__name__}"}},
        "handlers": {
            "default": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "default",
                "filters": ["request"],
            }
        },
        "root": {"level": "INFO", "handlers": ["default"]},
        "loggers": {
            "uvicorn": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.error": {"level": "INFO", "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
        },
    }


def configure_logging(log_format: LogFormat) -> None:
    logging.config.dictConfig(logging_config(log_format))
