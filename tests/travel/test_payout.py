"""Money out: the CSV for accounting (formulas neutralized), the SEPA file (valid pain.001, its
sum the approved total, nothing marked paid), the company's payout account, and the CLI."""

import asyncio
import csv
import html
import io
import os
from decimal import Decimal
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
import sepaxml
import xmlschema
from sqlmodel import select
from typer.testing import CliRunner, Result

from meetups.cli import app
from meetups.travel.models import ClaimStatus, PayoutAccount
from meetups.travel.payout import SEPA_SCHEMA
from tests.conftest import TEST_SECRET, Browser, sign_in_as, text_of
from tests.travel.conftest import Guest, make_guest, make_travel_event
from tests.travel.helpers import claim_of, make_claim, reload

NS = {"p": f"urn:iso:std:iso:20022:tech:xsd:{SEPA_SCHEMA}"}
SCHEMA = xmlschema.XMLSchema(str(Path(sepaxml.__file__).parent / "schemas" / f"{SEPA_SCHEMA}.xsd"))


async def set_account(session: Any) -> None:
    session.add(
        PayoutAccount(
            id=1, name="Beispiel AG & Co. KG", iban="DE02120300000000202051", bic="BYLADEM1001"
        )
    )
    await session.flush()


@pytest.fixture
async def claims(session: Any, settings: Any, event: Any, guest: Guest, other_guest: Guest) -> Any:
    """Claims of every status; approved ones in full and in part, to Germany and Switzerland."""
    swiss = await make_guest(session, settings, event, name="Zoë Zürcher", email="z@example.ch")
    drafty = await make_guest(session, settings, event, name="Dan Draft", email="dan@example.com")
    paid = await make_guest(session, settings, event, name="Pia Paid", email="pia@example.com")
    sub = await make_guest(session, settings, event, name="Sam Submitted", email="s@example.com")
    full = await make_claim(
        session,
        guest,
        status=ClaimStatus.approved,
        amounts=[4990, 1250],
        approved=[4990, 1250],
        descriptions=['=HYPERLINK("http://evil")', "+ Bus"],
    )
    part = await make_claim(
        session,
        other_guest,
        status=ClaimStatus.partly_approved,
        amounts=[10000],
        approved=[7550],
        iban="AT611904300234573201",
    )
    chf = await make_claim(
        session,
        swiss,
        status=ClaimStatus.approved,
        amounts=[3333],
        approved=[3333],
        iban="CH9300762011623852957",
        bic="UBSWCHZH80A",
    )
    await make_claim(session, drafty, status=ClaimStatus.draft, amounts=[999])
    await make_claim(session, paid, status=ClaimStatus.paid, amounts=[2000], approved=[2000])
    await make_claim(session, sub, status=ClaimStatus.submitted, amounts=[5000])
    await set_account(session)
    await session.commit()
    return {"full": full, "part": part, "chf": chf}


async def test_the_sepa_file_validates_and_pays_exactly_the_approved_unpaid_claims(
    editor: Browser, session: Any, event: Any, claims: Any
) -> None:
    response = await editor.get(f"/events/{event.slug}/travel/sepa.xml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/xml")
    assert "attachment;" in response.headers["content-disposition"]
    xml = response.content
    SCHEMA.validate(xml.decode())  # raises if invalid
    root = ElementTree.fromstring(xml)  # noqa: S314 - our own file, just validated
    amounts = [Decimal(a.text) for a in root.iterfind(".//p:CdtTrfTxInf/p:Amt/p:InstdAmt", NS)]
    assert sorted(amounts) == [Decimal("33.33"), Decimal("62.40"), Decimal("75.50")]
    approved_total = Decimal(4990 + 1250 + 7550 + 3333) / 100
    assert Decimal(root.find(".//p:GrpHdr/p:CtrlSum", NS).text) == approved_total
    assert sum(amounts) == approved_total
    assert root.find(".//p:GrpHdr/p:NbOfTxs", NS).text == "3"
    ibans = {e.text for e in root.iterfind(".//p:CdtrAcct/p:Id/p:IBAN", NS)}
    assert ibans == {"DE89370400440532013000", "AT611904300234573201", "CH9300762011623852957"}
    assert root.find(".//p:DbtrAcct/p:Id/p:IBAN", NS).text == "DE02120300000000202051"
    assert root.find(".//p:Dbtr/p:Nm", NS).text == "Beispiel AG + Co. KG"
    names = {e.text for e in root.iterfind(".//p:Cdtr/p:Nm", NS)}
    assert "Zoe Zurcher" in names  # transliterated to the SEPA character set
    assert "UBSWCHZH80A" in {e.text for e in root.iterfind(".//p:CdtrAgt//p:BICFI", NS)}
    # Producing the file marks nothing as paid.
    for claim in claims.values():
        assert (await claim_of(session, claim.invitee_id)).status != ClaimStatus.paid


async def test_without_a_payout_account_there_is_no_sepa_file(
    editor: Browser, session: Any, event: Any, guest: Guest
) -> None:
    await make_claim(session, guest, status=ClaimStatus.approved, amounts=[100], approved=[100])
    await session.commit()
    page = html.unescape(text_of((await editor.get(f"/events/{event.slug}/travel")).text))
    assert "an administrator sets the company's payout account" in page
    response = await editor.get(f"/events/{event.slug}/travel/sepa.xml")
    assert response.status_code == 303
    page = html.unescape(text_of((await editor.get(response.headers["location"])).text))
    assert "Set the company's payout account in the settings first" in page


async def test_nothing_to_pay_gives_a_message_not_an_empty_file(
    editor: Browser, session: Any, event: Any
) -> None:
    await set_account(session)
    await session.commit()
    response = await editor.get(f"/events/{event.slug}/travel/sepa.xml")
    assert response.status_code == 303
    page = text_of((await editor.get(response.headers["location"])).text)
    assert "no approved, unpaid claims" in page


async def test_the_csv_has_a_row_per_item_and_a_total_per_claim_with_formulas_neutralized(
    editor: Browser, event: Any, claims: Any
) -> None:
    response = await editor.get(f"/events/{event.slug}/travel/claims.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Claim", "Row", "Name"]
    kinds = [row[1] for row in body]
    assert kinds.count("Total") == 5  # every claim but the draft
    assert "Dan Draft" not in {row[2] for row in body}
    anna = [row for row in body if row[2] == "Anna Müller"]
    assert [row[1] for row in anna] == ["Item", "Item", "Total"]
    description = header.index("Description")
    assert anna[0][description] == '\'=HYPERLINK("http://evil")'
    assert anna[1][description] == "'+ Bus"
    total = anna[2]
    assert total[header.index("Claimed")] == "62.40"
    assert total[header.index("Approved")] == "62.40"
    assert total[header.index("IBAN")] == "DE89 3704 0044 0532 0130 00"
    for row in body:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r"))


async def test_only_administrators_set_the_payout_account(browser: Browser, session: Any) -> None:
    await sign_in_as(browser, session, "organizer")
    assert (await browser.get("/settings/payout")).status_code == 403
    response = await browser.submit(
        "/settings/payout", {"name": "X", "iban": "DE89370400440532013000", "bic": "COBADEFFXXX"}
    )
    assert response.status_code == 403


async def test_the_payout_account_is_validated_and_shown_masked(
    signed_in: Browser, session: Any
) -> None:
    page = await signed_in.get("/settings/payout")
    assert page.status_code == 200
    assert "Payout account" in text_of(page.text)
    response = await signed_in.submit(
        "/settings/payout", {"name": "", "iban": "DE89 3704 0044 0532 0130 01", "bic": "nope"}
    )
    assert response.status_code == 422
    text = text_of(response.text)
    assert "Please enter a name." in text
    assert "check digits do not match" in text
    assert "BIC" in text
    response = await signed_in.submit(
        "/settings/payout",
        {"name": "Beispiel GmbH", "iban": "de02 1203 0000 0000 2020 51", "bic": "byladem1001"},
    )
    assert response.status_code == 303
    [account] = await reload(session, select(PayoutAccount))
    assert (account.name, account.iban, account.bic) == (
        "Beispiel GmbH",
        "DE02120300000000202051",
        "BYLADEM1001",
    )
    page = text_of((await signed_in.get("/settings/payout")).text)
    assert "DE02 •••• •••• •••• ••20 51" in page
    assert "1203 0000" not in page
    # An empty IBAN keeps the saved one.
    response = await signed_in.submit(
        "/settings/payout", {"name": "Beispiel AG", "iban": "", "bic": "BYLADEM1001"}
    )
    assert response.status_code == 303
    [account] = await reload(session, select(PayoutAccount))
    assert account.name == "Beispiel AG"
    assert account.iban == "DE02120300000000202051"


async def _cli(settings: Any, *arguments: str) -> Result:
    environment = {key: None for key in os.environ if key.startswith("MEETUPS_")}
    environment.update(
        {
            "MEETUPS_DATABASE_URL": settings.resolved_database_url,
            "MEETUPS_SECRET_KEY": TEST_SECRET,
            "MEETUPS_VAR_DIR": str(settings.var_dir),
            "MEETUPS_DEFAULT_LANGUAGE": "en",
        }
    )
    return await asyncio.to_thread(
        CliRunner().invoke,
        app,
        ["export-payouts", *arguments],
        env=environment,
        catch_exceptions=False,
    )


async def test_the_cli_writes_both_exports(
    settings: Any, session: Any, event: Any, claims: Any, tmp_path: Path
) -> None:
    sepa = tmp_path / "payouts.xml"
    result = await _cli(settings, event.slug, "--format", "sepa", "-o", str(sepa))
    assert result.exit_code == 0, result.output
    assert "3 transfers of 171.23 EUR in all" in result.output
    assert "Nothing is marked as paid" in result.output
    SCHEMA.validate(sepa.read_text())
    table = tmp_path / "claims.csv"
    result = await _cli(settings, event.slug, "--format", "csv", "-o", str(table))
    assert result.exit_code == 0, result.output
    assert "5 claims written" in result.output
    assert "Anna Müller" in table.read_text(encoding="utf-8-sig")
    for claim in claims.values():
        assert (await claim_of(session, claim.invitee_id)).status != ClaimStatus.paid


async def test_the_cli_explains_what_went_wrong(
    settings: Any, session: Any, event: Any, tmp_path: Path
) -> None:
    result = await _cli(settings, event.slug, "--format", "pdf", "-o", str(tmp_path / "x"))
    assert result.exit_code == 2
    assert "--format must be csv or sepa" in result.output
    result = await _cli(settings, "no-such-event", "-o", str(tmp_path / "x.csv"))
    assert result.exit_code == 1
    assert "There is no such event." in result.output
    result = await _cli(settings, event.slug, "--format", "sepa", "-o", str(tmp_path / "x.xml"))
    assert result.exit_code == 1
    assert "payout account" in result.output
    assert not (tmp_path / "x.xml").exists()


async def test_a_non_euro_event_has_a_csv_but_no_sepa_file(
    editor: Browser, session: Any, settings: Any
) -> None:
    event = await make_travel_event(session, slug="london", travel_currency="GBP")
    guest = await make_guest(session, settings, event)
    await make_claim(session, guest, status=ClaimStatus.approved, amounts=[100], approved=[100])
    await set_account(session)
    await session.commit()
    response = await editor.get("/events/london/travel/sepa.xml")
    assert response.status_code == 303
    assert (await editor.get("/events/london/travel/claims.csv")).status_code == 200
