"""The results of an event's feedback, gathered from the database as grouped counts and handed to
the pure maths of meetups.feedback.results (for the results page and the summary sheet)."""

from dataclasses import dataclass, field

from babel.numbers import format_percent
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups import i18n
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.events.models import Event
from meetups.feedback.answers import answer_marker
from meetups.feedback.charts import ChartBar, bar_chart
from meetups.feedback.forms import Question, questions_of
from meetups.feedback.models import (
    FeedbackAnswer,
    FeedbackAnswered,
    FeedbackRequest,
    FeedbackResponse,
    QuestionKind,
)
from meetups.feedback.requests import REMINDER, REQUEST
from meetups.feedback.results import (
    NPS_PASSIVES,
    NPS_PROMOTERS,
    NPS_SCALE,
    ChoiceSummary,
    NpsSummary,
    ResponseRate,
    ScaleSummary,
    choice_summary,
    nps_summary,
    scale_summary,
)
from meetups.i18n import gettext as _
from meetups.i18n import ngettext
from meetups.invitations.models import Invitee


@dataclass(frozen=True)
class TextAnswer:
    text: str
    name: str = ""  # named responses only


@dataclass
class QuestionResult:
    question: Question
    respondents: int = 0
    scale: ScaleSummary | None = None
    nps: NpsSummary | None = None
    choices: ChoiceSummary | None = None
    texts: list[TextAnswer] = field(default_factory=list)

    @property
    def kind(self) -> QuestionKind:
        return self.question.kind


@dataclass
class EventResults:
    rate: ResponseRate
    responses: int
    reminded: int
    anonymous: bool
    questions: list[QuestionResult]


async def response_rate(
    event: Event, *, session: AsyncSession, settings: Settings
) -> tuple[ResponseRate, int]:
    """(answered of those asked, how many were reminded)."""
    rows = (
        await session.exec(
            select(FeedbackRequest.invitee_id, FeedbackRequest.kind).where(
                FeedbackRequest.event_id == event.id
            )
        )
    ).all()
    asked = {invitee_id for invitee_id, kind in rows if kind == REQUEST}
    reminded = sum(1 for _invitee_id, kind in rows if kind == REMINDER)
    markers = set(
        (
            await session.exec(
                select(FeedbackAnswered.marker).where(FeedbackAnswered.event_id == event.id)
            )
        ).all()
    )
    answered = sum(
        1
        for invitee_id in asked
        if answer_marker(event.id, invitee_id, settings.secret) in markers  # type: ignore[arg-type]
    )
    return ResponseRate(asked=len(asked), answered=answered), reminded


async def event_results(
    event: Event, *, session: AsyncSession, settings: Settings, with_texts: bool = True
) -> EventResults:
    questions = await questions_of(event, session=session)
    results = {question.id: QuestionResult(question) for question in questions}
    ids = list(results)
    anonymous = event.feedback_anonymous
    if ids:
        respondents = await session.exec(
            select(
                FeedbackAnswer.question_id, func.count(func.distinct(FeedbackAnswer.response_id))
            )
            .where(col(FeedbackAnswer.question_id).in_(ids))
            .group_by(col(FeedbackAnswer.question_id))
        )
        for question_id, count in respondents.all():
            results[question_id].respondents = count
        numbers: dict[int, dict[int, int]] = {}
        number_rows = await session.exec(
            select(FeedbackAnswer.question_id, FeedbackAnswer.number, func.count())
            .where(
                col(FeedbackAnswer.question_id).in_(ids), col(FeedbackAnswer.number).is_not(None)
            )
            .group_by(col(FeedbackAnswer.question_id), col(FeedbackAnswer.number))
        )
        for question_id, number, count in number_rows.all():
            numbers.setdefault(question_id, {})[number] = count
        options: dict[int, dict[int, int]] = {}
        option_rows = await session.exec(
            select(FeedbackAnswer.question_id, FeedbackAnswer.option_id, func.count())
            .where(
                col(FeedbackAnswer.question_id).in_(ids), col(FeedbackAnswer.option_id).is_not(None)
            )
            .group_by(col(FeedbackAnswer.question_id), col(FeedbackAnswer.option_id))
        )
        for question_id, option_id, count in option_rows.all():
            options.setdefault(question_id, {})[option_id] = count
        for result in results.values():
            kind = result.kind
            if kind == QuestionKind.rating:
                result.scale = scale_summary(numbers.get(result.question.id, {}))
            elif kind == QuestionKind.nps:
                result.nps = nps_summary(numbers.get(result.question.id, {}))
                result.scale = scale_summary(numbers.get(result.question.id, {}), NPS_SCALE)
            elif kind.has_options:
                result.choices = choice_summary(
                    [(option.id, option.label) for option in result.question.options],  # type: ignore[misc]
                    options.get(result.question.id, {}),
                    result.respondents,
                )
        text_ids = [result.question.id for result in results.values() if result.kind.is_text]
        if with_texts and text_ids:
            query = (
                select(FeedbackAnswer.question_id, FeedbackAnswer.text, Contact.name)
                .join(FeedbackResponse, col(FeedbackResponse.id) == FeedbackAnswer.response_id)
                .outerjoin(Invitee, col(Invitee.id) == FeedbackResponse.invitee_id)
                .outerjoin(Contact, col(Contact.id) == Invitee.contact_id)
                .where(col(FeedbackAnswer.question_id).in_(text_ids), FeedbackAnswer.text != "")
                .order_by(
                    col(FeedbackAnswer.question_id),
                    col(FeedbackResponse.submitted_at),
                    col(FeedbackResponse.id),
                )
            )
            for question_id, text, name in (await session.exec(query)).all():
                shown = "" if anonymous else (name or "")
                results[question_id].texts.append(TextAnswer(text, shown))
    total = (
        await session.exec(
            select(func.count())
            .select_from(FeedbackResponse)
            .where(FeedbackResponse.event_id == event.id)
        )
    ).one()
    rate, reminded = await response_rate(event, session=session, settings=settings)
    return EventResults(
        rate=rate,
        responses=total,
        reminded=reminded,
        anonymous=anonymous,
        questions=list(results.values()),
    )


# Charts of the results, worded for the reader.


def _percent(value: float) -> str:
    return format_percent(value, locale=i18n.current_locale())


def _count_and_share(count: int, share: float) -> str:
    return f"{i18n.format_number(count)} ({_percent(share)})"


def _nps_tone(value: int) -> str:
    if value in NPS_PROMOTERS:
        return "good"
    if value in NPS_PASSIVES:
        return "neutral"
    return "bad"


def chart_bars(result: QuestionResult) -> list[ChartBar]:
    if result.kind == QuestionKind.nps and result.scale is not None:
        return [
            ChartBar(
                bar.label, bar.share, _count_and_share(bar.count, bar.share), _nps_tone(bar.key)
            )
            for bar in result.scale.bars
        ]
    if result.scale is not None:
        return [
            ChartBar(bar.label, bar.share, _count_and_share(bar.count, bar.share))
            for bar in result.scale.bars
        ]
    if result.choices is not None:
        return [
            ChartBar(bar.label, bar.share, _count_and_share(bar.count, bar.share))
            for bar in result.choices.bars
        ]
    return []


def chart_description(result: QuestionResult) -> str:
    """The chart in one sentence, for those who cannot see it."""
    answers = ngettext("%(num)s answer", "%(num)s answers", result.respondents)
    values = "; ".join(f"{bar.label}: {bar.value_text}" for bar in chart_bars(result))
    if result.nps is not None:
        nps = result.nps
        lead = _(
            "Net Promoter Score %(score)s from %(answers)s: %(promoters)s promoters, "
            "%(passives)s passives, %(detractors)s detractors.",
            score=nps.score_text or "–",
            answers=answers,
            promoters=nps.promoters,
            passives=nps.passives,
            detractors=nps.detractors,
        )
    elif result.scale is not None:
        lead = _(
            "Average %(average)s of 5 from %(answers)s.",
            average=result.scale.average_text or "–",
            answers=answers,
        )
    else:
        lead = answers + "."
    return f"{lead} {values}"


def question_chart(result: QuestionResult, *, with_heading: bool = False) -> str | None:
    """The question's chart as SVG, or None for text questions."""
    bars = chart_bars(result)
    if not bars:
        return None
    return bar_chart(
        chart_id=f"chart-{result.question.id}",
        title=result.question.question.label,
        bars=bars,
        description=chart_description(result),
        with_heading=with_heading,
    )
