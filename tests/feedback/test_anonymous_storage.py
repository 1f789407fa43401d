"""Anonymous feedback leaves no insertion order behind in SQLite: the tables that hold markers,
responses and answers have no hidden row number to line them up by."""

import sqlite3
from pathlib import Path

import pytest

TABLES = ("feedback_answered", "feedback_response", "feedback_answer")


@pytest.mark.parametrize("table", TABLES)
def test_the_tables_have_no_row_numbers(sqlite_template: Path, table: str) -> None:
    connection = sqlite3.connect(sqlite_template)
    try:
        sql = connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()[0]
        assert sql.rstrip().upper().endswith("WITHOUT ROWID")
        with pytest.raises(sqlite3.OperationalError, match="rowid"):
            connection.execute(f"SELECT rowid FROM {table}")  # noqa: S608 - a fixed name
    finally:
        connection.close()
