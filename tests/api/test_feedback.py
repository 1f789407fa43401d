"""Feedback through the API: results per question (averages, NPS, choices, texts) and the
responses in pages; for anonymous feedback nothing tells who answered."""

from datetime import timedelta
from typing import Any

import pytest

from meetups.db import utcnow
from meetups.feedback.answers import submit_feedback
from meetups.feedback.models import FeedbackRequest
from meetups.feedback.requests import REQUEST
from tests.api.conftest import Caller
from tests.feedback.helpers import attendee, by_kind, default_form, past_event

PEOPLE = [
    ("Anna Müller", {"overall": 5, "nps": 10, "liked": [0, 2], "better": "Mehr Zeit für Fragen"}),
    ("Ben Baker", {"overall": 3, "nps": 6, "liked": [1], "better": "Kaffee!"}),
    ("Cleo Cramer", {"overall": 4, "nps": 9}),
]


async def arrange(session: Any, settings: Any, *, anonymous: bool) -> dict[str, Any]:
    """Three responses to the default form, given a minute apart; a fourth guest was asked and
    did not answer."""
    event = await past_event(session, anonymous=anonymous)
    questions = await default_form(session, event)
    kinds = {
        "overall": questions[0],
        "nps": by_kind(questions, "nps"),
        "liked": by_kind(questions, "multiple"),
        "better": by_kind(questions, "long_text"),
    }
    start = utcnow() - timedelta(hours=3)
    invitees = []
    for index, (name, given) in enumerate(PEOPLE):
        invitee, _token = await attendee(session, settings, event, name)
        invitees.append(invitee)
        data: dict[str, list[str]] = {}
        for key, value in given.items():
            question = kinds[key]
            if question.kind.has_options:
                data[question.field_name] = [str(question.options[i].id) for i in value]  # type: ignore[union-attr]
            else:
                data[question.field_name] = [str(value)]
        await submit_feedback(
            event,
            invitee,
            data,
            session=session,
            settings=settings,
            now=start + timedelta(minutes=index),
        )
    silent, _token = await attendee(session, settings, event, "Dora Diaz")
    for invitee in [*invitees, silent]:
        session.add(FeedbackRequest(event_id=event.id, invitee_id=invitee.id, kind=REQUEST))  # type: ignore[arg-type]
    await session.commit()
    return {"event": event, "kinds": kinds, "invitees": invitees}


@pytest.mark.parametrize("anonymous", [False, True])
async def test_results_per_question(  # type: ignore[no-untyped-def]
    api, session, settings, viewer: Caller, anonymous: bool
) -> None:
    arranged = await arrange(session, settings, anonymous=anonymous)
    event, kinds = arranged["event"], arranged["kinds"]
    response = await api.get(
        f"/api/v1/events/{event.slug}/feedback/results", headers=viewer.headers
    )
    assert response.status_code == 200, response.text
    results = response.json()
    assert results["anonymous"] is anonymous
    assert (results["responses"], results["asked"], results["answered"]) == (3, 4, 3)
    assert results["response_rate"] == 0.75
    by_id = {question["id"]: question for question in results["questions"]}

    overall = by_id[kinds["overall"].id]
    assert overall["kind"] == "rating"
    assert overall["respondents"] == 3
    assert overall["average"] == 4.0
    assert [bar["count"] for bar in overall["distribution"]] == [0, 0, 1, 1, 1]

    nps = by_id[kinds["nps"].id]["nps"]
    assert (nps["promoters"], nps["passives"], nps["detractors"]) == (2, 0, 1)
    assert round(nps["score"], 2) == 33.33

    liked = by_id[kinds["liked"].id]
    assert liked["respondents"] == 2
    assert [option["count"] for option in liked["options"]][:3] == [1, 1, 1]

    better = by_id[kinds["better"].id]
    texts = sorted(text["text"] for text in better["texts"])
    assert texts == ["Kaffee!", "Mehr Zeit für Fragen"]
    names = {text["name"] for text in better["texts"]}
    assert names == ({None} if anonymous else {"Anna Müller", "Ben Baker"})
    for name, _given in PEOPLE:
        assert (name in response.text) is (not anonymous and name != "Cleo Cramer")


async def test_named_responses_say_who_and_when(api, session, settings, viewer: Caller) -> None:  # type: ignore[no-untyped-def]
    arranged = await arrange(session, settings, anonymous=False)
    event, kinds, invitees = arranged["event"], arranged["kinds"], arranged["invitees"]
    url = f"/api/v1/events/{event.slug}/feedback/responses"
    page = (await api.get(url, headers=viewer.headers)).json()
    assert page["anonymous"] is False
    assert page["total"] == 3
    first = page["items"][0]
    assert first["number"] == 1
    assert (first["guest_id"], first["name"], first["email"]) == (
        invitees[0].id,
        "Anna Müller",
        "anna.muller@example.org",
    )
    assert first["submitted_at"] is not None
    answers = first["answers"]
    assert answers[str(kinds["overall"].id)] == 5
    assert answers[str(kinds["nps"].id)] == 10
    liked = kinds["liked"]
    assert answers[str(liked.id)] == [liked.options[0].label, liked.options[2].label]
    assert page["items"][2]["answers"][str(kinds["better"].id)] is None

    second_page = (await api.get(url + "?limit=2&offset=2", headers=viewer.headers)).json()
    assert [item["number"] for item in second_page["items"]] == [3]
    assert second_page["items"][0]["name"] == "Cleo Cramer"
    assert second_page["next"] is None


async def test_anonymous_responses_never_say_who(api, session, settings, viewer: Caller) -> None:  # type: ignore[no-untyped-def]
    arranged = await arrange(session, settings, anonymous=True)
    event, invitees = arranged["event"], arranged["invitees"]
    response = await api.get(
        f"/api/v1/events/{event.slug}/feedback/responses", headers=viewer.headers
    )
    assert response.status_code == 200
    page = response.json()
    assert page["anonymous"] is True
    assert page["total"] == 3
    for item in page["items"]:
        assert (item["guest_id"], item["name"], item["email"]) == (None, None, None)
        assert (item["submitted_at"], item["updated_at"]) == (None, None)
    for name, _given in PEOPLE:
        assert name not in response.text
    for invitee in invitees:
        assert f'"guest_id":{invitee.id}' not in response.text.replace(" ", "")
    # Answers are all there, in the random order of the responses' keys.
    overall = str(arranged["kinds"]["overall"].id)
    assert sorted(item["answers"][overall] for item in page["items"]) == [3, 4, 5]


async def test_an_event_without_feedback_has_empty_results(  # type: ignore[no-untyped-def]
    api, session, viewer: Caller
) -> None:
    event = await past_event(session)
    await session.commit()
    results = (
        await api.get(f"/api/v1/events/{event.slug}/feedback/results", headers=viewer.headers)
    ).json()
    assert (results["responses"], results["asked"], results["response_rate"]) == (0, 0, None)
    assert results["questions"] == []
    page = (
        await api.get(f"/api/v1/events/{event.slug}/feedback/responses", headers=viewer.headers)
    ).json()
    assert (page["items"], page["total"], page["next"]) == ([], 0, None)
