"""Benchmark 1: the invitee's page under load from a separate process.

Seeded: one published event without a capacity limit and `rsvp_guests` invited guests with
their personal links. Warm-up (not measured): every guest opens their page once, as from the
invitation, which notes "opened" and hands their browser its CSRF cookie and token. Measured:
`rsvp_gets` page views spread over those guests, then every guest presses "Yes, I will come"
once (POST, answered by a redirect): each acceptance locks the event, takes a place and queues
the confirmation e-mail with its calendar file.

Baseline: the same requests, with the same load generator and connections, against the bare
FastAPI endpoint rendering a Jinja2 page (bench.baseline_app), served by uvicorn like the app.
"""

from bench.context import (
    Backend,
    Run,
    Server,
    form_post,
    page_get,
    rps,
    server_errors,
    unexpected,
)
from bench.processes import BenchError
from bench.report import Check, Row, Section
from bench.seed import add_event, open_database

TITLE = "1. RSVP page under load"


def _rows(kind: str, app: dict, base: dict) -> list[Row]:
    return [
        Row(f"{kind}: requests per second", rps(app), rps(base), "req/s"),
        Row(f"{kind}: p50 latency", app["p50"] * 1000, base["p50"] * 1000, "ms", 1),
        Row(f"{kind}: p99 latency", app["p99"] * 1000, base["p99"] * 1000, "ms", 1),
    ]


async def run_rsvp(run: Run, backend: Backend) -> Section:
    url = await backend.databases.create("rsvp")
    app = run.start_app(url, "rsvp-app")
    try:
        return await _measure(run, backend, app)
    finally:
        run.children.stop(app.child)


async def _measure(run: Run, backend: Backend, app: Server) -> Section:
    scale = run.scale
    baseline = run.baseline()
    database = open_database(app.app_settings.resolved_database_url)
    try:
        seeded = await add_event(
            database, app.app_settings, title="RSVP load", guests=scale.rsvp_guests, invite=True
        )
    finally:
        await database.dispose()
    tokens = seeded.tokens
    if len(tokens) != scale.rsvp_guests:
        raise BenchError(f"seeded {len(tokens)} personal links, wanted {scale.rsvp_guests}")

    # Warm-up: each guest opens their page once; their cookie and token come back.
    opened = await run.load(
        app, [page_get(f"/i/{token}?lang=en") for token in tokens], capture=True, stem="rsvp-open"
    )
    browsers = [opened["captures"].get(str(index), ["", ""]) for index in range(len(tokens))]
    if unexpected(opened, 200) or not all(cookie and token for cookie, token in browsers):
        raise BenchError(f"opening the pages failed: {opened['statuses']} {opened['errors']}")
    await run.load(baseline, [page_get(f"/page/{token}") for token in tokens], stem="base-open")

    views = [tokens[i % len(tokens)] for i in range(scale.rsvp_gets)]
    cookie_of = {token: browsers[i][0] for i, token in enumerate(tokens)}
    base_get = await run.load(baseline, [page_get(f"/page/{t}") for t in views], stem="base-get")
    app_get = await run.load(
        app, [page_get(f"/i/{t}?lang=en", cookie_of[t]) for t in views], stem="rsvp-get"
    )
    accepts = [
        form_post(f"/i/{token}", cookie, {"csrf_token": csrf, "lang": "en", "answer": "accepted"})
        for token, (cookie, csrf) in zip(tokens, browsers, strict=True)
    ]
    base_post = await run.load(
        baseline,
        [
            form_post(f"/page/{token}", "-", {"csrf_token": "-", "answer": "accepted"})
            for token in tokens
        ],
        stem="base-post",
    )
    app_post = await run.load(app, accepts, stem="rsvp-post")

    section = Section(
        TITLE,
        backend.name,
        "the same requests against a bare FastAPI endpoint rendering a Jinja2 page "
        "(GET renders it, POST reads the form and renders it), served by uvicorn with the "
        "same options in one process",
        rows=_rows("GET page", app_get, base_get) + _rows("POST accept", app_post, base_post),
    )
    section.checks = [
        Check(f"all {len(views):,} page views answered 200", not unexpected(app_get, 200)),
        Check(
            f"all {len(accepts):,} acceptances answered 303 (no server errors)",
            not unexpected(app_post, 303),
        ),
    ]
    section.notes.append(
        f"{len(tokens):,} invited guests; {len(views):,} page views, then {len(accepts):,} "
        f"acceptances (each guest once); {run.scale.connections} connections from one "
        "load-generator process; the app's page views are of pages opened before (the first "
        "opening, which writes, is the unmeasured warm-up)"
    )
    for label, result in (("GET", app_get), ("POST", app_post)):
        if server_errors(result) or result["error_count"]:
            section.notes.append(
                f"{label}: statuses {result['statuses']}, errors {result['errors'][:3]}"
            )
    return section
