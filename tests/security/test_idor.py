"""Nobody reaches what is not theirs by changing a number in an address.

Organizer side: every route that names an event and something of it (a guest, a claim, a
receipt, an e-mail, a question, a coverage link) answers 404 when that thing belongs to another
event, or to another parent in the same event, and changes nothing. Invitee side: a personal
link opens its own guest's things only. The routes are read from the app, so that new ones are
walked too; a parameter these tests do not know fails them until it is taught in conftest.py.
"""

from typing import Any

import httpx
from fastapi import FastAPI

from meetups.db import Database
from tests.conftest import Browser, sign_in_as
from tests.security.conftest import Route, World, app_routes, changed_tables, snapshot

# Path parameters that name a row belonging to an event (and through it to a guest).
EVENT_SCOPED = {
    "invitee_id",
    "guest_id",
    "message_id",
    "claim_id",
    "receipt_id",
    "question_id",
    "link_id",
    "item_id",
}
GUEST_PARAMS = {"invitee_id", "guest_id"}


def organizer_routes(app: FastAPI) -> list[Route]:
    return [
        route
        for route in app_routes(app)
        if "slug" in route.params and EVENT_SCOPED & set(route.params)
    ]


def invitee_routes(app: FastAPI) -> list[Route]:
    return [
        route
        for route in app_routes(app)
        if route.path.startswith("/i/{token}") and EVENT_SCOPED & set(route.params)
    ]


async def call(client: Browser, world: World, route: Route, method: str, url: str) -> Any:
    """One request as the route's own client would send it: a form with its CSRF token from a
    page, JSON with the administrator's bearer token to the API."""
    if route.is_api:
        headers = {"Authorization": f"Bearer {world.api_token}"}
        if method in {"GET", "DELETE"}:
            return await client.request(method, url, headers=headers)
        return await client.request(method, url, json={}, headers=headers)
    if method == "GET":
        return await client.get(url)
    return await client.submit(url, {})


async def _refusals(
    client: Browser,
    world: World,
    cases: list[tuple[Route, dict[str, Any]]],
    *,
    allowed: frozenset[int] = frozenset({404}),
) -> list[str]:
    wrong = []
    for route, values in cases:
        url = route.url(values)
        own_event = f"/events/{values.get('slug')}/"
        for method in sorted(route.methods):
            response = await call(client, world, route, method, url)
            if (
                method == "POST"
                and response.status_code == 303
                and response.headers["location"].startswith(own_event)
            ):
                # A form sent after its guest was removed goes back to this event's list with
                # a message (removing twice is harmless); the snapshots show nothing changed.
                continue
            if response.status_code not in allowed:
                wrong.append(f"{method} {url} ({route.path}): {response.status_code}")
    return wrong


def test_the_walk_covers_the_routes_we_know(app: FastAPI) -> None:
    """The filters find what they should (a renamed parameter must not empty the walk)."""
    organizer = {route.path for route in organizer_routes(app)}
    invitee = {route.path for route in invitee_routes(app)}
    assert {
        "/events/{slug}/guests/{invitee_id}",
        "/events/{slug}/emails/{message_id}",
        "/events/{slug}/travel/claims/{claim_id}/receipts/{receipt_id}",
        "/events/{slug}/feedback/questions/{question_id}",
        "/events/{slug}/coverage/{link_id}",
        "/events/{slug}/checkin/guests/{invitee_id}",
    } <= organizer
    assert {
        "/i/{token}/travel/items/{item_id}",
        "/i/{token}/travel/receipts/{receipt_id}",
        "/i/{token}/coverage/{link_id}/remove",
    } <= invitee


async def test_organizer_addresses_refuse_things_of_another_event(
    signed_in: Browser, world: World, app: FastAPI, database: Database
) -> None:
    before = await snapshot(database)
    cases = [
        (route, world.values(world.b, slug=world.upcoming.slug)) for route in organizer_routes(app)
    ]
    assert await _refusals(signed_in, world, cases) == []
    assert list(changed_tables(before, await snapshot(database))) == []


async def test_organizer_addresses_refuse_guests_of_another_event_the_other_way_round(
    signed_in: Browser, world: World, app: FastAPI, database: Database
) -> None:
    before = await snapshot(database)
    cases = [
        (
            route,
            {
                **world.values(world.b),
                "invitee_id": world.upcoming_invitee_id,
                "guest_id": world.upcoming_invitee_id,
            },
        )
        for route in organizer_routes(app)
        if set(route.params) & EVENT_SCOPED <= GUEST_PARAMS
    ]
    assert cases
    assert await _refusals(signed_in, world, cases) == []
    assert list(changed_tables(before, await snapshot(database))) == []


async def test_organizer_addresses_refuse_mixed_parents_within_an_event(
    signed_in: Browser, world: World, app: FastAPI, database: Database
) -> None:
    """A receipt of one claim under another claim's address, and the like."""
    before = await snapshot(database)
    own, other = world.values(world.b), world.values(world.a)
    cases = []
    for route in organizer_routes(app):
        scoped = [name for name in route.params if name in EVENT_SCOPED]
        if len(scoped) < 2:
            continue
        for name in scoped:
            if own[name] != other[name]:
                cases.append((route, {**own, name: other[name]}))
    assert cases
    assert await _refusals(signed_in, world, cases) == []
    assert list(changed_tables(before, await snapshot(database))) == []


async def test_the_same_addresses_work_with_matching_things(
    signed_in: Browser, world: World, app: FastAPI
) -> None:
    """The control: with the right event the pages open, so the 404s above are refusals."""
    wrong = []
    for route in organizer_routes(app):
        if "GET" not in route.methods:
            continue
        url = route.url(world.values(world.b))
        response = await call(signed_in, world, route, "GET", url)
        if response.status_code == 404 or response.status_code >= 500:
            wrong.append(f"GET {url}: {response.status_code}")
    assert wrong == []


async def test_a_personal_link_reaches_no_other_guests_things(
    browser: Browser, world: World, app: FastAPI, database: Database
) -> None:
    before = await snapshot(database)
    cases = [
        (route, {**world.values(world.b), "token": world.a.token}) for route in invitee_routes(app)
    ]
    assert await _refusals(browser, world, cases) == []
    assert list(changed_tables(before, await snapshot(database))) == []


async def test_a_personal_link_reaches_its_own_things(
    browser: Browser, world: World, app: FastAPI
) -> None:
    wrong = []
    for route in invitee_routes(app):
        if "GET" not in route.methods:
            continue
        url = route.url(world.values(world.b))
        response = await browser.get(url)
        if response.status_code != 200:
            wrong.append(f"GET {url}: {response.status_code}")
    assert wrong == []


def _secrets_of(world: World) -> dict[str, str]:
    b = world.b
    return {
        "name": b.name,
        "e-mail address": b.email,
        "personal link": b.token,
        "IBAN": b.iban,
        "check-in code": b.checkin_code,
        "unsubscribe link": b.unsubscribe,
    }


async def test_pages_behind_a_link_show_nothing_of_another_guest(
    browser: Browser, world: World, app: FastAPI
) -> None:
    pages = [
        route
        for route in app_routes(app)
        if route.path.startswith("/i/{token}")
        and "GET" in route.methods
        and set(route.params) <= {"token", "rest"}
    ]
    assert {"/i/{token}", "/i/{token}/travel", "/i/{token}/calendar.ics"} <= {
        route.path for route in pages
    }
    leaks = []
    for route in pages:
        url = route.url({**world.values(world.a), "token": world.a.token})
        response = await browser.get(url)
        assert response.status_code < 500, url
        body = response.content.decode("utf-8", "replace")
        for what, value in _secrets_of(world).items():
            if value and value in body:
                leaks.append(f"{url} shows the other guest's {what}")
    assert leaks == []
    own_page = await browser.get(f"/i/{world.a.token}")
    assert world.a.name in own_page.text


async def test_each_guest_gets_their_own_check_in_code(browser: Browser, world: World) -> None:
    a = await browser.get(f"/i/{world.a.token}/checkin.svg")
    b = await browser.get(f"/i/{world.b.token}/checkin.svg")
    assert a.status_code == b.status_code == 200
    assert a.content != b.content


async def test_the_api_refuses_things_of_another_event_without_a_token_too(
    world: World, app: FastAPI, settings: Any
) -> None:
    """Without a token the API answers 401 before it looks anything up; with a session cookie
    of the browser it still does (the API takes bearer tokens only)."""
    api = [route for route in organizer_routes(app) if route.is_api]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        for route in api:
            url = route.url(world.values(world.b))
            for method in sorted(route.methods):
                response = await client.request(method, url)
                assert response.status_code == 401, (method, url, response.status_code)


async def test_a_viewer_gets_the_same_refusals(
    browser: Browser, world: World, app: FastAPI, session: Any
) -> None:
    await sign_in_as(browser, session, "viewer")
    cases = [
        (route, world.values(world.b, slug=world.upcoming.slug))
        for route in organizer_routes(app)
        if "GET" in route.methods and not route.is_api
    ]
    get_only = [(Route(route.path, frozenset({"GET"})), values) for route, values in cases]
    # Pages for editors only are refused for the role before anything is looked up.
    assert await _refusals(browser, world, get_only, allowed=frozenset({403, 404})) == []
