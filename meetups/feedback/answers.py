"""Answering the feedback form behind the personal link: one response per invitee, editable until
the form closes, named or anonymous (see meetups.feedback.models for how anonymity is kept).

"One response each" rests on FeedbackAnswered's primary key: the first submission inserts the
invitee's marker with ON CONFLICT DO NOTHING in the same transaction as the response; a second
submission at the same moment finds the marker taken and becomes an edit (named) or is refused
(anonymous, unless it carries the edit code, which the first one has only just made).
"""

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.checkin.desk import check_in_used
from meetups.checkin.models import CheckIn
from meetups.config import Settings
from meetups.db import utcnow
from meetups.errors import DomainError, ValidationFailed
from meetups.events.form import FEEDBACK_CLOSES_AFTER_END
from meetups.events.models import Event, EventStatus
from meetups.feedback.forms import Question, lock_form, questions_of, settings_of
from meetups.feedback.models import (
    FeedbackAnswer,
    FeedbackAnswered,
    FeedbackRequest,
    FeedbackResponse,
    FeedbackSettings,
    QuestionKind,
)
from meetups.feedback.results import NPS_SCALE, RATING_SCALE
from meetups.i18n import gettext as _
from meetups.invitations.models import Invitee, InviteeStatus
from meetups.validation import clean_text

MAX_SHORT_TEXT = 300
MAX_LONG_TEXT = 5000
EDIT_CODE_BYTES = 10  # 80 bits, written as 16 base32 characters
_EDIT_CODE = re.compile(r"^[A-Z2-7]{16}$")
# Characters people mistake for base32 ones when they type a code from paper.
_LOOKALIKES = str.maketrans({"0": "O", "1": "I", "8": "B"})


def opens_at(event: Event) -> datetime:
    return event.ends_at


def closes_at(event: Event) -> datetime:
    return event.feedback_closes_at or event.ends_at + FEEDBACK_CLOSES_AFTER_END


class Closed(StrEnum):
    disabled = "disabled"
    cancelled = "cancelled"
    no_questions = "no_questions"
    not_attendee = "not_attendee"
    not_yet = "not_yet"
    closed = "closed"


def closed_reason(
    event: Event, *, has_questions: bool, attendee: bool, now: datetime
) -> Closed | None:
    """Why this invitee cannot answer now, or None when they can."""
    if not event.feedback_enabled:
        return Closed.disabled
    if event.status == EventStatus.cancelled:
        return Closed.cancelled
    if not has_questions:
        return Closed.no_questions
    if not attendee:
        return Closed.not_attendee
    if now < opens_at(event):
        return Closed.not_yet
    if now >= closes_at(event):
        return Closed.closed
    return None


def closed_message(reason: Closed) -> str:
    return {
        Closed.disabled: _("There is no feedback form for this event."),
        Closed.cancelled: _("The event was cancelled, so there is no feedback to give."),
        Closed.no_questions: _("The feedback form is not ready yet."),
        Closed.not_attendee: _("The feedback form is for those who took part in the event."),
        Closed.not_yet: _("The feedback form opens when the event is over."),
        Closed.closed: _("The feedback form is closed. Thank you for your interest!"),
    }[reason]


class FeedbackClosed(DomainError):
    def __init__(self, reason: Closed) -> None:
        super().__init__(closed_message(reason))
        self.reason = reason


class AlreadyAnswered(DomainError):
    pass


# Markers and edit codes.


def answer_marker(event_id: int, invitee_id: int, secret: bytes) -> str:
    message = f"feedback-answered:{event_id}:{invitee_id}".encode()
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def new_edit_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(EDIT_CODE_BYTES)).decode("ascii")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def normalize_edit_code(text: str | None) -> str | None:
    """The code without spaces and dashes, in capitals; None when it cannot be one."""
    if not text or len(text) > 100:
        return None
    compact = re.sub(r"[\s\-]", "", text).upper().translate(_LOOKALIKES)
    return compact if _EDIT_CODE.match(compact) else None


def edit_key_hash(code: str, secret: bytes) -> str | None:
    compact = normalize_edit_code(code)
    if compact is None:
        return None
    return hmac.new(secret, b"feedback-edit:" + compact.encode(), hashlib.sha256).hexdigest()


def display_code(code: str) -> str:
    compact = normalize_edit_code(code) or ""
    return "-".join(compact[i : i + 4] for i in range(0, len(compact), 4))


# Who may answer.


async def is_attendee(event: Event, invitee: Invitee, *, session: AsyncSession) -> bool:
    """Asked for feedback, or attended: checked in once check-in was used, else accepted."""
    if invitee.event_id != event.id:
        return False
    asked = await session.exec(
        select(FeedbackRequest.id).where(FeedbackRequest.invitee_id == invitee.id).limit(1)
    )
    if asked.first() is not None:
        return True
    if await check_in_used(event, session=session):
        found = await session.exec(select(CheckIn.id).where(CheckIn.invitee_id == invitee.id))
        return found.first() is not None
    return invitee.status == InviteeStatus.accepted


async def has_answered(
    event: Event, invitee: Invitee, *, session: AsyncSession, secret: bytes
) -> bool:
    marker = answer_marker(event.id, invitee.id, secret)  # type: ignore[arg-type]
    return await session.get(FeedbackAnswered, marker) is not None


async def own_response(
    event: Event,
    invitee: Invitee,
    *,
    session: AsyncSession,
    secret: bytes,
    edit_code: str | None = None,
    lock: bool = False,
) -> FeedbackResponse | None:
    """The invitee's response: by their name (named), or by the edit code they hold. With
    `lock`, the row is locked for the change (PostgreSQL), so that two changes of the same
    response at the same moment happen one after the other."""
    named_query = select(FeedbackResponse).where(
        FeedbackResponse.invitee_id == invitee.id, FeedbackResponse.event_id == event.id
    )
    named = (await session.exec(named_query.with_for_update() if lock else named_query)).first()
    if named is not None:
        return named
    key = edit_key_hash(edit_code, secret) if edit_code else None
    if key is None:
        return None
    query = select(FeedbackResponse).where(
        FeedbackResponse.edit_key_hash == key, FeedbackResponse.event_id == event.id
    )
    return (await session.exec(query.with_for_update() if lock else query)).first()


# Reading and checking answers.


@dataclass
class AnswerValue:
    number: int | None = None
    option_ids: list[int] = field(default_factory=list)
    text: str = ""

    def form_value(self, kind: QuestionKind) -> str | list[str]:
        if kind.is_scale:
            return "" if self.number is None else str(self.number)
        if kind == QuestionKind.single:
            return str(self.option_ids[0]) if self.option_ids else ""
        if kind == QuestionKind.multiple:
            return [str(option_id) for option_id in self.option_ids]
        return self.text


def _parse_one(question: Question, given: Sequence[str]) -> AnswerValue | None:
    """The answer to one question, None when it was left empty; ValueError when it is wrong."""
    kind = question.kind
    values = [value.strip() for value in given if value.strip()]
    if kind.is_scale:
        if not values:
            return None
        scale = RATING_SCALE if kind == QuestionKind.rating else NPS_SCALE
        if not values[0].isdigit() or int(values[0]) not in scale:
            raise ValueError(
                _("Please choose a number from %(low)s to %(high)s.", low=scale[0], high=scale[-1])
            )
        return AnswerValue(number=int(values[0]))
    if kind.has_options:
        known = {str(option.id): option.id for option in question.options}
        chosen: list[int] = []
        for value in values:
            if value not in known:
                raise ValueError(_("Please choose one of the answers shown."))
            if known[value] not in chosen:
                chosen.append(known[value])  # type: ignore[arg-type]
        if not chosen:
            return None
        if kind == QuestionKind.single and len(chosen) > 1:
            raise ValueError(_("Please choose only one answer."))
        order = {option.id: index for index, option in enumerate(question.options)}
        return AnswerValue(option_ids=sorted(chosen, key=lambda option_id: order[option_id]))
    long = kind == QuestionKind.long_text
    text = clean_text(
        given[0] if given else "",
        max_length=MAX_LONG_TEXT if long else MAX_SHORT_TEXT,
        multiline=long,
    )
    return AnswerValue(text=text) if text else None


def parse_answers(
    questions: Sequence[Question], data: Mapping[str, Sequence[str]]
) -> dict[int, AnswerValue]:
    """The answers by question id; raises ValidationFailed with a message per question field
    (wrong values, and required questions left empty)."""
    answers: dict[int, AnswerValue] = {}
    errors: dict[str, str] = {}
    for question in questions:
        try:
            value = _parse_one(question, data.get(question.field_name, ()))
        except ValueError as error:
            errors[question.field_name] = str(error)
            continue
        if value is None:
            if question.question.required:
                errors[question.field_name] = _("Please answer this question.")
            continue
        answers[question.id] = value
    if errors:
        raise ValidationFailed(errors)
    return answers


async def stored_answers(
    response: FeedbackResponse, *, session: AsyncSession
) -> dict[int, AnswerValue]:
    rows = (
        await session.exec(
            select(FeedbackAnswer)
            .where(FeedbackAnswer.response_id == response.id)
            .order_by(col(FeedbackAnswer.question_id), col(FeedbackAnswer.seq))
        )
    ).all()
    answers: dict[int, AnswerValue] = {}
    for row in rows:
        value = answers.setdefault(row.question_id, AnswerValue())
        if row.number is not None:
            value.number = row.number
        if row.option_id is not None:
            value.option_ids.append(row.option_id)
        if row.text:
            value.text = row.text
    return answers


def form_values(
    questions: Sequence[Question], answers: Mapping[int, AnswerValue]
) -> dict[str, str | list[str]]:
    """What the form's fields show for `answers`."""
    return {
        question.field_name: answers[question.id].form_value(question.kind)
        for question in questions
        if question.id in answers
    }


# The page behind the link.


@dataclass
class FeedbackPage:
    event: Event
    invitee: Invitee
    questions: list[Question]
    settings: FeedbackSettings
    reason: Closed | None
    answered: bool
    response: FeedbackResponse | None
    answers: dict[int, AnswerValue]
    edit_code: str | None  # the valid code the invitee holds (anonymous responses)

    @property
    def can_answer(self) -> bool:
        """The form is open, and this invitee either has not answered or can reach their
        response to change it."""
        return self.reason is None and (not self.answered or self.response is not None)

    @property
    def locked_out(self) -> bool:
        """Answered anonymously, but the edit code is not at hand."""
        return self.reason is None and self.answered and self.response is None

    @property
    def closes_at(self) -> datetime:
        return closes_at(self.event)

    @property
    def reason_message(self) -> str:
        return closed_message(self.reason) if self.reason else ""


async def feedback_page(
    event: Event,
    invitee: Invitee,
    *,
    session: AsyncSession,
    settings: Settings,
    edit_code: str | None = None,
    now: datetime | None = None,
) -> FeedbackPage:
    now = now or utcnow()
    questions = await questions_of(event, session=session)
    attendee = await is_attendee(event, invitee, session=session)
    reason = closed_reason(event, has_questions=bool(questions), attendee=attendee, now=now)
    answered = await has_answered(event, invitee, session=session, secret=settings.secret)
    response = await own_response(
        event, invitee, session=session, secret=settings.secret, edit_code=edit_code
    )
    answers = await stored_answers(response, session=session) if response else {}
    return FeedbackPage(
        event=event,
        invitee=invitee,
        questions=questions,
        settings=await settings_of(event, session=session),
        reason=reason,
        answered=answered or response is not None,
        response=response,
        answers=answers,
        edit_code=display_code(edit_code)
        if edit_code and response is not None and response.edit_key_hash
        else None,
    )


# Storing a response.


@dataclass(frozen=True)
class SubmitOutcome:
    response: FeedbackResponse
    created: bool
    edit_code: str | None  # a new anonymous response's code, to hand to the invitee


async def _claim_marker(
    event: Event, invitee: Invitee, secret: bytes, session: AsyncSession
) -> bool:
    """Records that the invitee has answered; False when the marker was there already."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(FeedbackAnswered)
        .values(marker=answer_marker(event.id, invitee.id, secret), event_id=event.id)  # type: ignore[arg-type]
        .on_conflict_do_nothing(index_elements=["marker"])
    )
    result = await session.exec(statement)  # type: ignore[call-overload]
    return result.rowcount == 1


def _answer_rows(response_id: str, answers: Mapping[int, AnswerValue]) -> list[FeedbackAnswer]:
    rows: list[FeedbackAnswer] = []
    for question_id, value in answers.items():
        if value.option_ids:
            rows.extend(
                FeedbackAnswer(
                    response_id=response_id, question_id=question_id, seq=seq, option_id=option_id
                )
                for seq, option_id in enumerate(value.option_ids)
            )
        else:
            rows.append(
                FeedbackAnswer(
                    response_id=response_id,
                    question_id=question_id,
                    seq=0,
                    number=value.number,
                    text=value.text,
                )
            )
    return rows


async def submit_feedback(
    event: Event,
    invitee: Invitee,
    data: Mapping[str, Sequence[str]],
    *,
    session: AsyncSession,
    settings: Settings,
    edit_code: str | None = None,
    now: datetime | None = None,
) -> SubmitOutcome:
    """Stores the invitee's answers: a new response, or their own one changed. Raises
    FeedbackClosed, ValidationFailed (by question field) or AlreadyAnswered; the caller commits."""
    now = now or utcnow()
    # A share lock on the form: no question changes kind or disappears under these answers.
    await lock_form(event, session=session, write=False)
    questions = await questions_of(event, session=session)
    attendee = await is_attendee(event, invitee, session=session)
    reason = closed_reason(event, has_questions=bool(questions), attendee=attendee, now=now)
    if reason is not None:
        raise FeedbackClosed(reason)
    answers = parse_answers(questions, data)

    secret = settings.secret
    response = await own_response(
        event, invitee, session=session, secret=secret, edit_code=edit_code, lock=True
    )
    created = False
    new_code: str | None = None
    if response is None:
        if not await _claim_marker(event, invitee, secret, session):
            # Answered before (or at this very moment, in another request).
            response = await own_response(event, invitee, session=session, secret=secret, lock=True)
            if response is None:
                raise AlreadyAnswered(
                    _(
                        "You have answered already. To see or change your answers, enter the edit "
                        "code you were given."
                    )
                )
        else:
            created = True
            if event.feedback_anonymous:
                new_code = new_edit_code()
                response = FeedbackResponse(
                    event_id=event.id,  # type: ignore[arg-type]
                    anonymous=True,
                    edit_key_hash=edit_key_hash(new_code, secret),
                )
            else:
                response = FeedbackResponse(
                    event_id=event.id,  # type: ignore[arg-type]
                    anonymous=False,
                    invitee_id=invitee.id,
                    submitted_at=now,
                    updated_at=now,
                )
            session.add(response)
            await session.flush()
    if not created:
        await session.exec(  # type: ignore[call-overload]
            delete(FeedbackAnswer).where(col(FeedbackAnswer.response_id) == response.id)
        )
        if not response.anonymous:
            response.updated_at = now
            session.add(response)
    session.add_all(_answer_rows(response.id, answers))
    try:
        await session.flush()
    except IntegrityError as error:
        # A question or choice vanished under the answers: cannot happen while the form lock
        # holds, but if it does, the person is asked to look again rather than shown an error.
        raise DomainError(
            _("The form has just changed. Please check your answers and send them again.")
        ) from error
    return SubmitOutcome(response=response, created=created, edit_code=new_code)
