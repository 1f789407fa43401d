"""The CSV import over HTTP: upload, preview, confirm; into the address book and onto an event."""

import re
from typing import Any

import pytest
from sqlmodel import func, select

from meetups.contacts.models import Contact
from meetups.events.models import EventStatus
from meetups.invitations.models import Invitee
from tests import factories
from tests.conftest import Browser, text_of


async def count(session: Any, model: Any) -> int:
    result = (await session.exec(select(func.count()).select_from(model))).one()
    await session.commit()
    return result


def upload(data: bytes, name: str = "bloggers.csv") -> dict[str, Any]:
    return {"file": (name, data, "text/csv")}


def confirmation(preview_html: str) -> dict[str, list[str]]:
    """The hidden fields of the preview's confirm form, as the browser would send them."""
    form = preview_html[preview_html.index('class="import-confirm"') :]
    form = form[: form.index("</form>")]
    fields: dict[str, list[str]] = {}
    for name, value in re.findall(
        r'<input type="hidden" name="(payload|filename)" value="([^"]*)">', form
    ):
        fields.setdefault(name, []).append(value.replace("&#34;", '"').replace("&amp;", "&"))
    return fields


async def test_upload_shows_a_preview_and_changes_nothing(
    editor: Browser, session: Any, bloggers_csv: bytes
) -> None:
    form = await editor.get("/contacts/import")
    assert form.status_code == 200
    assert 'enctype="multipart/form-data"' in form.text

    response = await editor.submit("/contacts/import", files=upload(bloggers_csv))

    assert response.status_code == 200
    page = text_of(response.text)
    assert "Preview of bloggers.csv" in page
    assert "Read as UTF-8, separated by commas." in page
    assert re.search(r"40 new 0 updated 0 unchanged 7 rejected", page)
    assert "Same e-mail address as row 14." in page
    assert "The e-mail address is missing." in page
    assert "“kaputt@@example.org” is not a valid e-mail address." in page
    assert "The name starts with “=” like a spreadsheet formula." in page
    assert "“not a url” is not a web address." in page
    assert "The language “fr” is not offered; use de or en." in page
    assert "The name is longer than 200 characters." in page
    assert await count(session, Contact) == 0


async def test_confirm_imports_and_reports(
    editor: Browser, session: Any, bloggers_csv: bytes
) -> None:
    preview = await editor.submit("/contacts/import", files=upload(bloggers_csv))

    response = await editor.submit("/contacts/import/confirm", confirmation(preview.text))

    assert response.status_code == 303
    assert response.headers["location"] == "/contacts"
    listing = await editor.get("/contacts")
    assert "Import done: 40 new, 0 updated, 0 unchanged, 7 rejected." in text_of(listing.text)
    assert "40 people in the address book" in text_of(listing.text)
    assert await count(session, Contact) == 40


async def test_htmx_confirm_redirects_and_htmx_preview_is_a_fragment(
    editor: Browser, session: Any, bloggers_csv: bytes
) -> None:
    preview = await editor.submit("/contacts/import", files=upload(bloggers_csv), htmx=True)
    assert preview.status_code == 200
    assert "<html" not in preview.text

    response = await editor.submit(
        "/contacts/import/confirm", confirmation(preview.text), htmx=True
    )

    assert response.status_code == 204
    assert response.headers["HX-Redirect"] == "/contacts"
    assert await count(session, Contact) == 40


async def test_second_import_of_the_same_file_offers_nothing_to_do(
    editor: Browser, session: Any, bloggers_csv: bytes
) -> None:
    first = await editor.submit("/contacts/import", files=upload(bloggers_csv))
    await editor.submit("/contacts/import/confirm", confirmation(first.text))

    again = await editor.submit("/contacts/import", files=upload(bloggers_csv))

    page = text_of(again.text)
    assert re.search(r"0 new 0 updated 40 unchanged 7 rejected", page)
    assert "There is nothing to import." in page
    assert 'class="import-confirm"' not in again.text


async def test_excel_file_previews_as_unchanged_after_the_utf8_one(
    editor: Browser,
    session: Any,
    bloggers_csv: bytes,
    excel_csv: bytes,
) -> None:
    first = await editor.submit("/contacts/import", files=upload(bloggers_csv))
    await editor.submit("/contacts/import/confirm", confirmation(first.text))

    preview = await editor.submit("/contacts/import", files=upload(excel_csv, "bloggers-excel.csv"))

    page = text_of(preview.text)
    assert "Read as Windows-1252, separated by semicolons." in page
    assert re.search(r"0 new 0 updated 40 unchanged 0 rejected", page)
    assert "Keeps “Özlem Yılmaz”: the file has “Özlem Y?lmaz”" in page


async def test_preview_shows_what_an_update_changes(editor: Browser, session: Any) -> None:
    await factories.make_contact(session, name="Anna Müller", email="anna@example.org", city="Köln")
    await session.commit()

    preview = await editor.submit(
        "/contacts/import",
        files=upload(b"name,email,city\nAnna M\xc3\xbcller,anna@example.org,Berlin\n"),
    )

    page = text_of(preview.text)
    assert "Update" in page
    assert "City: Köln → Berlin" in page


async def test_the_file_is_checked_again_when_confirmed(editor: Browser, session: Any) -> None:
    """Between preview and confirmation someone adds the same person by hand: no duplicate."""
    data = b"name,email\nAnna,anna@example.org\n"
    preview = await editor.submit("/contacts/import", files=upload(data))
    await editor.submit(
        "/contacts/new", {"name": "Anna", "email": "ANNA@example.org", "language": "de"}
    )

    response = await editor.submit("/contacts/import/confirm", confirmation(preview.text))

    assert response.status_code == 303
    assert await count(session, Contact) == 1


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The file is empty."),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)), "This is an image, not a CSV file."),
        (b"PK\x03\x04" + bytes(100), "Excel workbook"),
        (bytes(range(256)) * 40, "not a CSV file"),
        (b"vorname,stadt\nAnna,Berlin\n", "no e-mail column"),
        (b"name,email\n" + b"A,a@example.org\n" * 140_000, "larger than 2 MB"),
        (
            b"name,email\n" + b"".join(b"P%d,p%d@example.org\n" % (i, i) for i in range(5001)),
            "more than 5,000 rows",
        ),
    ],
)
async def test_files_that_are_not_importable_get_a_clear_message(
    editor: Browser, data: bytes, message: str
) -> None:
    response = await editor.submit("/contacts/import", files=upload(data))

    assert response.status_code == 422
    assert message in text_of(response.text)
    assert 'type="file"' in response.text  # the form again, to pick another file


async def test_upload_without_a_file_field(editor: Browser) -> None:
    response = await editor.submit("/contacts/import", {"file": "just text"})

    assert response.status_code == 422
    assert "Please choose a CSV file." in text_of(response.text)


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"payload": ""},
        {"payload": "abc.def"},
        {"payload": ["x" * 100_000, "y"]},
        {"payload": "<script>", "filename": "<script>alert(1)</script>"},
    ],
)
async def test_forged_or_broken_confirmation_is_refused(
    editor: Browser, session: Any, fields: dict[str, Any]
) -> None:
    response = await editor.submit("/contacts/import/confirm", fields)

    assert response.status_code == 422
    assert "Please upload the file again." in text_of(response.text)
    assert "<script>alert" not in response.text
    assert await count(session, Contact) == 0


async def test_a_tampered_payload_is_refused(
    editor: Browser, session: Any, bloggers_csv: bytes
) -> None:
    preview = await editor.submit("/contacts/import", files=upload(bloggers_csv))
    fields = confirmation(preview.text)
    fields["payload"][-1] = fields["payload"][-1][:-8] + "AAAAAAAA"

    response = await editor.submit("/contacts/import/confirm", fields)

    assert response.status_code == 422
    assert await count(session, Contact) == 0


async def test_import_onto_an_event(editor: Browser, session: Any, bloggers_csv: bytes) -> None:
    event = await factories.make_event(session)
    anna = await factories.make_contact(
        session, email="anna.mueller@example.com", name="Anna Müller", city="Berlin"
    )
    await factories.make_invitee(session, event, anna)
    await session.commit()

    form = await editor.get(f"/events/{event.slug}/guests/import")
    assert form.status_code == 200
    assert 'aria-current="page"' in form.text
    assert "Bloggertreffen Montabaur" in form.text

    preview = await editor.submit(f"/events/{event.slug}/guests/import", files=upload(bloggers_csv))
    page = text_of(preview.text)
    assert re.search(
        r"39 new 1 updated 0 unchanged 7 rejected "
        r"39 to add to the guest list 1 on the guest list already",
        page,
    )

    response = await editor.submit(
        f"/events/{event.slug}/guests/import/confirm", confirmation(preview.text)
    )

    assert response.status_code == 303
    assert response.headers["location"] == f"/events/{event.slug}/guests"
    guests = await editor.get(response.headers["location"])
    assert "39 added to the guest list, 1 were on it already." in text_of(guests.text)
    assert await count(session, Invitee) == 40
    assert await count(session, Contact) == 40


async def test_import_onto_a_cancelled_event_is_refused(
    editor: Browser, session: Any, bloggers_csv: bytes
) -> None:
    event = await factories.make_event(session, status=EventStatus.cancelled)
    await session.commit()

    form = await editor.get(f"/events/{event.slug}/guests/import")
    assert "This event is cancelled" in text_of(form.text)
    assert 'type="file"' not in form.text

    response = await editor.submit(
        f"/events/{event.slug}/guests/import", files=upload(bloggers_csv)
    )
    assert response.status_code == 422
    assert "This event is cancelled" in text_of(response.text)
    assert await count(session, Contact) == 0


async def test_event_import_confirm_cannot_be_replayed_onto_a_cancelled_event(
    editor: Browser, session: Any, bloggers_csv: bytes
) -> None:
    event = await factories.make_event(session)
    await session.commit()
    preview = await editor.submit(f"/events/{event.slug}/guests/import", files=upload(bloggers_csv))
    event.status = EventStatus.cancelled
    session.add(event)
    await session.commit()

    response = await editor.submit(
        f"/events/{event.slug}/guests/import/confirm", confirmation(preview.text)
    )

    assert response.status_code == 422
    assert await count(session, Contact) == 0


async def test_import_onto_an_unknown_event(editor: Browser, bloggers_csv: bytes) -> None:
    assert (await editor.get("/events/nope/guests/import")).status_code == 404
    assert (
        await editor.submit("/events/nope/guests/import", files=upload(bloggers_csv))
    ).status_code == 404
    assert (await editor.get("/events/" + "x" * 500 + "/guests/import")).status_code == 404


async def test_viewers_cannot_import(viewer: Browser, session: Any, bloggers_csv: bytes) -> None:
    event = await factories.make_event(session)
    await session.commit()

    assert (await viewer.get("/contacts/import")).status_code == 403
    assert (await viewer.submit("/contacts/import", files=upload(bloggers_csv))).status_code == 403
    assert (await viewer.get(f"/events/{event.slug}/guests/import")).status_code == 403
    assert (
        await viewer.submit(f"/events/{event.slug}/guests/import", files=upload(bloggers_csv))
    ).status_code == 403
    assert await count(session, Contact) == 0


@pytest.mark.parametrize(
    "filename",
    ["<script>alert(1)</script>.csv", "../../etc/passwd", "x" * 300 + ".csv", "\u202egpj.csv"],
)
async def test_odd_file_names_are_shown_as_harmless_text(editor: Browser, filename: str) -> None:
    response = await editor.submit(
        "/contacts/import", files=upload(b"name,email\nAnna,anna@example.org\n", filename)
    )

    assert response.status_code == 200
    assert "<script>alert(1)" not in response.text
    assert "x" * 101 not in response.text, re.findall("x{101,}.{0,50}", response.text)[:1]


async def test_an_oversized_confirmation_field_is_refused_cleanly(
    editor: Browser, session: Any
) -> None:
    response = await editor.submit("/contacts/import/confirm", {"payload": "A" * 1_500_000})

    assert response.status_code in {400, 413, 422}
    assert await count(session, Contact) == 0


async def test_a_large_file_travels_through_the_preview_in_pieces(
    editor: Browser, session: Any
) -> None:
    # Random-looking names compress badly, so the preview's hidden field needs several parts.
    import secrets

    rows = "".join(
        f"{secrets.token_hex(80)},p{i}@example.org,,{secrets.token_urlsafe(70)}\n"
        for i in range(4000)
    )
    data = f"name,email,blog,city\n{rows}".encode()
    assert 1_000_000 < len(data) < 2 * 1024 * 1024

    preview = await editor.submit("/contacts/import", files=upload(data))
    fields = confirmation(preview.text)
    assert len(fields["payload"]) > 1

    response = await editor.submit("/contacts/import/confirm", fields)
    assert response.status_code == 303
    assert await count(session, Contact) == 4000


async def test_an_absurdly_long_file_name_is_refused_cleanly(editor: Browser) -> None:
    response = await editor.submit(
        "/contacts/import", files=upload(b"name,email\nA,a@example.org\n", "x" * 50_000)
    )

    assert response.status_code in {200, 400}
    assert "x" * 101 not in response.text
