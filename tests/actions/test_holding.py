"""The no-reply holding message (issue 9): it never becomes the conversation's preview (the list
and the alerts keep the visitor's question), and its wording says what is true — an operator of
the site is online ("will answer shortly") or nobody is."""
from __future__ import annotations

from datetime import timedelta

from frontdesk.actions import conversations, no_reply, operators, sites, visitors
from frontdesk.actions.identity import OperatorRef, SiteRef


async def _setup(rt, lang="ru"):
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Магазин"))
        op = OperatorRef.of(await operators.add_operator(session, email="anna@example.com", name="Анна",
                                                         password="correct horse"))
    visitor, _ = await visitors.identify_visitor(rt, site, None, lang=lang)
    return site, op, visitor


async def _held_text(rt, op, cid) -> str:
    page = await conversations.operator_messages(rt, op, cid, "0", "100")
    [held] = [m for m in page["messages"] if m["kind"] == "system"]
    return held["text"]


async def test_holding_message_is_never_the_preview_nor_the_offer_text(rt):
    site, op, visitor = await _setup(rt)
    first = await conversations.send_visitor_message(rt, visitor, "c-1", "Есть доставка в Казань?")
    cid = first["conversation_id"]
    assert await no_reply.check_no_reply(rt, rt.clock.now + timedelta(minutes=5)) == 1
    [listed] = await conversations.list_for_operator(rt, op)
    assert listed["last_seq"] == 2  # the holding message is stored and counted …
    assert listed["last_message"] == {"seq": 1, "kind": "visitor", "text": "Есть доставка в Казань?",
                                      "author_id": None}  # … not shown
    one = await conversations.get_for_operator(rt, op, cid)  # the shape of conversation.offered / .updated
    assert one["last_message"]["text"] == "Есть доставка в Казань?"
    # an operator's reply after it is the preview again
    await conversations.send_operator_message(rt, op, cid, "o-1", "Да, доставляем")
    [listed] = await conversations.list_for_operator(rt, op)
    assert listed["last_message"]["text"] == "Да, доставляем"


async def test_wording_when_nobody_is_online_asks_for_contacts_and_says_so(rt):
    site, op, visitor = await _setup(rt)
    cid = (await conversations.send_visitor_message(rt, visitor, "c-1", "Алло?"))["conversation_id"]
    assert await no_reply.check_no_reply(rt, rt.clock.now + timedelta(minutes=5)) == 1
    text = await _held_text(rt, op, cid)
    print("\nnobody online:", text)
    assert "нет на связи" in text and "e-mail или телефон" in text
    assert "скоро ответит" not in text and "заняты" not in text


async def test_wording_when_an_operator_is_online_says_the_answer_is_coming(rt):
    site, op, visitor = await _setup(rt)
    await operators.set_status(rt, op.id, "online")
    cid = (await conversations.send_visitor_message(rt, visitor, "c-1", "Алло?"))["conversation_id"]
    assert await no_reply.check_no_reply(rt, rt.clock.now + timedelta(minutes=5)) == 1
    text = await _held_text(rt, op, cid)
    print("\noperator online:", text)
    assert "Оператор скоро ответит" in text and "e-mail или телефон" in text
    assert "заняты" not in text and "нет на связи" not in text


async def test_wording_in_english_with_an_operator_online(rt):
    site, op, visitor = await _setup(rt, lang="en-GB")
    await operators.set_status(rt, op.id, "online")
    cid = (await conversations.send_visitor_message(rt, visitor, "c-1", "Where is my order?"))["conversation_id"]
    assert await no_reply.check_no_reply(rt, rt.clock.now + timedelta(minutes=5)) == 1
    text = await _held_text(rt, op, cid)
    assert text.startswith("Thank you") and "An operator will answer shortly" in text and "e-mail" in text and "busy" not in text
