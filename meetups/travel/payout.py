"""Money out: the company's payout account, the CSV of claims for accounting, and the SEPA
credit-transfer file (pain.001) of the approved, unpaid claims.

Producing the SEPA file marks nothing as paid: the organizer confirms that after the bank has
accepted the file (meetups.travel.review.mark_paid). The file is validated against the pain.001
schema before anyone gets it, and its control sum equals the approved total of its claims.
"""

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sepaxml import SepaTransfer
from sepaxml.validation import ValidationError as SepaValidationError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.accounts.models import Organizer
from meetups.contacts.models import Contact
from meetups.db import utcnow
from meetups.errors import DomainError, ValidationFailed
from meetups.events.form import travel_category_labels
from meetups.events.models import Event
from meetups.i18n import gettext as _
from meetups.i18n import ngettext
from meetups.invitations.models import Invitee
from meetups.travel.banking import clean_bic, clean_iban, format_iban, sepa_text
from meetups.travel.models import (
    PAYABLE_STATUSES,
    Claim,
    ClaimItem,
    ClaimStatus,
    PayoutAccount,
)
from meetups.travel.money import format_distance
from meetups.travel.review import status_labels
from meetups.validation import FORMULA_PREFIXES, clean_name

SEPA_SCHEMA = "pain.001.001.09"
ACCOUNT_ID = 1


# --- The company's account --------------------------------------------------------------------


async def payout_account(*, session: AsyncSession) -> PayoutAccount | None:
    return await session.get(PayoutAccount, ACCOUNT_ID)


def parse_account(data: Mapping[str, str], *, current: PayoutAccount | None) -> dict[str, str]:
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    try:
        values["name"] = clean_name(data.get("name"), max_length=70)
    except ValueError as error:
        errors["name"] = str(error)
    typed_iban = (data.get("iban") or "").strip()
    if typed_iban or current is None:
        try:
            values["iban"] = clean_iban(typed_iban)
        except ValueError as error:
            errors["iban"] = str(error)
    else:
        values["iban"] = current.iban
    try:
        values["bic"] = clean_bic(data.get("bic"), required=True)
    except ValueError as error:
        errors["bic"] = str(error)
    if errors:
        raise ValidationFailed(errors)
    return values


async def save_payout_account(
    data: Mapping[str, str], *, organizer: Organizer, session: AsyncSession
) -> PayoutAccount:
    """Sets the account the transfers are paid from (name, IBAN, BIC). An empty IBAN keeps the
    one saved (the form shows it masked)."""
    current = await payout_account(session=session)
    values = parse_account(data, current=current)
    account = current or PayoutAccount(id=ACCOUNT_ID, name="", iban="", bic="")
    account.name = values["name"]
    account.iban = values["iban"]
    account.bic = values["bic"]
    account.updated_at = utcnow()
    account.updated_by_id = organizer.id
    session.add(account)
    return account


# --- Reading claims for export ----------------------------------------------------------------


@dataclass(frozen=True)
class ExportClaim:
    claim: Claim
    contact: Contact
    items: list[ClaimItem]


async def _export_claims(
    event: Event, *, session: AsyncSession, statuses: tuple[ClaimStatus, ...] | None = None
) -> list[ExportClaim]:
    query = (
        select(Claim, Contact)
        .join(Invitee, col(Invitee.id) == Claim.invitee_id)
        .join(Contact, col(Contact.id) == Invitee.contact_id)
        .where(Claim.event_id == event.id)
        .order_by(col(Claim.id))
    )
    if statuses is not None:
        query = query.where(col(Claim.status).in_(statuses))
    else:
        query = query.where(Claim.status != ClaimStatus.draft)
    pairs = (await session.exec(query)).all()
    ids = [claim.id for claim, _contact in pairs]
    items: dict[int, list[ClaimItem]] = {}
    if ids:
        item_query = (
            select(ClaimItem)
            .where(col(ClaimItem.claim_id).in_(ids))
            .order_by(col(ClaimItem.spent_on), col(ClaimItem.id))
        )
        for item in (await session.exec(item_query)).all():
            items.setdefault(item.claim_id, []).append(item)
    return [
        ExportClaim(claim=claim, contact=contact, items=items.get(claim.id, []))  # type: ignore[arg-type]
        for claim, contact in pairs
    ]


# --- CSV --------------------------------------------------------------------------------------


def neutralize(value: object) -> str:
    """A cell a spreadsheet will not take for a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def _amount(cents: int | None) -> str:
    """Plain decimal with a dot ("123.45"): unambiguous for accounting software."""
    if cents is None:
        return ""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def claims_csv(event: Event, claims: list[ExportClaim]) -> bytes:
    """One row per item and a total row per claim; UTF-8 with BOM (Excel reads the umlauts)."""
    labels = travel_category_labels()
    statuses = status_labels()
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(
        [
            _("Claim"),
            _("Row"),
            _("Name"),
            _("E-mail address"),
            _("Status"),
            _("Category"),
            _("Date"),
            _("Description"),
            _("Distance (km)"),
            _("Currency"),
            _("Claimed"),
            _("Approved"),
            _("Account holder"),
            _("IBAN"),
            _("BIC"),
            _("Submitted"),
            _("Paid on"),
        ]
    )
    for entry in claims:
        claim, contact = entry.claim, entry.contact
        common = [contact.name, contact.email, statuses[ClaimStatus(claim.status)]]
        for item in entry.items:
            writer.writerow(
                [
                    neutralize(v)
                    for v in [
                        claim.id,
                        _("Item"),
                        *common,
                        labels[item.category],
                        item.spent_on.isoformat(),
                        item.description,
                        format_distance(item.distance_tenths_km),
                        claim.currency,
                        _amount(item.amount_cents),
                        _amount(item.approved_cents),
                        "",
                        "",
                        "",
                        "",
                        "",
                    ]
                ]
            )
        writer.writerow(
            [
                neutralize(v)
                for v in [
                    claim.id,
                    _("Total"),
                    *common,
                    "",
                    "",
                    "",
                    "",
                    claim.currency,
                    _amount(claim.requested_cents),
                    _amount(claim.approved_cents),
                    claim.payee_name,
                    format_iban(claim.iban),
                    claim.bic,
                    claim.submitted_at.date().isoformat() if claim.submitted_at else "",
                    claim.paid_on.isoformat() if claim.paid_on else "",
                ]
            ]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


async def export_csv(event: Event, *, session: AsyncSession) -> bytes:
    """Every claim of the event except drafts."""
    return claims_csv(event, await _export_claims(event, session=session))


# --- SEPA -------------------------------------------------------------------------------------


class PayoutProblem(DomainError):
    """The SEPA file cannot be made; the message says what to do."""


@dataclass(frozen=True)
class SepaFile:
    xml: bytes
    claims: list[Claim]
    total_cents: int
    execution_date: date

    @property
    def filename(self) -> str:
        return f"sepa-{self.execution_date.isoformat()}.xml"


def _remittance(event: Event, claim: Claim) -> str:
    return sepa_text(_("Travel costs %(title)s, claim %(id)s", title=event.title, id=claim.id), 140)


async def sepa_file(
    event: Event,
    *,
    session: AsyncSession,
    execution_date: date | None = None,
) -> SepaFile:
    """The pain.001 credit transfer of the event's approved, unpaid claims, from the company's
    account. Raises PayoutProblem when there is nothing to pay or no account to pay from."""
    account = await payout_account(session=session)
    if account is None:
        raise PayoutProblem(
            _("Set the company's payout account in the settings first (an administrator can).")
        )
    if event.travel_currency != "EUR":
        raise PayoutProblem(_("SEPA transfers are in euros only; use the CSV for this event."))
    claims = [
        entry.claim
        for entry in await _export_claims(event, session=session, statuses=PAYABLE_STATUSES)
        if entry.claim.approved_cents and entry.claim.has_payee and entry.claim.currency == "EUR"
    ]
    if not claims:
        raise PayoutProblem(_("There are no approved, unpaid claims to transfer."))
    execution_date = execution_date or utcnow().date()
    transfer = SepaTransfer(
        {
            "name": sepa_text(account.name, 70),
            "IBAN": account.iban,
            "BIC": account.bic,
            "batch": True,
            "currency": "EUR",
        },
        schema=SEPA_SCHEMA,
        clean=False,
    )
    for claim in claims:
        payment = {
            "name": sepa_text(claim.payee_name, 70) or "-",
            "IBAN": claim.iban,
            "amount": int(claim.approved_cents or 0),
            "execution_date": execution_date,
            "description": _remittance(event, claim),
            "endtoend_id": f"MEETUPS-{claim.event_id}-{claim.id}",
        }
        if claim.bic:
            payment["BIC"] = claim.bic
        transfer.add_payment(payment)
    try:
        xml = transfer.export(validate=True, pretty_print=True)
    except SepaValidationError as error:
        raise PayoutProblem(
            _(
                "The SEPA file did not pass the bank's schema check: %(problem)s",
                problem=str(error.__cause__ or error)[:300],
            )
        ) from error
    return SepaFile(
        xml=xml,
        claims=claims,
        total_cents=sum(claim.approved_cents or 0 for claim in claims),
        execution_date=execution_date,
    )


async def write_export(
    event: Event,
    export_format: str,
    output: Path,
    *,
    session: AsyncSession,
    execution_date: date | None = None,
) -> str:
    """Writes the CSV ("csv") or the SEPA file ("sepa") to `output` and says what it holds.
    The file appears whole or not at all (written beside it, then renamed)."""
    if export_format == "sepa":
        result = await sepa_file(event, session=session, execution_date=execution_date)
        content = result.xml
        summary = ngettext(
            "%(num)s transfer of %(total)s in all, to be paid on %(date)s, written to "
            "%(file)s. Nothing is marked as paid yet.",
            "%(num)s transfers of %(total)s in all, to be paid on %(date)s, written to "
            "%(file)s. Nothing is marked as paid yet.",
            len(result.claims),
            total=_amount(result.total_cents) + " EUR",
            date=result.execution_date.isoformat(),
            file=str(output),
        )
    else:
        claims = await _export_claims(event, session=session)
        content = claims_csv(event, claims)
        summary = ngettext(
            "%(num)s claim written to %(file)s.",
            "%(num)s claims written to %(file)s.",
            len(claims),
            file=str(output),
        )
    partial = output.with_name(f".{output.name}.partial")
    partial.write_bytes(content)
    partial.replace(output)
    return summary
