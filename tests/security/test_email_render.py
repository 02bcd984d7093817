"""``compose.render`` against the header corpus (header_corpus.py), on outbox rows as they might
already be stored (queued before the fix, or written by any other path): defence in depth at
compose time, and the last check of the serialized bytes before they are sent."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from frontdesk.mail import compose
from frontdesk.mail.headers import HeaderValueError, safe_address
from frontdesk.models import OutboxEmail
from frontdesk.settings import Settings
from tests.security.header_corpus import ADDRESSES, EXTRA_TEXT, TEXT, inspect

SENDER = "support@shop.example"
REPLY_TO = "help@shop.example"


def _row(**kw) -> OutboxEmail:
    values = dict(to_addr="ivan@example.com", to_name="Иван", reply_to=REPLY_TO, reply_to_name="Помощь",
                  from_name="Магазин", subject="Ответ на ваше сообщение", text="Здравствуйте!", html="<p>Да</p>",
                  header_message_id="<1.frontdesk@shop.example>",
                  created_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    values.update(kw)
    return OutboxEmail(**values)


def test_render_neutralises_every_stored_value(security_counts):
    """Every corpus value in every field of an outbox row renders to clean bytes, or — an address
    that is not a plain local@domain — is refused (the sender then marks the row failed)."""
    settings = Settings(mail_from=SENDER)
    clean = refused = 0
    failures = []
    for field in ("to_name", "reply_to_name", "from_name", "subject", "text", "html"):
        for case, value, _ in TEXT + EXTRA_TEXT:
            out = compose.render(_row(**{field: value}), settings)
            failures += [(field, case, p) for p in inspect(out.data, out.recipients, to="ivan@example.com",
                                                           reply_to=REPLY_TO, sender=SENDER)]
            clean += 1
    for field in ("to_addr", "reply_to"):
        for case, value, must_refuse in ADDRESSES:
            try:
                out = compose.render(_row(**{field: value}), settings)
            except HeaderValueError:
                refused += 1
                failures += [] if must_refuse else [(field, case, "a plain address was refused")]
                continue
            want = value.strip()
            failures += [(field, case, p) for p in inspect(
                out.data, out.recipients, to=want if field == "to_addr" else "ivan@example.com",
                reply_to=want if field == "reply_to" else REPLY_TO, sender=SENDER)]
            failures += [(field, case, "accepted")] if must_refuse else []
            clean += 1
    security_counts(f"render corpus: {len(TEXT + EXTRA_TEXT)} text payloads × 6 row fields + {len(ADDRESSES)} "
                    f"addresses × 2 row fields = {clean + refused} rows: {clean} rendered clean, {refused} refused, "
                    f"{len(failures)} injections")
    assert failures == []


def test_the_last_net_refuses_tampered_bytes():
    """``check_serialized`` (run on every message before it is sent) notices any extra, repeated or
    broken header field, a changed recipient and a changed body type."""
    good = compose.render(_row(), Settings(mail_from=SENDER)).data
    head, body = good.split(b"\r\n\r\n", 1)
    expected = {"From": safe_address(SENDER, "Магазин"), "To": safe_address("ivan@example.com", "Иван"),
                "Reply-To": safe_address(REPLY_TO, "Помощь")}
    subject = "Ответ на ваше сообщение"
    compose.check_serialized(good, subject=subject, expected=expected)
    tampered = [
        head + b"\r\nBcc: victim@evil.example\r\n\r\n" + body,
        head + b"\r\nSubject: again\r\n\r\n" + body,
        head.replace(b"To: ", b"To: victim@evil.example, ", 1) + b"\r\n\r\n" + body,
        head.replace(b"\r\nDate:", b"\nDate:", 1) + b"\r\n\r\n" + body,
        head.replace(b"multipart/alternative", b"text/html", 1) + b"\r\n\r\n" + body,
        head + b"\r\nX-Long: " + b"a" * 1000 + b"\r\n\r\n" + body,
        head.replace(b"Subject: ", b"Subject: =?utf-8?q?x?= ", 1) + b"\r\n\r\n" + body,
    ]
    for data in tampered:
        with pytest.raises(HeaderValueError):
            compose.check_serialized(data, subject=subject, expected=expected)


def test_the_default_sender_address_still_works():
    """Without FRONTDESK_MAIL_FROM the sender is noreply@ the public host, also a bare host name."""
    for settings, sender in ((Settings(), "noreply@localhost"),
                             (Settings(public_url="http://127.0.0.1:8000"), "noreply@127.0.0.1"),
                             (Settings(public_url="https://chat.shop.example"), "noreply@chat.shop.example")):
        out = compose.render(_row(), settings)
        assert out.sender == sender
        assert inspect(out.data, out.recipients, to="ivan@example.com", reply_to=REPLY_TO, sender=sender) == []
