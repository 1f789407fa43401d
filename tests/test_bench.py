"""The benchmarks (bench/) in their --quick mode on SQLite, so that their code keeps working: every
server, worker, SMTP server and load generator starts and stops, every check holds. Nothing here
looks at how fast anything was (timings depend on the machine); the concurrency benchmark's
counts are exact, so they are asserted."""

from pathlib import Path

import pytest

from bench.__main__ import parse_arguments, run_benchmarks
from bench.report import Section


def _row(section: Section, measure: str) -> float | None:
    return next(row.app for row in section.rows if row.measure == measure)


def _processes_mentioning(text: str) -> list[str]:
    """Running processes whose command line or environment mentions `text` (the servers have
    the run's directory in MEETUPS_VAR_DIR, the helpers on their command line)."""
    found = []
    for process in Path("/proc").glob("[0-9]*"):
        try:
            seen = (process / "cmdline").read_bytes() + (process / "environ").read_bytes()
        except OSError:
            continue  # it ended meanwhile, or is not ours
        if text.encode() in seen:
            found.append(process.name)
    return found


async def test_the_quick_benchmarks_run_and_pass_their_checks(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    workdir = tmp_path / "work"
    workdir.mkdir()
    options = parse_arguments(["--quick", "--backends", "sqlite", "--output", str(results)])

    sections, passed = await run_benchmarks(options, workdir)

    assert [section.benchmark for section in sections] == [
        "1. RSVP page under load",
        "2. Sending invitations",
        "3. Simultaneous acceptances",
        "4. Feedback export as CSV",
    ]
    failed = [check.what for section in sections for check in section.checks if not check.passed]
    assert failed == []
    assert passed
    rush = sections[2]
    assert _row(rush, "accepted") == 5
    assert _row(rush, "on the waitlist") == 15
    assert _row(rush, "server errors (5xx)") == 0
    for section in sections:
        assert all(row.app is not None for row in section.rows), section.benchmark
    written = results.read_text(encoding="utf-8")
    assert "## Machine" in written
    assert "| CPU |" in written
    assert "| SQLite |" in written
    assert "## 4. Feedback export as CSV" in written
    assert "FAIL" not in written
    assert _processes_mentioning(str(workdir)) == []


@pytest.mark.parametrize(
    "argv", [["--only", "everything"], ["--backends", "oracle"], ["--mail-workers", "0"]]
)
def test_the_options_refuse_unknown_benchmarks_and_backends(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        parse_arguments(argv)
    assert exit_.value.code == 2


def test_a_full_run_writes_the_results_file_and_a_quick_run_none() -> None:
    assert parse_arguments([]).output == Path(__file__).resolve().parents[1] / "bench/RESULTS.md"
    assert parse_arguments(["--quick"]).output is None
