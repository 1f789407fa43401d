"""Composing messages: a pure function, tested on what a mail client would parse."""

import email
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest

from meetups.mail.compose import Alternative, Attachment, compose_message, render_raw

WHEN = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)
ICS = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"


def compose(**changes: Any) -> EmailMessage:
    values: dict[str, Any] = {
        "message_id": "<1700000000.1.abc@meetups.example>",
        "date": WHEN,
        "sender": "Meetups Team <team@meetups.example>",
        "to": "juergen@example.com",
        "to_name": "Jürgen Grünewald",
        "subject": "Einladung: Bloggertreffen in Montabaur – am 3. Dezember",
        "text": "Hallo Jürgen,\n\nwir laden Sie ein.\n",
        "html": '<p>Hallo Jürgen,</p><p>wir laden Sie <a href="https://meetups.example/r/x">ein</a>.</p>',
        "reply_to": "olga@company.example",
        "reply_to_name": "Marc D’Avis",
        **changes,
    }
    return compose_message(**values)


def reparse(message: EmailMessage) -> EmailMessage:
    """What a receiving mail client sees: the wire form, parsed again."""
    return email.message_from_string(
        render_raw(message), _class=EmailMessage, policy=default_policy
    )  # type: ignore[return-value]


def text_of_part(part: Any) -> str:
    # The wire form has CRLF line ends; a mail client shows plain lines.
    return part.get_content().replace("\r\n", "\n")


def test_headers_survive_the_wire_with_encoded_names() -> None:
    received = reparse(compose())
    (to,) = received["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Jürgen Grünewald", "juergen@example.com")
    (reply_to,) = received["Reply-To"].addresses
    assert (reply_to.display_name, reply_to.addr_spec) == ("Marc D’Avis", "olga@company.example")
    (sender,) = received["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Meetups Team", "team@meetups.example")
    assert received["Subject"] == "Einladung: Bloggertreffen in Montabaur – am 3. Dezember"
    assert received["Message-ID"] == "<1700000000.1.abc@meetups.example>"
    assert received["Date"].datetime == WHEN
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["MIME-Version"] == "1.0"


def test_the_wire_form_is_seven_bit_with_crlf_line_ends() -> None:
    raw = render_raw(compose())
    assert raw.isascii()  # any relay takes it, with or without 8BITMIME
    assert "\r\n" in raw
    assert "\n" not in raw.replace("\r\n", "")
    assert "=?utf-8?q?J=C3=BCrgen_Gr=C3=BCnewald?= <juergen@example.com>" in raw
    assert all(len(line) <= 998 for line in raw.split("\r\n"))


def test_text_and_html_are_alternatives() -> None:
    received = reparse(compose())
    assert received.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in received.iter_parts()] == [
        "text/plain",
        "text/html",
    ]
    assert text_of_part(received.get_body(("plain",))) == "Hallo Jürgen,\n\nwir laden Sie ein.\n"
    assert (
        'wir laden Sie <a href="https://meetups.example/r/x">ein</a>'
        in received.get_body(("html",)).get_content()
    )


def test_text_only_message_is_a_single_part() -> None:
    received = reparse(compose(html=None))
    assert received.get_content_type() == "text/plain"
    assert text_of_part(received) == "Hallo Jürgen,\n\nwir laden Sie ein.\n"


def test_calendar_alternative_and_attachment_make_a_mixed_message() -> None:
    received = reparse(
        compose(
            alternatives=[Alternative(ICS, "text/calendar", {"method": "REQUEST"})],
            attachments=[
                Attachment(
                    "Einladung Müller.ics", ICS.encode(), "text/calendar", {"method": "REQUEST"}
                )
            ],
        )
    )
    assert received.get_content_type() == "multipart/mixed"
    alternative, attachment = received.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in alternative.iter_parts()] == [
        "text/plain",
        "text/html",
        "text/calendar",
    ]
    calendar = list(alternative.iter_parts())[2]
    assert calendar.get_param("method") == "REQUEST"
    assert text_of_part(calendar) == ICS.replace("\r\n", "\n")
    assert attachment.get_content_disposition() == "attachment"
    assert attachment.get_filename() == "Einladung Müller.ics"
    assert attachment.get_param("method") == "REQUEST"
    assert attachment.get_payload(decode=True) == ICS.encode()  # base64: byte for byte


def test_one_click_unsubscribe_headers_are_written_unbroken() -> None:
    url = "https://meetups.example/unsubscribe/" + "Tk9UQV9SRUFMX1RPS0VO" * 6
    message = compose(unsubscribe_url=url)
    raw = render_raw(message)
    assert f"List-Unsubscribe: <{url}>\r\n" in raw  # one line: a folded URL would not work
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n" in raw
    received = reparse(message)
    assert received["List-Unsubscribe"] == f"<{url}>"


def test_no_unsubscribe_headers_without_an_address() -> None:
    received = reparse(compose())
    assert received["List-Unsubscribe"] is None
    assert received["List-Unsubscribe-Post"] is None


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "https://x.example/u?a=1>\r\nBcc: x@y",
        "https://x.example/u v",
        "ftp://x.example/u",
    ],
)
def test_unsubscribe_address_must_be_a_plain_web_address(url: str) -> None:
    with pytest.raises(ValueError, match="unsubscribe"):
        compose(unsubscribe_url=url)


def test_line_breaks_in_subject_and_names_cannot_inject_headers() -> None:
    received = reparse(
        compose(subject="Hallo\r\nBcc: victim@example.com", to_name="Eve\nBcc: x@example.com")
    )
    assert received["Bcc"] is None
    assert received["Subject"] == "Hallo Bcc: victim@example.com"
    assert received["To"].addresses[0].display_name == "Eve Bcc: x@example.com"


def test_names_with_commas_and_quotes_stay_one_address() -> None:
    received = reparse(compose(to_name='Grünewald, Jürgen "JG"'))
    (to,) = received["To"].addresses
    assert to.display_name == 'Grünewald, Jürgen "JG"'
    assert to.addr_spec == "juergen@example.com"


def test_international_domain_is_written_in_ascii() -> None:
    received = reparse(compose(to="jana@bücher.example"))
    assert received["To"].addresses[0].addr_spec == "jana@xn--bcher-kva.example"


def test_international_mailbox_name_makes_a_utf8_message() -> None:
    raw = render_raw(compose(to="jürgen@example.com"))
    assert "jürgen@example.com" in raw  # SMTPUTF8: the address as it is


@pytest.mark.parametrize(
    "address",
    ["", "no-at-sign", "a@", "@b.example", "a b@example.com", "a@b.example>, evil@x.example"],
)
def test_unusable_addresses_are_refused(address: str) -> None:
    with pytest.raises(ValueError, match="e-mail address"):
        compose(to=address)


def test_message_id_and_date_are_checked() -> None:
    with pytest.raises(ValueError, match="Message-ID"):
        compose(message_id="no-brackets@example.com")
    with pytest.raises(ValueError, match="time zone"):
        compose(date=datetime(2026, 11, 21, 9, 30))


def test_the_html_goes_out_as_written_with_nothing_added() -> None:
    html = "<p>Hallo Jürgen</p>"
    message = compose(html=html)
    assert reparse(message).get_body(("html",)).get_content().strip() == html
    assert "<img" not in render_raw(message).lower()  # no tracking pixel, no web beacon
