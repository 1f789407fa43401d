"""Fixtures of the API tests: organizers of each role with personal tokens, and a client that
calls the API as a script would (no cookies, a bearer token)."""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from meetups.accounts import tokens
from meetups.accounts.models import Organizer
from tests import factories


@dataclass
class Caller:
    organizer: Organizer
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


async def make_caller(session: Any, role: str, *, email: str | None = None) -> Caller:
    organizer = await factories.make_organizer(
        session, email=email or f"{role}.api@example.com", name=f"{role.title()} Script", role=role
    )
    created = await tokens.create_token(organizer, f"{role} script", session=session)
    await session.commit()
    return Caller(organizer=organizer, token=created.secret)


@pytest.fixture
async def api(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A plain HTTP client: it keeps no cookies between requests and sends no CSRF token."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        yield client


# In the API's tests, `editor` and `viewer` are callers holding a token of that role, not the
# signed-in browsers of tests/conftest.py: the API knows no sessions.
@pytest.fixture
async def editor(session: Any) -> Caller:
    return await make_caller(session, "organizer")


@pytest.fixture
async def viewer(session: Any) -> Caller:
    return await make_caller(session, "viewer")


def error_of(response: httpx.Response) -> dict[str, Any]:
    """The error of an answer, checked to have the one shape every API error has."""
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == {"code", "message", "details"}, error
    assert isinstance(error["message"], str)
    assert error["message"]
    return error


def fields_of(response: httpx.Response) -> dict[str, str]:
    """The wrong fields named by an error answer, field -> message."""
    return {detail["field"]: detail["message"] for detail in error_of(response)["details"]}
