"""Importing CSV files into the address book and onto a guest list, against the database."""

from typing import Any

import pytest
from sqlmodel import col, func, select

from meetups.contacts import csv_import
from meetups.contacts.csv_import import Action, ImportConflict, apply_import, plan_import
from meetups.contacts.models import Contact, Tag
from meetups.db import utcnow
from meetups.errors import DomainError
from meetups.events.models import EventStatus
from meetups.invitations.models import Invitee
from tests import factories


async def count(session: Any, model: Any) -> int:
    return (await session.exec(select(func.count()).select_from(model))).one()


async def contact_by_email(session: Any, email: str) -> Contact:
    return (await session.exec(select(Contact).where(Contact.email == email))).one()


async def test_importing_bloggers_creates_the_40_valid_people(
    session: Any, bloggers_csv: bytes
) -> None:
    result = await apply_import(bloggers_csv, session=session, default_language="de")
    await session.commit()

    assert (result.created, result.updated, result.unchanged, result.rejected) == (40, 0, 0, 7)
    assert await count(session, Contact) == 40
    max_ = await contact_by_email(session, "maximilian.becker@example.com")
    assert max_.name == "Maximilian Becker"
    assert max_.tag_names == ["dsl", "tech"]
    anna = await contact_by_email(session, "anna.mueller@example.com")
    assert (anna.city, anna.language, anna.blog_url) == (
        "Berlin",
        "de",
        "https://anna-mueller.blog.example.org/",
    )
    assert (await contact_by_email(session, "sarah.braun@example.com")).language == "en"
    tags = set((await session.exec(select(Tag.name))).all())
    assert tags == {
        "consumer",
        "critic",
        "dsl",
        "hosting",
        "local",
        "mobile",
        "podcast",
        "tech",
        "telecom",
        "video",
    }
    rejected = (
        await session.exec(
            select(Contact).where(
                col(Contact.email).in_(
                    [
                        "formula@example.org",
                        "davis.fan@example.org",
                        "sprache@example.org",
                        "lang@example.org",
                    ]
                )
            )
        )
    ).all()
    assert rejected == []


async def test_importing_the_same_file_again_changes_nothing(
    session: Any, bloggers_csv: bytes
) -> None:
    await apply_import(bloggers_csv, session=session, default_language="de")
    await session.commit()

    plan = await plan_import(bloggers_csv, session=session)
    result = await apply_import(bloggers_csv, session=session, default_language="de")
    await session.commit()

    assert (plan.created, plan.updated, plan.unchanged, plan.rejected) == (0, 0, 40, 7)
    assert not plan.has_work
    assert (result.created, result.updated, result.unchanged) == (0, 0, 40)
    assert await count(session, Contact) == 40


async def test_excel_file_after_the_utf8_file_finds_the_same_people(
    session: Any,
    bloggers_csv: bytes,
    excel_csv: bytes,
) -> None:
    await apply_import(bloggers_csv, session=session, default_language="de")
    await session.commit()

    plan = await plan_import(excel_csv, session=session)

    # Windows-1252 cannot write "ı" and "ł": Excel put "?" there, which must not overwrite names.
    assert (plan.created, plan.updated, plan.unchanged, plan.rejected) == (0, 0, 40, 0)
    await apply_import(excel_csv, session=session, default_language="de")
    await session.commit()
    assert await count(session, Contact) == 40
    assert (await contact_by_email(session, "oezlem.yilmaz@example.org")).name == "Özlem Yılmaz"
    assert (
        await contact_by_email(session, "malgorzata.frei@example.com")
    ).name == "Małgorzata Frei"


async def test_excel_file_first_creates_everyone(session: Any, excel_csv: bytes) -> None:
    result = await apply_import(excel_csv, session=session, default_language="de")
    await session.commit()

    assert result.created == 40
    assert (
        await contact_by_email(session, "juergen.gruenewald@example.net")
    ).name == "Jürgen Grünewald"


async def test_update_changes_what_the_file_says_and_adds_tags(session: Any) -> None:
    anna = await factories.make_contact(
        session, email="anna@example.org", name="Anna", city="Köln", language="de"
    )
    await session.commit()
    data = "name,email,city,language,tags\nAnna Müller,ANNA@example.org,Berlin,,tech;Podcast\n"
    data = data.encode()

    plan = await plan_import(data, session=session)
    assert [row.action for row in plan.rows] == [Action.update]
    assert {c.label for c in plan.rows[0].changes} == {"Name", "City", "Tags"}

    result = await apply_import(data, session=session, default_language="en")
    await session.commit()
    assert (result.created, result.updated) == (0, 1)
    await session.refresh(anna)
    assert (anna.name, anna.city, anna.language) == ("Anna Müller", "Berlin", "de")
    assert anna.tag_names == ["podcast", "tech"]


async def test_new_people_get_the_default_language_when_the_file_has_none(session: Any) -> None:
    await apply_import(b"name,email\nJo,jo@example.org\n", session=session, default_language="en")
    await session.commit()

    assert (await contact_by_email(session, "jo@example.org")).language == "en"


async def test_import_is_all_or_nothing(
    session: Any, bloggers_csv: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A conflict in the middle (here: a person the plan did not know about, as when someone
    else imports at the same moment) leaves the address book as it was."""
    await factories.make_contact(
        session, name="Katharina Klein", email="katharina.klein@example.org"
    )
    await session.commit()

    async def nobody_exists(emails: Any, *, session: Any) -> dict[str, Contact]:
        return {}

    monkeypatch.setattr(csv_import, "_existing_contacts", nobody_exists)
    with pytest.raises(ImportConflict, match="nothing was imported"):
        await apply_import(bloggers_csv, session=session, default_language="de")
    await session.commit()  # whatever the session still holds: nothing of the import may be in it

    assert await count(session, Contact) == 1
    assert await count(session, Tag) == 0


async def test_import_onto_an_event_puts_everyone_valid_on_the_guest_list_once(
    session: Any,
    bloggers_csv: bytes,
) -> None:
    event = await factories.make_event(session)
    anna = await factories.make_contact(
        session, email="anna.mueller@example.com", name="Anna Müller"
    )
    await factories.make_invitee(session, event, anna)
    jonas = await factories.make_contact(session, email="jonas.schmidt@example.net", name="Jonas")
    await session.commit()

    plan = await plan_import(bloggers_csv, session=session, event=event)
    assert (
        plan.created,
        plan.updated,
        plan.rejected,
        plan.already_listed,
        plan.to_add_to_guest_list,
    ) == (38, 2, 7, 1, 39)

    result = await apply_import(bloggers_csv, session=session, default_language="de", event=event)
    await session.commit()

    assert (result.added_to_guest_list, result.already_on_guest_list) == (39, 1)
    invitees = (await session.exec(select(Invitee).where(Invitee.event_id == event.id))).all()
    assert len(invitees) == 40
    assert len({i.contact_id for i in invitees}) == 40
    assert jonas.id in {i.contact_id for i in invitees}

    again = await apply_import(bloggers_csv, session=session, default_language="de", event=event)
    await session.commit()
    assert (again.added_to_guest_list, again.already_on_guest_list, again.unchanged) == (0, 40, 40)
    assert await count(session, Invitee) == 40


@pytest.mark.parametrize("change", [{"status": EventStatus.cancelled}, {"archived_at": utcnow()}])
async def test_import_onto_a_closed_event_is_refused(
    session: Any, bloggers_csv: bytes, change: dict[str, Any]
) -> None:
    event = await factories.make_event(session, **change)
    await session.commit()

    with pytest.raises(DomainError, match="cannot be changed"):
        await apply_import(bloggers_csv, session=session, default_language="de", event=event)

    assert await count(session, Contact) == 0


async def test_anonymized_people_are_not_matched_by_their_old_address(session: Any) -> None:
    await factories.make_contact(
        session, name="Deleted contact", email="deleted-1@invalid", anonymized_at=utcnow()
    )
    await session.commit()

    plan = await plan_import(b"name,email\nGhost,deleted-1@invalid\n", session=session)

    assert plan.rows[0].action == Action.rejected


async def test_five_thousand_rows_import_in_one_go(session: Any) -> None:
    rows = "".join(
        f"Person {i},person{i}@example.org,,Stadt {i % 50},de,tag{i % 30};all\n"
        for i in range(5000)
    )
    data = f"name,email,blog,city,language,tags\n{rows}".encode()

    result = await apply_import(data, session=session, default_language="de")
    await session.commit()

    assert result.created == 5000
    assert await count(session, Contact) == 5000
    assert await count(session, Tag) == 31
