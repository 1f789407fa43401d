"""The arithmetic of the results page and the summary sheet: averages, distributions, NPS.

Pure functions over counts (value -> how many people gave it), so that the database hands over
a few grouped numbers however many responses there are, and the maths is tested on its own.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

RATING_SCALE = range(1, 6)
NPS_SCALE = range(0, 11)
NPS_DETRACTORS = range(0, 7)  # 0 to 6
NPS_PASSIVES = range(7, 9)  # 7 and 8
NPS_PROMOTERS = range(9, 11)  # 9 and 10


def share(count: int, total: int) -> float:
    """count / total, 0.0 when there is nothing to divide by."""
    return count / total if total else 0.0


def rounded(value: float, digits: int = 0) -> Decimal:
    """Rounded half away from zero, as people round (Python's round() rounds half to even)."""
    quantum = Decimal(1).scaleb(-digits)
    return Decimal(str(value)).quantize(quantum, rounding=ROUND_HALF_UP)


def percent(count: int, total: int) -> int:
    return int(rounded(share(count, total) * 100))


@dataclass(frozen=True)
class Bar:
    """One value of a distribution: its label, how many chose it, and their share."""

    key: int
    label: str
    count: int
    share: float

    @property
    def percent(self) -> int:
        return int(rounded(self.share * 100))


@dataclass(frozen=True)
class ScaleSummary:
    """A rating (or the 0-10 scale of an NPS): who answered, the average, each value's count."""

    respondents: int
    total: int  # the sum of the values given
    bars: tuple[Bar, ...]

    @property
    def average(self) -> float | None:
        return self.total / self.respondents if self.respondents else None

    @property
    def average_rounded(self) -> Decimal | None:
        """The average to one decimal, for showing."""
        average = self.average
        return None if average is None else rounded(average, 1)

    @property
    def average_text(self) -> str:
        """The average with one decimal ("4.3"), or "" without answers."""
        average = self.average
        return "" if average is None else str(rounded(average, 1))


def scale_summary(counts: Mapping[int, int], scale: Sequence[int] = RATING_SCALE) -> ScaleSummary:
    """Counts for every value of `scale` (zeros included); values outside it are ignored."""
    allowed = set(scale)
    kept = {value: count for value, count in counts.items() if value in allowed and count > 0}
    respondents = sum(kept.values())
    bars = tuple(
        Bar(value, str(value), kept.get(value, 0), share(kept.get(value, 0), respondents))
        for value in scale
    )
    total = sum(value * count for value, count in kept.items())
    return ScaleSummary(respondents=respondents, total=total, bars=bars)


@dataclass(frozen=True)
class NpsSummary:
    """Net Promoter Score: % promoters (9-10) minus % detractors (0-6), from -100 to 100."""

    promoters: int
    passives: int
    detractors: int
    scale: ScaleSummary

    @property
    def respondents(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def score(self) -> float | None:
        """The exact score; None without answers (0 would claim a balance nobody expressed)."""
        if not self.respondents:
            return None
        return 100 * (self.promoters - self.detractors) / self.respondents

    @property
    def score_text(self) -> str:
        """The score as a whole number with its sign ("+40", "-12", "0"), or "" without answers."""
        score = self.score
        if score is None:
            return ""
        whole = int(rounded(score))
        return f"+{whole}" if whole > 0 else str(whole)

    @property
    def groups(self) -> tuple[Bar, Bar, Bar]:
        total = self.respondents
        return (
            Bar(0, "detractors", self.detractors, share(self.detractors, total)),
            Bar(1, "passives", self.passives, share(self.passives, total)),
            Bar(2, "promoters", self.promoters, share(self.promoters, total)),
        )


def nps_summary(counts: Mapping[int, int]) -> NpsSummary:
    scale = scale_summary(counts, NPS_SCALE)
    given = {bar.key: bar.count for bar in scale.bars}
    return NpsSummary(
        promoters=sum(given[value] for value in NPS_PROMOTERS),
        passives=sum(given[value] for value in NPS_PASSIVES),
        detractors=sum(given[value] for value in NPS_DETRACTORS),
        scale=scale,
    )


@dataclass(frozen=True)
class ChoiceSummary:
    """A single- or multiple-choice question: each option's count and its share of those who
    answered the question (for multiple choice the shares add up to more than 100 %)."""

    respondents: int
    bars: tuple[Bar, ...]


def choice_summary(
    options: Sequence[tuple[int, str]], counts: Mapping[int, int], respondents: int
) -> ChoiceSummary:
    """`options` as (id, label) in their order; `counts` by option id; `respondents` how many
    answered the question at all."""
    bars = tuple(
        Bar(
            option_id, label, counts.get(option_id, 0), share(counts.get(option_id, 0), respondents)
        )
        for option_id, label in options
    )
    return ChoiceSummary(respondents=respondents, bars=bars)


@dataclass(frozen=True)
class ResponseRate:
    asked: int  # invitees who were sent the request
    answered: int  # of those, how many answered

    @property
    def share(self) -> float | None:
        return self.answered / self.asked if self.asked else None

    @property
    def percent(self) -> int | None:
        value = self.share
        return None if value is None else int(rounded(value * 100))
