"""Feedback for the demo's past event: the default German form, the request recorded for everyone
who attended (the morning after, as the worker sends it), and varied answers from most of them,
so that the results page, its charts and the exports can be tried at once.

Written once: an event that has a form already is left as it is. No e-mails are queued for this
history (it happened "before"). The answers are drawn from a fixed seed, so every demo database
tells the same story.
"""

import random
from datetime import timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.checkin.desk import attended_invitees
from meetups.config import Settings
from meetups.contacts.models import Contact
from meetups.events.models import Event
from meetups.feedback import forms
from meetups.feedback.answers import submit_feedback
from meetups.feedback.models import FeedbackQuestion, FeedbackRequest, QuestionKind
from meetups.feedback.requests import REQUEST, feedback_url, request_due_at

# Most people answer; these answer nothing (by their place among the attendees).
SILENT = {3, 11}
# The form stays open a while longer than usual, so that the demo can be answered too.
OPEN_FOR = timedelta(days=21)

IMPROVEMENTS = (
    "Mehr Zeit für Fragen an das Produktteam.",
    "Die Anreise-Infos früher verschicken, bitte mit Parkmöglichkeiten.",
    "=Kleinere Gruppen beim Rundgang",  # text a spreadsheet would take for a formula
    "WLAN im Saal war sehr langsam.",
    "Gern auch ein Termin am Wochenende.",
    "Alles bestens – weiter so!",
    "Die Präsentation war etwas lang, die Diskussion dafür zu kurz.",
    "Ein vegetarisches Hauptgericht statt nur Beilagen wäre schön.",
)
TOPICS = ("Glasfaser-Ausbau", "Datenschutz", "Kundenservice", "Tarife für Familien", "5G", "")
ELSE = (
    "Vielen Dank für die Einladung und die Übernahme der Reisekosten!",
    "Ich schreibe nächste Woche einen Beitrag darüber.",
    "Schön, die Menschen hinter der Marke kennenzulernen.",
    "",
    "",
)


def _value(
    question: forms.Question, draw: random.Random, mood: int, texts: tuple[str, ...]
) -> list[str]:
    """An answer for `question` from someone in a `mood` (0 = critical, 2 = delighted)."""
    kind = question.kind
    if kind == QuestionKind.rating:
        low, high = ((2, 4), (3, 5), (4, 5))[mood]
        return [str(draw.randint(low, high))]
    if kind == QuestionKind.nps:
        low, high = ((3, 7), (6, 9), (8, 10))[mood]
        return [str(draw.randint(low, high))]
    ids = [str(option.id) for option in question.options]
    if kind == QuestionKind.single:
        return [ids[min(len(ids) - 1, max(0, 2 - mood - draw.randint(0, 1)))]]
    if kind == QuestionKind.multiple:
        return draw.sample(ids, k=draw.randint(1, min(3, len(ids))))
    pool = (
        IMPROVEMENTS
        if kind == QuestionKind.long_text and question.question.position < 7
        else (TOPICS if kind == QuestionKind.short_text else ELSE)
    )
    return [draw.choice(pool)]


async def add_demo_feedback(event: Event, settings: Settings, *, session: AsyncSession) -> int:
    """Writes the past event's feedback unless it has a form; the number of responses written."""
    has_form = await session.exec(
        select(FeedbackQuestion.id).where(FeedbackQuestion.event_id == event.id).limit(1)
    )
    if has_form.first() is not None:
        return 0
    attendees = await attended_invitees(event, session=session)
    if not attendees:
        return 0
    event.feedback_enabled = True
    event.feedback_closes_at = event.ends_at + OPEN_FOR
    session.add(event)
    await forms.use_default_form(event, "de", session=session)
    questions = await forms.questions_of(event, session=session)
    # The first long text asks what to do better, the second for anything else.
    long_texts = iter((IMPROVEMENTS, ELSE))
    texts = {
        q.id: next(long_texts, ELSE) if q.kind == QuestionKind.long_text else TOPICS
        for q in questions
        if q.kind.is_text
    }
    asked_at = request_due_at(event, await forms.settings_of(event, session=session))
    draw = random.Random(2026)  # noqa: S311 - demo data, not a secret
    written = 0
    for index, invitee in enumerate(attendees):
        contact = await session.get(Contact, invitee.contact_id)
        if contact is None or feedback_url(invitee, settings) is None:
            continue
        session.add(
            FeedbackRequest(
                event_id=event.id,  # type: ignore[arg-type]
                invitee_id=invitee.id,  # type: ignore[arg-type]
                kind=REQUEST,
                sent_at=asked_at,
            )
        )
        if index in SILENT:
            continue
        mood = (0, 1, 1, 2, 2)[index % 5]
        data = {
            question.field_name: _value(question, draw, mood, texts.get(question.id, ()))
            for question in questions
            if question.question.required or draw.random() < 0.85
        }
        answered_at = asked_at + timedelta(hours=1 + index * 5, minutes=draw.randint(0, 59))
        await submit_feedback(
            event, invitee, data, session=session, settings=settings, now=answered_at
        )
        written += 1
    await session.flush()
    return written
