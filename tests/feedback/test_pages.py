"""The Feedback tab for organizers: building the form in the browser (with and without htmx),
refusals explained in place, sending now, the preview, the results with charts, the exports."""

import csv
import io
import json
from datetime import timedelta
from typing import Any

import openpyxl
from sqlmodel import select

from meetups.db import utcnow
from meetups.events.form import form_values
from meetups.feedback.models import FeedbackQuestion, FeedbackRequest
from tests.conftest import Browser, text_of
from tests.feedback.helpers import (
    SLUG,
    answer,
    attendee,
    by_kind,
    default_form,
    past_event,
    rows,
)

TAB = f"/events/{SLUG}/feedback"


async def _answered(session: Any, settings: Any, *, anonymous: bool = False) -> dict[str, Any]:
    event = await past_event(session, anonymous=anonymous)
    questions = await default_form(session, event)
    liked = by_kind(questions, "multiple")
    people = [("Anna Müller", 5, 10, "Mehr Zeit <b>für</b> Fragen"), ("Ben Baker", 2, 4, "")]
    for name, rating, nps, text in people:
        invitee, _token = await attendee(session, settings, event, name)
        values: dict[str, Any] = {
            questions[0].field_name: rating,
            by_kind(questions, "nps").field_name: nps,
            liked.field_name: [str(liked.options[0].id)],
        }
        if text:
            values[by_kind(questions, "long_text").field_name] = text
        await answer(session, settings, event, invitee, values)
        session.add(FeedbackRequest(event_id=event.id, invitee_id=invitee.id, kind="request"))
    await session.commit()
    return {"event": event, "questions": questions}


async def test_viewers_see_the_form_but_cannot_change_it(
    viewer: Browser, session: Any, settings: Any
) -> None:
    event = await past_event(session)
    await default_form(session, event)
    await session.commit()
    page = await viewer.get(TAB)
    assert page.status_code == 200
    assert "How did you like the event overall?" in page.text
    assert "Add a question" not in page.text
    assert 'aria-current="page">Feedback' in page.text
    refused = await viewer.submit(f"{TAB}/questions", {"kind": "rating", "label": "Coffee?"})
    assert refused.status_code == 403
    assert (await viewer.submit(f"{TAB}/send")).status_code == 403


async def test_the_tab_needs_a_sign_in(browser: Browser, admin: Any, session: Any) -> None:
    await past_event(session)
    await session.commit()
    for url in (TAB, f"{TAB}/results", f"{TAB}/export.csv", f"{TAB}/preview"):
        response = await browser.get(url)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login")


async def test_a_question_is_added_and_wrong_input_is_shown_in_place(
    editor: Browser, session: Any
) -> None:
    await past_event(session)
    await session.commit()
    empty = await editor.get(TAB)
    assert "This event has no feedback form yet." in empty.text
    wrong = await editor.submit(
        f"{TAB}/questions", {"kind": "single", "label": "Coffee?", "new_options": "Only one"}
    )
    assert wrong.status_code == 422
    assert 'id="e-new_options"' in wrong.text
    assert "at least two choices" in wrong.text
    assert 'value="Coffee?"' in wrong.text  # what was typed stays
    fragment = await editor.submit(f"{TAB}/questions", {"kind": "", "label": ""}, htmx=True)
    assert fragment.status_code == 422
    assert "<html" not in fragment.text
    assert 'id="feedback-builder"' in fragment.text
    added = await editor.submit(
        f"{TAB}/questions",
        {"kind": "single", "label": "Coffee?", "new_options": "Yes\nNo", "required": "on"},
    )
    assert added.status_code == 303
    assert added.headers["location"] == f"{TAB}#questions"
    # htmx loads the page itself (an address that differs only in its #fragment would not).
    with_htmx = await editor.submit(
        f"{TAB}/questions", {"kind": "short_text", "label": "Anything else?"}, htmx=True
    )
    assert with_htmx.status_code == 204
    assert with_htmx.headers["hx-redirect"] == TAB
    page = await editor.get(TAB)
    assert "The question is added." in page.text
    assert "Coffee?" in page.text
    stored = await rows(session, select(FeedbackQuestion))
    assert [(q.label, q.required) for q in stored] == [("Coffee?", True), ("Anything else?", False)]


async def test_the_default_form_and_a_copy_from_another_event(
    editor: Browser, session: Any
) -> None:
    source = await past_event(session, slug="last-year", title="Last year")
    await default_form(session, source, "de")
    await past_event(session)
    await session.commit()
    page = await editor.get(TAB)
    assert "Last year" in page.text  # offered as a source
    response = await editor.submit(f"{TAB}/default", {"language": "en"})
    assert response.status_code == 303
    assert "How did you like the event overall?" in (await editor.get(TAB)).text
    copied = await editor.submit(f"{TAB}/copy", {"source": "last-year"})
    assert copied.status_code == 303
    page = await editor.get(TAB)
    assert "questions copied from “Last year”" in page.text
    assert "Wie hat Ihnen die Veranstaltung insgesamt gefallen?" in page.text
    for data in ({"source": "no-such-event"}, {"source": "../x"}, {}):
        refused = await editor.submit(f"{TAB}/copy", data)
        assert refused.status_code == 409
        assert "choose an event to copy from" in refused.text
    assert (await editor.submit(f"{TAB}/default", {"language": "xx"})).status_code == 409


async def test_changes_that_would_corrupt_answers_are_refused_with_the_reason(
    editor: Browser, session: Any, settings: Any
) -> None:
    arranged = await _answered(session, settings)
    overall = arranged["questions"][0]
    removed = await editor.submit(f"{TAB}/questions/{overall.id}/remove")
    assert removed.status_code == 409
    assert "2 people have answered" in text_of(removed.text)
    edit = await editor.get(f"{TAB}/questions/{overall.id}")
    assert edit.status_code == 200
    assert "2 people have answered this question" in text_of(edit.text)
    changed = await editor.submit(
        f"{TAB}/questions/{overall.id}", {"kind": "nps", "label": overall.question.label}
    )
    assert changed.status_code == 422
    assert 'id="e-kind"' in changed.text
    assert "changing its kind" in changed.text
    reworded = await editor.submit(
        f"{TAB}/questions/{overall.id}",
        {"kind": "rating", "label": "Overall, how was it?", "required": "on"},
    )
    assert reworded.status_code == 303
    assert "Overall, how was it?" in (await editor.get(TAB)).text
    replaced = await editor.submit(f"{TAB}/default", {"language": "de"})
    assert replaced.status_code == 409
    assert "cannot be replaced" in replaced.text


async def test_questions_are_moved_and_unanswered_ones_removed(
    editor: Browser, session: Any
) -> None:
    event = await past_event(session)
    questions = await default_form(session, event)
    await session.commit()
    second = questions[1]
    moved = await editor.submit(f"{TAB}/questions/{second.id}/move", {"direction": "up"}, htmx=True)
    assert moved.status_code == 200
    assert "<html" not in moved.text
    assert moved.text.index(second.question.label) < moved.text.index(questions[0].question.label)
    ignored = await editor.submit(f"{TAB}/questions/{second.id}/move", {"direction": "sideways"})
    assert ignored.status_code == 303
    removed = await editor.submit(f"{TAB}/questions/{second.id}/remove")
    assert removed.status_code == 303
    assert second.question.label not in (await editor.get(TAB)).text


async def test_addresses_that_name_no_question_give_a_404(editor: Browser, session: Any) -> None:
    event = await past_event(session)
    await default_form(session, event)
    other = await past_event(session, slug="other-event")
    foreign = (await default_form(session, other))[0]
    await session.commit()
    for url in (
        f"{TAB}/questions/abc",
        f"{TAB}/questions/0",
        f"{TAB}/questions/99999999999",
        f"{TAB}/questions/{foreign.id}",  # another event's question
        f"{TAB}/charts/{foreign.id}.svg",
        f"{TAB}/export.pdf",
        "/events/no-such-event/feedback",
    ):
        assert (await editor.get(url)).status_code == 404, url
    assert (await editor.submit(f"{TAB}/questions/{foreign.id}/remove")).status_code == 404
    assert (
        await editor.submit(f"{TAB}/questions/{foreign.id}/move", {"direction": "up"})
    ).status_code == 404


async def test_settings_are_saved_and_checked_in_place(editor: Browser, session: Any) -> None:
    await past_event(session)
    await session.commit()
    wrong = await editor.submit(
        f"{TAB}/settings",
        {
            "request_timing": "after",
            "request_delay_hours": "soon",
            "reminder_days_before_close": "3",
        },
    )
    assert wrong.status_code == 422
    assert 'id="e-request_delay_hours"' in wrong.text
    saved = await editor.submit(
        f"{TAB}/settings",
        {
            "intro": "Danke!",
            "request_timing": "after",
            "request_delay_hours": "2",
            "reminder_days_before_close": "4",
        },
    )
    assert saved.status_code == 303
    page = await editor.get(TAB)
    assert 'value="2"' in page.text
    assert 'value="4"' in page.text


async def test_sending_now_from_the_tab(editor: Browser, session: Any, settings: Any) -> None:
    event = await past_event(session)
    await default_form(session, event)
    await attendee(session, settings, event, "Anna Müller")
    await session.commit()
    sent = await editor.submit(f"{TAB}/send")
    assert sent.status_code == 303
    page = await editor.get(TAB)
    assert "The request is on its way to 1 person." in page.text
    assert "The request has gone to 1 attendee." in page.text
    again = await editor.submit(f"{TAB}/send")
    assert again.status_code == 303
    assert "1 had it already." in (await editor.get(TAB)).text


async def test_sending_before_the_end_is_explained_not_offered(
    editor: Browser, session: Any
) -> None:
    event = await past_event(
        session,
        starts_at=utcnow() + timedelta(days=3),
        ends_at=utcnow() + timedelta(days=3, hours=4),
        feedback_closes_at=utcnow() + timedelta(days=17),
    )
    await default_form(session, event)
    await session.commit()
    page = await editor.get(TAB)
    assert "Send the request now" not in page.text
    assert "The form opens when the event is over" in page.text
    refused = await editor.submit(f"{TAB}/send")
    assert refused.status_code == 409
    assert "when the event is over" in refused.text


async def test_the_preview_shows_the_form_as_attendees_see_it(
    editor: Browser, session: Any
) -> None:
    event = await past_event(session)
    await default_form(session, event)
    await session.commit()
    page = await editor.get(f"{TAB}/preview")
    assert page.status_code == 200
    assert "This is how attendees see the form" in page.text
    assert "How did you like the event overall?" in page.text
    assert 'action="/i/' not in page.text  # nothing can be sent from here
    assert "disabled" in page.text
    assert 'class="site-header"' not in page.text  # the invitee's frame, not the organizers'


async def test_results_show_numbers_charts_and_texts(
    editor: Browser, session: Any, settings: Any
) -> None:
    arranged = await _answered(session, settings)
    page = await editor.get(f"{TAB}/results")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "2 Responses" in text
    assert "100% Response rate" in text
    assert 'role="img"' in page.text
    assert "<desc id=" in page.text
    assert "<table" in page.text
    # NPS: one promoter (10), one detractor (4): 50 % - 50 % = 0.
    assert "Net Promoter Score: 0" in text
    assert "Average: 3.5 of 5" in text
    # Free text, escaped, with the name (named feedback).
    assert "Mehr Zeit &lt;b&gt;für&lt;/b&gt; Fragen" in page.text
    assert "— Anna Müller" in text
    assert f"{TAB}/charts/{arranged['questions'][0].id}.svg" in page.text
    assert 'class="fb-print-head"' in page.text


async def test_anonymous_results_show_no_names(
    editor: Browser, session: Any, settings: Any
) -> None:
    await _answered(session, settings, anonymous=True)
    page = await editor.get(f"{TAB}/results")
    assert "The answers are anonymous." in page.text
    assert "Anna Müller" not in page.text
    assert "Mehr Zeit" in page.text


async def test_a_chart_is_saved_as_an_svg_image(
    editor: Browser, session: Any, settings: Any
) -> None:
    arranged = await _answered(session, settings)
    nps = by_kind(arranged["questions"], "nps")
    image = await editor.get(f"{TAB}/charts/{nps.id}.svg")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/svg+xml"
    assert "attachment" in image.headers["content-disposition"]
    assert "default-src 'none'" in image.headers["content-security-policy"]
    assert image.text.startswith("<?xml")
    assert nps.question.label in image.text
    text_question = by_kind(arranged["questions"], "long_text")
    assert (await editor.get(f"{TAB}/charts/{text_question.id}.svg")).status_code == 404


async def test_the_exports_download(editor: Browser, session: Any, settings: Any) -> None:
    await _answered(session, settings)
    plain = await editor.get(f"{TAB}/export.csv")
    assert plain.status_code == 200
    assert plain.headers["content-type"].startswith("text/csv")
    assert f'filename="feedback-{SLUG}.csv"' in plain.headers["content-disposition"]
    table = list(csv.reader(io.StringIO(plain.content.decode("utf-8-sig"))))
    assert [row[1] for row in table[1:]] == ["Anna Müller", "Ben Baker"]
    excel = await editor.get(f"{TAB}/export.csv?semicolon=1")
    assert excel.content.decode("utf-8-sig").splitlines()[0].startswith("No.;Name;")
    workbook = await editor.get(f"{TAB}/export.xlsx")
    assert workbook.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheets = openpyxl.load_workbook(io.BytesIO(workbook.content))
    assert sheets.sheetnames == ["Responses", "Summary"]
    data = json.loads((await editor.get(f"{TAB}/export.json")).content)
    assert len(data["responses"]) == 2


async def test_anonymity_cannot_be_switched_once_answered(
    editor: Browser, session: Any, settings: Any
) -> None:
    arranged = await _answered(session, settings)
    values = form_values(arranged["event"])
    values["feedback_anonymous"] = "on"
    refused = await editor.submit(f"/events/{SLUG}/edit", values)
    assert refused.status_code == 422
    assert "cannot become anonymous" in refused.text
