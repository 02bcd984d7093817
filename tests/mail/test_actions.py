"""Offline mode at the action level, in process, on SQLite and PostgreSQL, with a hand-moved
clock: working hours, availability, the holding message, contacts, the outbox's claim/lease/backoff."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from frontdesk import events as ev
from frontdesk.actions import (
    ActionError,
    contacts,
    conversations,
    hours,
    no_reply,
    offline_form,
    operators,
    sites,
    visitors,
)
from frontdesk.actions.identity import OperatorRef, SiteRef
from frontdesk.actions.writer import PendingMessage
from frontdesk.mail import sender as mail_sender
from frontdesk.mail.outbox import queue_email
from frontdesk.models import Conversation, Message, OutboxEmail, Site, Visitor

MSK = timezone(timedelta(hours=3))
WEEKDAYS_9_TO_18 = {"timezone": "Europe/Moscow",
                    "days": {d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}}


async def _site(rt, **kw):
    async with rt.sessions() as session, session.begin():
        return SiteRef.of(await sites.add_site(session, name=kw.pop("name", "Магазин"), **kw))


async def _operator(rt, admin: bool = False):
    async with rt.sessions() as session, session.begin():
        return OperatorRef.of(await operators.add_operator(session, email=f"op{admin}@example.com", name="Анна",
                                                           password="correct horse", admin=admin))


async def _visitor(rt, site, lang: str = "ru"):
    visitor, token = await visitors.identify_visitor(rt, site, None, lang=lang)
    return visitor


# --- working hours -------------------------------------------------------------------

def test_check_hours_normalises_and_refuses_bad_input():
    assert hours.check_hours(None) is None
    got = hours.check_hours({"timezone": "Europe/Moscow",
                               "days": {"tue": [["14:00", "24:00"], ["09:00", "13:00"]], "mon": []}})
    assert got == {"timezone": "Europe/Moscow", "days": {"tue": [["09:00", "13:00"], ["14:00", "24:00"]]}}
    bad = [
        "24/7",
        {"timezone": "Mars/Olympus", "days": {}},
        {"timezone": "../../etc/passwd", "days": {}},
        {"timezone": "Europe/Moscow", "days": {"monday": [["09:00", "18:00"]]}},
        {"timezone": "Europe/Moscow", "days": {"mon": [["9:00", "18:00"]]}},
        {"timezone": "Europe/Moscow", "days": {"mon": [["09:00", "25:00"]]}},
        {"timezone": "Europe/Moscow", "days": {"mon": [["18:00", "09:00"]]}},
        {"timezone": "Europe/Moscow", "days": {"mon": [["09:00", "13:00"], ["12:00", "18:00"]]}},
        {"timezone": "Europe/Moscow", "days": {"mon": [["09:00"]]}},
        {"timezone": "Europe/Moscow", "days": {"mon": [["09:00", "18:00"]] * 9}},
        {"timezone": "Europe/Moscow", "days": {}, "holidays": []},
    ]
    for value in bad:
        with pytest.raises(ActionError) as caught:
            hours.check_hours(value)
        assert (caught.value.code, caught.value.status) == ("invalid_input", 422), value


def test_within_hours_uses_the_sites_time_zone_and_weekday():
    monday_0859_msk = datetime(2026, 11, 23, 8, 59, tzinfo=MSK)  # 2026-11-23 is a Monday
    assert not hours.within_hours(WEEKDAYS_9_TO_18, monday_0859_msk)
    assert hours.within_hours(WEEKDAYS_9_TO_18, monday_0859_msk + timedelta(minutes=1))
    assert hours.within_hours(WEEKDAYS_9_TO_18, datetime(2026, 11, 23, 14, 59, tzinfo=UTC))  # 17:59 MSK
    assert not hours.within_hours(WEEKDAYS_9_TO_18, datetime(2026, 11, 23, 15, 0, tzinfo=UTC))  # 18:00
    assert not hours.within_hours(WEEKDAYS_9_TO_18, datetime(2026, 11, 28, 12, 0, tzinfo=MSK))  # Saturday
    # Friday 23:30 in New York is already Saturday in Moscow, and Monday 01:00 in Moscow is Sunday in New York
    ny = {"timezone": "America/New_York", "days": {"fri": [["00:00", "24:00"]]}}
    assert hours.within_hours(ny, datetime(2026, 11, 28, 4, 30, tzinfo=UTC))
    assert hours.within_hours(None, monday_0859_msk)


async def test_availability_follows_the_clock_and_the_operators(rt):
    site = await _site(rt)
    op = await _operator(rt)
    await hours.set_site_hours(rt, site.id, WEEKDAYS_9_TO_18)
    await operators.set_status(rt, op.id, "online")
    async with rt.sessions() as session:
        site = await session.get(Site, site.id)
        before = datetime(2026, 11, 23, 8, 59, 30, tzinfo=MSK)
        assert await hours.site_availability(session, site, before) == {
            "operators_online": True, "within_hours": False, "available": False,
            "next_open_at": "2026-11-23T06:00:00.000000Z"}  # 09:00 Moscow
        assert await hours.site_availability(session, site, before + timedelta(seconds=30)) == {
            "operators_online": True, "within_hours": True, "available": True, "next_open_at": None}

    watcher = hours.HoursWatcher()
    assert await watcher.tick(rt, before) == []  # the first look only learns the state
    assert await watcher.tick(rt, before + timedelta(seconds=10)) == []
    [opened] = await watcher.tick(rt, before + timedelta(seconds=30))
    assert (opened.name, opened.site_id) == (ev.SITE_AVAILABILITY, site.id)
    assert opened.payload == {"operators_online": True, "within_hours": True, "available": True,
                              "next_open_at": None}
    assert await watcher.tick(rt, before + timedelta(minutes=5)) == []
    [closed] = await watcher.tick(rt, datetime(2026, 11, 23, 18, 0, tzinfo=MSK))
    assert closed.payload["available"] is False and closed.payload["within_hours"] is False

    # operators going offline: the event set_status publishes carries the full availability
    rt.clock.now = datetime(2026, 11, 23, 12, 0, tzinfo=MSK)
    got = await hours.availability_events(rt, {site.id: False})
    assert got[0].payload == {"operators_online": False, "within_hours": True, "available": False,
                              "next_open_at": None}


def test_next_open_at_is_the_next_start_of_the_working_hours():
    at = hours.next_open_at
    assert at(None, datetime(2026, 11, 28, 12, 0, tzinfo=MSK)) is None  # always open
    assert at(WEEKDAYS_9_TO_18, datetime(2026, 11, 23, 12, 0, tzinfo=MSK)) is None  # open now
    # Monday before opening → today 09:00 Moscow; Friday evening and Saturday → Monday 09:00
    assert at(WEEKDAYS_9_TO_18, datetime(2026, 11, 23, 7, 0, tzinfo=MSK)) == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)
    assert at(WEEKDAYS_9_TO_18, datetime(2026, 11, 27, 18, 0, tzinfo=MSK)) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    assert at(WEEKDAYS_9_TO_18, datetime(2026, 11, 28, 12, 0, tzinfo=MSK)) == datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    # a night shift: the second interval of the day counts; no intervals at all = never opens
    night = {"timezone": "Europe/Moscow", "days": {"mon": [["09:00", "12:00"], ["22:00", "24:00"]]}}
    assert at(night, datetime(2026, 11, 23, 13, 0, tzinfo=MSK)) == datetime(2026, 11, 23, 19, 0, tzinfo=UTC)
    assert at({"timezone": "Europe/Moscow", "days": {}}, datetime(2026, 11, 23, 13, 0, tzinfo=MSK)) is None


async def test_hours_watcher_sees_a_boundary_that_passes_right_after_the_hours_were_set(rt):
    site = await _site(rt)
    watcher = hours.HoursWatcher()
    t = datetime(2026, 11, 23, 8, 59, 50, tzinfo=MSK)
    assert await watcher.tick(rt, t) == []
    rt.clock.now = t + timedelta(seconds=5)
    set_ = await hours.set_site_hours(rt, site.id, WEEKDAYS_9_TO_18)  # announced by the API as closed
    assert set_["availability"]["within_hours"] is False
    [opened] = await watcher.tick(rt, t + timedelta(seconds=20))  # 09:00:10: the next tick announces the opening
    assert (opened.site_id, opened.payload["within_hours"]) == (site.id, True)


async def test_set_site_hours_refuses_bad_hours_and_unknown_sites(rt):
    site = await _site(rt)
    with pytest.raises(ActionError) as caught:
        await hours.set_site_hours(rt, site.id, {"timezone": "Nowhere/Land", "days": {}})
    assert caught.value.code == "invalid_input"
    with pytest.raises(ActionError) as caught:
        await hours.set_site_hours(rt, site.id + 100, None)
    assert caught.value.status == 404
    result = await hours.set_site_hours(rt, site.id, None)
    assert result["hours"] is None and result["availability"]["within_hours"] is True


# --- the holding message ---------------------------------------------------------------

async def _system_messages(rt, cid: int) -> list[Message]:
    async with rt.sessions() as session:
        return list((await session.execute(select(Message).where(
            Message.conversation_id == cid, Message.kind == "system").order_by(Message.seq))).scalars())


async def test_an_unanswered_visitor_gets_one_holding_message_asking_for_contacts(rt):
    site = await _site(rt)
    visitor = await _visitor(rt, site, lang="ru-RU")
    t0 = rt.clock.now
    first = await conversations.send_visitor_message(rt, visitor, "c-1", "Есть доставка в Казань?")
    cid = first["conversation_id"]
    rt.clock.advance(30)
    await conversations.send_visitor_message(rt, visitor, "c-2", "Алло?")

    assert await no_reply.check_no_reply(rt, t0 + timedelta(seconds=59)) == 0
    assert await no_reply.check_no_reply(rt, t0 + timedelta(seconds=61)) == 1  # timed from the first message
    [held] = await _system_messages(rt, cid)
    assert held.seq == 3 and held.sender == "system" and held.client_id == f"ask_contacts:{cid}"
    assert "e-mail или телефон" in held.text
    assert await no_reply.check_no_reply(rt, t0 + timedelta(hours=1)) == 0  # once per conversation
    assert len(await _system_messages(rt, cid)) == 1


async def test_no_holding_message_once_an_operator_answered_and_english_without_asking_when_contacts_known(rt):
    site = await _site(rt)
    op = await _operator(rt, admin=True)
    answered = await _visitor(rt, site)
    m = await conversations.send_visitor_message(rt, answered, "c-1", "Hi")
    await conversations.send_operator_message(rt, op, m["conversation_id"], "o-1", "Hello!")

    known = await _visitor(rt, site, lang="en-GB")
    async with rt.sessions() as session, session.begin():
        (await session.get(Visitor, known.id)).email = "known@example.com"
    k = await conversations.send_visitor_message(rt, known, "c-1", "Where is my order?")

    assert await no_reply.check_no_reply(rt, rt.clock.now + timedelta(minutes=5)) == 1
    assert await _system_messages(rt, m["conversation_id"]) == []
    [held] = await _system_messages(rt, k["conversation_id"])
    assert held.client_id == f"hold:{k['conversation_id']}" and held.text.startswith("Thank you")
    assert "e-mail" not in held.text


async def test_holding_message_is_off_when_no_reply_seconds_is_zero(rt):
    site = await _site(rt)
    visitor = await _visitor(rt, site)
    await conversations.send_visitor_message(rt, visitor, "c-1", "?")
    rt.settings.no_reply_seconds = 0
    assert await no_reply.check_no_reply(rt, rt.clock.now + timedelta(days=1)) == 0


# --- contacts ------------------------------------------------------------------------

async def test_contacts_are_validated_and_stored_on_the_visitor(rt):
    site = await _site(rt)
    visitor = await _visitor(rt, site)
    m = await conversations.send_visitor_message(rt, visitor, "c-1", "Перезвоните мне")
    for kwargs, code in (({}, "invalid_input"), ({"name": "Иван"}, "invalid_input"),
                         ({"email": "ivan@"}, "invalid_email"), ({"email": "a@b.ru\r\nBcc: x@y.ru"}, "invalid_email"),
                         ({"phone": "call me"}, "invalid_phone"), ({"email": "a@b.ru", "name": "I\nvan"}, "invalid_name")):
        with pytest.raises(ActionError) as caught:
            await contacts.save_contacts(rt, visitor, **kwargs)
        assert caught.value.code == code, kwargs

    saved = await contacts.save_contacts(rt, visitor, email=" Ivan@Example.COM ", phone="+7 (912) 345-67-89",
                                        name="Иван")
    assert saved == {"visitor": {"name": "Иван", "email": "ivan@example.com", "phone": "+7 (912) 345-67-89"},
                     "conversation_id": m["conversation_id"], "is_offline": True}
    async with rt.sessions() as session:
        row = await session.get(Visitor, visitor.id)
        conv = await session.get(Conversation, m["conversation_id"])
    assert (row.name, row.email, row.phone) == ("Иван", "ivan@example.com", "+7 (912) 345-67-89")
    assert conv.is_offline  # waiting for an answer + an e-mail: the reply will be e-mailed too


# --- the offline form and the reply e-mail, queued atomically ----------------------------

async def _outbox(rt) -> list[OutboxEmail]:
    async with rt.sessions() as session:
        return list((await session.execute(select(OutboxEmail).order_by(OutboxEmail.id))).scalars())


async def test_offline_message_queues_one_email_per_address_and_a_retry_queues_nothing(rt):
    site = await _site(rt, notify=["a@shop.example", "b@shop.example"])
    first = await offline_form.submit_offline_message(
        rt, site, token=None, name="Иван", email="ivan@example.com", message="Нужен счёт", client_id="f-1",
        public_base="https://chat.example")
    assert first["emails_queued"] == 2 and not first["duplicate"] and first["message"]["seq"] == 1
    rows = await _outbox(rt)
    assert [r.to_addr for r in rows] == ["a@shop.example", "b@shop.example"]
    assert all(r.conversation_id == first["conversation_id"] and r.message_id == first["message"]["id"] for r in rows)
    assert f"https://chat.example/panel/#/conversations/{first['conversation_id']}" in rows[0].text
    assert rows[0].header_message_id != rows[1].header_message_id

    again = await offline_form.submit_offline_message(
        rt, site, token=first["visitor_token"], name="Иван", email="ivan@example.com", message="Нужен счёт",
        client_id="f-1", public_base="https://chat.example")
    assert again["duplicate"] and again["message"]["id"] == first["message"]["id"]
    assert len(await _outbox(rt)) == 2


async def test_a_message_that_fails_to_store_queues_no_email(rt):
    site = await _site(rt)
    visitor = await _visitor(rt, site)
    cid = await conversations.open_conversation_id(rt, visitor)

    async def queue_then_fail(session, stored):
        queue_email(session, rt.settings, now=rt.clock(), site_id=site.id, kind="offline_notify",
                    to_addr="a@shop.example", subject="s", text="t", html="h", conversation_id=cid)
        await session.flush()
        raise RuntimeError("the disk is full")

    with pytest.raises(ActionError):
        await rt.writer.store(PendingMessage(conversation_id=cid, site_id=site.id, visitor_id=visitor.id,
                                             kind="visitor", sender=f"v{visitor.id}", text="x", client_id="c-1",
                                             in_transaction=queue_then_fail))
    assert await _outbox(rt) == []
    async with rt.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Message))).scalar_one() == 0


async def test_operator_reply_in_an_offline_conversation_queues_an_email_to_the_visitor(rt):
    site = await _site(rt)
    op = await _operator(rt, admin=True)
    sent = await offline_form.submit_offline_message(
        rt, site, token=None, name="Иван", email="ivan@example.com", message="Есть в наличии?",
        public_base="https://chat.example")
    cid = sent["conversation_id"]
    await conversations.send_operator_message(rt, op, cid, "o-1", "Да, есть <b>3 шт.</b>")
    await conversations.send_operator_message(rt, op, cid, "o-2", "внутренняя заметка", kind="note")
    [reply] = await _outbox(rt)  # the site has no notify addresses; the note is never e-mailed
    assert (reply.kind, reply.to_addr, reply.to_name) == ("operator_reply", "ivan@example.com", "Иван")
    assert "Да, есть <b>3 шт.</b>" in reply.text and "&lt;b&gt;3 шт.&lt;/b&gt;" in reply.html
    assert "> Есть в наличии?" in reply.text

    # a live conversation's reply is not e-mailed
    live = await _visitor(rt, site)
    m = await conversations.send_visitor_message(rt, live, "c-1", "Привет")
    await conversations.send_operator_message(rt, op, m["conversation_id"], "o-3", "Привет!")
    assert len(await _outbox(rt)) == 1


# --- the outbox: claim, lease, backoff, give up ----------------------------------------

async def test_outbox_claims_are_atomic_leased_and_backed_off(rt):
    site = await _site(rt)
    async with rt.sessions() as session, session.begin():
        queue_email(session, rt.settings, now=rt.clock(), site_id=site.id, kind="offline_notify",
                    to_addr="a@shop.example", subject="Тема", text="t", html="h")
    now = rt.clock()
    one, two = await mail_sender.claim_due(rt, now), await mail_sender.claim_due(rt, now)
    assert [r.attempts for r in one] == [1] and two == []  # claimed once; the lease keeps others off

    # a crash while sending: after the lease any sender takes it again
    lease = mail_sender.lease_seconds(rt.settings)
    assert await mail_sender.claim_due(rt, now + timedelta(seconds=lease - 1)) == []
    [again] = await mail_sender.claim_due(rt, now + timedelta(seconds=lease + 1))
    assert again.attempts == 2

    rt.clock.now = now + timedelta(seconds=lease + 1)
    assert await mail_sender.mark_failed(rt, again, "SMTPConnectError: refused", permanent=False) == "queued"
    async with rt.sessions() as session:
        row = await session.get(OutboxEmail, again.id)
    delay = (row.next_attempt_at - rt.clock.now).total_seconds()
    assert 0.8 * 10 <= delay <= 1.2 * 10  # base 5 s doubled for the 2nd failure, ±20%
    assert row.last_error == "SMTPConnectError: refused"

    [third] = await mail_sender.claim_due(rt, rt.clock.now + timedelta(seconds=13))
    assert third.attempts == 3  # = FRONTDESK_MAIL_MAX_ATTEMPTS here
    assert await mail_sender.mark_failed(rt, third, "still refused", permanent=False) == "failed"
    assert await mail_sender.claim_due(rt, rt.clock.now + timedelta(days=1)) == []


def test_retry_delay_doubles_and_is_capped():
    from frontdesk.settings import Settings

    s = Settings(mail_retry_base=5, mail_retry_max=900)
    for attempts, nominal in ((1, 5), (2, 10), (3, 20), (6, 160), (9, 900), (30, 900)):
        for _ in range(20):
            d = mail_sender.retry_delay(s, attempts)
            assert 0.8 * nominal <= d <= min(900, 1.2 * nominal)
