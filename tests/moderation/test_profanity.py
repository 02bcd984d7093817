"""Profanity filter: committed word lists, offsets, masking, site modes.

The lists under data/ are the contract: every line of ru_bad/en_bad must be caught,
no line of ru_innocent/en_innocent/shop_chat may be. Precision and recall (ours, the
curated rules alone, and badwords-py's own engine for comparison) are printed in
the terminal summary by conftest.py.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from frontdesk.moderation.profanity import MODES, Match, ProfanityFilter, default_filter
from tests.moderation import stats

DATA = Path(__file__).with_name("data")


def lines(name: str) -> list[str]:
    out = []
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            out.append(line.strip())
    return out


BAD = {"ru": lines("ru_bad.txt"), "en": lines("en_bad.txt")}
CLEAN = {
    "ru": lines("ru_innocent.txt"),
    "en": lines("en_innocent.txt"),
    "chat": lines("shop_chat.txt"),
    # drawn from spelling dictionaries among the forms the filter passed when they were
    # drawn: regression guards (a rule change that flags "себестоимость" fails here),
    # not an unbiased estimate; docs/moderation.md has the full-dictionary scan
    "ru-dict": lines("ru_dictionary_sample.txt"),
    "en-dict": lines("en_dictionary_sample.txt"),
}


@pytest.fixture(scope="module")
def pf() -> ProfanityFilter:
    return default_filter()


def test_the_lists_are_big_enough() -> None:
    # the brief: >= 150 innocent words that carry a bad substring
    assert len(CLEAN["ru"]) + len(CLEAN["en"]) >= 150
    assert len(CLEAN["ru"]) >= 150
    assert len(BAD["ru"]) >= 200 and len(BAD["en"]) >= 80
    assert len(CLEAN["chat"]) >= 50
    assert len(CLEAN["ru-dict"]) >= 1500 and len(CLEAN["en-dict"]) >= 600


@pytest.mark.parametrize("lang", ["ru", "en"])
def test_every_bad_form_is_caught(pf: ProfanityFilter, lang: str) -> None:
    missed = [w for w in BAD[lang] if not pf.find(w)]
    assert missed == []
    assert all(pf.has_profanity(w) for w in BAD[lang])


@pytest.mark.parametrize("which", ["ru", "en", "chat", "ru-dict", "en-dict"])
def test_innocent_words_and_shop_chat_pass(pf: ProfanityFilter, which: str) -> None:
    flagged = {w: [(m.word, m.rule) for m in pf.find(w)] for w in CLEAN[which] if pf.find(w)}
    assert flagged == {}
    assert not any(pf.has_profanity(w) for w in CLEAN[which])


def _measure(name: str, is_bad, pools=("ru", "en", "chat")) -> dict:
    bad = BAD["ru"] + BAD["en"]
    clean = [w for pool in pools for w in CLEAN[pool]]
    caught = sum(1 for w in bad if is_bad(w))
    flagged = sum(1 for w in clean if is_bad(w))
    return stats.score(name, caught, len(bad) - caught, flagged, len(clean) - flagged)


def test_precision_and_recall(pf: ProfanityFilter) -> None:
    ours = _measure("frontdesk (rules + badwords lists)", pf.has_profanity)
    rules = _measure("frontdesk, curated rules alone", ProfanityFilter(use_upstream=False).has_profanity)
    # what we really reach on the committed lists, asserted exactly
    assert ours["precision"] == 1.0 and ours["recall"] == 1.0
    # the curated rules carry the morphology; the upstream list adds rare compounds
    assert rules["precision"] == 1.0 and rules["recall"] >= 0.98
    try:  # for comparison only: badwords-py's own engine on the same lists
        from badwords import Options
        from badwords import ProfanityFilter as Upstream
    except ImportError:  # pragma: no cover - the dependency is required
        pytest.fail("badwords-py is a runtime dependency and must import")
    up = Upstream()
    up.init(["en", "ru"], options=Options(split_on_punctuation=True, collapse_repeats=True, leetspeak=True))
    theirs = _measure("badwords-py engine (strict options)", up.is_profane)
    assert ours["recall"] > theirs["recall"] and ours["precision"] >= theirs["precision"]
    every = ("ru", "en", "chat", "ru-dict", "en-dict")
    ours_all = _measure("frontdesk, + dictionary samples", pf.has_profanity, every)
    theirs_all = _measure("badwords-py, + dictionary samples", up.is_profane, every)
    assert ours_all["precision"] == 1.0 and theirs_all["precision"] < ours_all["precision"]
    stats.NOTES["innocent words in the lists"] = str(len(CLEAN["ru"]) + len(CLEAN["en"]))


def test_every_curated_rule_is_exercised_by_the_lists() -> None:
    rules_only = ProfanityFilter(use_upstream=False)
    fired = {rules_only.check_word(w) for w in BAD["ru"] + BAD["en"]}
    all_rules = {label for compiled in rules_only._rules.values() for _, names in compiled for label in names}
    assert all_rules - fired == set()


@pytest.mark.parametrize("line", lines("sentences.txt"))
def test_offsets_in_sentences(pf: ProfanityFilter, line: str) -> None:
    text, _, expected = line.rpartition(" |")
    expected = expected.strip()
    found = pf.find(text)
    assert [m.word for m in found] == [w for w in expected.split(",") if w]
    for m in found:
        assert text[m.start : m.end] == m.word


def test_offsets_are_code_points_and_mask_keeps_length(pf: ProfanityFilter) -> None:
    text = "😀 ок, но x.y.й и fu\u0308ck, ху\u200bйня"
    found = pf.find(text)
    assert [m.word for m in found] == ["x.y.й", "fu\u0308ck", "ху\u200bйня"]
    assert found[0].start == text.index("x.y.й")
    masked = pf.mask(text)
    assert len(masked) == len(text)
    assert masked == "😀 ок, но x**** и f****, х*****"


def test_mask_replaces_each_word_with_first_letter_and_stars(pf: ProfanityFilter) -> None:
    assert pf.mask("Ну ты и мудак, блин") == "Ну ты и м****, блин"
    assert pf.mask("FUCK this") == "F*** this"
    assert pf.mask("всё хорошо") == "всё хорошо"


def test_apply_modes(pf: ProfanityFilter) -> None:
    bad, clean = "где заказ, бля?", "где заказ?"
    assert pf.apply(bad, "off") == (bad, False)
    assert pf.apply(bad, "flag") == (bad, True)
    assert pf.apply(bad, "mask") == ("где заказ, б**?", True)
    for mode in MODES:
        assert pf.apply(clean, mode) == (clean, False)
    with pytest.raises(ValueError):
        pf.apply(bad, "block")


def test_wildcards_and_separators_are_bounded(pf: ProfanityFilter) -> None:
    # decoration, not words
    for text in ["****", "*важно*", "**new**", "a * b", "ok!!!", "1 2 3 4", "..."]:
        assert pf.find(text) == []
    # three or more stars in one word are not guessed
    assert pf.find("f***") == []
    # single letters spaced out are joined only when there are three or more
    assert pf.find("я у вас") == []
    assert [m.word for m in pf.find("с у к а")] == ["с у к а"]


def test_extra_words_and_whitelist() -> None:
    f = ProfanityFilter(extra_words=["спамбот"], extra_whitelist=["мудак"])
    assert f.find("тут спамбот") == [Match(4, 11, "спамбот", "list:спамбот")]
    assert f.find("мудак") == []


def test_default_filter_is_shared() -> None:
    assert default_filter() is default_filter()


def test_a_flood_of_masked_words_is_bounded(pf: ProfanityFilter) -> None:
    # every starred word costs up to a few hundred look-ups: only the first 8 of a
    # message are expanded, so "a**b c**d …" cannot make one message expensive
    flood = " ".join(f"zq**w{i}" for i in range(200))
    assert pf.find(flood) == []
    assert pf.find("ok " * 3 + "f**k") and pf.find("f**k " + "z*q " * 20)
    late = "z*q " * 20 + "f**k"
    assert pf.find(late) == [] and not pf.has_profanity(late)   # the documented limit
    assert [m.word for m in pf.find(late.replace("z*q", "zq"))] == ["f**k"]


def test_hostile_input_is_handled(pf: ProfanityFilter) -> None:
    # long glued tokens, stars in long words, every kind of code point: no error, and
    # the answers stay right (pytest-timeout guards against a pathological regex)
    long_word = "б" * 20_000 + "хуй"
    assert pf.find(long_word) == []                       # one long word, not "хуй"
    assert [m.word for m in pf.find(long_word + " хуй")] == ["хуй"]
    assert pf.find("f*" * 5000) == []
    assert pf.find("x" * 40 + "**" + "y" * 40) == []
    assert pf.find(".".join("абв" * 2000)) == []
    weird = "".join(chr(c) for c in range(0x20, 0x3000, 7))
    assert isinstance(pf.find(weird), list)
    assert pf.find("") == [] and pf.mask("") == "" and pf.apply("", "mask") == ("", False)
