"""Check-in codes: what a guest shows at the door, as text and as a QR code.

A code names the event and the invitee and carries an HMAC of both under the app secret:
`{event id}-{invitee id}-{16 base32 characters}` (80 bits). It cannot be guessed or made up, it is
not the personal link (holding it opens nothing but the organizers' check-in page, after they
sign in), and it tells a code of another event apart from a wrong one.

The QR code holds the address `/checkin/{code}`: the check-in page's own scanner reads the code
out of it, and where the phone's browser cannot scan, the phone's camera app opens that address,
which leads a signed-in organizer to the guest on the check-in page.
"""

import base64
import functools
import hashlib
import hmac
import io
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import segno

from meetups.config import Settings

MAC_LENGTH = 16
CODE_PATTERN = re.compile(rf"^([0-9]{{1,10}})-([0-9]{{1,10}})-([A-Z2-7]{{{MAC_LENGTH}}})$")
MAX_INPUT_LENGTH = 500


def _mac(event_id: int, invitee_id: int, secret: bytes) -> str:
    message = f"check-in:{event_id}:{invitee_id}".encode()
    digest = hmac.new(secret, message, hashlib.sha256).digest()
    return base64.b32encode(digest).decode("ascii")[:MAC_LENGTH]


def checkin_code(event_id: int, invitee_id: int, secret: bytes) -> str:
    return f"{event_id}-{invitee_id}-{_mac(event_id, invitee_id, secret)}"


def checkin_path(code: str) -> str:
    return f"/checkin/{code}"


def checkin_url(code: str, settings: Settings) -> str:
    return settings.absolute_url(checkin_path(code))


@dataclass(frozen=True)
class ParsedCode:
    event_id: int
    invitee_id: int


def parse_code(text: str | None, secret: bytes) -> ParsedCode | None:
    """The event and invitee of a genuine code, typed or scanned (also the whole address from
    the QR code); None for anything else."""
    value = (text or "").strip()[:MAX_INPUT_LENGTH]
    if "/" in value:
        value = unquote(urlsplit(value).path.rstrip("/").rpartition("/")[2])
    value = "".join(value.split()).upper()
    match = CODE_PATTERN.match(value)
    if not match:
        return None
    event_id, invitee_id = int(match[1]), int(match[2])
    if not hmac.compare_digest(match[3], _mac(event_id, invitee_id, secret)):
        return None
    return ParsedCode(event_id=event_id, invitee_id=invitee_id)


# A guest's check-in page shows their code each time they open it (at the door, often several
# times); choosing the QR pattern costs milliseconds, and the same content gives the same bytes.
@functools.lru_cache(maxsize=512)
def qr_svg(content: str, *, title: str = "") -> bytes:
    """The QR code as a standalone SVG: dark modules on white, a quiet zone, scales to any size."""
    qr = segno.make(content, error="m")
    buffer = io.BytesIO()
    qr.save(
        buffer,
        kind="svg",
        scale=1,
        border=4,
        dark="#000",
        light="#fff",
        xmldecl=False,
        svgns=True,
        title=title or None,
        svgclass="qr-code",
        lineclass=None,
        omitsize=True,
    )
    return buffer.getvalue()


def qr_png(content: str, *, scale: int = 8) -> bytes:
    """The QR code as a PNG (for e-mail, where SVG does not show)."""
    qr = segno.make(content, error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="png", scale=scale, border=4, dark="#000", light="#fff")
    return buffer.getvalue()
