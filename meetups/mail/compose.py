"""Building an e-mail: a pure function from its content to a complete RFC 5322 message.

The shape: multipart/alternative with the plain text, the HTML and any further renderings (an
invitation's `text/calendar; method=REQUEST`), wrapped in multipart/mixed when files are attached.
Headers: From, To, Reply-To, Subject, Date, Message-ID, Auto-Submitted, and List-Unsubscribe with
RFC 8058 one-click POST where an unsubscribe address is given. No tracking of any kind.
"""

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP, SMTPUTF8, EmailPolicy
from email.utils import format_datetime, parseaddr

# Lines of a 7bit body part must stay short (RFC 5322 allows 998, mail software prefers 78).
MAX_7BIT_LINE = 78
MAX_UNSUBSCRIBE_URL = 900
_TOKEN = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]{0,126}")
# Headers we write as given (set_raw) are not refolded: a URL broken into encoded words would be
# useless to the mail client. Everything else is still folded by the header objects themselves.
_ASCII_POLICY: EmailPolicy = SMTP.clone(refold_source="none")
_UTF8_POLICY: EmailPolicy = SMTPUTF8.clone(refold_source="none")


@dataclass(frozen=True)
class Attachment:
    """A file attached to the message (e.g. the event as an .ics file)."""

    filename: str
    content: bytes
    content_type: str = "application/octet-stream"
    params: Mapping[str, str] = field(default_factory=dict)  # e.g. {"method": "REQUEST"}


@dataclass(frozen=True)
class Alternative:
    """One more rendering of the message beside text and HTML, such as
    `Alternative(ics_text, "text/calendar", {"method": "REQUEST"})`."""

    content: str
    content_type: str
    params: Mapping[str, str] = field(default_factory=dict)


def compose_message(
    *,
    message_id: str,
    date: datetime,
    sender: str,
    to: str,
    to_name: str = "",
    subject: str,
    text: str,
    html: str | None = None,
    reply_to: str | None = None,
    reply_to_name: str = "",
    unsubscribe_url: str | None = None,
    attachments: Sequence[Attachment] = (),
    alternatives: Sequence[Alternative] = (),
) -> EmailMessage:
    """The complete message. `sender` is a From value like 'meetups <meetups@example.com>'.
    Raises ValueError for an address or unsubscribe URL that cannot be written into a header."""
    sender_name, sender_address = parseaddr(sender)
    addresses = {
        "From": _address(sender_address, sender_name),
        "To": _address(to, to_name),
    }
    if reply_to:
        addresses["Reply-To"] = _address(reply_to, reply_to_name)
    # Internationalized mailbox names (a non-ASCII local part) need SMTPUTF8: headers in UTF-8.
    needs_utf8 = any(not address.addr_spec.isascii() for address in addresses.values())
    message = EmailMessage(policy=_UTF8_POLICY if needs_utf8 else _ASCII_POLICY)

    for name, address in addresses.items():
        message[name] = address
    message["Subject"] = one_line(subject)
    if date.tzinfo is None:
        raise ValueError("the Date of a message needs a time zone")
    message["Date"] = format_datetime(date.astimezone(UTC))
    message["Message-ID"] = _message_id(message_id)
    # RFC 3834: no vacation replies to us; the second is the same request in Exchange's words.
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    if unsubscribe_url:
        message.set_raw("List-Unsubscribe", f"<{_header_url(unsubscribe_url)}>")
        message.set_raw("List-Unsubscribe-Post", "List-Unsubscribe=One-Click")

    message.set_content(_text_body(text), subtype="plain", cte=_transfer_encoding(text))
    if html is not None:
        message.add_alternative(html, subtype="html", cte=_transfer_encoding(html))
    for alternative in alternatives:
        maintype, subtype = _content_type(alternative.content_type)
        if maintype != "text":
            raise ValueError(f"an alternative must be text/*, not {alternative.content_type}")
        message.add_alternative(
            alternative.content,
            subtype=subtype,
            params=dict(alternative.params),
            cte=_transfer_encoding(alternative.content),
        )
    for attachment in attachments:
        maintype, subtype = _content_type(attachment.content_type)
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype,
            params=dict(attachment.params),
            filename=one_line(attachment.filename) or "attachment",
        )
    return message


def render_raw(message: EmailMessage) -> str:
    """The message as it goes over the wire (CRLF line ends); stored, and later sent, as is."""
    return message.as_string()


def one_line(value: str) -> str:
    """Header text without line breaks or other control characters (no header injection)."""
    cleaned = "".join(" " if unicodedata.category(ch) in {"Cc", "Zl", "Zp"} else ch for ch in value)
    return " ".join(cleaned.split())


def envelope_address(address: str) -> str:
    """The address as SMTP and headers want it: the domain in its ASCII form
    (Bücher.example -> xn--bcher-kva.example). Raises ValueError for what is no address."""
    address = address.strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(ch.isspace() or ch in '<>,;"' for ch in address):
        raise ValueError(f"not an e-mail address: {address!r}")
    try:
        return f"{local}@{domain.encode('idna').decode('ascii')}"
    except UnicodeError as error:
        raise ValueError(f"not an e-mail address: {address!r}") from error


def _address(address: str, name: str = "") -> Address:
    local, _at, domain = envelope_address(address).rpartition("@")
    try:
        return Address(display_name=one_line(name), username=local, domain=domain)
    except (HeaderParseError, IndexError, ValueError) as error:
        raise ValueError(f"not an e-mail address: {address!r}") from error


def _message_id(value: str) -> str:
    value = value.strip()
    if not (value.startswith("<") and value.endswith(">") and "@" in value) or not value.isascii():
        raise ValueError(f"not a Message-ID: {value!r}")
    if any(ch.isspace() for ch in value):
        raise ValueError(f"not a Message-ID: {value!r}")
    return value


def _header_url(url: str) -> str:
    url = url.strip()
    if (
        not url.startswith(("https://", "http://"))
        or len(url) > MAX_UNSUBSCRIBE_URL
        or not url.isascii()
        or any(ch.isspace() or ch in '<>"' or ord(ch) < 32 for ch in url)
    ):
        raise ValueError("the unsubscribe address must be an http(s) URL without spaces")
    return url


def _content_type(value: str) -> tuple[str, str]:
    maintype, slash, subtype = value.strip().lower().partition("/")
    if not slash or not _TOKEN.fullmatch(maintype) or not _TOKEN.fullmatch(subtype):
        raise ValueError(f"not a content type: {value!r}")
    return maintype, subtype


def _text_body(text: str) -> str:
    return text if text.endswith("\n") else text + "\n"


def _transfer_encoding(text: str) -> str:
    """7bit where the text allows it (readable in the raw view), quoted-printable otherwise, so
    that the message stays 7-bit clean for any relay."""
    if text.isascii() and all(len(line) <= MAX_7BIT_LINE for line in text.splitlines()):
        return "7bit"
    return "quoted-printable"
