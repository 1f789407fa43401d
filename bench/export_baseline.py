"""The export baseline: the feedback of one event as CSV, from one plain SQL query through
csv.writer, with nothing else (no ORM, no batching, no checks):
`python -m bench.export_baseline --url URL --event-id N --output FILE --result FILE`.

It writes the same columns in the same order as the app's CSV export, so that the rows per
second compare like with like, and reports its rows, seconds and peak memory growth."""

import argparse
import asyncio
import csv
import json
import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy.engine import make_url

ANSWERS = """
SELECT r.id, c.name, c.email, r.submitted_at, r.updated_at,
       a.question_id, a.number, a.option_id, a.text
FROM feedback_response r
JOIN invitee i ON i.id = r.invitee_id
JOIN contact c ON c.id = i.contact_id
LEFT JOIN feedback_answer a ON a.response_id = r.id
WHERE r.event_id = {event}
ORDER BY r.submitted_at, r.id, a.question_id, a.seq
"""
QUESTIONS = """
SELECT id, label, kind FROM feedback_question WHERE event_id = {event} ORDER BY position, id
"""
OPTIONS = """
SELECT o.id, o.label FROM feedback_option o
JOIN feedback_question q ON q.id = o.question_id WHERE q.event_id = {event}
"""
ZONE = "SELECT timezone FROM event WHERE id = {event}"


def _rss_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def _moment(value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _sqlite_rows(path: str, sql: str) -> Iterator[tuple[Any, ...]]:
    connection = sqlite3.connect(path)
    try:
        yield from connection.execute(sql)
    finally:
        connection.close()


async def _pg_rows(dsn: str, sql: str) -> AsyncIterator[tuple[Any, ...]]:
    connection = await asyncpg.connect(dsn)
    try:
        async with connection.transaction():
            async for record in connection.cursor(sql, prefetch=1000):
                yield tuple(record)
    finally:
        await connection.close()


async def rows_of(url: str, sql: str) -> AsyncIterator[tuple[Any, ...]]:
    parsed = make_url(url)
    if parsed.drivername.startswith("sqlite"):
        for row in _sqlite_rows(str(parsed.database), sql):
            yield row
    else:
        dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        async for row in _pg_rows(dsn, sql):
            yield row


def _cell(kind: str, answer: dict[str, Any], options: dict[int, str]) -> str:
    if kind in ("rating", "nps"):
        return "" if answer.get("number") is None else str(answer["number"])
    if kind in ("single", "multiple"):
        return "; ".join(options[o] for o in answer.get("options", []))
    text = answer.get("text", "")
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


async def export(url: str, event: int, output: Path) -> int:
    questions = [row async for row in rows_of(url, QUESTIONS.format(event=event))]
    options = {row[0]: row[1] async for row in rows_of(url, OPTIONS.format(event=event))}
    zone = ZoneInfo(next(iter([row async for row in rows_of(url, ZONE.format(event=event))]))[0])
    count = 0
    with output.open("w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\r\n")
        file.write("\ufeff")
        head = ["No.", "Name", "E-mail address", "Submitted", "Last changed"]
        writer.writerow(head + [label for _id, label, _kind in questions])
        current: str | None = None
        person: tuple[Any, ...] = ()
        answers: dict[int, dict[str, Any]] = {}

        def flush() -> None:
            nonlocal count
            count += 1
            name, email, submitted, updated = person
            cells = [str(count), name, email, _moment(submitted, zone), _moment(updated, zone)]
            cells += [_cell(kind, answers.get(qid, {}), options) for qid, _l, kind in questions]
            writer.writerow(cells)

        sql = ANSWERS.format(event=event)
        async for rid, name, email, submitted, updated, qid, number, option, text in rows_of(
            url, sql
        ):
            if rid != current:
                if current is not None:
                    flush()
                current, person, answers = rid, (name, email, submitted, updated), {}
            if qid is None:
                continue
            answer = answers.setdefault(qid, {})
            if number is not None:
                answer["number"] = number
            if option is not None:
                answer.setdefault("options", []).append(option)
            if text:
                answer["text"] = text
        if current is not None:
            flush()
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--event-id", type=int, required=True)
    parser.add_argument("--output", type=Path, required=True)
    parser.add_argument("--result", type=Path, required=True)
    options = parser.parse_args()
    before = _rss_kib("VmRSS")
    started = time.perf_counter()
    rows = asyncio.run(export(options.url, options.event_id, options.output))
    elapsed = time.perf_counter() - started
    result = {
        "rows": rows,
        "seconds": elapsed,
        "rss_before_kib": before,
        "peak_kib": _rss_kib("VmHWM"),
    }
    options.result.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
