"""Benchmark 2: sending invitations to `invitations` guests.

Queueing: an organizer, signed in, presses "Send invitations" on the guest list (the real POST
with its CSRF token, as the browser sends it); measured until the answer is back, with every
invitation rendered and stored in the outbox. Delivery: `mail_workers` real `meetups worker`
processes deliver the outbox to a local aiosmtpd server (bench.smtp_sink, in a process of its
own) until every row is marked sent. The rate is taken at the server, from the first message to
the last.

Baseline for delivery: the same raw messages, read back from the outbox, sent by a plain
aiosmtplib loop over one connection (bench.smtp_baseline) to the same kind of server.
"""

import asyncio
import contextlib
import json
import time
from pathlib import Path

import httpx
from sqlmodel import col, select

from bench.context import Backend, Run, Server, csrf_of, signed_in_client
from bench.processes import (
    BenchError,
    Child,
    clean_environment,
    free_port,
    meetups_command,
    python_command,
    wait_for_line,
)
from bench.report import Check, Row, Section
from bench.seed import add_event, count_rows, open_database
from meetups.db import Database
from meetups.invitations.messages import KIND_INVITATION
from meetups.mail.models import OutboxMessage, OutboxStatus
from meetups.mail.sender import envelope_sender

TITLE = "2. Sending invitations"
DELIVERY_TIMEOUT_SECONDS = 1800.0


def _start_sink(run: Run, stem: str) -> tuple[Child, int, str]:
    port = free_port()
    result = run.workdir / f"{run.name(stem)}.json"
    child = run.children.start(
        run.name(stem),
        python_command("bench.smtp_sink", "--port", str(port), "--result", str(result)),
        env=clean_environment({}),
    )
    wait_for_line(child, "ready")
    return child, port, str(result)


def _stop_sink(run: Run, child: Child, result: str) -> dict:
    run.children.stop(child)
    with open(result, encoding="utf-8") as file:
        return json.load(file)


def _rate(sink: dict) -> float | None:
    if sink["messages"] < 2 or not sink["last"] or sink["last"] <= sink["first"]:
        return None
    return (sink["messages"] - 1) / (sink["last"] - sink["first"])


async def _probe(server: Server, done: asyncio.Event) -> float:
    """The longest another visitor waits for a page while the invitations are queued: a
    sign-in page requested every 0.1 s until `done`."""
    longest = 0.0
    async with httpx.AsyncClient(base_url=server.url, timeout=600) as client:
        while not done.is_set():
            started = time.perf_counter()
            await client.get("/login")
            longest = max(longest, time.perf_counter() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(done.wait(), 0.1)
    return longest


async def _queue(server: Server, slug: str) -> tuple[float, int, float]:
    """Presses "Send invitations": the seconds until the answer, its status, and the longest
    wait of another request meanwhile."""
    client = await signed_in_client(server)
    try:
        guests = f"/events/{slug}/guests"
        token = await csrf_of(client, guests)
        done = asyncio.Event()
        probe = asyncio.create_task(_probe(server, done))
        started = time.perf_counter()
        try:
            answer = await client.post(
                f"{guests}/invite",
                data={"csrf_token": token},
                headers={"Sec-Fetch-Site": "same-origin"},
            )
        finally:
            elapsed = time.perf_counter() - started
            done.set()
        return elapsed, answer.status_code, await probe
    finally:
        await client.aclose()


async def _wait_until_sent(
    database: Database, expected: int, workers: list[Child]
) -> tuple[float, int, int]:
    """Seconds until every invitation is sent (or failed), and the sent and failed counts."""
    started = time.perf_counter()
    deadline = started + DELIVERY_TIMEOUT_SECONDS
    invitation = col(OutboxMessage.kind) == KIND_INVITATION
    while True:
        sent = await count_rows(
            database, OutboxMessage, invitation, col(OutboxMessage.status) == OutboxStatus.sent
        )
        failed = await count_rows(
            database, OutboxMessage, invitation, col(OutboxMessage.status) == OutboxStatus.failed
        )
        if sent + failed >= expected:
            return time.perf_counter() - started, sent, failed
        for worker in workers:
            if worker.process.poll() is not None:
                raise BenchError(f"{worker.name} exited:\n{worker.log_tail()}")
        if time.perf_counter() > deadline:
            raise BenchError(f"only {sent} of {expected} invitations were delivered in time")
        await asyncio.sleep(0.1)


async def _raw_messages(database: Database, path: Path, sender: str) -> int:
    """Writes the queued invitations, as stored, for the baseline sender; how many."""
    async with database.session() as session:
        rows = (
            await session.exec(
                select(OutboxMessage.recipient, OutboxMessage.raw)
                .where(OutboxMessage.kind == KIND_INVITATION)
                .order_by(col(OutboxMessage.id))
            )
        ).all()
    lines = (
        json.dumps({"sender": sender, "recipient": recipient, "raw": raw}) + "\n"
        for recipient, raw in rows
    )
    await asyncio.to_thread(path.write_text, "".join(lines), encoding="utf-8")
    return len(rows)


async def run_invitations(run: Run, backend: Backend) -> Section:
    scale = run.scale
    url = await backend.databases.create("invitations")
    app = run.start_app(url, "invite-app", workers=1)
    database = open_database(url)
    try:
        seeded = await add_event(
            database, app.app_settings, title="Invitations", guests=scale.invitations
        )
        queue_seconds, status, stalled = await _queue(app, seeded.event.slug)
        queued = await count_rows(
            database,
            OutboxMessage,
            col(OutboxMessage.kind) == KIND_INVITATION,
            col(OutboxMessage.status) == OutboxStatus.queued,
        )
        run.children.stop(app.child)  # delivery is the workers' job; nothing else competes

        # Delivery by the real workers.
        sink, sink_port, sink_result = _start_sink(run, "sink-app")
        env = run.app_environment(
            url,
            app.url,
            MEETUPS_SMTP_HOST="127.0.0.1",
            MEETUPS_SMTP_PORT=str(sink_port),
            MEETUPS_SMTP_SECURITY="none",
            MEETUPS_SMTP_MAX_PER_MINUTE="0",
        )
        workers = [
            run.children.start(run.name("mail-worker"), meetups_command("worker"), env=env)
            for _ in range(scale.mail_workers)
        ]
        try:
            total_seconds, sent, failed = await _wait_until_sent(database, queued, workers)
        finally:
            for worker in workers:
                run.children.stop(worker)
        app_sink = _stop_sink(run, sink, sink_result)

        # The baseline: the same messages, one plain aiosmtplib connection.
        messages = run.workdir / "invitations.jsonl"
        count = await _raw_messages(database, messages, envelope_sender(app.app_settings))
        sink, sink_port, sink_result = _start_sink(run, "sink-baseline")
        _child, baseline_seconds, _rss = await asyncio.to_thread(
            run.children.run,
            run.name("smtp-baseline"),
            python_command(
                "bench.smtp_baseline", "--port", str(sink_port), "--messages", str(messages)
            ),
            env=clean_environment({}),
        )
        base_sink = _stop_sink(run, sink, sink_result)
    finally:
        run.children.stop(app.child)
        await database.dispose()

    n = scale.invitations
    section = Section(
        TITLE,
        backend.name,
        "the same raw messages sent by a plain aiosmtplib loop over one connection to the same "
        "kind of local aiosmtpd server (no database)",
        rows=[
            Row(f"time to queue {n:,} from the button", queue_seconds, None, "s", 2),
            Row("queueing rate", queued / queue_seconds if queue_seconds else None, None, "msg/s"),
            Row("longest wait of another page meanwhile", stalled, None, "s", 2),
            Row("delivery rate (at the SMTP server)", _rate(app_sink), _rate(base_sink), "msg/s"),
            Row("delivery, first to last message", _span(app_sink), _span(base_sink), "s", 2),
            Row("delivery including process start", total_seconds, baseline_seconds, "s", 2),
        ],
    )
    section.checks = [
        Check(f"the button answered with a redirect (got {status})", status == 303),
        Check(f"{queued:,} of {n:,} invitations queued", queued == n),
        Check(
            f"{sent:,} sent, {failed} failed, by {scale.mail_workers} worker process(es)",
            sent == n and failed == 0,
        ),
        Check(
            f"the server received {app_sink['messages']:,} from the workers and "
            f"{base_sink['messages']:,} from the baseline",
            app_sink["messages"] == n and base_sink["messages"] == count == n,
        ),
    ]
    section.notes.append(
        f"{scale.mail_workers} `meetups worker` process(es), no rate limit "
        "(MEETUPS_SMTP_MAX_PER_MINUTE=0), plain SMTP on localhost; the worker claims batches "
        "of 50 and records each outcome in the database as it goes"
    )
    return section


def _span(sink: dict) -> float | None:
    if not sink["first"] or not sink["last"]:
        return None
    return float(sink["last"] - sink["first"])
