"""What the e-mails say (ru/en, plain text + HTML) and how an outbox row becomes a message.

Everything a visitor or operator typed is escaped in the HTML part; header
values are single-line by construction (``one_line``) and the stdlib's SMTP
policy refuses CR/LF in headers anyway. Non-ASCII subjects and names are
RFC 2047 encoded and bodies are UTF-8 quoted-printable, so the message is
7-bit clean and any server relays it.
"""
from __future__ import annotations

import html
import unicodedata
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import urlsplit

from frontdesk.models import OutboxEmail
from frontdesk.settings import Settings

SUBJECT_MAX = 300


def one_line(value: str | None, limit: int = 200) -> str:
    """Control and line-separator characters become spaces: nothing can start a new header line."""
    out = "".join(" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in value or "")
    return " ".join(out.split())[:limit]


def sender_address(settings: Settings) -> tuple[str, str]:
    """(display name, address) of FRONTDESK_MAIL_FROM; default noreply@ the public host."""
    if settings.mail_from.strip():
        name, addr = parseaddr(settings.mail_from)
        if not addr or "@" not in addr:
            raise ValueError(f"FRONTDESK_MAIL_FROM is not an address: {settings.mail_from!r}")
        return name, addr
    host = urlsplit(settings.public_url).hostname if settings.public_url else None
    return "", f"noreply@{host or 'localhost'}"


def new_message_id(settings: Settings) -> str:
    try:
        domain = sender_address(settings)[1].rsplit("@", 1)[1]
    except ValueError:
        domain = "localhost"
    return make_msgid("frontdesk", domain=domain)


def _web_link(url: str | None) -> str | None:
    """Only plain http(s) URLs become links; anything else (javascript:, data:) is dropped."""
    if not url:
        return None
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def _html_page(paragraphs: list[str]) -> str:
    body = "\n".join(paragraphs)
    return ('<!doctype html><html><head><meta charset="utf-8"></head>'
            '<body style="font-family:Arial,Helvetica,sans-serif;font-size:15px;line-height:1.45;color:#1b1f24">'
            f"\n{body}\n</body></html>\n")


def _quote_html(text: str) -> str:
    return (f'<div style="white-space:pre-wrap;border-left:3px solid #d0d7de;padding:4px 12px;margin:8px 0">'
            f"{html.escape(text)}</div>")


def _link_html(url: str, label: str | None = None) -> str:
    return f'<a href="{html.escape(url, quote=True)}">{html.escape(label or url)}</a>'


_TEXTS = {
    "ru": {
        "notify_subject": "Сообщение с сайта «{site}» от {name}",
        "notify_intro": "{name} <{email}> оставил(а) сообщение на сайте «{site}», когда никого не было в сети:",
        "page": "Страница",
        "open_panel": "Ответить в панели",
        "notify_hint": "Ответ из панели придёт посетителю на e-mail. Можно ответить и на это письмо — "
                       "оно уйдёт посетителю напрямую, мимо панели.",
        "reply_subject": "Ответ на ваше сообщение на сайте «{site}»",
        "hello": "Здравствуйте, {name}!",
        "hello_anon": "Здравствуйте!",
        "reply_intro": "{operator} ответил(а) на ваше сообщение:",
        "your_message": "Ваше сообщение:",
        "continue": "Продолжить переписку на сайте",
    },
    "en": {
        "notify_subject": "Offline message on {site} from {name}",
        "notify_intro": "{name} <{email}> left a message on {site} while nobody was online:",
        "page": "Page",
        "open_panel": "Reply in the panel",
        "notify_hint": "A reply from the panel is e-mailed to the visitor. You may also reply to this e-mail — "
                       "it goes to the visitor directly, bypassing the panel.",
        "reply_subject": "Reply to your message on {site}",
        "hello": "Hello, {name}!",
        "hello_anon": "Hello!",
        "reply_intro": "{operator} replied to your message:",
        "your_message": "Your message:",
        "continue": "Continue the conversation on the site",
    },
}


def offline_notification(lang: str, *, site: str, name: str, email: str, message: str,
                         page_url: str | None, panel_link: str) -> tuple[str, str, str]:
    """(subject, text, html) of the e-mail to a site's notification address."""
    t = _TEXTS[lang]
    site, name = one_line(site), one_line(name, 100)
    subject = one_line(t["notify_subject"].format(site=site, name=name), SUBJECT_MAX)
    intro = t["notify_intro"].format(name=name, email=email, site=site)
    page = _web_link(page_url)
    text = f"{intro}\n\n{message}\n\n"
    if page:
        text += f"{t['page']}: {page}\n"
    text += f"{t['open_panel']}: {panel_link}\n\n{t['notify_hint']}\n"
    parts = [f"<p>{html.escape(intro)}</p>", _quote_html(message)]
    if page:
        parts.append(f"<p>{html.escape(t['page'])}: {_link_html(page)}</p>")
    parts.append(f"<p><b>{_link_html(panel_link, t['open_panel'])}</b></p>")
    parts.append(f'<p style="color:#57606a;font-size:13px">{html.escape(t["notify_hint"])}</p>')
    return subject, text, _html_page(parts)


def operator_reply(lang: str, *, site: str, visitor_name: str | None, operator: str, reply: str,
                   quoted: str | None, page_url: str | None) -> tuple[str, str, str]:
    """(subject, text, html) of the e-mail that carries an operator's reply to the visitor."""
    t = _TEXTS[lang]
    site, operator = one_line(site), one_line(operator, 100)
    subject = one_line(t["reply_subject"].format(site=site), SUBJECT_MAX)
    hello = t["hello"].format(name=one_line(visitor_name, 100)) if visitor_name else t["hello_anon"]
    intro = t["reply_intro"].format(operator=operator)
    page = _web_link(page_url)
    text = f"{hello}\n\n{intro}\n\n{reply}\n\n"
    parts = [f"<p>{html.escape(hello)}</p>", f"<p>{html.escape(intro)}</p>",
             f'<div style="white-space:pre-wrap;margin:8px 0 16px">{html.escape(reply)}</div>']
    if quoted:
        text += t["your_message"] + "\n" + "\n".join("> " + line for line in quoted.splitlines()) + "\n\n"
        parts.append(f'<p style="color:#57606a">{html.escape(t["your_message"])}</p>{_quote_html(quoted)}')
    if page:
        text += f"{t['continue']}: {page}\n\n"
        parts.append(f"<p>{_link_html(page, t['continue'])}</p>")
    text += f"-- \n{site}\n"
    parts.append(f'<p style="color:#57606a">— {html.escape(site)}</p>')
    return subject, text, _html_page(parts)


def _address(name: str, addr: str) -> Address:
    local, _, domain = addr.rpartition("@")
    return Address(display_name=one_line(name), username=local, domain=domain)


def build_message(row: OutboxEmail, settings: Settings) -> tuple[EmailMessage, str]:
    """The message for one outbox row and its envelope sender. ValueError when it cannot be built."""
    from_name, from_addr = sender_address(settings)
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = one_line(row.subject, SUBJECT_MAX)
    msg["From"] = _address(from_name or row.from_name, from_addr)
    msg["To"] = _address(row.to_name, row.to_addr)
    if row.reply_to:
        msg["Reply-To"] = _address(row.reply_to_name, row.reply_to)
    msg["Date"] = format_datetime(row.created_at)
    msg["Message-ID"] = row.header_message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: vacation responders must not answer
    msg.set_content(row.text, cte="quoted-printable")
    msg.add_alternative(row.html, subtype="html", cte="quoted-printable")
    return msg, from_addr
