"""The quality coach's criteria on conversations with known answers; ru/en phrasing rules."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from frontdesk.quality import Msg, load_rules, score_conversation
from frontdesk.quality.criteria import has_phrase, is_question

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def chat(*lines: tuple[int, str, str]) -> list[Msg]:
    """(seconds after T0, "v" | "o" | "n", text) → messages with ids 1, 2, …"""
    kinds = {"v": "visitor", "o": "operator", "n": "note"}
    return [Msg(i, kinds[k], text, T0 + timedelta(seconds=s)) for i, (s, k, text) in enumerate(lines, 1)]


def test_a_good_russian_conversation_passes_everything():
    r = score_conversation(chat(
        (0, "v", "Здравствуйте, сколько идёт доставка в Казань?"),
        (40, "o", "Добрый день! Доставка в Казань — 2–3 дня."),
        (100, "v", "А оплатить картой можно?"),
        (130, "o", "Да, картой курьеру. Всего доброго!"),
    ), closed_at=T0 + timedelta(seconds=200))
    assert r.score == 100
    assert {c.id: c.passed for c in r.criteria} == {
        "greeting": True, "first_reply": True, "questions_answered": True, "no_long_silence": True,
        "polite_closing": True, "spelling": None}


def test_a_poor_english_conversation_names_the_messages_that_failed():
    r = score_conversation(chat(
        (0, "v", "Do you ship to Canada"),
        (150, "o", "Yes we do."),                     # no greeting, 150 s > 60 s
        (200, "v", "How long does it take?"),
        (900, "o", "About a week."),                  # 700 s of silence > 5 min
        (950, "v", "And the price?"),                 # never answered
        (960, "n", "note: check prices"),             # notes do not count
    ), closed_at=T0 + timedelta(seconds=2000))
    c = r.by_id()
    assert c["greeting"].passed is False and c["greeting"].messages == (2,)
    assert c["first_reply"].passed is False and c["first_reply"].detail["seconds"] == 150
    assert c["questions_answered"].passed is False and c["questions_answered"].messages == (5,)
    assert c["questions_answered"].detail["questions"] == 3
    assert c["no_long_silence"].passed is False and c["no_long_silence"].messages == (3, 5)
    assert c["polite_closing"].passed is False and c["polite_closing"].messages == (4,)
    assert r.score == 0


def test_weights_and_limits_are_settings():
    msgs = chat((0, "v", "Привет"), (90, "o", "Здравствуйте! Чем помочь?"), (120, "o", "Хорошего дня!"))
    default = score_conversation(msgs)
    assert default.by_id()["first_reply"].passed is False
    # greeting 1 + closing 1 + silence 2 of 6 weighted (questions: none asked, spelling: no checker)
    assert default.score == round(100 * 4 / 6)
    lenient = score_conversation(msgs, settings={"first_reply_seconds": 120, "weights": {"greeting": 0}})
    assert lenient.by_id()["first_reply"].passed is True and lenient.score == 100


def test_spelling_goes_through_the_given_checker():
    msgs = chat((0, "v", "Здравствуйте"), (10, "o", "Здраствуйте! Всего доброго"))
    r = score_conversation(msgs, misspelled=lambda text: ["Здраствуйте"] if "Здраствуйте" in text else [])
    assert r.by_id()["spelling"].passed is False and r.by_id()["spelling"].messages == (2,)
    assert r.by_id()["spelling"].detail["words"] == ["Здраствуйте"]


def test_nobody_answered():
    r = score_conversation(chat((0, "v", "Есть кто?")), closed_at=T0 + timedelta(minutes=30))
    c = r.by_id()
    assert c["first_reply"].passed is False and c["questions_answered"].messages == (1,)
    assert c["no_long_silence"].passed is False and c["no_long_silence"].detail["longest_seconds"] == 1800
    assert r.score == 0
    assert score_conversation([]).score == 0   # greeting and closing still fail: nobody wrote


@pytest.mark.parametrize(("text", "greets"), [
    ("Здравствуйте!", True), ("Добрый день, Анна", True), ("ДОБРОЕ УТРО", True), ("Приветствую вас", True),
    ("Hello there", True), ("Good evening!", True), ("hi", True),
    ("Доставка бесплатная", False), ("This is it", False), ("Добрый", False), ("history", False),
])
def test_greeting_phrases_in_both_languages(text, greets):
    assert has_phrase(text, load_rules().phrases("greeting")) is greets


@pytest.mark.parametrize(("text", "closes"), [
    ("Всего доброго!", True), ("Спасибо за обращение, хорошего дня", True), ("Обращайтесь!", True),
    ("Have a nice day!", True), ("Glad to help.", True), ("Bye!", True),
    ("Доброго вам времени суток", False), ("Nice product", False),
])
def test_closing_phrases_in_both_languages(text, closes):
    assert has_phrase(text, load_rules().phrases("closing")) is closes


@pytest.mark.parametrize(("text", "question"), [
    ("Сколько стоит?", True), ("Можно ли оплатить картой", True), ("подскажите размер", True),
    ("Где мой заказ", True), ("How much is it", True), ("Is it in stock", True), ("price?", True),
    ("Спасибо", False), ("Я из Казани", False), ("Thanks a lot", False), ("Hello", False),
])
def test_questions_in_both_languages(text, question):
    assert is_question(text, load_rules()) is question


def test_every_language_has_every_kind_of_rule():
    rules = load_rules()
    assert set(rules.langs) == {"ru", "en"}
    for lang in rules.langs.values():
        assert set(lang) == {"greeting", "closing", "question_starts"} and all(lang.values())
