"""CSRF protection for every state-changing request: a signed double-submit token plus Fetch
Metadata / Origin checks. The token is an HMAC of a random per-browser cookie, so it cannot be
forged without the app secret and is renewed at sign-in."""

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from fastapi import Request

CSRF_COOKIE = "meetups_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


class CsrfError(Exception):
    """A state-changing request that did not prove it came from one of our own pages."""


def new_browser_secret() -> str:
    return secrets.token_urlsafe(32)


def token_for(browser_secret: str, app_secret: bytes) -> str:
    return hmac.new(app_secret, b"csrf:" + browser_secret.encode(), hashlib.sha256).hexdigest()


def _origin_is_ours(request: Request, base_url: str) -> bool:
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site in {"same-origin", "none"}
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        # Old browsers and non-browser clients send neither header; the token alone decides.
        return origin is None
    allowed = {_origin_of(base_url), _origin_of(str(request.base_url))}
    return _origin_of(origin) in allowed


def _origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


async def verify_csrf(request: Request, app_secret: bytes, base_url: str) -> None:
    if request.method in SAFE_METHODS:
        return
    if not _origin_is_ours(request, base_url):
        raise CsrfError("cross-site request")
    browser_secret = request.cookies.get(CSRF_COOKIE)
    if not browser_secret:
        raise CsrfError("no CSRF cookie")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    # Compared as bytes: compare_digest refuses str with non-ASCII characters (a TypeError, a 500).
    expected = token_for(browser_secret, app_secret).encode()
    if not sent or not hmac.compare_digest(sent.encode("utf-8", "replace"), expected):
        raise CsrfError("missing or wrong CSRF token")
