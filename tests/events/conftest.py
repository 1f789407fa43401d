"""Fixtures for the events tests: a valid event form (browsers signed in with each role are
shared by tests/conftest.py)."""

from datetime import UTC, datetime

import pytest

NEXT_YEAR = datetime.now(UTC).year + 1


def event_form(**overrides: str) -> dict[str, str]:
    """What a person fills into the new-event form, as the browser would send it."""
    values = {
        "title": "Bloggertreffen Montabaur",
        "description": "Ein Nachmittag mit **Feedback**.",
        "language": "de",
        "contact_name": "Olga Organizer",
        "contact_email": "olga@example.com",
        "starts_at": f"{NEXT_YEAR}-05-14T14:00",
        "ends_at": f"{NEXT_YEAR}-05-14T18:00",
        "timezone": "Europe/Berlin",
        "venue": "Firmenzentrale",
        "address": "Elgendorfer Straße 57, 56410 Montabaur",
        "capacity": "40",
        "rsvp_deadline": f"{NEXT_YEAR}-05-07T23:59",
        "plus_ones_allowed": "on",
        "travel_enabled": "on",
        "travel_cap": "150,00",
        "travel_mileage_rate": "0,30",
        "travel_currency": "EUR",
        "travel_category_train": "on",
        "travel_category_car": "on",
        "travel_claim_deadline": "",
        "feedback_enabled": "on",
        "feedback_closes_at": "",
    }
    values.update(overrides)
    return {key: value for key, value in values.items() if value is not None}


@pytest.fixture
def form() -> dict[str, str]:
    return event_form()
