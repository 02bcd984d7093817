"""The pure functions of ``frontdesk.mail.headers`` against the header corpus
(tests/security/header_corpus.py): the input rule refuses what could inject, the compose-time
rule makes anything harmless, encoded words and folded fields decode back exactly.
``compose.render`` over the corpus is in tests/security/test_email_injection.py."""
from __future__ import annotations

import pytest

from frontdesk.mail.headers import (
    HeaderValueError,
    address_field,
    check_address,
    check_header_text,
    encoded_words,
    neutral_header_text,
    safe_address,
    unstructured_field,
)
from tests.security.header_corpus import ADDRESSES, EXTRA_TEXT, TEXT, compliant_decode


@pytest.mark.parametrize(("case", "value", "must_refuse"), TEXT + EXTRA_TEXT, ids=[c[0] for c in TEXT + EXTRA_TEXT])
def test_check_header_text_refuses_what_could_inject(case, value, must_refuse):
    if must_refuse:
        with pytest.raises(HeaderValueError) as caught:
            check_header_text(value, "name", 100)
        assert caught.value.what == "name" and str(caught.value).startswith("name ")
    else:
        assert check_header_text(value, "name", 100) == " ".join(value.split())


def test_check_header_text_basics():
    assert check_header_text("  Иван \u00a0 Петров ", "name") == "Иван Петров"
    for bad in (None, 42, ["x"], "", "   "):
        with pytest.raises(HeaderValueError):
            check_header_text(bad, "name")
    assert check_header_text("", "x", required=False) == ""
    assert check_header_text("я" * 100, "name", 100) == "я" * 100
    with pytest.raises(HeaderValueError, match="at most 100"):
        check_header_text("я" * 101, "name", 100)
    for edge in ("=?", "?=", "a=?b", "a?=b"):
        with pytest.raises(HeaderValueError, match="encoded word"):
            check_header_text(edge, "name")


@pytest.mark.parametrize(("case", "value", "must_refuse"), TEXT + EXTRA_TEXT, ids=[c[0] for c in TEXT + EXTRA_TEXT])
def test_neutral_header_text_makes_anything_one_harmless_line(case, value, must_refuse):
    out = neutral_header_text(value, 200)
    assert len(out) <= 200 and out == out.strip() and "  " not in out
    assert "=?" not in out and "?=" not in out
    check_header_text(out, "neutralised", 200, required=False)  # passes the input rule itself
    assert neutral_header_text(out, 200) == out  # idempotent
    if not must_refuse:
        assert out == " ".join(value.split())  # harmless values are left alone


def test_neutral_header_text_details():
    assert neutral_header_text("a=?b?=c") == "a= ?b? =c"
    assert neutral_header_text("==??==") == "== ?? =="
    assert neutral_header_text("Иван\r\nBcc: x@y.ru\u2028Subject: hi\x00") == "Иван Bcc: x@y.ru Subject: hi"
    assert neutral_header_text(None) == "" and neutral_header_text(12) == "12"
    assert neutral_header_text("x" * 10 + " " + "y" * 10, 11) == "x" * 10


@pytest.mark.parametrize(("case", "value", "must_refuse"), ADDRESSES, ids=[c[0] for c in ADDRESSES])
def test_check_address(case, value, must_refuse):
    if must_refuse:
        with pytest.raises(HeaderValueError):
            check_address(value, "email")
        with pytest.raises(HeaderValueError):
            safe_address(value, "Ivan")
    else:
        assert check_address(value, "email") == value.strip(" ")
        assert safe_address(value, "Иван\r\nBcc: x@y").display_name == "Иван Bcc: x@y"


def test_check_address_shapes():
    for good in ("a@b.co", "O'Brien@example.ie", "x_y-z.w+t@mail.xn--p1ai", "A@Example.COM"):
        assert check_address(good) == good
    for bad in (None, "", "a@b", "@b.co", "a@", "a@b.c", "a@-b.co", "a@b-.co", ".a@b.co", "a.@b.co", "a@b..co",
                "иван@пример.рф", "a b@c.co", "a@b.co.", "a@b_c.co"):
        with pytest.raises(HeaderValueError):
            check_address(bad)


def test_configured_addresses_may_use_any_host_name_but_nothing_else():
    for host_only in ("noreply@localhost", "noreply@127.0.0.1", "a@mail-1", "a@chat.example.123"):
        with pytest.raises(HeaderValueError):
            check_address(host_only)  # not what a visitor's mailbox looks like
        assert check_address(host_only, strict=False) == host_only
        assert safe_address(host_only).addr_spec == host_only
    for _case, value, must_refuse in ADDRESSES:
        if must_refuse:
            with pytest.raises(HeaderValueError):
                check_address(value, strict=False)


def test_encoded_words_are_short_split_on_characters_and_decode_back():
    for text in ("Ж" * 200, "😀" * 50, "a" + "😀" * 40, "Иван «Грозный» <a@b>, \"x\"", "x"):
        words = encoded_words(text)
        assert all(len(w) <= 75 and w.startswith("=?utf-8?b?") and w.endswith("?=") for w in words)
        assert compliant_decode(" ".join(words)) == text
        assert compliant_decode("\r\n ".join(words)) == text


def test_fields_are_folded_7bit_and_decode_back():
    for text in ("Offline message on Shop from Eve", "word " * 40, "Сообщение с сайта «Ромашка» от Иван " * 5,
                 "A" * 300):
        field = unstructured_field("Subject", text, 300)
        assert field.isascii() and field.endswith("\r\n")
        lines = field[:-2].split("\r\n")
        assert lines[0].startswith("Subject: ") and all(line.startswith(" ") for line in lines[1:])
        # only a line holding one long word (after the field name) may be longer than 78
        assert all(len(line) <= 78 for line in lines if len(line.removeprefix("Subject:").split()) > 1)
        assert compliant_decode(field[len("Subject: "):-2]) == " ".join(text.split())
    to = address_field("To", safe_address("ivan@example.com", 'Иван "x" <victim@evil.example>'))
    assert to.startswith("To: =?utf-8?b?") and to.endswith(" <ivan@example.com>\r\n") and "evil" not in to
    assert address_field("To", safe_address("ivan@example.com", "Ivan Petrov")) == "To: Ivan Petrov <ivan@example.com>\r\n"
    assert address_field("To", safe_address("ivan@example.com", "")) == "To: ivan@example.com\r\n"
    assert address_field("To", safe_address("ivan@example.com", "Ivan, Jr.")).startswith("To: =?utf-8?b?")
