from tests.conftest import Browser, text_of
from tests.events.conftest import event_form

async def test_smoke(editor: Browser) -> None:
    r = await editor.get("/events")
    assert r.status_code == 200, r.text
    r = await editor.get("/events/new")
    assert r.status_code == 200, r.text
    r = await editor.submit("/events/new", event_form())
    assert r.status_code == 303, r.text
    loc = r.headers["location"]
    r = await editor.get(loc)
    assert r.status_code == 200, r.text
    print(text_of(r.text))
    r = await editor.get(loc + "/edit")
    assert r.status_code == 200, r.text
    r = await editor.get(loc + "/cancel")
    assert r.status_code == 200, r.text
    r = await editor.submit("/events/new", event_form(title="", capacity="abc"))
    assert r.status_code == 422, r.text
    print(text_of(r.text)[:3000])
    for s in ["upcoming", "drafts", "past", "archived"]:
        r = await editor.get("/events?section=" + s)
        assert r.status_code == 200, r.text
        print(text_of(r.text)[:1500])
