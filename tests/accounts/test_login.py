from tests.conftest import Browser


async def test_first_visit_without_organizers_leads_to_setup(browser: Browser) -> None:
    response = await browser.get("/events")
    assert response.status_code == 303
    assert response.headers["location"] == "/setup"
