"""Results: printed as each benchmark finishes, and written to bench/RESULTS.md at the end."""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path


@dataclass
class Row:
    """One measure of the app beside the same measure of the baseline."""

    measure: str
    app: float | None
    baseline: float | None = None
    unit: str = ""
    digits: int = 0

    @property
    def ratio(self) -> float | None:
        if self.app is None or not self.baseline:
            return None
        return self.app / self.baseline

    def shown(self, value: float | None) -> str:
        if value is None:
            return "–"
        return f"{value:,.{self.digits}f}" + (f" {self.unit}" if self.unit else "")


@dataclass
class Check:
    what: str
    passed: bool

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"


@dataclass
class Section:
    benchmark: str
    backend: str
    baseline: str  # what the baseline is
    rows: list[Row] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return all(check.passed for check in self.checks)


def _ratio(row: Row) -> str:
    return "–" if row.ratio is None else f"{row.ratio:.3g}×"


def as_text(section: Section) -> str:
    lines = [f"== {section.benchmark} ({section.backend})", f"   baseline: {section.baseline}"]
    width = max((len(row.measure) for row in section.rows), default=10)
    for row in section.rows:
        lines.append(
            f"   {row.measure:<{width}}  app {row.shown(row.app):>16}"
            f"   baseline {row.shown(row.baseline):>16}   ratio {_ratio(row):>8}"
        )
    lines += [f"   {check.verdict}: {check.what}" for check in section.checks]
    lines += [f"   note: {note}" for note in section.notes]
    return "\n".join(lines)


def as_markdown(
    sections: Sequence[Section],
    machine: Sequence[tuple[str, str]],
    *,
    command: str,
    skipped: Sequence[str],
) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# Benchmark results",
        "",
        f"Written by `{command}` on {when}. Each ratio is the app's value divided by the "
        "baseline's, both measured in this run on this machine; see README, *Benchmarks*, for "
        "what each benchmark does.",
        "",
        "## Machine",
        "",
        "| | |",
        "| --- | --- |",
        *(f"| {name} | {value} |" for name, value in machine),
        "",
    ]
    if skipped:
        out += ["## Not run", "", *(f"- {note}" for note in skipped), ""]
    current = ""
    for section in sections:
        if section.benchmark != current:
            current = section.benchmark
            out += [f"## {current}", ""]
        out += [
            f"### {section.backend}",
            "",
            f"Baseline: {section.baseline}",
            "",
            "| Measure | App | Baseline | Ratio (app / baseline) |",
            "| --- | ---: | ---: | ---: |",
        ]
        out += [
            f"| {row.measure} | {row.shown(row.app)} | {row.shown(row.baseline)} | {_ratio(row)} |"
            for row in section.rows
        ]
        out.append("")
        if section.checks:
            out += [f"- **{check.verdict}**: {check.what}" for check in section.checks]
        out += [f"- {note}" for note in section.notes]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def write_markdown(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
