"""Receipts: what kind of file an upload really is (by its first bytes, never by its name or the
browser's word), clean names, and storing and reading the bytes.

Only PDF, JPEG and PNG are taken. Anything a browser could run or render as a page (SVG, HTML,
XML) is refused with its own message, even when named "receipt.pdf". Files are stored in the
database (ReceiptContent) and served under a generated name, with their real type, as an attachment
or inline image, and `X-Content-Type-Options: nosniff`.
"""

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from meetups.i18n import gettext as _
from meetups.travel.models import Receipt, ReceiptContent

MAX_RECEIPT_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str
    label: str

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


PDF = FileType("application/pdf", "pdf", "PDF")
JPEG = FileType("image/jpeg", "jpg", "JPEG")
PNG = FileType("image/png", "png", "PNG")
TYPES = {t.content_type: t for t in (PDF, JPEG, PNG)}

_MARKUP = re.compile(rb"^\s*(<\?xml|<!doctype|<svg|<html|<head|<body|<script|<!--)", re.IGNORECASE)


class ReceiptRefused(ValueError):
    """The upload is not a receipt we take; the message says why, for the invitee."""


def sniff(data: bytes) -> FileType | None:
    """The type of a file from its first bytes: PDF, JPEG or PNG, else None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"%PDF-"):
        return PDF
    return None


def check_upload(data: bytes) -> FileType:
    """The type of an acceptable receipt; raises ReceiptRefused with the reason otherwise."""
    if not data:
        raise ReceiptRefused(_("The file is empty."))
    if len(data) > MAX_RECEIPT_BYTES:
        raise ReceiptRefused(
            _(
                "The file is larger than %(size)s MB. Please send a smaller scan or photo.",
                size=MAX_RECEIPT_BYTES // (1024 * 1024),
            )
        )
    kind = sniff(data)
    if kind is not None:
        return kind
    if _MARKUP.match(data[:512].lstrip(b"\xef\xbb\xbf")):
        raise ReceiptRefused(
            _("SVG, HTML and other web files cannot be receipts. Please send a PDF, JPEG or PNG.")
        )
    raise ReceiptRefused(
        _("This file is not a PDF, JPEG or PNG. Please send the receipt in one of these formats.")
    )


def clean_filename(name: str | None) -> str:
    """The name as shown next to the receipt: without any folders ("C:\\Users\\..\\x.pdf" and
    "../../x.pdf" become "x.pdf"), without control characters, at most 120 characters."""
    text = unicodedata.normalize("NFC", name or "")
    text = re.split(r"[\\/]", text)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")
    text = " ".join(text.split()).strip(". ")
    if len(text) > 120:
        stem, dot, extension = text.rpartition(".")
        if dot and len(extension) <= 8:
            text = stem[: 119 - len(extension)] + dot + extension
        else:
            text = text[:120]
    return text or "receipt"


def stored_name(claim_id: int, item_position: int, kind: FileType) -> str:
    """The generated name a receipt is served under, e.g. "receipt-12-3.pdf"."""
    return f"receipt-{claim_id}-{item_position}.{kind.extension}"


async def store_receipt(
    *,
    session: AsyncSession,
    claim_id: int,
    item_id: int,
    item_position: int,
    data: bytes,
    filename: str | None,
) -> Receipt:
    """Checks the file and stores it as the receipt of the item, replacing an earlier one.
    Raises ReceiptRefused."""
    kind = check_upload(data)
    old = (await session.exec(select(Receipt).where(Receipt.item_id == item_id))).first()
    if old is not None:
        await session.delete(old)
        await session.flush()
    receipt = Receipt(
        claim_id=claim_id,
        item_id=item_id,
        content_type=kind.content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        original_name=clean_filename(filename),
        stored_name=stored_name(claim_id, item_position, kind),
    )
    session.add(receipt)
    await session.flush()
    session.add(ReceiptContent(receipt_id=receipt.id, data=data))  # type: ignore[arg-type]
    return receipt


async def receipt_bytes(receipt: Receipt, *, session: AsyncSession) -> bytes:
    content = await session.get(ReceiptContent, receipt.id)
    return content.data if content is not None else b""


def file_type(receipt: Receipt) -> FileType:
    return TYPES.get(receipt.content_type, PDF)


async def receipts_by_item(claim_id: int, *, session: AsyncSession) -> dict[int, Receipt]:
    query = select(Receipt).where(Receipt.claim_id == claim_id)
    return {receipt.item_id: receipt for receipt in (await session.exec(query)).all()}
