"""Why an e-mail was not delivered, in words an organizer understands.

The outbox keeps the mail server's own answer ("550 5.1.1 <x@example.org>: User unknown"), as it
came, in English or whatever the server speaks: it is what an administrator needs. The pages show
a plain explanation in the reader's language beside it, taken from the enhanced status code
(RFC 3463) where the server sends one, else from the reply code (RFC 5321), else from the words
our own sender writes when it cannot reach the server at all.
"""

import re

from meetups.i18n import gettext as _

# How the sender words what it stores (meetups.mail.sender and the worker): a server's answer
# starts with its reply code ("550 5.1.1 ..."), perhaps after these.
_GAVE_UP = re.compile(r"gave up after \d+ attempts: ")
_CONNECT = re.compile(r"could not connect to \S+ \([^)]*\): ")
_REPLY = re.compile(r"([245]\d\d)(?:[ -]([245])\.(\d{1,3})\.(\d{1,3}))?(?![\d.])")


def _enhanced_explanations() -> dict[str, str]:
    """By "subject.detail" of the enhanced code; the class (4 or 5) says only how final it is."""
    mailbox_unknown = _(
        "The mailbox does not exist: the address is probably mistyped or no longer in use."
    )
    domain_unknown = _("The domain of the address does not exist or takes no e-mail.")
    too_large = _("The message is too large for the recipient's server.")
    refused = _("The recipient's server refused the message (its spam protection or a policy).")
    not_authenticated = _(
        "The recipient's server could not confirm that the message comes from us "
        "(SPF, DKIM or DMARC)."
    )
    return {
        "1.0": mailbox_unknown,
        "1.1": mailbox_unknown,
        "1.2": domain_unknown,
        "1.10": domain_unknown,
        "1.3": _("The address is not valid."),
        "1.6": _("The mailbox has moved; the person has a new address."),
        "2.1": _("The mailbox is disabled."),
        "2.2": _("The mailbox is full."),
        "2.3": too_large,
        "3.4": too_large,
        "4.4": _("The recipient's mail server could not be found."),
        "4.7": _("The recipient's mail server did not answer in time."),
        "7.1": refused,
        "7.8": _("Our mail server refused the login: check the SMTP user name and password."),
        "7.25": not_authenticated,
        "7.26": not_authenticated,
        "7.27": not_authenticated,
    }


def _by_reply_code(code: int) -> str | None:
    if code == 421:
        return _("The mail server was busy or closed the connection.")
    if code in {450, 451, 452}:
        return _("The recipient's server asked us to try again later.")
    if code == 530:
        return _("Our mail server wants a login or a secure connection: check the SMTP settings.")
    if code == 535:
        return _("Our mail server refused the login: check the SMTP user name and password.")
    if code in {550, 551}:
        return _("The mailbox does not exist or is not available.")
    if code == 552:
        return _("The mailbox is full or the message too large.")
    if code == 553:
        return _("The address is not valid.")
    if code == 554:
        return _("The recipient's server refused the message (its spam protection or a policy).")
    if 400 <= code < 500:
        return _("The recipient's server refused for the time being.")
    if 500 <= code < 600:
        return _("The recipient's server refused the message.")
    return None


def _connect_failure(what: str) -> str:
    if what.startswith("the mail server refused the login"):
        return _("Our mail server refused the login: check the SMTP user name and password.")
    return _(
        "Our mail server could not be reached or refused the connection: check the SMTP settings."
    )


def explain_failure(reason: str | None) -> str | None:
    """A plain explanation of a stored delivery failure, or None when there is none to give (the
    server's own words are then all there is)."""
    text = (reason or "").strip()
    if gave_up := _GAVE_UP.match(text):
        text = text[gave_up.end() :]
    if connect := _CONNECT.match(text):
        return _connect_failure(text[connect.end() :])
    if reply := _REPLY.match(text):
        code, klass, subject, detail = reply.groups()
        if klass is not None:
            explanation = _enhanced_explanations().get(f"{subject}.{detail}")
            if explanation is not None:
                return explanation
        return _by_reply_code(int(code))
    lowered = text.lower()
    if lowered.startswith("not a deliverable address"):
        return _("The address is not valid.")
    if "connection to the mail server was lost" in lowered or "timed out" in lowered:
        return _("The connection to the mail server broke off.")
    return None
