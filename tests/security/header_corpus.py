"""The e-mail header-injection corpus (issue 16) and an independent inspector of received bytes.

``TEXT`` goes through every text field that reaches an e-mail (names, subject parts, bodies),
``ADDRESSES`` through every address field. Each entry is ``(id, value, must_refuse)``:
``must_refuse`` = the offline form has to answer 4xx for it (it could inject, or it is
not a plain one-line value); the others are hostile-looking but harmless once encoded
(quotes, ``<>``, commas in a display name) and may be accepted — then the e-mail must
still carry exactly our headers.

``inspect`` does not use ``frontdesk.mail``: it reads the bytes an SMTP server received
with the standard library only and lists every way they differ from what we send.
"""
from __future__ import annotations

import base64
import email.policy
import re
import unicodedata
from email.header import decode_header, make_header
from email.parser import BytesHeaderParser, BytesParser

EVIL = "victim@evil.example"


def _b64(text: str, charset: str = "utf-8") -> str:
    return base64.b64encode(text.encode(charset)).decode()


TEXT: list[tuple[str, str, bool]] = [
    # RFC 2047 encoded words that decode to line breaks (the reported hole), in every shape
    ("ew-q-body", "=?utf-8?q?x=0D=0AContent-Type:_text/html=0D=0A=0D=0A<h1>Pay_here</h1>?=", True),
    ("ew-q-bcc", f"=?utf-8?q?x=0D=0ABcc:_{EVIL.replace('@', '=40')}?=", True),
    ("ew-Q-upper-cc", f"=?UTF-8?Q?x=0D=0ACc:_{EVIL.replace('@', '=40')}?=", True),
    ("ew-b-bcc", f"=?utf-8?b?{_b64('x' + chr(13) + chr(10) + 'Bcc: ' + EVIL)}?=", True),
    ("ew-B-upper-body", f"=?UTF-8?B?{_b64('x' + chr(13) + chr(10) * 2 + '<h1>Pay here</h1>')}?=", True),
    ("ew-latin1", "=?iso-8859-1?q?x=0D=0AX-Injected:_1?=", True),
    ("ew-lang", f"=?utf-8*en?q?x=0D=0ABcc:_{EVIL.replace('@', '=40')}?=", True),
    ("ew-mid-word", f"Ivan=?utf-8?q?=0D=0ABcc:_{EVIL.replace('@', '=40')}?=Petrov", True),
    ("ew-quoted", f'"=?utf-8?q?x=0D=0ABcc:_{EVIL.replace("@", "=40")}?="', True),
    ("ew-pair", f"=?utf-8?q?x=0D=0A?= =?utf-8?q?Bcc:_{EVIL.replace('@', '=40')}?=", True),
    ("ew-lf", f"=?utf-8?q?x=0ABcc:_{EVIL.replace('@', '=40')}?=", True),
    ("ew-cr", f"=?utf-8?q?x=0DBcc:_{EVIL.replace('@', '=40')}?=", True),
    ("ew-u2028", f"=?utf-8?q?x=E2=80=A8Bcc:_{EVIL.replace('@', '=40')}?=", True),
    ("ew-nel", f"=?utf-8?q?x=C2=85Bcc:_{EVIL.replace('@', '=40')}?=", True),
    ("ew-display-addr", f"=?utf-8?q?=22_<{EVIL.replace('@', '=40')}>,_=22?=", True),
    ("ew-unterminated", "=?utf-8?q?x=0D=0ABcc:", True),
    ("ew-end-only", "x?=", True),
    # raw line breaks and every other character that ends a line somewhere
    ("crlf", f"x\r\nBcc: {EVIL}", True),
    ("lf", f"x\nBcc: {EVIL}", True),
    ("cr", f"x\rBcc: {EVIL}", True),
    ("crlf-body", "x\r\n\r\n<h1>Pay here</h1>", True),
    ("u2028", f"x\u2028Bcc: {EVIL}", True),
    ("u2029", f"x\u2029Bcc: {EVIL}", True),
    ("nel", f"x\x85Bcc: {EVIL}", True),
    ("vt", f"x\x0bBcc: {EVIL}", True),
    ("ff", f"x\x0cBcc: {EVIL}", True),
    ("nul", f"x\x00Bcc: {EVIL}", True),
    ("file-sep", f"x\x1cBcc: {EVIL}", True),
    ("tab", f"x\tBcc: {EVIL}", True),
    ("fold-space", f"x\r\n Bcc: {EVIL}", True),
    ("fold-tab", "x\r\n\tX-Injected: 1", True),
    ("bidi-override", "moc.elpmaxe@\u202emitciv", True),
    ("boundary", "--===============0==\r\nContent-Type: text/html\r\n\r\n<h1>Pay</h1>", True),
    # too long for any header-bound field of the form
    ("long-word", "A" * 1000, True),
    ("long-words", "word " * 300, True),
    ("long-quoted-addrs", '"' + f"a, <{EVIL}>, " * 30 + '"', True),
    # hostile-looking, harmless once we write the field (may be accepted)
    ("angle-addr", f"Ivan <{EVIL}>", False),
    ("quotes-backslash", 'Ivan "The Terrible" \\ Petrov', False),
    ("display-injection", f'"Ivan" <{EVIL}>, "x', False),
    ("comma-list", f"a@evil.example, {EVIL}", False),
    ("comment", f"Ivan (comment) <{EVIL}>", False),
    ("group", f"undisclosed-recipients:{EVIL};", False),
    ("header-text", f"Bcc: {EVIL}", False),
    ("cyrillic-specials", f'Иван «Грозный» <{EVIL}>, "x"', False),
    ("long-cyrillic-specials", f"Ж, <{EVIL}> " * 3 + "Ж" * 20, False),
    ("plain", "Иван Петров", False),
]

# Only for the pure functions and compose (JSON cannot carry a lone surrogate to the form).
EXTRA_TEXT: list[tuple[str, str, bool]] = [
    ("lone-surrogate", "x\ud800y", True), ("bidi-isolate", "a\u2066b", True), ("rlm", "a\u200fb", True),
    ("zero-width", "Ivan\u200bPetrov", False), ("emoji", "Оля 👩🏽‍💻", False),
]

ADDRESSES: list[tuple[str, str, bool]] = [
    ("ew-local-q", f"=?utf-8?q?x=0D=0ABcc:_{EVIL.replace('@', '=40')}=0D=0A?=@evil.example", True),
    ("ew-local-b", f"=?utf-8?b?{_b64('x' + chr(13) + chr(10) + 'Bcc: ' + EVIL)}?=@evil.example", True),
    ("ew-in-comment", f"x(=?utf-8?q?=0D=0ABcc:_{EVIL.replace('@', '=40')}?=)@evil.example", True),
    ("ew-quoted-local", f'"=?utf-8?q?x=0D=0ABcc:_{EVIL.replace("@", "=40")}?="@evil.example', True),
    ("crlf", f"x@evil.example\r\nBcc: {EVIL}", True),
    ("lf", f"x@evil.example\nBcc: {EVIL}", True),
    ("u2028", f"x@evil.example\u2028Bcc: {EVIL}", True),
    ("nel", f"x@evil.example\x85Bcc: {EVIL}", True),
    ("vt", "x@evil.example\x0b", True),
    ("nul", "x\x00@evil.example", True),
    ("tab", "x\t@evil.example", True),
    ("angle-close", f"x@evil.example>, <{EVIL}", True),
    ("display-name", f"Ivan <{EVIL}>", True),
    ("comma-list", f"x@evil.example, {EVIL}", True),
    ("semicolon", f"x@evil.example;{EVIL}", True),
    ("comment", f"{EVIL} (comment)", True),
    ("quoted-crlf", f'"x\r\nBcc: {EVIL}"@evil.example', True),
    ("ip-literal", "x@[127.0.0.1]", True),
    ("long-local", "a" * 65 + "@evil.example", True),
    ("long-domain", "x@" + "a" * 250 + ".example", True),
    ("double-dot", "x..y@evil.example", True),
    ("encoded-edge", "x=?@evil.example", True),
    ("plain", "ivan.petrov+tag@example.com", False),
    ("trailing-space", "olga@example.com ", False),
]

# The header fields of what we send, once each; any other (Bcc, Cc, X-Injected, a second
# Content-Type …) is an injection.
TOP_HEADERS = {"subject", "from", "to", "reply-to", "date", "message-id", "auto-submitted",
               "mime-version", "content-type"}
PART_HEADERS = {"content-type", "content-transfer-encoding", "mime-version"}


def _header_block(raw: bytes) -> bytes:
    return raw.split(b"\r\n\r\n", 1)[0]


def _clean_line(text: str) -> bool:
    return not any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in text)


def compliant_decode(value: str) -> str:
    """Unfolded and RFC 2047-decoded as a mail client does it (``email.header``: adjacent
    encoded words joined)."""
    return str(make_header(decode_header(re.sub(r"\r?\n([ \t])", r"\1", value))))


def inspect(raw: bytes, rcpt_tos: list[str], *, to: str, reply_to: str | None, sender: str) -> list[str]:
    """Every way the received message differs from a clean one (empty list = clean)."""
    problems: list[str] = []
    try:
        _inspect(problems, raw, rcpt_tos, to=to, reply_to=reply_to, sender=sender)
    except Exception as exc:  # noqa: BLE001 - bytes the standard parser chokes on are not clean either
        problems.append(f"unreadable message ({exc.__class__.__name__}: {exc})")
    return problems


def _inspect(problems: list[str], raw: bytes, rcpt_tos: list[str], *, to: str, reply_to: str | None,
             sender: str) -> None:
    if rcpt_tos != [to]:
        problems.append(f"envelope recipients {rcpt_tos!r}, expected [{to!r}]")
    if not raw.isascii():
        problems.append("not 7-bit")
    if b"\r" in raw.replace(b"\r\n", b"") or b"\n" in raw.replace(b"\r\n", b""):
        problems.append("bare CR or LF")
    lines = _header_block(raw).split(b"\r\n")
    for line in lines:
        if len(line) > 998:
            problems.append("header line over 998 characters")
        if not line[:1].isspace() and b":" not in line:
            problems.append(f"header line without a name: {line[:80]!r}")
    head = BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw)
    names = [k.lower() for k in head.keys()]
    if sorted(names) != sorted(TOP_HEADERS - (set() if reply_to else {"reply-to"})):
        problems.append(f"top-level header fields {head.keys()!r}")
    msg = BytesParser(policy=email.policy.default).parsebytes(raw)
    for name, want in (("From", sender), ("To", to), ("Reply-To", reply_to)):
        if want is None:
            continue
        header = msg[name]
        got = [a.addr_spec for a in getattr(header, "addresses", ())]
        if got != [want]:
            problems.append(f"{name} addresses {got!r}, expected [{want!r}]")
        raw_value = head[name] or ""
        display = compliant_decode(raw_value.rsplit("<", 1)[0]) if "<" in raw_value else ""
        if not _clean_line(display) or "=?" in display:
            problems.append(f"{name} display name decodes to {display!r}")
    subject = compliant_decode(head["Subject"] or "")
    if not _clean_line(subject) or "=?" in subject:
        problems.append(f"Subject decodes to {subject!r}")
    if msg.get_content_type() != "multipart/alternative":
        problems.append(f"body Content-Type {msg.get_content_type()!r}")
    parts = list(msg.iter_parts()) if msg.is_multipart() else []
    if [(p.get_content_type(), p.get_content_charset()) for p in parts] != \
            [("text/plain", "utf-8"), ("text/html", "utf-8")]:
        problems.append(f"body parts {[p.get_content_type() for p in parts]!r}")
    for part in parts:
        extra = {k.lower() for k in part.keys()} - PART_HEADERS
        if extra or len(part.keys()) != len({k.lower() for k in part.keys()}):
            problems.append(f"part header fields {part.keys()!r}")
