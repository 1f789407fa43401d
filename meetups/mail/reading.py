"""Reading a stored message for display: its headers, text, sanitized HTML and other parts.

Whatever reaches the mail catcher may be malformed (anyone on the machine can send to it), so
nothing here raises for a bad message: it shows what it can.
"""

import mimetypes
from dataclasses import dataclass
from email import message_from_string
from email.message import EmailMessage, Message
from email.policy import default as default_policy

import nh3
from markupsafe import Markup

# Headers shown at the top of a message; the rest are one click away.
MAIN_HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Date")
_HTML_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "dd", "del", "div", "dl",
    "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s",
    "small", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr",
    "u", "ul",
}  # fmt: skip
_HTML_ATTRIBUTES = {
    "a": {"href", "title"},
    "td": {"colspan", "rowspan", "align"},
    "th": {"colspan", "rowspan", "align"},
    "ol": {"start"},
}
# Served as their own type; anything else is offered as a download of unknown type.
_SAFE_DOWNLOAD_TYPES = {
    "text/calendar", "text/plain", "text/csv", "application/pdf", "image/png", "image/jpeg",
    "image/gif", "application/json", "application/zip",
}  # fmt: skip


@dataclass(frozen=True)
class MailPart:
    index: int
    filename: str
    content_type: str
    size: int


@dataclass(frozen=True)
class ReadableMail:
    headers: list[tuple[str, str]]
    main_headers: list[tuple[str, str]]
    text: str | None
    html: Markup | None
    parts: list[MailPart]


def parse(raw: str) -> EmailMessage:
    message = message_from_string(raw, _class=EmailMessage, policy=default_policy)
    return message  # type: ignore[return-value]


def read_mail(raw: str) -> ReadableMail:
    try:
        return _read(raw)
    except Exception:  # a structure the parser chokes on (absurd nesting, say): show it raw
        return ReadableMail(headers=[], main_headers=[], text=raw, html=None, parts=[])


def _read(raw: str) -> ReadableMail:
    message = parse(raw)
    headers = [(name, _header_text(name, value)) for name, value in message.raw_items()]
    main = [(name, value) for name, value in headers if name.title() in MAIN_HEADERS]
    text_part = _body(message, "plain")
    html_part = _body(message, "html")
    shown = {id(part) for part in (text_part, html_part) if part is not None}
    parts = [
        _describe_part(index, part)
        for index, part in enumerate(_leaves(message))
        if id(part) not in shown
    ]
    return ReadableMail(
        headers=headers,
        main_headers=main,
        text=_content_text(text_part) if text_part is not None else None,
        html=sanitize_html(_content_text(html_part)) if html_part is not None else None,
        parts=parts,
    )


def part_payload(raw: str, index: int) -> tuple[str, str, bytes] | None:
    """(filename, content type to serve, bytes) of a message's `index`-th leaf part."""
    try:
        leaves = _leaves(parse(raw))
    except Exception:
        return None
    if not 0 <= index < len(leaves):
        return None
    part = leaves[index]
    described = _describe_part(index, part)
    content_type = described.content_type
    if content_type not in _SAFE_DOWNLOAD_TYPES:
        content_type = "application/octet-stream"
    return described.filename, content_type, _payload_bytes(part)


def sanitize_html(html: str) -> Markup:
    """An e-mail's HTML made safe to show inside our page: no scripts, styles, images (they
    could call home) or forms; links stay, open in a new tab and tell nothing about us."""
    cleaned = nh3.clean(
        html,
        tags=_HTML_TAGS,
        attributes=_HTML_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    return Markup(cleaned)  # noqa: S704 - sanitized by nh3 just above


def _leaves(message: Message) -> list[Message]:
    return [part for part in message.walk() if not part.is_multipart()]


def _body(message: EmailMessage, subtype: str) -> Message | None:
    try:
        return message.get_body(preferencelist=(subtype,))
    except Exception:  # a malformed structure: show no body rather than fail
        return None


def _header_text(name: str, raw_value: str) -> str:
    """The decoded value (encoded words and folding undone), or the raw one if it cannot be."""
    try:
        value = str(default_policy.header_fetch_parse(name, raw_value))
    except Exception:
        value = str(raw_value)
    return " ".join(value.split())


def _content_text(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except Exception:  # an unknown charset or a broken transfer encoding
        content = None
    if not isinstance(content, str):
        content = _payload_bytes(part).decode("utf-8", errors="replace")
    return content.replace("\r\n", "\n")  # the wire's line ends


def _payload_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return payload
    text = part.get_payload()
    return text.encode("utf-8", errors="replace") if isinstance(text, str) else b""


def _describe_part(index: int, part: Message) -> MailPart:
    content_type = part.get_content_type()
    try:
        filename = part.get_filename() or ""
    except Exception:
        filename = ""
    filename = "".join(ch for ch in filename if ch.isprintable() and ch not in '/\\"')[:200]
    if not filename:
        extension = mimetypes.guess_extension(content_type) or ".bin"
        filename = f"part-{index + 1}{extension}"
    return MailPart(index, filename, content_type, len(_payload_bytes(part)))
