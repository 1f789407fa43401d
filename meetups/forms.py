"""Reading submitted forms as plain strings, whatever a client sends."""

from fastapi import Request
from starlette.datastructures import UploadFile

MAX_FIELD_LENGTH = 100_000


def without_nul(value: str) -> str:
    """PostgreSQL cannot store NUL characters in text (and no person types one): drop them."""
    return value.replace("\x00", "")


async def form_data(request: Request) -> dict[str, str]:
    """The submitted fields as strings (first value wins; files are left out)."""
    form = await request.form()
    data: dict[str, str] = {}
    for key, value in form.multi_items():
        if key not in data and isinstance(value, str):
            data[key] = without_nul(value[:MAX_FIELD_LENGTH])
    return data


async def form_list(request: Request, key: str) -> list[str]:
    form = await request.form()
    values = form.getlist(key)
    return [without_nul(value[:MAX_FIELD_LENGTH]) for value in values if isinstance(value, str)]


async def form_file(request: Request, key: str) -> UploadFile | None:
    form = await request.form()
    value = form.get(key)
    return value if isinstance(value, UploadFile) else None


def is_checked(data: dict[str, str], key: str) -> bool:
    return data.get(key, "") in {"on", "true", "1", "yes"}
