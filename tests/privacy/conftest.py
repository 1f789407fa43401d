"""Fixtures of the privacy tests: the arranged world. Browsers signed in with each role and the
mail worker with its scheduler hooks (`deliver(hooks=True)`) are shared by tests/conftest.py."""

from typing import Any

import pytest

from tests.privacy.helpers import World, arrange_world


@pytest.fixture
async def world(session: Any, settings: Any) -> World:
    return await arrange_world(session, settings)
