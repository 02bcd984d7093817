"""Greeting and holding phrases per site and language (issue 9), and the automatic holding line
"Одну минуточку, уточняю…": sent on the assignee's behalf after ``auto_hold_seconds`` of silence once
the operator has taken the chat (off by default), on the controllable clock, once per waiting stretch
even when several nodes check at the same moment."""
from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from frontdesk.actions import conversations, no_reply, operators, sites, visitors
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef, SiteRef


async def _setup(rt, lang="ru", auto_hold=30, online=True):
    async with rt.sessions() as session, session.begin():
        row = await sites.add_site(session, name="Магазин")
        op = OperatorRef.of(await operators.add_operator(session, email="anna@example.com", name="Анна",
                                                         password="correct horse"))
    if auto_hold:
        await sites.update_site(rt, row.id, widget={"auto_hold_seconds": auto_hold})
    async with rt.sessions() as session:
        site = SiteRef.of(await session.get(type(row), row.id))
    if online:
        await operators.set_status(rt, op.id, "online")
    visitor, _ = await visitors.identify_visitor(rt, site, None, lang=lang)
    return site, op, visitor


async def _messages(rt, op, cid) -> list[dict]:
    return (await conversations.operator_messages(rt, op, cid, "0", "100"))["messages"]


async def test_off_by_default(rt):
    site, op, visitor = await _setup(rt, auto_hold=0)
    assert (await sites.get_site(rt, op, site.id))["widget"]["auto_hold_seconds"] == 0
    cid = (await conversations.send_visitor_message(rt, visitor, "c-1", "Здравствуйте"))["conversation_id"]
    await conversations.take_conversation(rt, op, cid)
    rt.clock.advance(3600)
    assert await no_reply.check_auto_hold(rt, rt.clock()) == 0


async def test_sent_after_n_seconds_of_silence_once_and_not_a_reply_nor_the_preview(rt):
    site, op, visitor = await _setup(rt)
    cid = (await conversations.send_visitor_message(rt, visitor, "c-1", "Есть доставка в Казань?"))["conversation_id"]
    await conversations.take_conversation(rt, op, cid)
    rt.clock.advance(29)
    assert await no_reply.check_auto_hold(rt, rt.clock()) == 0  # not yet
    rt.clock.advance(2)
    assert await no_reply.check_auto_hold(rt, rt.clock()) == 1
    rt.clock.advance(600)
    assert await no_reply.check_auto_hold(rt, rt.clock()) == 0  # once per waiting stretch
    [_, line] = await _messages(rt, op, cid)
    print("\nautomatic holding line:", line["text"])
    assert line["kind"] == "operator" and line["text"] == "Одну минуточку, уточняю…"
    assert line["author"]["id"] == op.id and line["client_id"].startswith("autohold:")
    [listed] = await conversations.list_for_operator(rt, op)
    assert listed["last_message"]["text"] == "Есть доставка в Казань?"  # the question stays the preview
    assert listed["first_reply_at"] is None  # the automatic line is not the first reply
    # the operator answers, the visitor asks again: a new stretch, a new line after N s
    await conversations.send_operator_message(rt, op, cid, "o-1", "Да, доставляем")
    await conversations.send_visitor_message(rt, visitor, "c-2", "А сколько стоит?")
    rt.clock.advance(10)
    assert await no_reply.check_auto_hold(rt, rt.clock()) == 0
    rt.clock.advance(25)
    assert await no_reply.check_auto_hold(rt, rt.clock()) == 1
    assert [m["kind"] for m in await _messages(rt, op, cid)] == ["visitor", "operator", "operator", "visitor", "operator"]


async def test_counted_from_the_take_and_only_for_a_taken_chat(rt):
    site, op, visitor = await _setup(rt)
    cid = (await conversations.send_visitor_message(rt, visitor, "c-1", "Алло?"))["conversation_id"]
    rt.clock.advance(300)
    assert await no_reply.check_auto_hold(rt, rt.clock()) == 0  # nobody took it: nothing on anyone's behalf
    await conversations.take_conversation(rt, op, cid)
    rt.clock.advance(10)
    assert await no_reply.check_auto_hold(rt, rt.clock()) == 0  # 310 s waiting, but 10 s since the take
    rt.clock.advance(21)
    assert await no_reply.check_auto_hold(rt, rt.clock()) == 1


async def test_not_on_behalf_of_an_operator_who_is_away(rt):
    site, op, visitor = await _setup(rt)
    cid = (await conversations.send_visitor_message(rt, visitor, "c-1", "Алло?"))["conversation_id"]
    await conversations.take_conversation(rt, op, cid)
    await operators.set_status(rt, op.id, "away")
    rt.clock.advance(60)
    assert await no_reply.check_auto_hold(rt, rt.clock()) == 0
    await operators.set_status(rt, op.id, "online")
    assert await no_reply.check_auto_hold(rt, rt.clock()) == 1


async def test_never_twice_when_nodes_check_at_the_same_moment(rt):
    site, op, visitor = await _setup(rt)
    cids = []
    for i in range(3):
        v, _ = await visitors.identify_visitor(rt, site, None, lang="ru")
        cid = (await conversations.send_visitor_message(rt, v, f"c-{i}", "Вопрос"))["conversation_id"]
        await conversations.take_conversation(rt, op, cid)
        cids.append(cid)
    rt.clock.advance(31)
    counts = await asyncio.gather(*(no_reply.check_auto_hold(rt, rt.clock()) for _ in range(4)))
    assert sum(counts) == 3, counts  # four "nodes", three conversations, one line each
    for cid in cids:
        assert sum(m["client_id"].startswith("autohold:") for m in await _messages(rt, op, cid)
                   if m["client_id"]) == 1


async def test_the_sites_own_phrase_in_the_visitors_language(rt):
    site, op, visitor = await _setup(rt, lang="en-US")
    await sites.update_site(rt, site.id, widget={"texts": {"en": {"auto_hold": "Just a second, checking…"}}})
    cid = (await conversations.send_visitor_message(rt, visitor, "c-1", "Hi"))["conversation_id"]
    await conversations.take_conversation(rt, op, cid)
    rt.clock.advance(31)
    assert await no_reply.check_auto_hold(rt, rt.clock()) == 1
    assert (await _messages(rt, op, cid))[-1]["text"] == "Just a second, checking…"


async def test_holding_phrases_are_editable_and_an_empty_one_falls_back(rt):
    site, op, visitor = await _setup(rt, auto_hold=0)
    w = (await sites.get_site(rt, op, site.id))["widget"]
    assert w["texts"]["ru"]["greeting"] == "Здравствуйте! Чем можем помочь?"
    assert w["texts"]["ru"]["auto_hold"] == "Одну минуточку, уточняю…"
    assert w["texts"]["en"]["auto_hold"] == "One moment, let me check…"
    assert "Оператор скоро ответит" in w["texts"]["ru"]["ask_online"]
    await sites.update_site(rt, site.id, widget={"texts": {"ru": {"ask_online": "Мы уже читаем ваш вопрос!",
                                                                  "ask": "  "}}})
    cid = (await conversations.send_visitor_message(rt, visitor, "c-1", "Алло?"))["conversation_id"]
    assert await no_reply.check_no_reply(rt, rt.clock.now + timedelta(minutes=5)) == 1
    [held] = [m for m in await _messages(rt, op, cid) if m["kind"] == "system"]
    assert held["text"] == "Мы уже читаем ваш вопрос!"  # the site's wording (an operator is online)
    await operators.set_status(rt, op.id, "offline")
    v2, _ = await visitors.identify_visitor(rt, site, None, lang="ru")
    cid2 = (await conversations.send_visitor_message(rt, v2, "c-2", "Алло?"))["conversation_id"]
    assert await no_reply.check_no_reply(rt, rt.clock.now + timedelta(minutes=5)) == 1
    [held] = [m for m in await _messages(rt, op, cid2) if m["kind"] == "system"]
    assert "нет на связи" in held["text"]  # left empty ("  "): the default


async def test_the_widget_config_does_not_carry_the_holding_phrases(rt):
    site, op, visitor = await _setup(rt)
    conf = await visitors.widget_config(rt, site)
    assert conf["widget"]["texts"]["ru"]["greeting"] == "Здравствуйте! Чем можем помочь?"
    for lang in ("ru", "en"):
        assert not {"ask", "ask_online", "hold", "hold_online", "auto_hold"} & set(conf["widget"]["texts"][lang])
    assert "auto_hold_seconds" not in conf["widget"]


@pytest.mark.parametrize("bad", [-1, 3601, 1.5, "30", True, None])
async def test_auto_hold_seconds_is_checked(rt, bad):
    site, op, visitor = await _setup(rt, auto_hold=0, online=False)
    with pytest.raises(ActionError) as err:
        await sites.update_site(rt, site.id, widget={"auto_hold_seconds": bad})
    assert err.value.code == "invalid_input"
