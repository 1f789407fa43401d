"""The attendee list for catering and the door: a printable page and a CSV file."""

import csv
import io
from typing import Any

from meetups.db import utcnow
from meetups.invitations.attendees import neutralize
from meetups.invitations.models import InviteeStatus
from tests import factories
from tests.conftest import Browser, text_of
from tests.invitations.organizer_helpers import SLUG, add_guest

ATTENDEES = f"/events/{SLUG}/attendees"


async def _guests(session: Any, settings: Any) -> Any:
    event = await factories.make_event(session, capacity=20, plus_ones_allowed=True)
    accepted = {"status": InviteeStatus.accepted, "responded_at": utcnow(), "seats": 1}
    await add_guest(
        session,
        event,
        "Özlem Yılmaz",
        settings=settings,
        **{**accepted, "seats": 2},
        plus_one_name="Jörg Weiß",
        dietary_needs="vegan\nkeine Nüsse",
        needs_hotel=True,
    )
    await add_guest(
        session,
        event,
        "Anna Müller",
        settings=settings,
        **accepted,
        accessibility_needs="Rollstuhl, bitte ebenerdiger Zugang",
        travelling_from="Köln",
    )
    await add_guest(
        session,
        event,
        "=HYPERLINK(evil)",
        email="formula@example.org",
        settings=settings,
        **{**accepted, "seats": 2},
        plus_one_name="+49 Plus",
        dietary_needs="@SUM(A1:A9)",
        accessibility_needs="-1 Stufe",
        comment="\tTab first",
    )
    await add_guest(session, event, "Mia Vielleicht", settings=settings, status=InviteeStatus.maybe)
    await add_guest(
        session, event, "Wim Warteliste", settings=settings, status=InviteeStatus.waitlisted
    )
    await add_guest(session, event, "Dora Absage", settings=settings, status=InviteeStatus.declined)
    await add_guest(session, event, "Nina Nichteingeladen")
    await session.commit()
    return event


async def test_the_printable_attendee_list(editor: Browser, session: Any, settings: Any) -> None:
    await _guests(session, settings)

    page = await editor.get(ATTENDEES)

    assert page.status_code == 200
    text = text_of(page.text)
    assert "5 people expected: 3 guests, 2 plus-ones." in text
    assert "1 with dietary needs" not in text
    assert "2 with dietary needs" in text
    assert "2 with accessibility needs" in text
    assert "1 needs a hotel" in text
    for name in ("Özlem Yılmaz", "Jörg Weiß", "Anna Müller", "Rollstuhl, bitte ebenerdiger Zugang"):
        assert name in text
    for absent in ("Mia Vielleicht", "Wim Warteliste", "Dora Absage", "Nina Nichteingeladen"):
        assert absent not in text
    assert text.index("=HYPERLINK(evil)") < text.index("Anna Müller") < text.index("Özlem Yılmaz")
    assert 'class="attendee-list"' in page.text
    assert f'href="{ATTENDEES}.csv"' in page.text
    assert '<link rel="stylesheet" href="/static/invitations.css">' in page.text


async def test_the_stylesheet_prints_the_list_without_the_menus(browser: Browser) -> None:
    css = (await browser.get("/static/invitations.css")).text

    print_rules = css[css.index("@media print") :]
    for hidden in (".site-header", "nav.tabs", ".event-header", ".no-print"):
        assert hidden in print_rules
    assert "break-inside: avoid" in print_rules
    assert "thead { display: table-header-group; }" in print_rules


async def test_the_csv_is_utf8_for_excel_and_never_a_formula(
    viewer: Browser, session: Any, settings: Any
) -> None:
    await _guests(session, settings)

    response = await viewer.get(f"{ATTENDEES}.csv")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == (
        f'attachment; filename="attendees-{SLUG}.csv"'
    )
    assert response.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == [
        "Name",
        "E-mail address",
        "Plus-one",
        "People",
        "Dietary needs",
        "Accessibility needs",
        "Travelling from",
        "Needs a hotel",
        "Comment",
    ]
    assert len(table) == 4
    formula, anna, ozlem = table[1:]
    assert formula[0] == "'=HYPERLINK(evil)"
    assert formula[2] == "'+49 Plus"
    assert formula[4] == "'@SUM(A1:A9)"
    assert formula[5] == "'-1 Stufe"
    assert formula[8] == "Tab first"  # whitespace is folded before it could start a formula
    assert anna[:2] == ["Anna Müller", "anna.muller@example.org"]
    assert anna[5:8] == ["Rollstuhl, bitte ebenerdiger Zugang", "Köln", "no"]
    assert ozlem[:5] == [
        "Özlem Yılmaz",
        "ozlem.yilmaz@example.org",
        "Jörg Weiß",
        "2",
        "vegan keine Nüsse",
    ]
    assert ozlem[7] == "yes"
    assert all(
        not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in table for cell in row
    )


def test_neutralize_every_formula_start() -> None:
    for prefix in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralize(f"{prefix}1+1") == f"'{prefix}1+1"
    assert neutralize("Anna") == "Anna"
    assert neutralize("") == ""


async def test_an_empty_attendee_list(editor: Browser, session: Any) -> None:
    await factories.make_event(session)
    await session.commit()

    page = await editor.get(ATTENDEES)
    data = await editor.get(f"{ATTENDEES}.csv")

    assert "Nobody has accepted yet." in text_of(page.text)
    assert data.content.decode("utf-8-sig").count("\r\n") == 1


async def test_unknown_events_and_strangers(browser: Browser, session: Any, admin: Any) -> None:
    await factories.make_event(session)
    await session.commit()

    assert (await browser.get(f"{ATTENDEES}.csv")).status_code == 303  # to the sign-in
    await browser.sign_in(admin.email)
    assert (await browser.get("/events/nope/attendees")).status_code == 404
    assert (await browser.get("/events/nope/attendees.csv")).status_code == 404
    assert (await browser.get("/events/%00/attendees.csv")).status_code == 404
