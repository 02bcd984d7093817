"""The SMTP URL, the texts and the built message: pure functions, no server."""
from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime

import pytest

from frontdesk.mail import compose
from frontdesk.mail.smtp import SmtpConfig, parse_smtp_url
from frontdesk.models import OutboxEmail
from frontdesk.settings import Settings


def test_smtp_url_forms():
    assert parse_smtp_url("") is None and parse_smtp_url("  ") is None
    assert parse_smtp_url("smtp://mail.example.com") == SmtpConfig("mail.example.com", 25, None, None, False, None)
    assert parse_smtp_url("smtps://u%40x:p%3Ass@mail.example.com") == \
        SmtpConfig("mail.example.com", 465, "u@x", "p:ss", True, False)
    assert parse_smtp_url("smtp://u:p@127.0.0.1:2525?starttls=require").starttls is True
    assert parse_smtp_url("smtp://127.0.0.1:2525?starttls=off").starttls is False
    for bad in ("http://mail.example.com", "smtp://", "smtp://host:port", "smtp://host?starttls=maybe"):
        with pytest.raises(ValueError):
            parse_smtp_url(bad)


def test_one_line_removes_every_way_to_start_a_header():
    assert compose.one_line("Иван\r\nBcc: x@y.ru\u2028Subject: hi\x00") == "Иван Bcc: x@y.ru Subject: hi"


def test_from_address_defaults_to_the_public_host():
    assert compose.sender_address(Settings(public_url="https://chat.shop.example")) == ("", "noreply@chat.shop.example")
    assert compose.sender_address(Settings(mail_from="Shop <s@shop.example>")) == ("Shop", "s@shop.example")
    with pytest.raises(ValueError):
        compose.sender_address(Settings(mail_from="not an address"))


def _row(**kw) -> OutboxEmail:
    values = dict(to_addr="ivan@example.com", to_name="Иван «Грозный»", reply_to="", reply_to_name="",
                  from_name="Магазин", subject="Ответ на ваше сообщение", text="Здравствуйте!\nДа.",
                  html="<p>Здравствуйте!</p>", header_message_id="<1.frontdesk@shop.example>",
                  created_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC))
    values.update(kw)
    return OutboxEmail(**values)


def test_built_message_is_7bit_clean_multipart_and_decodes_back():
    out = compose.render(_row(reply_to="help@shop.example", reply_to_name="Помощь"),
                         Settings(mail_from="support@shop.example"))
    raw = out.data
    assert raw.isascii() and out.sender == "support@shop.example" and out.recipients == ["ivan@example.com"]
    back = email.message_from_bytes(raw, policy=email.policy.default)
    assert back["Subject"] == "Ответ на ваше сообщение"
    assert str(back["From"]) == "Магазин <support@shop.example>"  # the site's name when MAIL_FROM has none
    assert back["To"].addresses[0].display_name == "Иван «Грозный»"
    assert back["Reply-To"].addresses[0].addr_spec == "help@shop.example"
    assert back["Message-ID"] == "<1.frontdesk@shop.example>"
    assert back.get_body(("plain",)).get_content().replace("\r\n", "\n") == "Здравствуйте!\nДа.\n"
    assert "<p>Здравствуйте!</p>" in back.get_body(("html",)).get_content()


def test_texts_escape_html_and_drop_non_web_links():
    subject, text, html = compose.offline_notification(
        "en", site="Shop", name="Eve", email="eve@example.com", message='<img src=x onerror="alert(1)">',
        page_url="javascript:alert(1)", panel_link="https://chat.example/panel/#/conversations/1")
    assert subject == "Offline message on Shop from Eve"
    assert '<img src=x onerror="alert(1)">' in text and "javascript:" not in text
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in html and "javascript:" not in html
