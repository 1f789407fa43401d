"""The arithmetic of the results: averages, distributions, NPS and response rates, on known sets
of answers (pure functions, no database)."""

from decimal import Decimal

import pytest

from meetups.feedback.results import (
    NPS_SCALE,
    ResponseRate,
    choice_summary,
    nps_summary,
    percent,
    rounded,
    scale_summary,
)


def test_a_rating_has_its_average_and_every_value_counted() -> None:
    # 1×1, 2×0, 3×2, 4×3, 5×4: ten answers, sum 1 + 6 + 12 + 20 = 39.
    summary = scale_summary({1: 1, 3: 2, 4: 3, 5: 4})
    assert summary.respondents == 10
    assert summary.average == pytest.approx(3.9)
    assert summary.average_text == "3.9"
    assert summary.average_rounded == Decimal("3.9")
    assert [(bar.key, bar.count) for bar in summary.bars] == [
        (1, 1),
        (2, 0),
        (3, 2),
        (4, 3),
        (5, 4),
    ]
    assert [bar.percent for bar in summary.bars] == [10, 0, 20, 30, 40]
    assert sum(bar.share for bar in summary.bars) == pytest.approx(1.0)


def test_a_rating_without_answers_has_no_average() -> None:
    summary = scale_summary({})
    assert summary.respondents == 0
    assert summary.average is None
    assert summary.average_text == ""
    assert [bar.count for bar in summary.bars] == [0, 0, 0, 0, 0]
    assert all(bar.share == 0 for bar in summary.bars)


def test_values_outside_the_scale_and_empty_counts_are_ignored() -> None:
    summary = scale_summary({0: 3, 6: 2, 5: 2, 4: 0, -1: 1})
    assert summary.respondents == 2
    assert summary.average == 5


def test_averages_round_half_up_as_people_do() -> None:
    # 4.25 shows as 4.3 (Python's round() would give 4.2).
    summary = scale_summary({4: 3, 5: 1})
    assert summary.average == pytest.approx(4.25)
    assert summary.average_text == "4.3"
    assert rounded(2.5) == 3
    assert rounded(-2.5) == -3


@pytest.mark.parametrize(
    ("counts", "promoters", "passives", "detractors", "score", "text"),
    [
        # All promoters: the best possible score.
        ({9: 4, 10: 6}, 10, 0, 0, 100.0, "+100"),
        # All detractors, from 0 to 6: the worst.
        ({0: 1, 3: 2, 6: 4}, 0, 0, 7, -100.0, "-100"),
        # Only passives: zero, not "no score".
        ({7: 2, 8: 3}, 0, 5, 0, 0.0, "0"),
        # 5 promoters, 3 passives, 2 detractors: 50 % - 20 % = 30.
        ({10: 2, 9: 3, 8: 2, 7: 1, 6: 1, 1: 1}, 5, 3, 2, 30.0, "+30"),
        # One promoter among three: 33.3 shows as +33.
        ({9: 1, 7: 2}, 1, 2, 0, 100 / 3, "+33"),
        # 12.5 and -12.5 round away from zero.
        ({10: 1, 8: 7}, 1, 7, 0, 12.5, "+13"),
        ({5: 1, 8: 7}, 0, 7, 1, -12.5, "-13"),
    ],
)
def test_the_net_promoter_score(
    counts: dict[int, int],
    promoters: int,
    passives: int,
    detractors: int,
    score: float,
    text: str,
) -> None:
    nps = nps_summary(counts)
    assert (nps.promoters, nps.passives, nps.detractors) == (promoters, passives, detractors)
    assert nps.respondents == promoters + passives + detractors
    assert nps.score == pytest.approx(score)
    assert nps.score_text == text
    detractor_bar, passive_bar, promoter_bar = nps.groups
    assert (detractor_bar.count, passive_bar.count, promoter_bar.count) == (
        detractors,
        passives,
        promoters,
    )
    assert nps.score == pytest.approx(100 * (promoter_bar.share - detractor_bar.share))


def test_no_answers_give_no_net_promoter_score() -> None:
    nps = nps_summary({})
    assert nps.respondents == 0
    assert nps.score is None
    assert nps.score_text == ""
    assert [bar.share for bar in nps.groups] == [0.0, 0.0, 0.0]
    assert [bar.key for bar in nps.scale.bars] == list(NPS_SCALE)


def test_choices_are_counted_in_their_order_with_shares_of_those_who_answered() -> None:
    options = [(11, "The talks"), (12, "The tour"), (13, "Food")]
    # Multiple choice: 4 people answered, choosing 3 + 2 + 0 times.
    summary = choice_summary(options, {11: 3, 12: 2}, respondents=4)
    assert [(bar.label, bar.count, bar.percent) for bar in summary.bars] == [
        ("The talks", 3, 75),
        ("The tour", 2, 50),
        ("Food", 0, 0),
    ]
    assert choice_summary(options, {}, respondents=0).bars[0].share == 0


def test_the_response_rate() -> None:
    assert ResponseRate(asked=8, answered=6).percent == 75
    assert ResponseRate(asked=3, answered=2).percent == 67
    assert ResponseRate(asked=0, answered=0).share is None
    assert ResponseRate(asked=0, answered=0).percent is None
    assert percent(1, 3) == 33
    assert percent(0, 0) == 0
