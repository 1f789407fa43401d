"""Event addresses: German transliteration, accents, odd input, and uniqueness in the database."""

from typing import Any

import pytest

from meetups.events.slugs import MAX_SLUG_LENGTH, slugify, unique_slug
from tests import factories


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("Bloggertreffen Montabaur", "bloggertreffen-montabaur"),
        ("Blogger-Feedback Montabaur", "blogger-feedback-montabaur"),
        ("Größe & Übermut", "groesse-uebermut"),
        ("ÄÖÜ äöü ß ẞ", "aeoeue-aeoeue-ss-ss"),
        ("Straßenfest in Köln", "strassenfest-in-koeln"),
        ("Mu\u0308nchen (decomposed umlaut)", "muenchen-decomposed-umlaut"),
        ("Café Crème à Paris", "cafe-creme-a-paris"),
        ("København, Łódź, Þingvellir", "kobenhavn-lodz-thingvellir"),
        ("Ελληνικά 2027", "2027"),
        ("  --Hello__World!!--  ", "hello-world"),
        ("🎉🎉🎉", "event"),
        ("", "event"),
        ("<script>alert(1)</script>", "script-alert-1-script"),
        ("ﬁle ﬀ", "file-ff"),  # ligatures fold into their letters
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug


def test_long_titles_are_cut_at_a_word_boundary() -> None:
    slug = slugify("Treffen " * 40)
    assert len(slug) <= MAX_SLUG_LENGTH
    assert slug.startswith("treffen-treffen")
    assert not slug.endswith("-")
    assert set(slug.split("-")) == {"treffen"}


def test_one_very_long_word_is_cut_hard() -> None:
    assert slugify("x" * 500) == "x" * MAX_SLUG_LENGTH


async def test_unique_slug_appends_the_next_free_number(session: Any) -> None:
    assert (
        await unique_slug("Bloggertreffen Montabaur", session=session) == "bloggertreffen-montabaur"
    )
    await factories.make_event(session, slug="bloggertreffen-montabaur")
    assert (
        await unique_slug("Bloggertreffen Montabaur", session=session)
        == "bloggertreffen-montabaur-2"
    )
    await factories.make_event(session, slug="bloggertreffen-montabaur-2")
    await factories.make_event(session, slug="bloggertreffen-montabaur-4")
    assert (
        await unique_slug("Bloggertreffen  MONTABAUR!", session=session)
        == "bloggertreffen-montabaur-3"
    )


async def test_unique_slug_ignores_events_that_merely_share_a_prefix(session: Any) -> None:
    await factories.make_event(session, slug="bloggertreffen-montabaur-extra")
    assert (
        await unique_slug("Bloggertreffen Montabaur", session=session) == "bloggertreffen-montabaur"
    )


async def test_unique_slug_can_leave_out_the_event_itself(session: Any) -> None:
    event = await factories.make_event(session, slug="sommerfest")
    assert await unique_slug("Sommerfest", session=session, exclude_id=event.id) == "sommerfest"
    assert await unique_slug("Sommerfest", session=session) == "sommerfest-2"


async def test_reserved_words_are_never_slugs(session: Any) -> None:
    # /events/new is the form for a new event, not an event called "New".
    assert await unique_slug("New", session=session) == "new-2"


async def test_unique_slug_of_a_long_title_stays_within_the_limit(session: Any) -> None:
    title = "Jahresabschluss " * 20
    first = await unique_slug(title, session=session)
    await factories.make_event(session, slug=first)
    second = await unique_slug(title, session=session)
    assert second == first + "-2"
    assert len(second) <= MAX_SLUG_LENGTH
