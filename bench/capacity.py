"""Benchmark 3: `rush_guests` guests accept at the same moment for `rush_capacity` places.

Seeded: a published event with that capacity and that many invited guests. Each guest opens
their page first (unmeasured; their browser gets its CSRF cookie and token). Then the load
generator opens one connection per guest and releases all acceptances at once. Afterwards the
database says how many were accepted (exactly the capacity, or the benchmark fails), how many
wait on the waitlist, and how many places are taken; every answer must be a redirect, never a
server error. Time to settle: from the release to the last answer.

Baseline for the time to settle: the same burst (one connection per request, released at once)
of form POSTs against the bare FastAPI + Jinja2 endpoint, i.e. what handling that many
simultaneous requests costs this server setup when there is nothing to decide.
"""

from sqlmodel import col

from bench.context import Backend, Run, form_post, page_get, server_errors, unexpected
from bench.processes import BenchError
from bench.report import Check, Row, Section
from bench.seed import add_event, count_rows, open_database
from meetups.events.models import Event
from meetups.invitations.models import Invitee, InviteeStatus

TITLE = "3. Simultaneous acceptances"


async def run_capacity(run: Run, backend: Backend) -> Section:
    scale = run.scale
    guests, places = scale.rush_guests, scale.rush_capacity
    url = await backend.databases.create("capacity")
    app = run.start_app(url, "capacity-app")
    baseline = run.baseline()
    database = open_database(url)
    try:
        seeded = await add_event(
            database,
            app.app_settings,
            title="Rush",
            guests=guests,
            capacity=places,
            invite=True,
        )
        tokens = seeded.tokens
        opened = await run.load(
            app, [page_get(f"/i/{t}?lang=en") for t in tokens], capture=True, stem="rush-open"
        )
        browsers = [opened["captures"].get(str(i), ["", ""]) for i in range(len(tokens))]
        if len(tokens) != guests or not all(cookie and csrf for cookie, csrf in browsers):
            raise BenchError(f"opening the pages failed: {opened['statuses']}")
        rush = await run.load(
            app,
            [
                form_post(f"/i/{t}", cookie, {"csrf_token": csrf, "answer": "accepted"})
                for t, (cookie, csrf) in zip(tokens, browsers, strict=True)
            ],
            burst=True,
            stem="rush",
        )
        base = await run.load(
            baseline,
            [form_post(f"/page/{t}", "-", {"answer": "accepted"}) for t in tokens],
            burst=True,
            stem="base-rush",
        )
        event_id = seeded.event.id
        this_event = col(Invitee.event_id) == event_id
        accepted = await count_rows(
            database, Invitee, this_event, col(Invitee.status) == InviteeStatus.accepted
        )
        waitlisted = await count_rows(
            database, Invitee, this_event, col(Invitee.status) == InviteeStatus.waitlisted
        )
        async with database.session() as session:
            event = await session.get(Event, event_id)
            taken = event.seats_taken if event else -1
    finally:
        run.children.stop(app.child)
        await database.dispose()

    errors = server_errors(rush)
    section = Section(
        TITLE,
        backend.name,
        f"the same burst of {guests} simultaneous form POSTs against the bare FastAPI + "
        "Jinja2 endpoint (time to settle only)",
        rows=[
            Row("accepted", accepted, None),
            Row("on the waitlist", waitlisted, None),
            Row("places taken (Event.seats_taken)", taken, None),
            Row("server errors (5xx)", errors, None),
            Row("time to settle", rush["elapsed"], base["elapsed"], "s", 3),
            Row("slowest answer", rush["max"] * 1000, base["max"] * 1000, "ms", 0),
        ],
    )
    section.checks = [
        Check(f"exactly {places} accepted ({accepted})", accepted == places == taken),
        Check(f"0 server errors ({errors})", errors == 0),
        Check(
            f"every one of the {guests} answered with a redirect ({rush['statuses']})",
            not unexpected(rush, 303),
        ),
        Check(f"everyone else is on the waitlist ({waitlisted})", waitlisted == guests - places),
    ]
    return section
