"""What every response must carry (the security headers), and an app with a route that fails:
shared by the header sweep and the error-page tests."""

import httpx
import pytest
from fastapi import APIRouter, FastAPI

from meetups.web import CONTENT_SECURITY_POLICY


def directives(policy: str) -> dict[str, str]:
    parts = [part.strip() for part in policy.split(";") if part.strip()]
    return {part.split()[0]: part for part in parts}


def assert_security_headers(response: httpx.Response, *, https: bool = False) -> None:
    where = f"{response.request.method} {response.request.url.path} ({response.status_code})"
    headers = response.headers
    policy = headers.get("Content-Security-Policy", "")
    found = directives(policy)
    assert "unsafe-eval" not in policy, where
    assert "'unsafe-inline'" not in found.get("script-src", ""), where
    if "text/html" in headers.get("content-type", ""):
        # Pages get the app's policy as it is: scripts and styles from our own files only, and
        # no site may frame them.
        assert policy == CONTENT_SECURITY_POLICY, where
        assert headers.get("X-Frame-Options") == "DENY", where
    else:
        # Files with a policy of their own (an SVG, a receipt) load nothing from anywhere; a
        # receipt may be framed by our own claim pages (the PDF viewer), never by another site.
        assert "default-src" in found, where
        assert found.get("frame-ancestors") in {
            "frame-ancestors 'none'",
            "frame-ancestors 'self'",
        }, where
        assert headers.get("X-Frame-Options") in {"DENY", "SAMEORIGIN"}, where
    assert headers.get("X-Content-Type-Options") == "nosniff", where
    assert headers.get("Referrer-Policy") == "no-referrer", where
    assert "geolocation=()" in headers.get("Permissions-Policy", ""), where
    if not response.request.url.path.startswith("/static/"):
        # Pages and answers may hold personal data: no cache keeps them.
        assert "no-store" in headers.get("Cache-Control", ""), where
    if https:
        hsts = headers.get("Strict-Transport-Security", "")
        assert "max-age=31536000" in hsts, where
        assert "includeSubDomains" in hsts, where
    else:
        assert "Strict-Transport-Security" not in headers, where


@pytest.fixture
def app_that_fails(app: FastAPI) -> FastAPI:
    """The app with one more route, /boom, that raises: how a bug looks to a visitor."""
    router = APIRouter()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    app.include_router(router)
    return app
