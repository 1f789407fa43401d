"""The API's answers beyond the resources: the one error shape for failures the routes do not
expect, too large bodies and unknown addresses; the security headers; the schema and its page."""

import logging
from pathlib import Path
from typing import Any

import httpx

from meetups.config import Settings
from meetups.web import MAX_REQUEST_BYTES, create_app
from tests.api.conftest import Caller, error_of
from tests.conftest import TEST_SECRET
from tests.empty_databases import empty_database_url  # noqa: F401 - a fixture


async def test_an_unexpected_failure_is_a_json_500_not_a_page(  # type: ignore[no-untyped-def]
    tmp_path: Path,
    empty_database_url: str,  # noqa: F811 - the fixture
    caplog,
) -> None:
    # A database without tables: every query fails, as when the database is gone.
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        var_dir=tmp_path / "var",
        database_url=empty_database_url,
        secret_key=TEST_SECRET,
        base_url="http://testserver",
    )
    app = create_app(settings)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://testserver",
    ) as client:
        with caplog.at_level(logging.ERROR, logger="meetups.api"):
            response = await client.get(
                "/api/v1/events", headers={"Authorization": "Bearer mtk_" + "a" * 43}
            )
    await app.state.database.dispose()
    assert response.status_code == 500
    assert error_of(response)["code"] == "internal_error"
    assert "<html" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "unhandled error on GET /api/v1/events" in caplog.text


async def test_a_too_large_body_is_a_json_413(api, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    body = b'{"title": "' + b"x" * (MAX_REQUEST_BYTES + 10) + b'"}'
    response = await api.post(
        "/api/v1/events",
        content=body,
        headers={**editor.headers, "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert error_of(response)["code"] == "too_large"


async def test_api_answers_carry_the_security_headers(api, editor: Caller) -> None:  # type: ignore[no-untyped-def]
    for response in (
        await api.get("/api/v1/me", headers=editor.headers),
        await api.get("/api/v1/me"),
        await api.get("/api/v1/nowhere", headers=editor.headers),
    ):
        assert response.headers["content-type"] == "application/json"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
        assert "default-src 'self'" in response.headers["content-security-policy"]
        assert "set-cookie" not in response.headers


async def test_the_schema_is_public_and_describes_every_operation(api) -> None:  # type: ignore[no-untyped-def]
    response = await api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema: dict[str, Any] = response.json()
    assert schema["openapi"].startswith("3.1")
    assert schema["components"]["securitySchemes"]["personal_token"]["scheme"] == "bearer"
    operations = [
        (method, path, operation)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    ]
    assert len(operations) == 15
    assert {path for _m, path, _o in operations} >= {
        "/api/v1/events",
        "/api/v1/events/{slug}/guests/{guest_id}",
        "/api/v1/events/{slug}/invitations",
        "/api/v1/events/{slug}/claims/{claim_id}",
        "/api/v1/events/{slug}/feedback/responses",
    }
    for method, path, operation in operations:
        responses = operation["responses"]
        assert "401" in responses, (method, path)
        assert operation["security"] == [{"personal_token": []}]
        for status, answer in responses.items():
            if status.startswith(("4", "5")):
                reference = answer["content"]["application/json"]["schema"]["$ref"]
                assert reference.endswith("/ErrorResponse"), (method, path, status)
        if "{" in path:
            assert "404" in responses, (method, path)
        if method != "get":
            assert "403" in responses, (method, path)
    # Only our own error shape; FastAPI's validation error model is not in it.
    assert "HTTPValidationError" not in response.text
    # The browser's pages are no part of it.
    assert not [path for _m, path, _o in operations if not path.startswith("/api/v1/")]


async def test_the_main_app_has_no_schema_of_its_pages(api) -> None:  # type: ignore[no-untyped-def]
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert (await api.get(path)).status_code in {303, 404}


async def test_the_documentation_page_uses_our_own_files(api, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    response = await api.get("/api/docs")
    assert response.status_code == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    assert 'src="/static/vendor/swagger-ui/swagger-ui-bundle.js"' in html
    assert 'src="/static/api-docs.js"' in html
    assert 'data-schema-url="/api/v1/openapi.json"' in html
    assert "<script>" not in html  # nothing inline: the CSP would refuse it
    assert "http://" not in html.replace(str(settings.base_url).rstrip("/"), "")
    assert "https://" not in html
