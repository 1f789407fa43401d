"""The feedback form of an event: its questions in order, built by organizers.

Once people have answered, a change that would corrupt their answers is refused with the reason:
removing a question (or a choice) that has answers, or changing a question's kind. Wording can
always be corrected, since answers point at questions and choices by id, not by their text.
Questions can be added and reordered at any time.

Every change locks the event's FeedbackSettings row first, and answering reads it with a share
lock (meetups.feedback.answers): a question is never removed or changed in kind under an answer
that is being stored at the same moment (on PostgreSQL; SQLite has one writer anyway).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.db import utcnow
from meetups.errors import DomainError, NotFound, ValidationFailed
from meetups.events.models import Event
from meetups.feedback.models import (
    FeedbackAnswer,
    FeedbackOption,
    FeedbackQuestion,
    FeedbackResponse,
    FeedbackSettings,
    QuestionKind,
)
from meetups.i18n import gettext as _
from meetups.i18n import ngettext
from meetups.validation import clean_text

MAX_QUESTIONS = 40
MAX_OPTIONS = 20
MAX_LABEL = 300
MAX_HELP = 1000
MAX_OPTION = 200
MAX_INTRO = 2000
MAX_DELAY_HOURS = 24 * 30
MAX_REMINDER_DAYS = 30


def kind_labels() -> dict[QuestionKind, str]:
    return {
        QuestionKind.rating: _("Rating from 1 to 5"),
        QuestionKind.nps: _("Recommendation (NPS, 0 to 10)"),
        QuestionKind.single: _("Single choice"),
        QuestionKind.multiple: _("Multiple choice"),
        QuestionKind.short_text: _("Short text"),
        QuestionKind.long_text: _("Long text"),
    }


@dataclass(eq=False)
class Question:
    """A question with its choices, and how many responses answered it (and each choice)."""

    question: FeedbackQuestion
    options: list[FeedbackOption] = field(default_factory=list)
    answers: int = 0
    option_answers: dict[int, int] = field(default_factory=dict)

    @property
    def id(self) -> int:
        assert self.question.id is not None
        return self.question.id

    @property
    def kind(self) -> QuestionKind:
        return QuestionKind(self.question.kind)

    @property
    def field_name(self) -> str:
        return f"q{self.id}"


# Reading the form.


async def questions_of(
    event: Event, *, session: AsyncSession, with_counts: bool = False
) -> list[Question]:
    """The event's questions in order, with their choices (and answer counts if asked)."""
    rows = (
        await session.exec(
            select(FeedbackQuestion)
            .where(FeedbackQuestion.event_id == event.id)
            .order_by(col(FeedbackQuestion.position), col(FeedbackQuestion.id))
        )
    ).all()
    questions = {row.id: Question(row) for row in rows}
    if not questions:
        return []
    options = (
        await session.exec(
            select(FeedbackOption)
            .where(col(FeedbackOption.question_id).in_(list(questions)))
            .order_by(col(FeedbackOption.position), col(FeedbackOption.id))
        )
    ).all()
    for option in options:
        questions[option.question_id].options.append(option)
    if with_counts:
        per_question = await session.exec(
            select(
                FeedbackAnswer.question_id, func.count(func.distinct(FeedbackAnswer.response_id))
            )
            .where(col(FeedbackAnswer.question_id).in_(list(questions)))
            .group_by(col(FeedbackAnswer.question_id))
        )
        for question_id, count in per_question.all():
            questions[question_id].answers = count
        per_option = await session.exec(
            select(FeedbackAnswer.question_id, FeedbackAnswer.option_id, func.count())
            .where(
                col(FeedbackAnswer.question_id).in_(list(questions)),
                col(FeedbackAnswer.option_id).is_not(None),
            )
            .group_by(col(FeedbackAnswer.question_id), col(FeedbackAnswer.option_id))
        )
        for question_id, option_id, count in per_option.all():
            questions[question_id].option_answers[option_id] = count
    return list(questions.values())


async def response_count(event: Event, *, session: AsyncSession) -> int:
    query = (
        select(func.count())
        .select_from(FeedbackResponse)
        .where(FeedbackResponse.event_id == event.id)
    )
    return (await session.exec(query)).one()


async def settings_of(event: Event, *, session: AsyncSession) -> FeedbackSettings:
    """The event's feedback settings (the defaults, unsaved, when there are none yet)."""
    found = await session.get(FeedbackSettings, event.id)
    return found if found is not None else FeedbackSettings(event_id=event.id)  # type: ignore[arg-type]


async def lock_form(event: Event, *, session: AsyncSession, write: bool = True) -> FeedbackSettings:
    """Takes the form's lock (creating its settings row when needed): exclusive for changes to the
    form, shared for storing answers."""
    query = select(FeedbackSettings).where(FeedbackSettings.event_id == event.id)
    found = (await session.exec(query.with_for_update(read=not write))).first()
    if found is not None:
        return found
    if not write:
        return FeedbackSettings(event_id=event.id)  # type: ignore[arg-type]
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.exec(  # type: ignore[call-overload]
        insert(FeedbackSettings)
        .values(event_id=event.id, intro="", reminder_days_before_close=3, updated_at=utcnow())
        .on_conflict_do_nothing(index_elements=["event_id"])
    )
    return (await session.exec(query.with_for_update())).one()


# Changing the form.


def _check_editable(event: Event) -> None:
    if event.is_archived:
        raise DomainError(_("This event is archived. Take it out of the archive to change it."))


@dataclass(frozen=True)
class QuestionInput:
    kind: QuestionKind
    label: str
    help: str
    required: bool
    new_options: list[str]
    renamed_options: dict[int, str]
    removed_options: set[int]


def _clean(value: str | None, max_length: int, *, multiline: bool = False) -> str:
    return clean_text(value, max_length=max_length, multiline=multiline)


def parse_question(data: Mapping[str, str], existing: Question | None = None) -> QuestionInput:
    """Reads the question form: `kind`, `label`, `help`, `required`, `new_options` (one choice a
    line), and for an existing question `option-<id>` (its choices' wording) and
    `remove-option-<id>`. Raises ValidationFailed by field."""
    errors: dict[str, str] = {}
    raw_kind = (data.get("kind") or "").strip()
    if raw_kind in QuestionKind.__members__:
        kind = QuestionKind(raw_kind)
    else:
        errors["kind"] = _("Please choose what kind of question this is.")
        kind = existing.kind if existing else QuestionKind.rating
    label = help_text = ""
    try:
        label = _clean(data.get("label"), MAX_LABEL)
        if not label:
            errors["label"] = _("Please write the question.")
    except ValueError as error:
        errors["label"] = str(error)
    try:
        help_text = _clean(data.get("help"), MAX_HELP, multiline=True)
    except ValueError as error:
        errors["help"] = str(error)

    new_options: list[str] = []
    try:
        text = _clean(
            data.get("new_options"), MAX_OPTION * MAX_OPTIONS + MAX_OPTIONS, multiline=True
        )
        for line in text.splitlines():
            option = " ".join(line.split())
            if len(option) > MAX_OPTION:
                raise ValueError(_("A choice can have at most %(num)s characters.", num=MAX_OPTION))
            if option:
                new_options.append(option)
    except ValueError as error:
        errors["new_options"] = str(error)

    renamed: dict[int, str] = {}
    removed: set[int] = set()
    for option in existing.options if existing else []:
        key = f"option-{option.id}"
        if data.get(f"remove-{key}", "") in {"on", "true", "1", "yes"}:
            removed.add(option.id)  # type: ignore[arg-type]
            continue
        if key not in data:
            continue
        try:
            wording = " ".join(_clean(data.get(key), MAX_OPTION).split())
        except ValueError as error:
            errors[key] = str(error)
            continue
        if not wording:
            errors[key] = _("A choice needs some words; tick “remove” to take it away.")
        else:
            renamed[option.id] = wording  # type: ignore[index]

    if kind.has_options and "kind" not in errors:
        kept = [
            renamed.get(option.id, option.label)  # type: ignore[arg-type]
            for option in (existing.options if existing and existing.kind.has_options else [])
            if option.id not in removed
        ]
        every = kept + new_options
        folded = [option.casefold() for option in every]
        if len(every) < 2:
            errors.setdefault("new_options", _("A choice question needs at least two choices."))
        elif len(every) > MAX_OPTIONS:
            errors.setdefault(
                "new_options", _("A question can have at most %(num)s choices.", num=MAX_OPTIONS)
            )
        elif len(set(folded)) < len(folded):
            errors.setdefault("new_options", _("Each choice can appear only once."))
    if errors:
        raise ValidationFailed(errors)
    return QuestionInput(
        kind=kind,
        label=label,
        help=help_text,
        required=data.get("required", "") in {"on", "true", "1", "yes"},
        new_options=new_options if kind.has_options else [],
        renamed_options=renamed,
        removed_options=removed,
    )


async def _next_position(event: Event, *, session: AsyncSession) -> int:
    query = select(func.max(FeedbackQuestion.position)).where(FeedbackQuestion.event_id == event.id)
    highest = (await session.exec(query)).one()
    return 0 if highest is None else highest + 1


async def _question_count(event: Event, *, session: AsyncSession) -> int:
    query = (
        select(func.count())
        .select_from(FeedbackQuestion)
        .where(FeedbackQuestion.event_id == event.id)
    )
    return (await session.exec(query)).one()


def _add_options(
    question_id: int, labels: Sequence[str], start: int, session: AsyncSession
) -> None:
    for offset, label in enumerate(labels):
        session.add(FeedbackOption(question_id=question_id, position=start + offset, label=label))


async def add_question(
    event: Event, entry: QuestionInput, *, session: AsyncSession
) -> FeedbackQuestion:
    _check_editable(event)
    await lock_form(event, session=session)
    if await _question_count(event, session=session) >= MAX_QUESTIONS:
        raise DomainError(_("A form can have at most %(num)s questions.", num=MAX_QUESTIONS))
    question = FeedbackQuestion(
        event_id=event.id,  # type: ignore[arg-type]
        position=await _next_position(event, session=session),
        kind=entry.kind,
        label=entry.label,
        help=entry.help,
        required=entry.required,
    )
    session.add(question)
    await session.flush()
    _add_options(question.id, entry.new_options, 0, session)  # type: ignore[arg-type]
    await session.flush()
    return question


async def get_question(event: Event, question_id: int, *, session: AsyncSession) -> Question:
    for question in await questions_of(event, session=session, with_counts=True):
        if question.id == question_id:
            return question
    raise NotFound(_("This question is not part of the form (any more)."))


async def update_question(
    event: Event, question_id: int, entry: QuestionInput, *, session: AsyncSession
) -> FeedbackQuestion:
    """Saves a question; refuses what would corrupt the answers given to it."""
    _check_editable(event)
    await lock_form(event, session=session)
    current = await get_question(event, question_id, session=session)
    question = current.question
    if entry.kind != current.kind and current.answers:
        raise ValidationFailed(
            {
                "kind": ngettext(
                    "%(num)s person has answered this question; changing its kind would make "
                    "their answer meaningless. Add a new question instead.",
                    "%(num)s people have answered this question; changing its kind would make "
                    "their answers meaningless. Add a new question instead.",
                    current.answers,
                )
            }
        )
    answered_removals = [
        option
        for option in current.options
        if option.id in entry.removed_options and current.option_answers.get(option.id, 0)  # type: ignore[arg-type]
    ]
    if answered_removals:
        option = answered_removals[0]
        raise ValidationFailed(
            {
                f"option-{option.id}": ngettext(
                    "“%(choice)s” was chosen %(num)s time: it cannot be removed. You can correct "
                    "its wording.",
                    "“%(choice)s” was chosen %(num)s times: it cannot be removed. You can correct "
                    "its wording.",
                    current.option_answers[option.id],  # type: ignore[index]
                    choice=option.label,
                )
            }
        )
    question.kind = entry.kind
    question.label = entry.label
    question.help = entry.help
    question.required = entry.required
    session.add(question)
    if not entry.kind.has_options:
        # No answers point at them (the kind could change), so the choices go.
        for option in current.options:
            await session.delete(option)
    else:
        kept = [option for option in current.options if option.id not in entry.removed_options]
        for option in current.options:
            if option.id in entry.removed_options:
                await session.delete(option)
        await session.flush()
        for position, option in enumerate(kept):
            option.label = entry.renamed_options.get(option.id, option.label)  # type: ignore[arg-type]
            option.position = position
            session.add(option)
        _add_options(question.id, entry.new_options, len(kept), session)  # type: ignore[arg-type]
    await session.flush()
    return question


async def move_question(
    event: Event, question_id: int, direction: str, *, session: AsyncSession
) -> None:
    """Moves a question one place "up" or "down" (answers are not affected)."""
    _check_editable(event)
    await lock_form(event, session=session)
    questions = [q.question for q in await questions_of(event, session=session)]
    index = next((i for i, q in enumerate(questions) if q.id == question_id), None)
    if index is None:
        raise NotFound(_("This question is not part of the form (any more)."))
    target = index - 1 if direction == "up" else index + 1 if direction == "down" else index
    if 0 <= target < len(questions) and target != index:
        questions[index], questions[target] = questions[target], questions[index]
    for position, question in enumerate(questions):
        if question.position != position:
            question.position = position
            session.add(question)
    await session.flush()


async def remove_question(event: Event, question_id: int, *, session: AsyncSession) -> None:
    _check_editable(event)
    await lock_form(event, session=session)
    current = await get_question(event, question_id, session=session)
    if current.answers:
        raise DomainError(
            ngettext(
                "%(num)s person has answered “%(question)s”: removing the question would delete "
                "their answer. You can make it optional or correct its wording instead.",
                "%(num)s people have answered “%(question)s”: removing the question would delete "
                "their answers. You can make it optional or correct its wording instead.",
                current.answers,
                question=current.question.label,
            )
        )
    for option in current.options:
        await session.delete(option)
    await session.delete(current.question)
    await session.flush()


# Starting from a ready-made form.


@dataclass(frozen=True)
class Template:
    kind: QuestionKind
    label: str
    help: str = ""
    required: bool = False
    options: tuple[str, ...] = ()


# The default form is content, not interface text: it is stored in the language chosen and then
# belongs to the organizers, who may reword it.
DEFAULT_FORMS: dict[str, tuple[Template, ...]] = {
    "de": (
        Template(
            QuestionKind.rating,
            "Wie hat Ihnen die Veranstaltung insgesamt gefallen?",
            required=True,
        ),
        Template(
            QuestionKind.rating,
            "Wie interessant fanden Sie die Inhalte?",
        ),
        Template(
            QuestionKind.rating,
            "Wie zufrieden waren Sie mit Organisation, Anreise und Verpflegung?",
        ),
        Template(
            QuestionKind.nps,
            "Wie wahrscheinlich ist es, dass Sie eine solche Veranstaltung "
            "anderen Bloggerinnen und Bloggern empfehlen?",
            required=True,
        ),
        Template(
            QuestionKind.multiple,
            "Was hat Ihnen besonders gefallen?",
            "Mehrere Antworten möglich.",
            options=(
                "Die Vorträge",
                "Die Gespräche mit dem Team",
                "Der Austausch mit anderen Bloggern",
                "Der Rundgang",
                "Essen und Getränke",
            ),
        ),
        Template(
            QuestionKind.single,
            "Würden Sie wieder teilnehmen?",
            options=("Ja, gern", "Vielleicht", "Eher nicht"),
        ),
        Template(QuestionKind.long_text, "Was sollten wir beim nächsten Mal besser machen?"),
        Template(QuestionKind.short_text, "Über welches Thema möchten Sie mehr erfahren?"),
        Template(QuestionKind.long_text, "Möchten Sie uns sonst noch etwas sagen?"),
    ),
    "en": (
        Template(
            QuestionKind.rating,
            "How did you like the event overall?",
            required=True,
        ),
        Template(
            QuestionKind.rating,
            "How interesting was the content?",
        ),
        Template(
            QuestionKind.rating,
            "How satisfied were you with the organisation, travel and catering?",
        ),
        Template(
            QuestionKind.nps,
            "How likely are you to recommend an event like this to other bloggers?",
            required=True,
        ),
        Template(
            QuestionKind.multiple,
            "What did you like most?",
            "Choose as many as you like.",
            options=(
                "The talks",
                "Talking to the team",
                "Meeting other bloggers",
                "The tour",
                "Food and drinks",
            ),
        ),
        Template(
            QuestionKind.single,
            "Would you come again?",
            options=("Yes, gladly", "Maybe", "Probably not"),
        ),
        Template(QuestionKind.long_text, "What should we do better next time?"),
        Template(QuestionKind.short_text, "Which topic would you like to hear more about?"),
        Template(QuestionKind.long_text, "Is there anything else you would like to tell us?"),
    ),
}


async def _replace_questions(
    event: Event, templates: Sequence[Template], *, session: AsyncSession
) -> int:
    _check_editable(event)
    await lock_form(event, session=session)
    if await response_count(event, session=session):
        raise DomainError(
            _(
                "People have answered this form already: its questions cannot be replaced. "
                "Add, reword or reorder questions one by one instead."
            )
        )
    # Deleted through the session (not in bulk), so that no stale rows linger in its identity
    # map when SQLite hands out the freed ids again.
    for question in await questions_of(event, session=session):
        for option in question.options:
            await session.delete(option)
        await session.delete(question.question)
    await session.flush()
    for position, template in enumerate(templates[:MAX_QUESTIONS]):
        question = FeedbackQuestion(
            event_id=event.id,  # type: ignore[arg-type]
            position=position,
            kind=template.kind,
            label=template.label,
            help=template.help,
            required=template.required,
        )
        session.add(question)
        await session.flush()
        _add_options(question.id, template.options, 0, session)  # type: ignore[arg-type]
    await session.flush()
    return len(templates)


async def use_default_form(event: Event, language: str, *, session: AsyncSession) -> int:
    """Replaces the (unanswered) form with the default one in `language` ("de" or "en")."""
    templates = DEFAULT_FORMS.get(language)
    if templates is None:
        raise DomainError(_("There is no default form in this language."))
    return await _replace_questions(event, templates, session=session)


async def copy_form(event: Event, source: Event, *, session: AsyncSession) -> int:
    """Replaces the (unanswered) form with a copy of another event's questions."""
    if source.id == event.id:
        raise DomainError(_("Please choose another event to copy from."))
    questions = await questions_of(source, session=session)
    if not questions:
        raise DomainError(_("“%(title)s” has no feedback form to copy.", title=source.title))
    templates = [
        Template(
            q.kind,
            q.question.label,
            q.question.help,
            q.question.required,
            tuple(option.label for option in q.options) if q.kind.has_options else (),
        )
        for q in questions
    ]
    return await _replace_questions(event, templates, session=session)


async def events_with_forms(event: Event, *, session: AsyncSession) -> list[Event]:
    """Other events that have a form to copy, newest first."""
    with_questions = select(FeedbackQuestion.event_id).distinct()
    query = (
        select(Event)
        .where(col(Event.id).in_(with_questions), Event.id != event.id)
        .order_by(col(Event.starts_at).desc())
        .limit(100)
    )
    return list((await session.exec(query)).all())


# Settings beside the form.


@dataclass(frozen=True)
class SettingsInput:
    intro: str
    request_delay_hours: int | None
    reminder_days_before_close: int


def _whole_number(value: str | None, low: int, high: int) -> int:
    text = (value or "").strip()
    if not text.isdigit() or not low <= int(text) <= high:
        raise ValueError(
            _("Please enter a whole number from %(low)s to %(high)s.", low=low, high=high)
        )
    return int(text)


def parse_settings(data: Mapping[str, str]) -> SettingsInput:
    errors: dict[str, str] = {}
    intro = ""
    try:
        intro = _clean(data.get("intro"), MAX_INTRO, multiline=True)
    except ValueError as error:
        errors["intro"] = str(error)
    delay: int | None = None
    if data.get("request_timing") == "after":
        try:
            delay = _whole_number(data.get("request_delay_hours"), 0, MAX_DELAY_HOURS)
        except ValueError as error:
            errors["request_delay_hours"] = str(error)
    elif data.get("request_timing") != "next_morning":
        errors["request_timing"] = _("Please choose when the request goes out.")
    reminder_days = 3
    try:
        reminder_days = _whole_number(data.get("reminder_days_before_close"), 0, MAX_REMINDER_DAYS)
    except ValueError as error:
        errors["reminder_days_before_close"] = str(error)
    if errors:
        raise ValidationFailed(errors)
    return SettingsInput(intro, delay, reminder_days)


async def save_settings(
    event: Event, entry: SettingsInput, *, session: AsyncSession
) -> FeedbackSettings:
    _check_editable(event)
    row = await lock_form(event, session=session)
    row.intro = entry.intro
    row.request_delay_hours = entry.request_delay_hours
    row.reminder_days_before_close = entry.reminder_days_before_close
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()
    return row


async def anonymity_change_problem(
    event: Event, anonymous: bool, *, session: AsyncSession
) -> str | None:
    """Why the form cannot switch between anonymous and named now, or None. Once people have
    answered, switching would either reveal who gave answers that were promised to stay anonymous,
    or leave named answers in a form that promises anonymity."""
    if event.id is None or anonymous == event.feedback_anonymous:
        return None
    if await response_count(event, session=session):
        if event.feedback_anonymous:
            return _(
                "People have answered anonymously already: the feedback cannot become named now."
            )
        return _(
            "People have answered with their names already: the feedback cannot become "
            "anonymous now."
        )
    return None
