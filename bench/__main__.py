"""`python -m bench`: runs the benchmarks and writes bench/RESULTS.md (see README, "Benchmarks").

python -m bench                      # all four, on SQLite and PostgreSQL
python -m bench --only capacity      # one (or several, comma-separated)
python -m bench --quick              # a smoke run with tiny numbers; writes no results file
"""

import argparse
import asyncio
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from bench.capacity import run_capacity
from bench.context import Backend, Run, Scale
from bench.databases import POSTGRESQL, SQLITE, ScratchDatabases, postgres_url, postgres_version
from bench.export import run_export
from bench.invitations import run_invitations
from bench.machine import describe
from bench.processes import BenchError, Children
from bench.report import Check, Section, as_markdown, as_text, write_markdown
from bench.rsvp import run_rsvp

BenchFunction = Callable[[Run, Backend], Awaitable[Section]]
BENCHMARKS: dict[str, tuple[str, BenchFunction]] = {
    "rsvp": ("1. RSVP page under load", run_rsvp),
    "invitations": ("2. Sending invitations", run_invitations),
    "capacity": ("3. Simultaneous acceptances", run_capacity),
    "export": ("4. Feedback export as CSV", run_export),
}
RESULTS = Path(__file__).with_name("RESULTS.md")


def _names(text: str, allowed: list[str], what: str) -> list[str]:
    names = [name.strip().lower() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in allowed]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown {what}: {', '.join(unknown) or '(none)'}; choose from {', '.join(allowed)}"
        )
    return names


def parse_arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Benchmarks of meetups, each against a baseline."
    )
    parser.add_argument(
        "--only",
        metavar="NAMES",
        type=lambda text: _names(text, list(BENCHMARKS), "benchmark"),
        default=list(BENCHMARKS),
        help=f"comma-separated, of: {', '.join(BENCHMARKS)} (default: all)",
    )
    parser.add_argument(
        "--backends",
        metavar="NAMES",
        type=lambda text: _names(text, [SQLITE, POSTGRESQL], "backend"),
        default=[SQLITE, POSTGRESQL],
        help="sqlite, postgresql or both (default; PostgreSQL is skipped with a note when none "
        "is reachable at MEETUPS_BENCH_DATABASE_URL, MEETUPS_TEST_DATABASE_URL or "
        "127.0.0.1:5432)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny numbers: proves the benchmarks work"
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        type=Path,
        default=None,
        help="where to write the results (default: bench/RESULTS.md; a --quick run writes "
        "none unless asked)",
    )
    parser.add_argument(
        "--mail-workers",
        metavar="N",
        type=int,
        default=1,
        help="`meetups worker` processes delivering in benchmark 2 (default 1)",
    )
    parser.add_argument(
        "--keep",
        action="store_true",
        help="keep the temporary directory (databases, logs of every process) and say where",
    )
    parser.add_argument(
        "--server-workers",
        metavar="N",
        type=int,
        default=1,
        help="processes of `meetups serve --workers` and of the baseline server in benchmarks "
        "1 and 3 (default 1: on a small machine the load generator needs a core too)",
    )
    options = parser.parse_args(argv)
    options.argv = argv
    if options.mail_workers < 1 or options.server_workers < 1:
        parser.error("--mail-workers and --server-workers must be at least 1")
    if options.output is None and not options.quick:
        options.output = RESULTS
    return options


def _stop_on_sigterm() -> None:
    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


async def _backends(names: list[str], workdir: Path) -> tuple[list[Backend], str | None, list[str]]:
    backends, skipped = [], []
    version = None
    if SQLITE in names:
        backends.append(Backend("SQLite", ScratchDatabases(SQLITE, workdir)))
    if POSTGRESQL in names:
        url = postgres_url()
        version = await postgres_version(url)
        databases = ScratchDatabases(POSTGRESQL, workdir, server_url=url)
        if version is None:
            note = (
                f"PostgreSQL: nothing answered at {databases.server}; "
                "set MEETUPS_BENCH_DATABASE_URL to run its benchmarks"
            )
            print(f"note: {note}", flush=True)
            skipped.append(note)
        else:
            backends.append(Backend(f"PostgreSQL {version.split()[0]}", databases))
    return backends, version, skipped


async def run_benchmarks(options: argparse.Namespace, workdir: Path) -> tuple[list[Section], bool]:
    scale = Scale.quick() if options.quick else Scale()
    scale = replace(scale, mail_workers=options.mail_workers, server_workers=options.server_workers)
    backends, version, skipped = await _backends(options.backends, workdir)
    machine = describe(version, postgres_wanted=POSTGRESQL in options.backends)
    print("Machine: " + "; ".join(f"{name}: {value}" for name, value in machine), flush=True)
    sections: list[Section] = []
    try:
        with Children(workdir) as children:
            run = Run(workdir, children, scale)
            for key in options.only:
                title, function = BENCHMARKS[key]
                for backend in backends:
                    print(f"\n-- {title} on {backend.name} ...", flush=True)
                    started = time.perf_counter()
                    try:
                        section = await function(run, backend)
                    except BenchError as error:
                        section = Section(title, backend.name, "–")
                        section.checks.append(Check(f"the benchmark ran: {error}", False))
                    except Exception as error:
                        traceback.print_exc()
                        section = Section(title, backend.name, "–")
                        section.checks.append(
                            Check(f"the benchmark ran: {type(error).__name__}: {error}", False)
                        )
                    section.notes.append(f"took {time.perf_counter() - started:.0f} s")
                    sections.append(section)
                    print(as_text(section), flush=True)
    finally:
        for backend in backends:
            await backend.databases.drop_all()
    if options.output is not None:
        command = " ".join(
            ["make bench" if os.environ.get("MAKELEVEL") else "python -m bench", *options.argv]
        )
        text = as_markdown(sections, machine, command=command, skipped=skipped)
        write_markdown(options.output, text)
        print(f"\nResults written to {options.output}", flush=True)
    return sections, all(section.passed for section in sections)


def main(argv: list[str] | None = None) -> int:
    options = parse_arguments(sys.argv[1:] if argv is None else argv)
    _stop_on_sigterm()
    workdir = Path(tempfile.mkdtemp(prefix="meetups-bench-"))
    try:
        _sections, passed = asyncio.run(run_benchmarks(options, workdir))
    except KeyboardInterrupt:
        print("\nInterrupted; every process the bench started was stopped.", file=sys.stderr)
        return 130
    finally:
        if options.keep:
            print(f"Logs and scratch files kept in {workdir}", file=sys.stderr)
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if not passed:
        print("\nSome checks FAILED (see above).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
