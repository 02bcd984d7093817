"""The per-site profanity setting applied to visitor messages (issue 17): ``flag`` marks them for
operators, ``mask`` also masks the bad words in the operators' view (live frame, history, list
preview); the visitor's own copy and the stored text never change; ``off`` checks nothing."""
from __future__ import annotations

from datetime import timedelta

import pytest

from frontdesk import events as ev
from frontdesk.actions import conversations, operators, sites, visitors
from frontdesk.actions.errors import ActionError
from frontdesk.actions.identity import OperatorRef, SiteRef
from frontdesk.events.audience import operator_frame, visitor_frame
from tests.support import wait_for

RUDE = "Ну вы и мудаки, где заказ?"


async def _setup(rt, mode: str):
    async with rt.sessions() as session, session.begin():
        site = SiteRef.of(await sites.add_site(session, name="Shop", widget={"profanity": mode}))
        anna = OperatorRef.of(await operators.add_operator(session, email="a@example.com", name="Анна",
                                                           password="correct horse"))
    published: list[ev.Event] = []
    publish = rt.publish

    async def recording(*events) -> None:
        published.extend(events)
        await publish(*events)

    rt.publish = recording
    visitor, _ = await visitors.identify_visitor(rt, site, None)
    return site, anna, visitor, published


async def _created(published: list[ev.Event], n: int) -> list[ev.Event]:
    """The first n message.created events (the writer answers the sender first, then publishes)."""
    def created() -> list[ev.Event] | None:
        found = [e for e in published if e.name == ev.MESSAGE_CREATED]
        return found if len(found) >= n else None

    return await wait_for(created, 10, what=f"{n} message.created published")


async def _send(rt, site, visitor, client_id: str, text: str) -> dict:
    return await conversations.send_visitor_message(rt, visitor, client_id, text,
                                                    profanity=sites.profanity_mode(site.widget))


async def test_mask_masks_the_operators_view_only(rt):
    site, anna, visitor, published = await _setup(rt, "mask")
    ack = await _send(rt, site, visitor, "c1", RUDE)
    clean = await _send(rt, site, visitor, "c2", "Спасибо, жду")
    assert ack["text"] == RUDE and "flagged" not in ack  # the visitor's own copy
    created = await _created(published, 2)
    to_operator = operator_frame(created[0])["message"]
    assert to_operator["flagged"] is True and "мудаки" not in to_operator["text"] and to_operator["text"].startswith("Ну вы и м")
    assert len(to_operator["text"]) == len(RUDE)
    assert visitor_frame(created[0])["message"]["text"] == RUDE
    assert "flagged" not in operator_frame(created[1])["message"]
    cid = ack["conversation_id"]
    history = (await conversations.operator_messages(rt, anna, cid, 0, 100))["messages"]
    assert [m.get("flagged", False) for m in history] == [True, False]
    assert history[0]["text"] == to_operator["text"]
    mine = (await conversations.visitor_messages(rt, visitor, cid, 0, 100))["messages"]
    assert mine[0]["text"] == RUDE and clean["text"] == "Спасибо, жду"
    # a reconnecting operator's replay, the hub's gap filling and the broker catch-up: the same view
    replay = (await conversations.resume(rt, anna, {cid: 0}))[0].messages
    assert replay[0]["flagged"] and replay[0]["text"] == to_operator["text"]
    visitor_replay = (await conversations.resume(rt, visitor, {cid: 0}))[0].messages
    assert visitor_replay[0]["text"] == RUDE and "flagged" not in visitor_replay[0]
    filled = await conversations.message_events(rt, cid, 0, 2)
    assert operator_frame(filled[0])["message"]["text"] == to_operator["text"]
    assert visitor_frame(filled[0])["message"]["text"] == RUDE
    caught_up = await conversations.events_since(rt, rt.clock() - timedelta(minutes=1))
    assert caught_up is not None and operator_frame(caught_up[0])["message"]["flagged"]
    # the list preview of a conversation whose last message is rude is masked too
    await _send(rt, site, visitor, "c3", "мудаки")
    listed = await conversations.get_for_operator(rt, anna, cid)
    assert listed["last_message"]["text"] == "м*****"


async def test_flag_marks_without_changing_the_text(rt):
    site, anna, visitor, published = await _setup(rt, "flag")
    ack = await _send(rt, site, visitor, "c1", RUDE)
    created = await _created(published, 1)
    assert operator_frame(created[0])["message"] == {**ack, "flagged": True}
    history = (await conversations.operator_messages(rt, anna, ack["conversation_id"], 0, 100))["messages"]
    assert history[0]["text"] == RUDE and history[0]["flagged"] is True


async def test_off_checks_nothing_and_innocent_words_pass(rt):
    site, anna, visitor, published = await _setup(rt, "off")
    ack = await _send(rt, site, visitor, "c1", RUDE)
    created = await _created(published, 1)
    assert "operator_message" not in created[0].payload
    assert "flagged" not in operator_frame(created[0])["message"]
    history = (await conversations.operator_messages(rt, anna, ack["conversation_id"], 0, 100))["messages"]
    assert history[0]["text"] == RUDE and "flagged" not in history[0]


async def test_innocent_words_are_not_flagged(rt):
    site, anna, visitor, _ = await _setup(rt, "mask")
    text = "Оскорблять не хочу: корабля нет, сабля сломана, рубля не хватает, страхуй груз"
    ack = await _send(rt, site, visitor, "c1", text)
    history = (await conversations.operator_messages(rt, anna, ack["conversation_id"], 0, 100))["messages"]
    assert history[0]["text"] == text and "flagged" not in history[0]


@pytest.mark.parametrize("value", ["on", "", 1, None])
async def test_the_setting_takes_off_flag_or_mask_only(rt, value):
    async with rt.sessions() as session, session.begin():
        with pytest.raises(ActionError):
            await sites.add_site(session, name="Shop", widget={"profanity": value})


async def test_the_setting_is_not_in_the_public_widget_config(rt):
    site, *_ = await _setup(rt, "mask")
    config = await visitors.widget_config(rt, site)
    assert "profanity" not in config["widget"]
