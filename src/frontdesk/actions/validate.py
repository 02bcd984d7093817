"""Checks of untrusted input, in one place. Each ``check_*`` returns the clean value or raises
``ActionError`` with a documented code. Nothing here touches the database.

What a valid string is (docs/protocol.md § Text):

* well-formed Unicode — a lone surrogate is refused (``invalid_text``); the WebSocket
  frame decoder (realtime/frames.py) refuses it even earlier, JSON bodies here;
* message text: CR LF and lone CR become LF; NUL and the other C0/C1 control characters
  except TAB and LF are removed; leading/trailing whitespace is trimmed; length is counted
  in Unicode code points (what the composers count too); bidi controls are kept (they are
  legitimate in right-to-left text) and every UI shows text in an isolated direction;
* one-line fields (names, e-mail, phone) refuse every control, line and paragraph separator.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from pathlib import Path

from frontdesk.actions.errors import ActionError, not_found
from frontdesk.mail.headers import HeaderValueError, check_address, check_header_text

CLIENT_ID_RE = re.compile(r"^[A-Za-z0-9_.:\-]{1,64}$")
PHONE_RE = re.compile(r"^\+?[0-9(][0-9 ()\-.]{2,30}[0-9]$")
MAX_ID = 2**63 - 1
HISTORY_PAGE_MAX = 200
NAME_MAX = 100
MIN_PASSWORD = 8
# control characters removed from message text: C0 except TAB and LF, DEL, C1
_STRIP_CONTROLS = dict.fromkeys([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F, *range(0x80, 0xA0)])
# what check_text changes (CR, and the controls above): almost no message has any, and a search is
# far cheaper than the per-character translate
_NEEDS_CLEANING = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def well_formed(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_text(text: object, max_chars: int) -> str:
    """A message text: see the module docstring."""
    if not isinstance(text, str):
        raise ActionError("invalid_frame", "text must be a string")
    if not well_formed(text):
        raise ActionError("invalid_text", "text is not well-formed Unicode (lone surrogate)")
    if _NEEDS_CLEANING.search(text) is not None:
        text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_STRIP_CONTROLS)
    text = text.strip()
    if not text:
        raise ActionError("empty_text", "message text is empty")
    if len(text) > max_chars:
        raise ActionError("text_too_long", f"message text is longer than {max_chars} characters", 413)
    return text


def check_note(note: object, max_chars: int) -> str:
    """An optional note (a transfer's note for the receiver): None or blank → "", else a message text."""
    if note is None or (isinstance(note, str) and not note.strip()):
        return ""
    return check_text(note, max_chars)


def preview_text(text: str, max_chars: int) -> str:
    """A typing preview: never refused (it is only a preview), cut to ``max_chars`` code points."""
    return text[:max_chars] if well_formed(text) else ""


def check_client_id(client_id: object) -> str:
    if not isinstance(client_id, str) or not CLIENT_ID_RE.match(client_id):
        raise ActionError("invalid_frame", "client_id must be 1-64 characters of [A-Za-z0-9_.:-]")
    return client_id


def check_id(value: object, what: str = "conversation") -> int:
    """An id from a URL or a JSON body: a JSON integer, or a string of ASCII digits, in 1..2^63-1.
    Anything else is ``not_found`` — the same answer as an id that is not yours."""
    if isinstance(value, bool):
        raise not_found(what)
    if isinstance(value, str):
        if not (value.isascii() and value.isdigit()) or len(value) > 19:
            raise not_found(what)
        value = int(value)
    if not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise not_found(what)
    return value


def check_page_args(after_seq: object, limit: object) -> tuple[int, int]:
    """History paging: ``after_seq`` ≥ 0 and ``limit`` ≥ 1, ASCII integers; limit capped at 200."""
    out = []
    for name, value in (("after_seq", after_seq), ("limit", limit)):
        if isinstance(value, str):
            if not (value.isascii() and value.isdigit()) or len(value) > 19:
                raise ActionError("invalid_input", f"{name} must be a non-negative integer")
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ID:
            raise ActionError("invalid_input", f"{name} must be a non-negative integer")
        out.append(value)
    after, lim = out
    if lim < 1:
        raise ActionError("invalid_input", "limit must be ≥ 1")
    return after, min(lim, HISTORY_PAGE_MAX)


def has_control(value: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp", "Cs") for ch in value)


def check_name(name: object, what: str = "name", max_len: int = NAME_MAX, code: str = "invalid_input") -> str:
    """A one-line name (operator, site): no control characters or line separators."""
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > max_len:
        raise ActionError(code, f"{what} must be 1-{max_len} characters")
    if has_control(name):
        raise ActionError(code, f"{what} must be one line without control characters")
    return " ".join(name.split())


def check_email(email: object, code: str = "invalid_input") -> str:
    """A plain ASCII ``local@domain`` (``mail.headers.check_address``: no quotes, comments, encoded
    words or control characters — it may end up in a header), lower-cased."""
    try:
        return check_address(email, "email").lower()
    except HeaderValueError:
        raise ActionError(code, "a valid e-mail address is required, e.g. name@example.com") from None


def check_visitor_name(name: object) -> str:
    """1–100 characters on one line: it goes into e-mail headers (``mail.headers.check_header_text``:
    no CR/LF, control characters, U+2028/U+2029, bidi controls or RFC 2047 ``=?…?=``)."""
    try:
        return check_header_text(name, "name", NAME_MAX)
    except HeaderValueError as exc:
        raise ActionError("invalid_name", str(exc)) from None


def check_visitor_email(email: object) -> str:
    return check_email(email, code="invalid_email")


def check_phone(phone: object) -> str:
    if not isinstance(phone, str) or has_control(phone) or not PHONE_RE.match(phone.strip()) \
            or sum(ch.isdigit() for ch in phone) < 5:
        raise ActionError("invalid_phone", "a phone number is 5-32 digits, spaces, ( ) - . and an optional leading +")
    return " ".join(phone.split())


MIN_DISTINCT_PASSWORD_CHARS = 4


@functools.cache
def common_passwords() -> frozenset[str]:
    """actions/data/common_passwords.txt: the passwords every guesser tries first (lower case)."""
    text = (Path(__file__).parent / "data" / "common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def check_password(password: object) -> str:
    """8–256 characters, and not trivial: ``weak_password`` for a common password (in any case,
    with spaces around it), for fewer than 4 distinct characters (``aaaaaaaa``, eight spaces,
    ``abababab``) and for a run of one keyboard row or of digits in order (``12345678``)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD or len(password) > 256:
        raise ActionError("invalid_input", f"password must be {MIN_PASSWORD}-256 characters")
    if not well_formed(password):
        raise ActionError("invalid_input", "password is not well-formed Unicode")
    bare = password.strip().lower()
    if len(set(password)) < MIN_DISTINCT_PASSWORD_CHARS:
        raise ActionError("weak_password", f"the password needs at least {MIN_DISTINCT_PASSWORD_CHARS} "
                                           "different characters")
    if bare in common_passwords() or _sequence(bare):
        raise ActionError("weak_password", "this password is one of the first any attacker tries; choose another")
    return password


_RUNS = ("0123456789" * 2, "abcdefghijklmnopqrstuvwxyz", "qwertyuiop", "asdfghjkl", "zxcvbnm",
         "йцукенгшщзхъ", "фывапролджэ", "ячсмитьбю", "абвгдеёжзийклмнопрстуфхцчшщъыьэюя")


def _sequence(text: str) -> bool:
    """The whole password is one run of a keyboard row, the alphabet or digits, forwards or back."""
    return any(text in run or text in run[::-1] for run in _RUNS)


def clip(value: object, n: int) -> str:
    """An optional descriptive string (page URL, title, language): cut, never refused."""
    if not isinstance(value, str) or not well_formed(value):
        return ""
    return value[:n]
