"""An event's feedback: the results per question and the responses.

When the event's feedback is anonymous, nothing here tells who answered: no names, addresses,
guest ids or times, and responses come in the random order of their keys (as in the exports)."""

from fastapi import APIRouter

from meetups.api.auth import ApiViewer, AuthenticatedRoute
from meetups.api.errors import error_responses
from meetups.api.event_fields import in_zone
from meetups.api.pagination import Page, Paging
from meetups.api.schemas import (
    FeedbackResponseOut,
    FeedbackResults,
    NpsOut,
    OptionCount,
    QuestionResultOut,
    TextAnswerOut,
    ValueCount,
)
from meetups.deps import SessionDep, SettingsDep
from meetups.events.lookup import get_event_by_slug
from meetups.feedback import exports, forms
from meetups.feedback.report import QuestionResult, event_results
from meetups.feedback.results import ScaleSummary

router = APIRouter(route_class=AuthenticatedRoute, tags=["feedback"])


class FeedbackResponsePage(Page[FeedbackResponseOut]):
    anonymous: bool


def _distribution(scale: ScaleSummary | None) -> list[ValueCount] | None:
    if scale is None:
        return None
    return [ValueCount(value=bar.key, count=bar.count, share=bar.share) for bar in scale.bars]


def _question_out(result: QuestionResult, anonymous: bool) -> QuestionResultOut:
    question = result.question
    nps = result.nps
    return QuestionResultOut(
        id=question.id,
        position=question.question.position + 1,
        kind=question.kind,
        label=question.question.label,
        required=question.question.required,
        respondents=result.respondents,
        average=result.scale.average if result.scale is not None else None,
        distribution=_distribution(result.scale),
        nps=(
            NpsOut(
                score=nps.score,
                promoters=nps.promoters,
                passives=nps.passives,
                detractors=nps.detractors,
            )
            if nps is not None
            else None
        ),
        options=(
            [
                OptionCount(id=bar.key, label=bar.label, count=bar.count, share=bar.share)
                for bar in result.choices.bars
            ]
            if result.choices is not None
            else None
        ),
        texts=(
            [
                TextAnswerOut(text=text.text, name=None if anonymous else (text.name or None))
                for text in result.texts
            ]
            if question.kind.is_text
            else None
        ),
    )


@router.get(
    "/events/{slug}/feedback/results",
    summary="Feedback results per question",
    responses=error_responses(401, 404),
)
async def feedback_results(
    slug: str, session: SessionDep, settings: SettingsDep, organizer: ApiViewer
) -> FeedbackResults:
    """What the results page shows: per question the number of answers, averages and
    distributions of ratings, the NPS, the counts of each choice and the texts (with their
    authors' names only when the feedback is not anonymous)."""
    event = await get_event_by_slug(slug, session=session)
    results = await event_results(event, session=session, settings=settings)
    return FeedbackResults(
        anonymous=results.anonymous,
        responses=results.responses,
        asked=results.rate.asked,
        answered=results.rate.answered,
        response_rate=results.rate.share,
        reminded=results.reminded,
        questions=[_question_out(result, results.anonymous) for result in results.questions],
    )


@router.get(
    "/events/{slug}/feedback/responses",
    summary="Feedback responses",
    responses=error_responses(401, 404, 422),
)
async def feedback_responses(
    slug: str,
    session: SessionDep,
    organizer: ApiViewer,
    paging: Paging,
) -> FeedbackResponsePage:
    """Each response with its answers by question id. For anonymous feedback the responses carry
    no name, address, guest id or time."""
    event = await get_event_by_slug(slug, session=session)
    questions = await forms.questions_of(event, session=session)
    total = await forms.response_count(event, session=session)
    rows = await exports.rows_page(event, session=session, offset=paging.offset, limit=paging.limit)
    named = exports.shows_names(event)
    items = []
    for row in rows:
        response = row.response
        shown = named and not response.anonymous
        items.append(
            FeedbackResponseOut(
                number=row.number,
                guest_id=response.invitee_id if shown and row.name else None,
                name=(row.name or None) if shown else None,
                email=(row.email or None) if shown else None,
                submitted_at=in_zone(response.submitted_at, event.timezone) if shown else None,
                updated_at=in_zone(response.updated_at, event.timezone) if shown else None,
                answers={
                    str(question.id): exports.answer_value(question, row.answers.get(question.id))
                    for question in questions
                },
            )
        )
    return FeedbackResponsePage.of(items, total=total, paging=paging, anonymous=not named)
