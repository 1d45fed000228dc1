"""Bounces and complaints about the store's email: which address must not be emailed again.

Three kinds of mail come back to a conversation's bounce address (``bounce+<token>@``, the
envelope sender of every email) or, from careless servers, to its reply address:

- an RFC 3464 delivery status notification (``multipart/report; report-type=delivery-status``):
  read with the ``email`` package, one header block per recipient. Only a permanent failure
  (``Action: failed`` with a ``5.x.x`` status) makes the address undeliverable; a ``4.x.x`` is
  a server that will try again, or a mailbox that is full today, and changes nothing;
- an RFC 5965 abuse report (ARF, ``report-type=feedback-report``): the shopper marked an email
  as spam; every type but ``not-spam`` is a complaint;
- a mailer-daemon's plain-text bounce in one of the many pre-DSN formats: recognised by Mailman's
  bounce detectors (flufl.bounce), which tell permanent from temporary failures.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses, parseaddr

from flufl.bounce import all_failures

from bot.email.suppressions import BOUNCED, COMPLAINED, MAX_DETAIL_CHARS, address_key

log = logging.getLogger(__name__)

#: Local parts that only automatic mail comes from.
DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon"})
#: An ARF feedback type that says the mail is *not* spam.
NOT_SPAM = "not-spam"


@dataclass(frozen=True)
class Verdict:
    """An address undeliverable for good: ``reason`` is ``bounced`` or ``complained``."""

    reason: str
    #: The status and diagnostic, or the feedback type, for the seller.
    detail: str
    #: The failed recipients the report names (lower case); empty when it names none (ARF may redact).
    recipients: frozenset[str]

    def concerns(self, address: str) -> bool:
        """Whether the verdict is about ``address``: it names it, or names nobody."""
        return not self.recipients or address_key(address) in self.recipients


def is_report(message: Message, sender: str) -> bool:
    """Whether the mail is a report about the store's email rather than someone's words."""
    if message.get_content_type() == "multipart/report":
        return True
    return address_key(sender).partition("@")[0] in DAEMONS


def _blocks(part: Message) -> list[Message]:
    """The header blocks of a ``message/delivery-status`` or ``message/feedback-report`` part
    (the email package gives each as a message of headers)."""
    payload = part.get_payload()
    if not isinstance(payload, list):
        return []
    return [block for block in payload if isinstance(block, Message)]


def _recipient(block: Message, *names: str) -> str | None:
    for name in names:
        value = str(block.get(name, "") or "")
        # "rfc822; alex@example.com" (DSN) or "<alex@example.com>" (ARF).
        address = parseaddr(value.rpartition(";")[2].strip())[1]
        if "@" in address:
            return address_key(address)
    return None


def _delivery_status(message: Message) -> Verdict | None:
    failed: set[str] = set()
    details: list[str] = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        # The first block is about the message, each later one about a recipient.
        for block in _blocks(part)[1:]:
            action = str(block.get("Action", "") or "").strip().lower()
            status = str(block.get("Status", "") or "").strip()
            if not action.startswith("failed") or not status.startswith("5."):
                continue  # delayed, relayed, delivered, or a temporary (4.x.x) failure
            recipient = _recipient(block, "Original-Recipient", "Final-Recipient")
            if recipient:
                failed.add(recipient)
            diagnostic = " ".join(str(block.get("Diagnostic-Code", "") or "").split())
            details.append(f"{status} {diagnostic}".strip())
    if not details:
        return None
    return Verdict(BOUNCED, "; ".join(details)[:MAX_DETAIL_CHARS], frozenset(failed))


def _feedback_report(message: Message) -> Verdict | None:
    for part in message.walk():
        if part.get_content_type() != "message/feedback-report":
            continue
        for block in _blocks(part):
            kind = str(block.get("Feedback-Type", "") or "").strip().lower()
            if not kind or kind == NOT_SPAM:
                continue
            recipient = _recipient(block, "Original-Rcpt-To")
            return Verdict(COMPLAINED, f"feedback-type: {kind}"[:MAX_DETAIL_CHARS], frozenset(filter(None, [recipient])))
    return None


def _detected_bounce(message: Message) -> Verdict | None:
    try:
        _, permanent = all_failures(message)
    except Exception:  # a heuristic detector tripping over a strange mail is no bounce, and no error
        log.warning("the bounce detectors could not read a mail", exc_info=True)
        return None
    failed = frozenset(address_key(address.decode("ascii", "replace")) for address in permanent)
    if not failed:
        return None
    return Verdict(BOUNCED, f"permanent failure reported by {_sender_of(message)}"[:MAX_DETAIL_CHARS], failed)


def _sender_of(message: Message) -> str:
    found = getaddresses([str(message.get("From", "") or "")])
    return found[0][1] if found and found[0][1] else "the receiving server"


def read_report(message: Message) -> Verdict | None:
    """The permanent verdict of a bounce or complaint, or None (temporary failure, not a report)."""
    if message.get_content_type() == "multipart/report":
        report_type = str(message.get_param("report-type", "") or "").lower()
        if report_type == "feedback-report":
            return _feedback_report(message)
        if report_type == "delivery-status":
            return _delivery_status(message)
    return _detected_bounce(message)
