"""Answering the feedback form: required questions, checked values, one response per invitee
(named and anonymous, also when submissions arrive at the same moment), editing until the form
closes, and who may answer when."""

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlmodel import select

from meetups.checkin.models import CheckIn
from meetups.db import utcnow
from meetups.errors import ValidationFailed
from meetups.events.models import Event, EventStatus
from meetups.feedback import answers
from meetups.feedback.answers import AlreadyAnswered, Closed, FeedbackClosed, submit_feedback
from meetups.feedback.models import FeedbackAnswer, FeedbackAnswered, FeedbackResponse
from meetups.invitations.models import Invitee, InviteeStatus
from tests.feedback.helpers import (
    all_of,
    answer,
    attendee,
    by_kind,
    default_form,
    past_event,
    rows,
)


def _complete(questions: list[Any], rating: int = 4, nps: int = 9) -> dict[str, Any]:
    """Answers to every question of the default form."""
    liked = by_kind(questions, "multiple")
    again = by_kind(questions, "single")
    values: dict[str, Any] = {
        q.field_name: str(rating) for q in questions if q.kind.value == "rating"
    }
    values[by_kind(questions, "nps").field_name] = str(nps)
    values[liked.field_name] = [str(liked.options[0].id), str(liked.options[2].id)]
    values[again.field_name] = str(again.options[1].id)
    values[by_kind(questions, "long_text").field_name] = "More time for questions,\nplease."
    values[by_kind(questions, "short_text").field_name] = "Fibre to the home"
    return values


async def test_required_questions_are_enforced_by_question(session: Any, settings: Any) -> None:
    event = await past_event(session)
    questions = await default_form(session, event)
    invitee, _token = await attendee(session, settings, event, "Anna Müller")
    overall, nps = questions[0], by_kind(questions, "nps")
    with pytest.raises(ValidationFailed) as refused:
        await answer(session, settings, event, invitee, {questions[1].field_name: "3"})
    assert refused.value.errors == {
        overall.field_name: "Please answer this question.",
        nps.field_name: "Please answer this question.",
    }
    # Only the required ones are needed; the rest may stay empty.
    outcome = await answer(
        session, settings, event, invitee, {overall.field_name: "5", nps.field_name: "10"}
    )
    assert outcome.created
    stored = await answers.stored_answers(outcome.response, session=session)
    assert {key: value.number for key, value in stored.items()} == {overall.id: 5, nps.id: 10}


@pytest.mark.parametrize(
    ("kind", "given", "message"),
    [
        ("rating", ["6"], "from 1 to 5"),
        ("rating", ["0"], "from 1 to 5"),
        ("rating", ["4.5"], "from 1 to 5"),
        ("nps", ["11"], "from 0 to 10"),
        ("nps", ["-1"], "from 0 to 10"),
        ("single", ["999999"], "one of the answers shown"),
        ("multiple", ["abc"], "one of the answers shown"),
        ("short_text", ["x" * 301], "At most 300"),
    ],
)
async def test_wrong_values_are_refused_next_to_their_question(
    session: Any, settings: Any, kind: str, given: list[str], message: str
) -> None:
    event = await past_event(session)
    questions = await default_form(session, event)
    invitee, _token = await attendee(session, settings, event, "Anna Müller")
    values = _complete(questions)
    target = by_kind(questions, kind)
    values[target.field_name] = given
    with pytest.raises(ValidationFailed) as refused:
        await answer(session, settings, event, invitee, values)
    assert list(refused.value.errors) == [target.field_name]
    assert message in refused.value.errors[target.field_name]


async def test_two_choices_for_a_single_choice_question_are_refused(
    session: Any, settings: Any
) -> None:
    event = await past_event(session)
    questions = await default_form(session, event)
    invitee, _token = await attendee(session, settings, event, "Anna Müller")
    single = by_kind(questions, "single")
    values = _complete(questions)
    values[single.field_name] = [str(single.options[0].id), str(single.options[1].id)]
    with pytest.raises(ValidationFailed, match="only one"):
        await answer(session, settings, event, invitee, values)


async def test_a_named_response_is_changed_not_repeated(session: Any, settings: Any) -> None:
    event = await past_event(session)
    questions = await default_form(session, event)
    invitee, _token = await attendee(session, settings, event, "Anna Müller")
    first = await answer(session, settings, event, invitee, _complete(questions, rating=2))
    second = await answer(session, settings, event, invitee, _complete(questions, rating=5, nps=3))
    assert first.created
    assert not second.created
    assert second.response.id == first.response.id
    assert first.edit_code is None
    responses = await all_of(session, FeedbackResponse)
    assert len(responses) == 1
    assert responses[0].invitee_id == invitee.id
    assert not responses[0].anonymous
    assert responses[0].submitted_at is not None
    stored = await answers.stored_answers(responses[0], session=session)
    assert stored[questions[0].id].number == 5
    assert stored[by_kind(questions, "nps").id].number == 3
    liked = by_kind(questions, "multiple")
    assert stored[liked.id].option_ids == [liked.options[0].id, liked.options[2].id]
    assert stored[by_kind(questions, "long_text").id].text == "More time for questions,\nplease."


async def test_an_anonymous_response_cannot_be_tied_to_the_invitee(
    session: Any, settings: Any
) -> None:
    event = await past_event(session, anonymous=True)
    questions = await default_form(session, event)
    invitee, _token = await attendee(session, settings, event, "Anna Müller")
    outcome = await answer(session, settings, event, invitee, _complete(questions))
    assert outcome.created
    code = outcome.edit_code
    assert code is not None
    assert answers.normalize_edit_code(code) is not None

    response = (await all_of(session, FeedbackResponse))[0]
    # Nothing on the response points at the person: no invitee, no time, no readable key.
    assert response.anonymous
    assert response.invitee_id is None
    assert response.submitted_at is None
    assert response.updated_at is None
    assert response.edit_key_hash != answers.normalize_edit_code(code)
    # The "has answered" marker is a keyed hash: the database alone does not say whose it is.
    markers = await all_of(session, FeedbackAnswered)
    assert [m.marker for m in markers] == [
        answers.answer_marker(event.id, invitee.id, settings.secret)
    ]
    assert not hasattr(markers[0], "created_at")

    # Answering again without the code is refused; with the code it changes the answers.
    with pytest.raises(AlreadyAnswered):
        await answer(session, settings, event, invitee, _complete(questions, rating=1))
    data = {k: v if isinstance(v, list) else [v] for k, v in _complete(questions, rating=1).items()}
    changed = await submit_feedback(
        event,
        invitee,
        data,
        session=session,
        settings=settings,
        edit_code=code.lower().replace("-", " "),
    )
    assert not changed.created
    assert changed.response.id == response.id
    assert len(await all_of(session, FeedbackResponse)) == 1
    stored = await answers.stored_answers(changed.response, session=session)
    assert stored[questions[0].id].number == 1


async def test_anonymous_edit_codes_are_forgiving_to_type_but_not_to_guess(
    session: Any, settings: Any
) -> None:
    code = answers.new_edit_code()
    assert len(code) == 19
    assert answers.normalize_edit_code(code.lower()) == code.replace("-", "")
    assert answers.normalize_edit_code(" " + code.replace("-", " ") + " ") == code.replace("-", "")
    assert answers.normalize_edit_code("O0I1" + "A" * 12) == "OOII" + "A" * 12
    for wrong in ("", "short", "A" * 17, "ÄBCD" * 4, "x" * 200, None):
        assert answers.normalize_edit_code(wrong) is None
    assert answers.edit_key_hash(code, settings.secret) == answers.edit_key_hash(
        code.lower(), settings.secret
    )
    assert answers.edit_key_hash(code, settings.secret) != answers.edit_key_hash(code, b"other" * 8)


async def test_the_page_shows_ones_own_answers_and_the_code(session: Any, settings: Any) -> None:
    event = await past_event(session, anonymous=True)
    questions = await default_form(session, event)
    invitee, _token = await attendee(session, settings, event, "Anna Müller")
    outcome = await answer(session, settings, event, invitee, _complete(questions))
    without = await answers.feedback_page(event, invitee, session=session, settings=settings)
    assert without.answered
    assert without.locked_out
    assert without.response is None
    assert not without.can_answer
    page = await answers.feedback_page(
        event, invitee, session=session, settings=settings, edit_code=outcome.edit_code
    )
    assert page.can_answer
    assert page.edit_code == outcome.edit_code
    assert answers.form_values(page.questions, page.answers)[questions[0].field_name] == "4"


async def _competitor(
    database: Any, settings: Any, event_id: int, invitee_id: int, data: Any
) -> Any:
    async with database.session(write=True) as writer:
        event = await writer.get(Event, event_id)
        invitee = await writer.get(Invitee, invitee_id)
        try:
            outcome = await submit_feedback(event, invitee, data, session=writer, settings=settings)
        except AlreadyAnswered:
            await writer.rollback()
            return None
        await writer.commit()
        return outcome


@pytest.mark.parametrize("anonymous", [True, False])
async def test_submissions_at_the_same_moment_make_one_response(
    session: Any, settings: Any, database: Any, anonymous: bool
) -> None:
    event = await past_event(session, anonymous=anonymous)
    questions = await default_form(session, event)
    invitee, _token = await attendee(session, settings, event, "Anna Müller")
    await session.commit()
    attempts = [
        {k: v if isinstance(v, list) else [v] for k, v in _complete(questions, rating=r).items()}
        for r in (1, 2, 3, 4, 5, 1, 2, 3, 4, 5)
    ]
    outcomes = await asyncio.gather(
        *(_competitor(database, settings, event.id, invitee.id, data) for data in attempts)
    )
    created = [o for o in outcomes if o is not None and o.created]
    assert len(created) == 1
    if anonymous:
        # Everyone after the first holds no code: refused, nothing stored twice.
        assert sum(o is None for o in outcomes) == len(attempts) - 1
    else:
        # Named: the later ones change the same response.
        assert all(o is not None for o in outcomes)
    responses = await all_of(session, FeedbackResponse)
    assert len(responses) == 1
    assert len(await all_of(session, FeedbackAnswered)) == 1
    if anonymous:
        assert responses[0].invitee_id is None
    # The stored answers are one whole submission, not a mix.
    ratings = await rows(
        session,
        select(FeedbackAnswer.number).where(
            FeedbackAnswer.response_id == responses[0].id,
            FeedbackAnswer.question_id.in_([q.id for q in questions if q.kind.value == "rating"]),  # type: ignore[attr-defined]
        ),
    )
    assert len(set(ratings)) == 1


async def test_who_may_answer_and_when(session: Any, settings: Any) -> None:
    event = await past_event(session)
    questions = await default_form(session, event)
    guest, _t1 = await attendee(session, settings, event, "Anna Müller")
    declined, _t2 = await attendee(
        session, settings, event, "Bernd Schulz", status=InviteeStatus.declined
    )
    values = _complete(questions)
    with pytest.raises(FeedbackClosed) as refused:
        await answer(session, settings, event, declined, values)
    assert refused.value.reason == Closed.not_attendee

    now = utcnow()
    reasons = {
        "not yet": (event.ends_at - timedelta(minutes=1), Closed.not_yet),
        "closed": (answers.closes_at(event), Closed.closed),
    }
    for moment, reason in reasons.values():
        data = {k: v if isinstance(v, list) else [v] for k, v in values.items()}
        with pytest.raises(FeedbackClosed) as refused:
            await submit_feedback(
                event, guest, data, session=session, settings=settings, now=moment
            )
        assert refused.value.reason == reason
    event.feedback_enabled = False
    assert (
        answers.closed_reason(event, has_questions=True, attendee=True, now=now) == Closed.disabled
    )
    event.feedback_enabled = True
    event.status = EventStatus.cancelled
    assert (
        answers.closed_reason(event, has_questions=True, attendee=True, now=now) == Closed.cancelled
    )
    event.status = EventStatus.published
    assert (
        answers.closed_reason(event, has_questions=False, attendee=True, now=now)
        == Closed.no_questions
    )
    assert answers.closed_reason(event, has_questions=True, attendee=True, now=now) is None
    # Without a closing date, the form closes two weeks after the end.
    event.feedback_closes_at = None
    assert answers.closes_at(event) == event.ends_at + timedelta(days=14)


async def test_once_check_in_was_used_only_those_checked_in_may_answer(
    session: Any, settings: Any
) -> None:
    event = await past_event(session)
    await default_form(session, event)
    came, _t1 = await attendee(session, settings, event, "Anna Müller")
    stayed_home, _t2 = await attendee(session, settings, event, "Bernd Schulz")
    assert await answers.is_attendee(event, stayed_home, session=session)
    session.add(CheckIn(invitee_id=came.id, event_id=event.id))
    await session.flush()
    assert await answers.is_attendee(event, came, session=session)
    assert not await answers.is_attendee(event, stayed_home, session=session)
    other = await past_event(session, slug="other-event")
    assert not await answers.is_attendee(other, came, session=session)
