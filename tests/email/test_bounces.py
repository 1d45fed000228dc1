"""Bounces and complaints: which reports make an address undeliverable, read from real report mail."""

from __future__ import annotations

import email
from email import policy
from email.message import Message

from bot.email.bounces import is_report, read_report
from bot.email.suppressions import BOUNCED, COMPLAINED

ALEX = "alex@example.com"
#: A conversation's bounce address (the web tests give their conversation this token).
BOUNCE_TO = "bounce+k7q2m4xzab3cd5ef6gh7ij2k@reply.yangteng-auto.example"


def dsn(status: str, action: str = "failed", recipient: str = ALEX, message_id: str = "<dsn-1@mx.example.net>") -> bytes:
    """A delivery status notification as Postfix writes it (RFC 3464)."""
    return f"""From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: {BOUNCE_TO}
Subject: Undelivered Mail Returned to Sender
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

I'm sorry to have to inform you that your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
Arrival-Date: Mon, 30 Nov 2026 20:00:00 +0000

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Diagnostic-Code: smtp; 550 {status} <{recipient}>: Recipient address rejected: User unknown

--B
Content-Type: text/rfc822-headers

From: Yangteng Auto <notifications@mail.yangteng-auto.example>
To: {recipient}
Subject: Your order

--B--
""".replace("\n", "\r\n").encode()


def arf(feedback_type: str = "abuse", message_id: str = "<arf-1@fbl.example.net>") -> bytes:
    """An abuse report (RFC 5965) as a mailbox provider's feedback loop sends it."""
    return f"""From: fbl@fbl.example.net
To: {BOUNCE_TO}
Subject: complaint about message from 192.0.2.1
Message-ID: {message_id}
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="C"

--C
Content-Type: text/plain

This is an email abuse report for an email message received from IP 192.0.2.1.

--C
Content-Type: message/feedback-report

Feedback-Type: {feedback_type}
User-Agent: SomeGenerator/1.0
Version: 1
Original-Rcpt-To: <{ALEX}>

--C
Content-Type: message/rfc822

From: Yangteng Auto <notifications@mail.yangteng-auto.example>
To: {ALEX}
Subject: Your order

Hello Alex
--C--
""".replace("\n", "\r\n").encode()


#: Exim's pre-DSN bounce: no report structure, only words.
PLAIN_BOUNCE = f"""From: Mail Delivery System <Mailer-Daemon@mx.example.net>
To: {BOUNCE_TO}
Subject: Mail delivery failed: returning message to sender
Message-ID: <plain-1@mx.example.net>

This message was created automatically by mail delivery software.

A message that you sent could not be delivered to one or more of its
recipients. This is a permanent error. The following address(es) failed:

  {ALEX}
    SMTP error from remote mail server after RCPT TO:<{ALEX}>:
    550 5.1.1 User unknown
""".encode()


def parsed(raw: bytes) -> Message:
    return email.message_from_bytes(raw, policy=policy.default)


def test_a_permanent_failure_is_a_bounce_of_the_recipient() -> None:
    verdict = read_report(parsed(dsn("5.1.1")))
    assert verdict is not None and verdict.reason == BOUNCED
    assert verdict.recipients == {ALEX} and verdict.concerns("Alex@Example.com")
    assert verdict.detail.startswith("5.1.1 smtp; 550 5.1.1")


def test_a_temporary_failure_or_a_delay_is_nothing() -> None:
    assert read_report(parsed(dsn("4.2.2"))) is None  # mailbox full today
    assert read_report(parsed(dsn("4.4.7", action="delayed"))) is None
    assert read_report(parsed(dsn("2.0.0", action="delivered"))) is None


def test_a_bounce_about_someone_else_does_not_concern_the_shopper() -> None:
    verdict = read_report(parsed(dsn("5.1.1", recipient="someone@example.org")))
    assert verdict is not None and not verdict.concerns(ALEX)


def test_an_abuse_report_is_a_complaint_and_not_spam_is_nothing() -> None:
    verdict = read_report(parsed(arf()))
    assert verdict is not None and verdict.reason == COMPLAINED and verdict.detail == "feedback-type: abuse"
    assert verdict.concerns(ALEX)
    assert read_report(parsed(arf("not-spam"))) is None


def test_a_mailer_daemons_plain_bounce_is_recognised_by_the_library() -> None:
    message = parsed(PLAIN_BOUNCE)
    assert is_report(message, "Mailer-Daemon@mx.example.net")
    verdict = read_report(message)
    assert verdict is not None and verdict.reason == BOUNCED and verdict.recipients == {ALEX}


def test_a_persons_mail_is_no_report() -> None:
    message = parsed(b"From: alex@example.com\r\nTo: x@example.net\r\nSubject: hi\r\n\r\nThe oil pan leaks.\r\n")
    assert not is_report(message, ALEX)
    assert read_report(message) is None
