"""Benchmark 4: exporting the feedback of `feedback_responses` responses as CSV.

Seeded in bulk: an event with the default feedback form (three ratings, NPS, multiple and
single choice, three text questions) and one named response per guest with answers to most
questions; and a second event with a tenth as many, to show how memory grows with the size.

Measured: the organizer downloads the CSV from the real served app (the Feedback tab's export,
streamed), first the small event, then the big one; rows per second from the request to the last
byte, and the growth of the server process's peak memory during each download (from /proc's
VmHWM, reset before each). The `meetups export-feedback` command exports the big event too, with
its peak memory from the kernel's accounting of that process.

Baseline: one plain SQL query streamed through csv.writer into a file of the same columns, in a
process of its own (bench.export_baseline); its rows per second and its peak memory growth.
"""

import asyncio
import json
import time
from pathlib import Path

from bench.context import Backend, Run, Server, signed_in_client
from bench.processes import BenchError, clean_environment, meetups_command, peak_rss_kib
from bench.processes import python_command as bench_module
from bench.report import Check, Row, Section
from bench.seed import add_feedback_event, open_database

TITLE = "4. Feedback export as CSV"


def _reset_peak(pid: int) -> bool:
    """Resets the process's peak memory mark (Linux: "5" into clear_refs); False if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


async def _download(server: Server, slug: str, path: Path) -> tuple[float, int, int | None]:
    """Seconds, data rows, and the server's peak memory growth in KiB during the download."""
    client = await signed_in_client(server)
    try:
        pid = server.child.pid
        reset = _reset_peak(pid)
        before = _rss_kib(pid) if reset else peak_rss_kib(pid)
        lines = 0
        started = time.perf_counter()
        async with client.stream("GET", f"/events/{slug}/feedback/export.csv") as answer:
            if answer.status_code != 200:
                raise BenchError(f"the export answered {answer.status_code}")
            with path.open("wb") as file:
                async for chunk in answer.aiter_bytes():
                    lines += chunk.count(b"\r\n")
                    file.write(chunk)
        elapsed = time.perf_counter() - started
        after = peak_rss_kib(pid)
        growth = after - before if after is not None and before is not None else None
        return elapsed, lines - 1, growth
    finally:
        await client.aclose()


def _mib(kib: int | None) -> float | None:
    return None if kib is None else kib / 1024


async def run_export(run: Run, backend: Backend) -> Section:
    total = run.scale.feedback_responses
    small_total = max(total // 10, 1)
    url = await backend.databases.create("export")
    # One process: its memory is what is measured.
    app = run.start_app(url, "export-app", workers=1)
    database = open_database(url)
    try:
        seeding = time.perf_counter()
        small = await add_feedback_event(
            database, app.app_settings, title="Feedback small", responses=small_total, first_guest=0
        )
        big = await add_feedback_event(
            database,
            app.app_settings,
            title="Feedback big",
            responses=total,
            first_guest=small_total,
        )
        seeded_in = time.perf_counter() - seeding
        await database.dispose()

        small_seconds, small_rows, small_growth = await _download(
            app, small.slug, run.workdir / "small.csv"
        )
        big_s, big_rows, big_growth = await _download(app, big.slug, run.workdir / "big.csv")
        run.children.stop(app.child)

        cli_file = run.workdir / "cli.csv"
        _child, cli_s, cli_peak = await asyncio.to_thread(
            run.children.run,
            run.name("export-cli"),
            meetups_command("export-feedback", big.slug, "--format", "csv", "-o", str(cli_file)),
            env=run.app_environment(url, app.url),
        )
        result_file = run.workdir / "export-baseline.json"
        await asyncio.to_thread(
            run.children.run,
            run.name("export-baseline"),
            bench_module(
                "bench.export_baseline",
                "--url",
                url,
                "--event-id",
                str(big.id),
                "--output",
                str(run.workdir / "baseline.csv"),
                "--result",
                str(result_file),
            ),
            env=clean_environment({}),
        )
        base = json.loads(result_file.read_text())
    finally:
        run.children.stop(app.child)
        await database.dispose()

    base_growth = base["peak_kib"] - base["rss_before_kib"]
    same_shape = _same_header(run.workdir / "big.csv", run.workdir / "baseline.csv")
    section = Section(
        TITLE,
        backend.name,
        "one plain SQL query (responses joined with their answers) streamed through "
        "csv.writer into a file of the same columns, in a process of its own",
        rows=[
            Row(
                f"rows per second ({total:,} responses)",
                big_rows / big_s,
                base["rows"] / base["seconds"],
                "rows/s",
            ),
            Row(
                f"rows per second ({small_total:,} responses)",
                small_rows / small_seconds,
                None,
                "rows/s",
            ),
            Row(f"time for {total:,} responses", big_s, base["seconds"], "s", 2),
            Row(
                f"peak memory growth, {total:,} responses",
                _mib(big_growth),
                _mib(base_growth),
                "MiB",
                1,
            ),
            Row(
                f"peak memory growth, {small_total:,} responses", _mib(small_growth), None, "MiB", 1
            ),
            Row(f"`meetups export-feedback`, {total:,}: time", cli_s, None, "s", 2),
            Row(
                f"`meetups export-feedback`, {total:,}: peak memory",
                cli_peak / 1024,
                None,
                "MiB",
                1,
            ),
        ],
    )
    section.checks = [
        Check(
            f"the downloads held all {small_total:,} and {total:,} responses "
            f"({small_rows:,} and {big_rows:,})",
            big_rows == total and small_rows == small_total,
        ),
        Check(
            f"the baseline wrote the same rows and columns ({base['rows']:,})",
            base["rows"] == total and same_shape,
        ),
        Check(
            "memory does not grow with the number of rows (growth for 10× the rows stays "
            "within 10 MiB of the small export's)",
            big_growth is not None
            and small_growth is not None
            and big_growth - small_growth < 10 * 1024,
        ),
    ]
    section.notes.append(
        f"seeded {small_total + total:,} responses with their answers in {seeded_in:.0f} s "
        "(bulk inserts); memory growth is the server process's peak resident memory during the "
        "download minus its resident memory before it; the command's time includes starting "
        "Python and checking the schema"
    )
    return section


def _same_header(first: Path, second: Path) -> bool:
    with first.open(encoding="utf-8") as a, second.open(encoding="utf-8") as b:
        return a.readline() == b.readline()
