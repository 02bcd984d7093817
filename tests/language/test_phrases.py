"""Quick phrases: ranked search on a committed ru/en set, variables, CSV round trips."""
from __future__ import annotations

import random

import pytest

from frontdesk.language.phrases import (
    Phrase,
    PhraseCSVError,
    PhraseIndex,
    fill,
    phrases_from_csv,
    phrases_to_csv,
)
from tests.language.conftest import DATA, report


@pytest.fixture(scope="module")
def phrases() -> list[Phrase]:
    return phrases_from_csv((DATA / "phrases.csv").read_bytes())


@pytest.fixture(scope="module")
def index(phrases) -> PhraseIndex:
    return PhraseIndex(phrases)


def _queries() -> list[tuple[str, list[int]]]:
    rows = []
    for line in (DATA / "phrase_queries.tsv").read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, *ids = line.split("\t")
            rows.append((query, [] if ids == ["-"] else [int(i) for i in ids]))
    return rows


def test_the_committed_phrase_set(phrases):
    assert len(phrases) == 28
    assert {p.group for p in phrases} >= {"Доставка", "English", "Оплата"}
    assert any("\n" in p.text for p in phrases) and any("," in p.title for p in phrases)


@pytest.mark.parametrize(("query", "expected"), _queries(), ids=[q for q, _ in _queries()])
def test_ranking(index, query, expected):
    got = [m.phrase.id for m in index.search(query)]
    if not expected:
        assert got == [], f"{query!r} is unrelated to every phrase"
        return
    assert got and got[0] == expected[0], f"{query!r}: {got}"
    assert set(expected) <= set(got[:3]), f"{query!r}: {got}"


def test_ranking_summary(index):
    rows = _queries()
    ok = sum(
        1
        for q, exp in rows
        if [m.phrase.id for m in index.search(q)][:1] == exp[:1] or (not exp and not index.search(q))
    )
    report("phrases", f"phrase queries ranked right: {ok}/{len(rows)}")
    assert ok == len(rows)


def test_word_forms_both_ways():
    idx = PhraseIndex([
        Phrase(id="a", title="О доставке", text="Скажу о доставке подробнее."),
        Phrase(id="b", title="Кронштейны", text="Кронштейнов нет, ждём поставку."),
        Phrase(id="c", title="Ответ", text="Уточним у курьера."),
    ])
    assert [m.phrase.id for m in idx.search("доставка")] == ["a"]  # the phrase says "доставке"
    assert [m.phrase.id for m in idx.search("кронштейн")] == ["b"]
    assert [m.phrase.id for m in idx.search("курьер")] == ["c"]
    assert [m.phrase.id for m in idx.search("курьеры")] == ["c"]
    assert idx.search("кошка") == [] and idx.search("поставить доставку") == []


def test_exact_key_beats_word_matches(index):
    # "/delivery" is the key of phrase 4; phrase 22 has "delivery" in its title and text
    res = index.search("/delivery")
    assert [m.phrase.id for m in res[:2]] == [4, 22]
    assert res[0].how == "key" and res[1].how == "words"


def test_key_then_words_narrows(index):
    assert [m.phrase.id for m in index.search("/en-d express")] == [22]
    assert index.search("/en-d пицца") == []


def test_usage_boosts_the_most_used_of_equal_matches(index):
    plain = [m.phrase.id for m in index.search("доставка")]
    assert plain[:2] == [4, 6]
    boosted = [m.phrase.id for m in index.search("доставка", usage={6: 12})]
    assert boosted[:2] == [6, 4]
    # but usage does not lift a weak match over an exact one: phrase 15 only mentions
    # "доставки" in its text
    assert [m.phrase.id for m in index.search("доставка", usage={15: 1000})][:2] == [4, 6]


def test_usage_lists_favourites_for_an_empty_query(index):
    assert [m.phrase.id for m in index.search("/", usage={9: 3, 2: 7}, limit=3)] == [2, 9, 1]
    assert len(index.search("", limit=8)) == 8


def test_decomposed_and_stressed_queries(index):
    import unicodedata

    assert [m.phrase.id for m in index.search(unicodedata.normalize("NFD", "счёт"))][:1] == [8]
    assert [m.phrase.id for m in index.search("гара\u0301нтия")][:1] == [11]


def test_limit(index):
    assert len(index.search("доставка", limit=1)) == 1


def test_search_over_a_thousand_phrases_finds_the_inflected_one():
    rnd = random.Random(7)
    words = ["товар", "склад", "цвет", "размер", "модель", "упаковка", "коробка", "бонус", "подарок", "скидка"]
    phrases = [
        Phrase(id=i, key=f"/p{i}", title=f"Фраза {i}", text=" ".join(rnd.choices(words, k=12)), group=f"g{i % 20}")
        for i in range(1000)
    ]
    phrases.append(Phrase(id="target", key="", title="Гарантийный ремонт", text="Ремонт по гарантии — в сервисном центре."))
    idx = PhraseIndex(phrases)
    assert [m.phrase.id for m in idx.search("гарантия ремонта")] == ["target"]
    assert idx.search("/p999")[0].phrase.id == 999
    assert idx.search("пицца") == []


# ---------------------------------------------------------------------------------------------
# fill


def test_fill_all_variables():
    text = "Здравствуйте, {visitor_name}! Меня зовут {operator_name}, магазин {site_name}. Вы на странице «{page_title}»."
    out = fill(text, {"visitor_name": "Анна", "operator_name": "Ольга", "site_name": "Ромашка", "page_title": "Кронштейны"})
    assert out == "Здравствуйте, Анна! Меня зовут Ольга, магазин Ромашка. Вы на странице «Кронштейны»."


def test_fill_missing_visitor_name_is_removed_tidily_or_replaced_by_the_fallback():
    assert fill("Здравствуйте, {visitor_name}!", {"visitor_name": None}) == "Здравствуйте!"
    assert fill("Здравствуйте, {visitor_name}!", {}) == "Здравствуйте!"
    assert fill("Hello {visitor_name}, how are you?", {"visitor_name": ""}) == "Hello, how are you?"
    assert fill("{visitor_name}, добрый день!", {}) == "Добрый день!"
    assert fill("Спасибо, {visitor_name}.\n{visitor_name}, до свидания", {}) == "Спасибо.\nДо свидания"
    assert (
        fill("Здравствуйте, {visitor_name}!", {"visitor_name": None}, fallbacks={"visitor_name": "уважаемый покупатель"})
        == "Здравствуйте, уважаемый покупатель!"
    )


def test_fill_leaves_unknown_variables_and_does_not_reexpand_or_escape_values():
    out = fill("Заказ {order_id} для {visitor_name}", {"visitor_name": "<b>{site_name}</b> & Co"})
    assert out == "Заказ {order_id} для <b>{site_name}</b> & Co"  # plain text: the panel escapes
    assert fill("{visitor_name}{visitor_name}", {"visitor_name": "Ян"}) == "ЯнЯн"
    assert fill("Без переменных, {не переменная}", {}) == "Без переменных, {не переменная}"
    # an extra variable provided by the caller is filled too
    assert fill("Ваш заказ {order_id}", {"order_id": "A-17"}) == "Ваш заказ A-17"


def test_fill_committed_phrases(phrases):
    by_id = {p.id: p for p in phrases}
    v = {"visitor_name": "Анна", "operator_name": "Ольга", "site_name": "Ромашка"}
    assert fill(by_id[1].text, v).startswith("Здравствуйте, Анна! Меня зовут Ольга, я консультант магазина Ромашка.")
    assert fill(by_id[21].text, {**v, "visitor_name": None}) == "Hello! I'm Ольга from Ромашка. How can I help you?"
    for p in phrases:
        assert "{" not in fill(p.text, v | {"page_title": "x"})


# ---------------------------------------------------------------------------------------------
# CSV


TRICKY = [
    Phrase(id=1, key="/hello", title="Привет, мир", text='Он сказал: "Здравствуйте", а потом — «до свидания».', group="Разное"),
    Phrase(id=2, key="", title="Многострочный", text="Строка 1,\nстрока 2;\r\nстрока 3 \"в кавычках\"\n", group=""),
    Phrase(id="ext-7", key="/en", title="Quotes \"and\" commas, too", text="Line one\n\nLine three, with ümlauts", group="English"),
    Phrase(id=None, key="/a_b-c", title="", text="  leading spaces kept  ", group="G"),
]


def test_csv_round_trip_tricky_values():
    csv_text = phrases_to_csv(TRICKY)
    assert csv_text.startswith("id,key,title,text,group\r\n")
    assert phrases_from_csv(csv_text) == TRICKY
    # as UTF-8 bytes, with and without the Excel BOM
    assert phrases_from_csv(csv_text.encode("utf-8")) == TRICKY
    assert phrases_from_csv(phrases_to_csv(TRICKY, bom=True).encode("utf-8")) == TRICKY


def test_csv_round_trip_committed_phrases(phrases):
    assert phrases_from_csv(phrases_to_csv(phrases)) == phrases


def test_csv_from_a_spreadsheet_with_semicolons_and_other_column_order():
    data = "Text;Title;Key\r\nДоставка бесплатно;Доставка;delivery\r\n\r\n\"Цена; скидка\";Цена;\r\n"
    assert phrases_from_csv(data) == [
        Phrase(id=None, key="/delivery", title="Доставка", text="Доставка бесплатно"),
        Phrase(id=None, key="", title="Цена", text="Цена; скидка"),
    ]


def _errors(data) -> list[tuple[int, str]]:
    with pytest.raises(PhraseCSVError) as exc:
        phrases_from_csv(data)
    assert str(exc.value)  # a readable message
    return exc.value.errors


def test_csv_errors_are_clear():
    assert _errors("") == [(0, "the file is empty")]
    assert "not UTF-8" in _errors("title,text\r\nЦена,Текст\r\n".encode("cp1251"))[0][1]
    assert "no 'text' column" in _errors("key,title\r\n/a,b\r\n")[0][1]
    assert "unknown column" in _errors("key,title,text,colour\r\n/a,b,c,d\r\n")[0][1]
    errs = _errors(
        "key,title,text\r\n"
        "/ok,Хорошо,Текст\r\n"          # row 2 fine
        "/bad key,Плохо,Текст\r\n"      # row 3: key with a space
        "/ok,Повтор,Текст\r\n"          # row 4: duplicate key
        ",Пусто,\r\n"                   # row 5: empty text
        "/x,Лишнее,Текст,ещё\r\n"       # row 6: too many fields
    )
    assert [n for n, _ in errs] == [3, 4, 5, 6]
    assert "one word" in errs[0][1] and "already used in row 2" in errs[1][1]
    assert "text is empty" in errs[2][1] and "expected 3 fields, got 4" in errs[3][1]
    long_text = "x" * 4001
    assert "longer than 4000" in _errors(f"text\r\n{long_text}\r\n")[0][1]
