"""Coverage: links attendees add behind their personal link and organizers add on the Coverage
tab, with counts per kind, the disclosure of paid travel, and the CSV export read back."""

import csv
import io
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import select

from meetups.coverage import links
from meetups.coverage.models import CoverageKind, CoverageLink
from meetups.db import utcnow
from meetups.errors import ValidationFailed
from meetups.invitations.models import InviteeStatus
from tests.conftest import Browser, text_of
from tests.feedback.helpers import SLUG, attendee, past_event, rows

TAB = f"/events/{SLUG}/coverage"
TODAY = date(2026, 5, 20)


def _link(**fields: str) -> dict[str, str]:
    return {
        "url": "https://netzgefluester.example.org/montabaur",
        "title": "Zu Besuch in Montabaur",
        "site": "",
        "kind": "blog_post",
        "published_on": "2026-05-16",
        "discloses_paid_travel": "yes",
        **fields,
    }


def test_a_link_is_read_with_sensible_defaults() -> None:
    entry = links.parse_coverage(
        _link(url="www.Example.org/post?id=1", title="  Mein   Beitrag "),
        by_organizer=False,
        today=TODAY,
    )
    assert entry.url == "https://www.Example.org/post?id=1"
    assert entry.site == "example.org"  # the host, without "www."
    assert entry.title == "Mein Beitrag"
    assert entry.kind == CoverageKind.blog_post
    assert entry.published_on == date(2026, 5, 16)
    assert entry.discloses_paid_travel is True
    organizer = links.parse_coverage(
        _link(discloses_paid_travel="unknown", author_name="Redaktion", published_on=""),
        by_organizer=True,
        today=TODAY,
    )
    assert organizer.discloses_paid_travel is None
    assert organizer.published_on is None
    assert organizer.author_name == "Redaktion"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"url": ""}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "ftp://example.org/x"}, "url"),
        ({"url": "https://localhost/x"}, "url"),
        ({"url": "https://[::1"}, "url"),
        ({"url": "https://exa mple.org"}, "url"),
        ({"url": "https://example.org/" + "x" * 2000}, "url"),
        ({"title": " "}, "title"),
        ({"kind": "novel"}, "kind"),
        ({"published_on": "16.05.2026"}, "published_on"),
        ({"published_on": "2026-02-30"}, "published_on"),
        ({"published_on": "2026-06-30"}, "published_on"),  # in the future
        ({"published_on": "1999-01-01"}, "published_on"),
        ({"discloses_paid_travel": ""}, "discloses_paid_travel"),
        ({"discloses_paid_travel": "unknown"}, "discloses_paid_travel"),
    ],
)
def test_wrong_links_are_refused_by_field(fields: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationFailed) as refused:
        links.parse_coverage(_link(**fields), by_organizer=False, today=TODAY)
    assert field in refused.value.errors


async def _arranged(session: Any, settings: Any) -> dict[str, Any]:
    event = await past_event(session)
    anna, anna_token = await attendee(session, settings, event, "Anna Müller")
    _ben, ben_token = await attendee(session, settings, event, "Ben Baker")
    _dora, dora_token = await attendee(
        session, settings, event, "Dora Declined", status=InviteeStatus.declined
    )
    await session.commit()
    return {
        "event": event,
        "anna_invitee": anna,
        "anna": anna_token,
        "ben": ben_token,
        "dora": dora_token,
    }


async def test_attendees_add_and_remove_their_own_links(
    browser: Browser, session: Any, settings: Any
) -> None:
    arranged = await _arranged(session, settings)
    page = await browser.get(f"/i/{arranged['anna']}/coverage")
    assert page.status_code == 200
    assert page.headers["referrer-policy"] == "no-referrer"
    assert "Add a link" in page.text
    added = await browser.submit(
        f"/i/{arranged['anna']}/coverage",
        _link(published_on=(utcnow().date() - timedelta(days=1)).isoformat()),
    )
    assert added.status_code == 303
    mine = await browser.get(added.headers["location"])
    assert "Thank you! Your link is on our list." in mine.text
    assert "Zu Besuch in Montabaur" in mine.text
    # The same link twice is refused in place; the attendee must say whether travel is disclosed.
    twice = await browser.submit(f"/i/{arranged['ben']}/coverage", _link())
    assert twice.status_code == 422
    assert "on the list already" in twice.text
    undecided = await browser.submit(
        f"/i/{arranged['ben']}/coverage",
        _link(url="https://video.example.com/v", discloses_paid_travel=""),
    )
    assert undecided.status_code == 422
    assert 'id="e-discloses_paid_travel"' in undecided.text
    assert 'value="https://video.example.com/v"' in undecided.text
    # Ben sees only his own links, and cannot remove Anna's.
    stored = (await rows(session, select(CoverageLink)))[0]
    assert "Zu Besuch" not in (await browser.get(f"/i/{arranged['ben']}/coverage")).text
    foreign = await browser.submit(f"/i/{arranged['ben']}/coverage/{stored.id}/remove")
    assert foreign.status_code == 404
    removed = await browser.submit(f"/i/{arranged['anna']}/coverage/{stored.id}/remove", htmx=True)
    assert removed.status_code == 200
    assert "<html" not in removed.text
    assert "The link is removed." in removed.text
    assert await rows(session, select(CoverageLink)) == []


async def test_only_those_who_took_part_add_links_once_the_event_began(
    browser: Browser, session: Any, settings: Any
) -> None:
    arranged = await _arranged(session, settings)
    page = await browser.get(f"/i/{arranged['dora']}/coverage")
    assert "Add a link" not in page.text
    refused = await browser.submit(f"/i/{arranged['dora']}/coverage", _link())
    assert refused.status_code == 409
    upcoming = await past_event(
        session,
        slug="upcoming",
        starts_at=utcnow() + timedelta(days=3),
        ends_at=utcnow() + timedelta(days=3, hours=4),
    )
    _invitee, early = await attendee(session, settings, upcoming, "Eva Early")
    await session.commit()
    too_early = await browser.submit(f"/i/{early}/coverage", _link())
    assert too_early.status_code == 409
    assert await rows(session, select(CoverageLink)) == []
    assert (await browser.get(f"/i/{'D' * 32}/coverage")).status_code == 404


async def test_organizers_keep_the_list_with_counts_and_the_disclosure(
    signed_in: Browser, session: Any, settings: Any
) -> None:
    arranged = await _arranged(session, settings)
    await links.add_link(
        arranged["event"],
        links.parse_coverage(_link(), by_organizer=False),
        session=session,
        invitee=arranged["anna_invitee"],
    )
    await session.commit()
    added = await signed_in.submit(
        TAB,
        _link(
            url="https://social.example.net/@x/1",
            title="Thread über Glasfaser",
            kind="social_post",
            discloses_paid_travel="no",
            author_name="Marie Weber",
        ),
    )
    assert added.status_code == 303
    wrong = await signed_in.submit(TAB, _link(url="nonsense", kind="social_post"))
    assert wrong.status_code == 422
    assert 'id="e-url"' in wrong.text
    page = await signed_in.get(TAB)
    text = text_of(page.text)
    assert "Anna Müller added by the attendee" in text
    assert "2 Links" in text
    assert "1 Blog post" in text
    assert "1 Social media post" in text
    assert "1 post does not say that the travel was paid for" in text
    assert 'rel="noopener noreferrer nofollow"' in page.text
    organizer_link = next(
        link for link in await rows(session, select(CoverageLink)) if link.author_name
    )
    edit = await signed_in.get(f"{TAB}/{organizer_link.id}")
    assert 'value="Thread über Glasfaser"' in edit.text
    saved = await signed_in.submit(
        f"{TAB}/{organizer_link.id}",
        _link(
            url=organizer_link.url, title="Thread", kind="social_post", discloses_paid_travel="yes"
        ),
    )
    assert saved.status_code == 303
    clash = await signed_in.submit(f"{TAB}/{organizer_link.id}", _link(kind="video"))
    assert clash.status_code == 422
    assert "on the list already" in clash.text
    assert (await signed_in.submit(f"{TAB}/{organizer_link.id}/remove")).status_code == 303
    assert (await signed_in.get(f"{TAB}/{organizer_link.id}")).status_code == 404
    assert (await signed_in.get(f"{TAB}/abc")).status_code == 404


async def test_viewers_see_and_export_but_do_not_change(
    browser: Browser, session: Any, settings: Any
) -> None:
    from tests.conftest import sign_in_as

    await _arranged(session, settings)
    await sign_in_as(browser, session, "viewer")
    page = await browser.get(TAB)
    assert page.status_code == 200
    assert "Add a link" not in page.text
    assert (await browser.submit(TAB, _link())).status_code == 403
    assert (await browser.get(f"{TAB}.csv")).status_code == 200


async def test_the_csv_export_reads_back_with_formulas_neutralized(
    signed_in: Browser, session: Any, settings: Any
) -> None:
    arranged = await _arranged(session, settings)
    entries = [
        _link(title='=HYPERLINK("evil")', published_on="2026-05-16"),
        _link(
            url="https://video.example.com/v",
            title="Mein Vlog",
            site="@kanal",
            kind="video",
            published_on="",
            discloses_paid_travel="unknown",
            author_name="Ben Baker",
        ),
    ]
    for data in entries:
        assert (await signed_in.submit(TAB, data)).status_code == 303
    response = await signed_in.get(f"{TAB}.csv")
    assert response.headers["content-type"].startswith("text/csv")
    assert f'filename="coverage-{SLUG}.csv"' in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert table[0] == [
        "Published",
        "Kind",
        "Title",
        "Site",
        "Web address",
        "Author",
        "Discloses paid travel",
        "Added by",
    ]
    by_title = {row[2]: row for row in table[1:]}
    assert by_title['\'=HYPERLINK("evil")'][:2] == ["2026-05-16", "Blog post"]
    assert by_title["Mein Vlog"][3] == "'@kanal"
    assert by_title["Mein Vlog"][5:] == ["Ben Baker", "not checked", "an organizer"]
    excel = await signed_in.get(f"{TAB}.csv?semicolon=1")
    assert excel.content.decode("utf-8-sig").splitlines()[0].startswith("Published;Kind;")
    assert arranged["event"].slug == SLUG
