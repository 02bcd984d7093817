"""What the e-mails say (ru/en, plain text + HTML) and how an outbox row becomes a message.

Everything a visitor or operator typed is escaped in the HTML part. Every header
is built from parts checked by ``frontdesk.mail.headers`` *when the message is
built* (whatever was stored): display names and the subject are neutralised
(one line, no control characters, no RFC 2047 encoded words — Python 3.11.7
would decode them and write a CR LF back out), addresses must be plain
``local@domain``. ``render`` then serializes the message once, checks the bytes
(exactly the headers we set, one each, the recipients we meant) and those very
bytes are what the sender transmits. Non-ASCII subjects and names are RFC 2047
encoded (by ``headers``, not by the ``email`` package) and bodies are UTF-8
quoted-printable, so the message is 7-bit clean and any server relays it.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from email.policy import SMTP, compat32
from email.policy import default as default_policy
from email.utils import format_datetime, make_msgid, parseaddr
from urllib.parse import urlsplit

from frontdesk.mail.headers import (
    HeaderValueError,
    address_field,
    check_address,
    message_id_field,
    neutral_header_text,
    safe_address,
    unstructured_field,
)
from frontdesk.models import OutboxEmail
from frontdesk.settings import Settings

SUBJECT_MAX = 300


def one_line(value: str | None, limit: int = 200) -> str:
    """Control and line-separator characters become spaces, encoded words are broken
    (``headers.neutral_header_text``): nothing can start a new header line."""
    return neutral_header_text(value, limit)


def sender_address(settings: Settings) -> tuple[str, str]:
    """(display name, address) of FRONTDESK_MAIL_FROM; default noreply@ the public host."""
    if settings.mail_from.strip():
        name, addr = parseaddr(settings.mail_from)
        try:
            addr = check_address(addr, "FRONTDESK_MAIL_FROM", strict=False)
        except HeaderValueError:
            raise ValueError(f"FRONTDESK_MAIL_FROM is not an address: {settings.mail_from!r}") from None
        return neutral_header_text(name), addr
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


_TRANSCRIPT_TEXTS = {
    "ru": {"subject": "Переписка с сайтом «{site}» от {date}", "intro": "Переписка с сайтом «{site}», {date}:",
           "you": "Вы", "operator": "Оператор"},
    "en": {"subject": "Your conversation with {site} on {date}", "intro": "Your conversation with {site} on {date}:",
           "you": "You", "operator": "Operator"},
}


def transcript(lang: str, *, site: str, visitor_name: str | None, date: str,
               lines: list[tuple[str, str | None, str, str]]) -> tuple[str, str, str]:
    """(subject, text, html) of a conversation's transcript e-mailed to the visitor. ``lines``:
    (kind visitor | operator | system, operator name, local time "HH:MM", text)."""
    t, tt = _TEXTS[lang], _TRANSCRIPT_TEXTS[lang]
    site = one_line(site)
    subject = one_line(tt["subject"].format(site=site, date=date), SUBJECT_MAX)
    hello = t["hello"].format(name=one_line(visitor_name, 100)) if visitor_name else t["hello_anon"]
    intro = tt["intro"].format(site=site, date=date)
    text = f"{hello}\n\n{intro}\n\n"
    parts = [f"<p>{html.escape(hello)}</p>", f"<p>{html.escape(intro)}</p>"]
    for kind, name, clock, body in lines:
        who = tt["you"] if kind == "visitor" else one_line(name, 100) or tt["operator"] if kind == "operator" else ""
        head = f"[{clock}] {who}:" if who else f"[{clock}]"
        text += f"{head}\n{body}\n\n"
        parts.append(f'<p style="margin:12px 0 2px;color:#57606a">{html.escape(head)}</p>'
                     f'<div style="white-space:pre-wrap">{html.escape(body)}</div>')
    text += f"-- \n{site}\n"
    parts.append(f'<p style="color:#57606a">— {html.escape(site)}</p>')
    return subject, text, _html_page(parts)


# The header fields ``render`` writes, in order; the body part adds MIME-Version and Content-Type.
_HEADERS = ("Subject", "From", "To", "Reply-To", "Date", "Message-ID", "Auto-Submitted",
            "MIME-Version", "Content-Type")
LINE_MAX = 998  # RFC 5322 § 2.1.1, without the CR LF


@dataclass(frozen=True)
class Rendered:
    """What the sender transmits: the envelope and the exact bytes that were checked."""

    sender: str
    recipients: list[str]
    data: bytes


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _encodable(text: str | None) -> str:
    """Lone surrogates (text stored before input was checked) cannot be UTF-8: U+FFFD instead."""
    return _SURROGATE_RE.sub("\ufffd", text or "")


def _body(row: OutboxEmail) -> bytes:
    """multipart/alternative (text + HTML, UTF-8 quoted-printable) with its MIME headers only:
    no value a person typed reaches this part's header fields."""
    body = EmailMessage(policy=SMTP)
    body.set_content(_encodable(row.text), cte="quoted-printable")
    body.add_alternative(_encodable(row.html), subtype="html", cte="quoted-printable")
    return body.as_bytes()


def render(row: OutboxEmail, settings: Settings) -> Rendered:
    """One outbox row → the bytes to send, the envelope sender and the one recipient.

    The header fields are written by ``frontdesk.mail.headers`` from checked parts (the
    addresses must be plain ``local@domain``: ``HeaderValueError`` otherwise; names and
    the subject are neutralised), never folded by the ``email`` package; the result is
    checked by ``check_serialized`` before anything is sent."""
    from_name, from_addr = sender_address(settings)
    addresses = {"From": safe_address(from_addr, from_name or row.from_name, "from address"),
                 "To": safe_address(row.to_addr, row.to_name, "to address")}
    if row.reply_to:
        addresses["Reply-To"] = safe_address(row.reply_to, row.reply_to_name, "reply-to address")
    subject = neutral_header_text(row.subject, SUBJECT_MAX)
    head = unstructured_field("Subject", subject, SUBJECT_MAX)
    head += "".join(address_field(name, address) for name, address in addresses.items())
    head += f"Date: {format_datetime(row.created_at)}\r\n"
    head += message_id_field(row.header_message_id)
    head += "Auto-Submitted: auto-generated\r\n"  # RFC 3834: vacation responders must not answer
    data = head.encode("ascii") + _body(row)
    check_serialized(data, subject=subject, expected=addresses)
    return Rendered(sender=from_addr, recipients=[addresses["To"].addr_spec], data=data)


def build_message(row: OutboxEmail, settings: Settings) -> tuple[EmailMessage, str]:
    """The rendered message parsed back (for tests and tools) and its envelope sender. Read it,
    do not serialize it again: the ``email`` package would refold the headers (see ``render``)."""
    out = render(row, settings)
    return BytesParser(policy=SMTP).parsebytes(out.data), out.sender


def _squeeze(text: str) -> str:
    return "".join(text.split())


def check_serialized(data: bytes, *, subject: str, expected: dict[str, Address]) -> None:
    """The last net before sending: 7-bit, CR LF only, no line over 998 characters; exactly the
    header fields we write, once each (read raw, nothing decoded); the address fields decode
    to exactly one address each, the one we meant, with the display name we meant; the
    subject decodes to ours; the body is our multipart/alternative of text/plain and text/html.
    ``HeaderValueError`` otherwise (the row fails; nothing is sent).

    Display names and the subject are compared without whitespace: the ``email`` parser of
    3.11 keeps the folding space between adjacent encoded words of a phrase."""
    def refuse(reason: str) -> None:
        raise HeaderValueError("message", reason)

    if not data.isascii():
        refuse("is not 7-bit clean")
    bare = data.replace(b"\r\n", b"")
    if b"\r" in bare or b"\n" in bare:
        refuse("has a bare CR or LF")
    if any(len(line) > LINE_MAX for line in data.split(b"\r\n")):
        refuse(f"has a line longer than {LINE_MAX} characters")
    raw = BytesHeaderParser(policy=compat32).parsebytes(data)  # the fields as they travel
    wanted = [h for h in _HEADERS if h != "Reply-To" or "Reply-To" in expected]
    if sorted(k.lower() for k in raw.keys()) != sorted(h.lower() for h in wanted) or raw.defects:
        refuse(f"has header fields {raw.keys()!r}, not {wanted!r}")
    parsed = BytesParser(policy=default_policy).parsebytes(data)
    for name, address in expected.items():
        got = [(_squeeze(a.display_name), a.addr_spec) for a in getattr(parsed[name], "addresses", ())]
        if got != [(_squeeze(address.display_name), address.addr_spec)]:
            refuse(f"{name} reads as {str(parsed[name])!r}, not {str(address)!r}")
    if _squeeze(str(parsed["Subject"])) != _squeeze(subject):
        refuse(f"Subject reads as {str(parsed['Subject'])!r}, not {subject!r}")
    if parsed.get_content_type() != "multipart/alternative" or \
            [p.get_content_type() for p in parsed.iter_parts()] != ["text/plain", "text/html"]:
        refuse("body is not the multipart/alternative that was built")
