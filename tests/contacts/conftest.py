"""Fixtures of the address book's tests: the shared CSV files (the signed-in editor is
shared by tests/conftest.py)."""

import pytest

from tests.conftest import DATA_DIR


@pytest.fixture
def bloggers_csv() -> bytes:
    """UTF-8, commas, 40 good people and 7 rows that are wrong on purpose."""
    return (DATA_DIR / "bloggers.csv").read_bytes()


@pytest.fixture
def excel_csv() -> bytes:
    """The same 40 people as German Excel writes them: Windows-1252 and semicolons."""
    return (DATA_DIR / "bloggers-excel.csv").read_bytes()
