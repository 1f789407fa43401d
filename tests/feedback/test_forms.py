"""The form builder: questions added, checked, reordered, copied; and once people have answered,
the changes that would corrupt their answers are refused while wording fixes pass."""

from typing import Any

import pytest
from sqlmodel import select

from meetups.errors import DomainError, ValidationFailed
from meetups.feedback import forms
from meetups.feedback.models import FeedbackAnswer, FeedbackOption, QuestionKind
from tests.feedback.helpers import answer, attendee, by_kind, default_form, past_event, rows


def _question(**fields: str) -> dict[str, str]:
    return {"kind": "rating", "label": "How was the coffee?", "help": "", **fields}


async def test_questions_are_added_in_order_with_their_choices(session: Any) -> None:
    event = await past_event(session)
    await forms.add_question(event, forms.parse_question(_question()), session=session)
    entry = forms.parse_question(
        _question(
            kind="multiple",
            label="  What  did you like?  ",
            required="on",
            new_options="The talks\n\n  The   tour \nFood",
        )
    )
    await forms.add_question(event, entry, session=session)
    questions = await forms.questions_of(event, session=session)
    assert [(q.kind, q.question.label, q.question.required) for q in questions] == [
        (QuestionKind.rating, "How was the coffee?", False),
        (QuestionKind.multiple, "What  did you like?", True),
    ]
    assert [o.label for o in questions[1].options] == ["The talks", "The tour", "Food"]
    assert [q.question.position for q in questions] == [0, 1]


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"label": "   "}, "label", "write the question"),
        ({"kind": "essay"}, "kind", "what kind"),
        ({"kind": "single", "new_options": "Only one"}, "new_options", "at least two"),
        ({"kind": "single", "new_options": "Yes\nyes"}, "new_options", "only once"),
        (
            {"kind": "multiple", "new_options": "\n".join(f"o{i}" for i in range(21))},
            "new_options",
            "at most 20",
        ),
        ({"kind": "single", "new_options": "x" * 201 + "\nb"}, "new_options", "at most 200"),
        ({"label": "q" * 301}, "label", "At most 300"),
    ],
)
def test_a_question_that_cannot_work_is_refused_by_field(
    fields: dict[str, str], field: str, message: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        forms.parse_question(_question(**fields))
    assert message in refused.value.errors[field]


def test_choices_given_for_a_text_question_are_left_out() -> None:
    entry = forms.parse_question(_question(kind="long_text", new_options="a\nb"))
    assert entry.new_options == []


async def test_the_default_form_comes_in_german_and_english(session: Any) -> None:
    event = await past_event(session)
    german = await default_form(session, event, "de")
    assert german[0].question.label == "Wie hat Ihnen die Veranstaltung insgesamt gefallen?"
    kinds = {q.kind for q in german}
    assert kinds == set(QuestionKind)
    english = await default_form(session, event, "en")  # replaces the German one
    assert english[0].question.label == "How did you like the event overall?"
    assert len(english) == len(german) == len(forms.DEFAULT_FORMS["en"])
    assert by_kind(english, "nps").question.required
    with pytest.raises(DomainError):
        await forms.use_default_form(event, "fr", session=session)


async def test_the_form_of_another_event_is_copied(session: Any) -> None:
    source = await past_event(session, slug="last-year", title="Last year")
    await default_form(session, source, "de")
    event = await past_event(session)
    count = await forms.copy_form(event, source, session=session)
    copied = await forms.questions_of(event, session=session)
    original = await forms.questions_of(source, session=session)
    assert count == len(original)
    assert [(q.kind, q.question.label, [o.label for o in q.options]) for q in copied] == [
        (q.kind, q.question.label, [o.label for o in q.options]) for q in original
    ]
    assert {q.id for q in copied}.isdisjoint({q.id for q in original})
    assert [e.slug for e in await forms.events_with_forms(event, session=session)] == ["last-year"]
    with pytest.raises(DomainError, match="another event"):
        await forms.copy_form(event, event, session=session)
    empty = await past_event(session, slug="empty", title="Empty")
    with pytest.raises(DomainError, match="no feedback form"):
        await forms.copy_form(event, empty, session=session)


async def test_questions_move_up_and_down(session: Any) -> None:
    event = await past_event(session)
    questions = await default_form(session, event)
    first, second = questions[0].id, questions[1].id
    await forms.move_question(event, second, "up", session=session)
    await forms.move_question(event, second, "up", session=session)  # at the top already
    order = [q.id for q in await forms.questions_of(event, session=session)]
    assert order[:2] == [second, first]
    await forms.move_question(event, order[-1], "down", session=session)
    assert [q.id for q in await forms.questions_of(event, session=session)] == order
    assert [q.question.position for q in await forms.questions_of(event, session=session)] == list(
        range(len(order))
    )


async def _answered_event(
    session: Any, settings: Any, event: Any = None
) -> tuple[Any, list[forms.Question]]:
    event = event or await past_event(session)
    questions = await default_form(session, event)
    invitee, _token = await attendee(session, settings, event, "Anna Müller")
    liked = by_kind(questions, "multiple")
    values = {q.field_name: "4" for q in questions if q.kind.value == "rating"}
    values[by_kind(questions, "nps").field_name] = "9"
    values[liked.field_name] = [str(liked.options[0].id)]
    await answer(session, settings, event, invitee, values)
    return event, await forms.questions_of(event, session=session, with_counts=True)


async def test_answered_questions_cannot_be_removed_or_change_kind(
    session: Any, settings: Any
) -> None:
    event, questions = await _answered_event(session, settings)
    rating = questions[0]
    assert rating.answers == 1
    with pytest.raises(DomainError, match="1 person has answered"):
        await forms.remove_question(event, rating.id, session=session)
    entry = forms.parse_question(_question(kind="nps", label=rating.question.label), rating)
    with pytest.raises(ValidationFailed) as refused:
        await forms.update_question(event, rating.id, entry, session=session)
    assert "changing its kind" in refused.value.errors["kind"]
    # Replacing the whole form would delete the answers too.
    with pytest.raises(DomainError, match="cannot be replaced"):
        await forms.use_default_form(event, "de", session=session)
    assert len(await rows(session, select(FeedbackAnswer))) > 0


async def test_wording_fixes_and_new_choices_are_allowed_once_answered(
    session: Any, settings: Any
) -> None:
    event, questions = await _answered_event(session, settings)
    liked = by_kind(questions, "multiple")
    chosen, unused = liked.options[0], liked.options[1]
    data = {
        "kind": "multiple",
        "label": "What did you like best?",
        "help": "",
        "required": "on",
        f"option-{chosen.id}": "The talks (all three)",
        f"option-{unused.id}": unused.label,
        f"remove-option-{unused.id}": "on",
        "new_options": "The view",
        **{f"option-{o.id}": o.label for o in liked.options[2:]},
    }
    await forms.update_question(event, liked.id, forms.parse_question(data, liked), session=session)
    changed = await forms.get_question(event, liked.id, session=session)
    assert changed.question.label == "What did you like best?"
    assert changed.question.required
    labels = [o.label for o in changed.options]
    assert labels[0] == "The talks (all three)"
    assert unused.label not in labels
    assert labels[-1] == "The view"
    # The answer still points at the reworded choice.
    assert changed.option_answers == {chosen.id: 1}

    # A chosen choice cannot be removed.
    data[f"remove-option-{chosen.id}"] = "on"
    data["new_options"] = ""
    refreshed = await forms.get_question(event, liked.id, session=session)
    with pytest.raises(ValidationFailed) as refused:
        await forms.update_question(
            event, liked.id, forms.parse_question(data, refreshed), session=session
        )
    assert "cannot be removed" in refused.value.errors[f"option-{chosen.id}"]


async def test_unanswered_questions_can_change_kind_and_be_removed(session: Any) -> None:
    event = await past_event(session)
    questions = await default_form(session, event)
    single = by_kind(questions, "single")
    entry = forms.parse_question(
        _question(kind="short_text", label="Would you come again?"), single
    )
    await forms.update_question(event, single.id, entry, session=session)
    changed = await forms.get_question(event, single.id, session=session)
    assert changed.kind == QuestionKind.short_text
    assert changed.options == []
    assert (
        await rows(session, select(FeedbackOption).where(FeedbackOption.question_id == single.id))
        == []
    )
    await forms.remove_question(event, single.id, session=session)
    assert single.id not in [q.id for q in await forms.questions_of(event, session=session)]


async def test_an_archived_event_keeps_its_form(session: Any) -> None:
    from meetups.db import utcnow

    event = await past_event(session, archived_at=utcnow())
    with pytest.raises(DomainError, match="archived"):
        await forms.add_question(event, forms.parse_question(_question()), session=session)


async def test_settings_are_checked_and_saved(session: Any) -> None:
    event = await past_event(session)
    with pytest.raises(ValidationFailed) as refused:
        forms.parse_settings(
            {
                "request_timing": "after",
                "request_delay_hours": "-1",
                "reminder_days_before_close": "x",
            }
        )
    assert set(refused.value.errors) == {"request_delay_hours", "reminder_days_before_close"}
    entry = forms.parse_settings(
        {
            "intro": "Thanks!",
            "request_timing": "after",
            "request_delay_hours": "2",
            "reminder_days_before_close": "0",
        }
    )
    await forms.save_settings(event, entry, session=session)
    saved = await forms.settings_of(event, session=session)
    assert (saved.intro, saved.request_delay_hours, saved.reminder_days_before_close) == (
        "Thanks!",
        2,
        0,
    )
    entry = forms.parse_settings(
        {"request_timing": "next_morning", "reminder_days_before_close": "3"}
    )
    await forms.save_settings(event, entry, session=session)
    assert (await forms.settings_of(event, session=session)).request_delay_hours is None


async def test_anonymity_cannot_change_once_people_have_answered(
    session: Any, settings: Any
) -> None:
    event = await past_event(session)
    assert await forms.anonymity_change_problem(event, True, session=session) is None
    event, _questions = await _answered_event(session, settings, event)
    problem = await forms.anonymity_change_problem(event, True, session=session)
    assert problem is not None
    assert "cannot become anonymous" in problem
    assert await forms.anonymity_change_problem(event, False, session=session) is None
