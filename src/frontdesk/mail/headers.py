"""Values that go into e-mail headers: checked on input, neutralised again when a message is built.

Why this module exists: Python's ``email`` package parses every header
value it is given — also the ``str()`` of an ``Address`` — and *decodes* RFC 2047
encoded words (``=?utf-8?q?x=0D=0ABcc:_a=40b?=``) in unstructured text, in display
names, in quoted strings and even in an address's local part. Before 3.11.10 /
3.12.5 the folder then writes the decoded CR LF back out verbatim, so a visitor's
name could add ``Bcc:`` headers or replace the body of a notification. Python
3.11.7 (what we run) has the bug, so we never rely on the platform's folding:

* ``check_header_text`` / ``check_address`` — the **input** rule, for the forms
  (raise ``HeaderValueError``, which callers turn into ``invalid_name`` /
  ``invalid_email``). A header text is one line: no C0/C1 control characters
  (CR, LF, TAB, NUL, VT, FF, NEL U+0085 …), no line or paragraph separators
  (U+2028, U+2029), no lone surrogates, no bidi embedding/override/isolate
  controls, no ``=?`` or ``?=`` (an encoded word cannot start or end), and not
  longer than the field allows. An address is a plain ASCII ``local@domain``
  (RFC 5322 dot-atom local part without ``=?``/``?=``, LDH domain labels).
* ``neutral_header_text`` / ``safe_address`` — the **compose-time** rule, applied
  to every header value again when the message is built (defence in depth: rows
  queued before this fix, names set by other paths, configuration). Text is never
  refused here, it is made harmless (controls → space, bidi controls dropped,
  ``=?`` → ``= ?``, whitespace collapsed, cut to length); an address that does
  not pass ``check_address`` cannot be neutralised and is refused
  (``HeaderValueError``: the outbox row fails with "cannot compose", the sender
  keeps running).
"""
from __future__ import annotations

import base64
import re
import unicodedata
from email.headerregistry import Address

# Categories that can end a header line or hide in one: Cc = C0/C1 controls (CR, LF, TAB, VT,
# FF, NUL, NEL U+0085 …), Zl/Zp = U+2028/U+2029, Cs = lone surrogates (not encodable).
_BAD_CATEGORIES = frozenset({"Cc", "Zl", "Zp", "Cs"})
# Bidi embedding, override and isolate controls and the marks: they make a name or subject
# read differently from what it is (e.g. an address spelled backwards).
_BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ENCODED_WORD_EDGES = ("=?", "?=")

TEXT_MAX = 200

# RFC 5322 atext (plain ASCII; no quoted local parts, no comments, no IP literals).
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL_RE = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DOMAIN_RE = re.compile(rf"^(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})$")
_HOST_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")  # any host name: "localhost", "127.0.0.1"
LOCAL_MAX, DOMAIN_MAX, ADDRESS_MAX = 64, 253, 254


class HeaderValueError(ValueError):
    """A value that must not go into an e-mail header; ``what`` names the field."""

    def __init__(self, what: str, reason: str) -> None:
        super().__init__(f"{what} {reason}")
        self.what = what
        self.reason = reason


def _is_bad_char(ch: str) -> bool:
    return ch in _BIDI_CONTROLS or unicodedata.category(ch) in _BAD_CATEGORIES


def header_text_problem(value: str) -> str | None:
    """Why ``value`` cannot be header text (None when it can); length is not judged here."""
    for ch in value:
        if _is_bad_char(ch):
            return f"must be one line without control characters (found U+{ord(ch):04X})"
    for edge in _ENCODED_WORD_EDGES:
        if edge in value:
            return f"must not contain {edge!r} (an RFC 2047 encoded word)"
    return None


def check_header_text(value: object, what: str = "value", max_len: int = TEXT_MAX, *,
                      required: bool = True) -> str:
    """The input rule for a text that goes into a header (a name, a subject part).

    Returns the value with surrounding whitespace stripped and inner runs of spaces
    collapsed; raises ``HeaderValueError`` for anything that is not a single safe line
    of 1 (or 0 when not ``required``) to ``max_len`` characters."""
    if not isinstance(value, str):
        raise HeaderValueError(what, "must be a string")
    problem = header_text_problem(value)
    if problem:
        raise HeaderValueError(what, problem)
    clean = " ".join(value.split())
    if required and not clean:
        raise HeaderValueError(what, f"must be 1-{max_len} characters")
    if len(clean) > max_len:
        raise HeaderValueError(what, f"must be at most {max_len} characters")
    return clean


def neutral_header_text(value: object, max_len: int = TEXT_MAX) -> str:
    """The compose-time rule: any value becomes one harmless line (never raises).

    Control characters and separators become spaces, bidi controls and lone
    surrogates are dropped, every ``=?``/``?=`` is broken by a space (so no encoded
    word can be decoded from it), whitespace is collapsed and the result cut to
    ``max_len``."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    out = []
    for ch in text:
        if ch in _BIDI_CONTROLS or unicodedata.category(ch) == "Cs":
            continue
        out.append(" " if unicodedata.category(ch) in _BAD_CATEGORIES else ch)
    text = "".join(out)
    while "=?" in text or "?=" in text:  # "= ?" / "? =" cannot recombine into either edge
        text = text.replace("=?", "= ?").replace("?=", "? =")
    text = " ".join(text.split())
    return text[:max_len].rstrip()


def check_address(value: object, what: str = "e-mail", *, strict: bool = True) -> str:
    """The input rule for an e-mail address: a plain ASCII ``local@domain`` (returned without
    surrounding spaces; any other white space or control character is refused;
    callers that store visitor addresses lower-case them).

    Only what every mail system reads the same way: a dot-atom local part (no
    quoted strings, comments, ``=?``/``?=``), LDH domain labels with an alphabetic
    (or ``xn--``) top-level label, RFC 5321 lengths. ``strict=False`` (compose time, where
    configured addresses such as ``noreply@localhost`` pass too) accepts any host name of
    letter-digit-hyphen labels: just as safe in a header, only less likely to be a
    visitor's real mailbox."""
    if not isinstance(value, str):
        raise HeaderValueError(what, "must be a string")
    addr = value.strip(" ")
    bad = "is not a valid e-mail address, e.g. name@example.com"
    if not addr or len(addr) > ADDRESS_MAX or not addr.isascii() or header_text_problem(addr):
        raise HeaderValueError(what, bad)
    local, at, domain = addr.rpartition("@")
    if (not at or not local or len(local) > LOCAL_MAX or len(domain) > DOMAIN_MAX
            or not _LOCAL_RE.match(local) or not (_DOMAIN_RE if strict else _HOST_RE).match(domain)):
        raise HeaderValueError(what, bad)
    return addr


def safe_address(addr: object, display_name: object = "", what: str = "address",
                 name_max: int = TEXT_MAX) -> Address:
    """An ``Address`` built from checked parts: the address must pass ``check_address``
    (not strict: any host name; ``HeaderValueError`` otherwise), the display name is neutralised."""
    spec = check_address(addr, what, strict=False)
    local, _, domain = spec.rpartition("@")
    return Address(display_name=neutral_header_text(display_name, name_max), username=local, domain=domain)


# --- writing header fields ourselves ---------------------------------------------------
#
# The values below are already neutral (one line, no control characters, no "=?"/"?=").
# We still do not hand them to the ``email`` package's header registry: it would parse
# them again and refold them (3.11.7 loses the quotes of a long quoted display name, so
# "<evil@example>" inside a name would become an address). Each field is written here,
# 7-bit, folded with CR LF + space, and anything beyond plain words is RFC 2047-encoded
# by us (UTF-8, base64: no special character of any header grammar survives in clear).

FOLD_AT = 78           # RFC 5322 § 2.1.1 "SHOULD": fold before 78 characters
_EW_PREFIX, _EW_SUFFIX = "=?utf-8?b?", "?="
_EW_CHUNK = 45         # UTF-8 bytes per encoded word: 60 base64 chars → 72-character words (≤ 75)
_PLAIN_PHRASE_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_MSG_ID_RE = re.compile(r"^<[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,200}@[A-Za-z0-9.-]{1,253}>$")


def encoded_words(text: str) -> list[str]:
    """``text`` as RFC 2047 encoded words (UTF-8, base64), each at most 75 characters, never
    splitting a character; decoders join adjacent encoded words without the space between them."""
    words, chunk = [], b""
    for ch in text:
        b = ch.encode("utf-8")
        if len(chunk) + len(b) > _EW_CHUNK:
            words.append(chunk)
            chunk = b""
        chunk += b
    if chunk or not words:
        words.append(chunk)
    return [_EW_PREFIX + base64.b64encode(w).decode("ascii") + _EW_SUFFIX for w in words]


def _fold(name: str, tokens: list[str]) -> str:
    """``Name: tok tok …`` with a CR LF before a token that would pass column 78 (a token
    longer than a line stays whole). Unfolding gives back the tokens joined by single spaces."""
    lines, line = [], f"{name}:"
    for tok in tokens:
        if len(line) + 1 + len(tok) > FOLD_AT and line != f"{name}:":
            lines.append(line)
            line = ""
        line += " " + tok
    lines.append(line)
    return "\r\n".join(lines) + "\r\n"


def unstructured_field(name: str, text: str, max_len: int = TEXT_MAX) -> str:
    """A ``Subject``-like field: plain ASCII words folded at spaces, or encoded words when
    the (neutralised) text is not ASCII."""
    text = neutral_header_text(text, max_len)
    if text.isascii():
        return _fold(name, text.split(" ") if text else [])
    return _fold(name, encoded_words(text))


def address_field(name: str, address: Address) -> str:
    """``To``/``From``/``Reply-To`` with one address: ``Name <local@domain>``. The display
    name is re-neutralised; it stays in clear only when it is plain ASCII words (RFC 5322
    atoms), otherwise it is encoded words — never a quoted string."""
    spec = check_address(address.addr_spec, name, strict=False)
    display = neutral_header_text(address.display_name)
    if not display:
        return _fold(name, [spec])
    words = display.split(" ") if _PLAIN_PHRASE_RE.match(display) else encoded_words(display)
    return _fold(name, [*words, f"<{spec}>"])


def message_id_field(value: str) -> str:
    if not isinstance(value, str) or not _MSG_ID_RE.match(value):
        raise HeaderValueError("Message-ID", f"is not <id@domain>: {value!r}"[:200])
    return f"Message-ID: {value}\r\n"
