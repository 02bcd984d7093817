"""Quick phrases wired into the product (issue 9): storage, rights, search with the cached index,
variables from the dialog, usage counts, Alt+digit bindings, CSV round-trip; and the spell-check
dictionaries. In process, on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest

from frontdesk.actions import ActionError, conversations, operators, phrases, sites, spelling, visitors
from frontdesk.actions.identity import OperatorRef, SiteRef
from frontdesk.models import Visitor


async def _world(rt):
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Ромашка"))
        other = SiteRef.of(await sites.add_site(session, name="Чужой"))
        admin = OperatorRef.of(await operators.add_operator(session, email="admin@example.com", name="Ирина",
                                                            password="correct horse", admin=True))
        op = OperatorRef.of(await operators.add_operator(session, email="anna@example.com", name="Анна",
                                                         password="correct horse", site_ids=[site.id]))
    visitor, _ = await visitors.identify_visitor(rt, site, None, lang="ru")
    async with rt.sessions() as session, session.begin():
        v = await session.get(Visitor, visitor.id)
        v.name, v.page_title = "Пётр <b>", "Кронштейн XR-500"
    cid = (await conversations.send_visitor_message(rt, visitor, "c-1", "Сколько стоит доставка?"))["conversation_id"]
    return site, other, admin, op, cid


async def test_phrases_crud_rights_search_fill_usage_and_hotkeys(rt):
    site, other, admin, op, cid = await _world(rt)
    shared = await phrases.create_phrase(rt, admin, {"key": "delivery", "title": "Доставка курьером",
                                                     "text": "{visitor_name}, доставка по городу — 300 ₽. {operator_name}, {site_name}",
                                                     "group": "Доставка"}, "site", site.id)
    assert shared["key"] == "/delivery" and shared["scope"] == "site"
    mine = await phrases.create_phrase(rt, op, {"key": "/hi", "title": "Приветствие",
                                                "text": "Здравствуйте, {visitor_name}! Вы смотрите «{page_title}»."})
    await phrases.create_phrase(rt, admin, {"title": "Чужое", "text": "другой сайт"}, "site", other.id)
    # an operator reads shared phrases but does not edit them, nor a site it is not on
    with pytest.raises(ActionError) as e:
        await phrases.update_phrase(rt, op, shared["id"], {"text": "x"})
    assert e.value.code == "forbidden"
    with pytest.raises(ActionError) as e:
        await phrases.create_phrase(rt, op, {"text": "x"}, "site", other.id)
    assert e.value.code == "not_found"
    with pytest.raises(ActionError) as e:
        await phrases.update_phrase(rt, admin, mine["id"], {"text": "x"})  # personal: nobody else's
    assert e.value.code == "not_found"
    with pytest.raises(ActionError):
        await phrases.create_phrase(rt, op, {"key": "два слова", "text": "x"})
    listed = await phrases.list_phrases(rt, op)
    assert {p["title"] for p in listed["phrases"]} == {"Доставка курьером", "Приветствие"}

    found = await phrases.search(rt, op, cid, "/дост")
    assert [p["id"] for p in found][:1] == [shared["id"]]
    assert found[0]["filled"] == "Пётр <b>, доставка по городу — 300 ₽. Анна, Ромашка"  # plain text: escaped on display
    assert (await phrases.search(rt, op, cid, "доставке"))[0]["id"] == shared["id"]  # word forms
    assert await phrases.search(rt, op, cid, "пицца") == []
    hi = await phrases.search(rt, op, cid, "/hi")
    assert hi[0]["filled"] == "Здравствуйте, Пётр <b>! Вы смотрите «Кронштейн XR-500»."

    # edits are seen by the next search (the cached index is rebuilt)
    await phrases.update_phrase(rt, op, mine["id"], {"key": "/hello", "title": "Приветствие", "text": "Добрый день!"})
    assert (await phrases.search(rt, op, cid, "/hello"))[0]["filled"] == "Добрый день!"
    assert all(p["key"] != "/hi" for p in await phrases.search(rt, op, cid, "/hi"))

    # usage: the most used comes first on an empty query
    used = await phrases.use_phrase(rt, op, shared["id"], cid)
    await phrases.use_phrase(rt, op, shared["id"], cid)
    assert used["text"].startswith("Пётр <b>, доставка")
    assert (await phrases.search(rt, op, cid, ""))[0] == {**(await phrases.search(rt, op, cid, ""))[0], "id": shared["id"], "uses": 2}

    # hotkeys
    await phrases.set_hotkey(rt, op, 1, mine["id"])
    await phrases.set_hotkey(rt, op, 2, mine["id"])  # one digit per phrase: moves
    assert await phrases.hotkey_phrase(rt, op, 1) is None and await phrases.hotkey_phrase(rt, op, 2) == mine["id"]
    listed = {p["id"]: p for p in (await phrases.list_phrases(rt, op))["phrases"]}
    assert listed[mine["id"]]["hotkey"] == 2 and listed[shared["id"]]["uses"] == 2
    with pytest.raises(ActionError):
        await phrases.set_hotkey(rt, op, 10, mine["id"])

    await phrases.delete_phrase(rt, op, mine["id"])
    assert await phrases.hotkey_phrase(rt, op, 2) is None


async def test_csv_export_import_round_trips(rt):
    site, other, admin, op, cid = await _world(rt)
    tricky = [
        {"key": "/a", "title": "Запятые, и \"кавычки\"", "text": "Строка 1\nСтрока 2, с запятой; и «ёлочками»", "group": "Г"},
        {"key": "", "title": "", "text": "Only text", "group": ""},
    ]
    for t in tricky:
        await phrases.create_phrase(rt, op, t)
    exported = await phrases.export_csv(rt, op, "personal")
    assert exported.startswith("\ufeffid,key,title,text,group\r\n")
    again = await phrases.import_csv(rt, op, exported.encode("utf-8"), "personal")
    assert again == {"created": 0, "updated": 0, "unchanged": 2}  # an export imported again changes nothing
    assert await phrases.export_csv(rt, op, "personal") == exported
    # into another owner: all new, same contents
    created = await phrases.import_csv(rt, admin, exported.encode("utf-8"), "site", site.id)
    assert created["created"] == 2
    site_csv = await phrases.export_csv(rt, admin, "site", site.id)
    strip = lambda csv: [line.split(",", 1)[1] for line in csv.splitlines()[1:]]
    assert strip(site_csv) == strip(exported)
    with pytest.raises(ActionError) as e:
        await phrases.import_csv(rt, op, b"title\r\nno text column\r\n", "personal")
    assert e.value.code == "invalid_input" and "text" in e.value.message


async def test_spell_dictionaries_personal_and_site(rt):
    site, other, admin, op, cid = await _world(rt)
    w = await spelling.add_word(rt, op, "Ромашкин")
    assert w["scope"] == "personal"
    with pytest.raises(ActionError) as e:
        await spelling.add_word(rt, op, "XRoom", "site", site.id)
    assert e.value.code == "forbidden"
    await spelling.add_word(rt, admin, "Ромашкино", "site", site.id)
    await spelling.add_word(rt, admin, "Ромашкино", "site", site.id)  # once
    words = {(x["word"], x["scope"]) for x in (await spelling.list_words(rt, op))["words"]}
    assert words == {("Ромашкин", "personal"), ("Ромашкино", "site")}
    with pytest.raises(ActionError):
        await spelling.add_word(rt, op, "два слова")
    await spelling.remove_word(rt, op, w["id"])
    assert [x["word"] for x in (await spelling.list_words(rt, op))["words"]] == ["Ромашкино"]


async def test_spell_check_answers_not_ready_until_the_dictionaries_are_loaded(rt, monkeypatch):
    site, other, admin, op, cid = await _world(rt)
    monkeypatch.setattr(spelling.spelling, "is_loaded", lambda: False)
    assert await spelling.check(rt, op, "пожалуста", cid) == {"ready": False, "issues": []}
    with pytest.raises(ActionError):
        await spelling.check(rt, op, "x" * (spelling.MAX_CHECK_CHARS + 1))
