"""One contract suite, every broker, real services (the Redis is a throwaway redis-server)."""
import asyncio

import pytest

from frontdesk.broker import broker_from_url
from frontdesk.events import Event


@pytest.fixture(params=["memory", "redis"])
async def broker(request):
    url = "memory://" if request.param == "memory" else request.getfixturevalue("redis_server").url
    b = broker_from_url(url)
    await b.connect()
    yield b
    await b.disconnect()


async def _subscribe(b):
    """Start consuming; returns the iterator once subscribed (its first item is None)."""
    it = b.messages().__aiter__()
    assert await asyncio.wait_for(it.__anext__(), 5) is None
    return it


async def _collect(it, n: int, timeout: float = 5.0) -> list:
    out = []

    async def run() -> None:
        while len(out) < n:
            out.append(await it.__anext__())

    await asyncio.wait_for(run(), timeout)
    return out


def _event(i: int) -> Event:
    return Event("message.created", 1, {"message": {"seq": i, "text": f"m{i} ✓ привет"}}, conversation_id=7)


async def test_publish_reaches_subscriber_in_order(broker):
    it = await _subscribe(broker)
    for i in range(50):
        await broker.publish(_event(i))
    got = await _collect(it, 50)
    assert got == [_event(i) for i in range(50)]


async def test_a_batch_published_at_once_arrives_whole_and_in_order(broker):
    """``publish_many`` (a writer batch; Redis: one pipeline) keeps the order, also between batches."""
    it = await _subscribe(broker)
    await broker.publish_many([_event(i) for i in range(40)])
    await broker.publish_many([_event(40)])
    await broker.publish_many([_event(i) for i in range(41, 60)])
    assert await _collect(it, 60) == [_event(i) for i in range(60)]


async def test_memory_broker_passes_the_event_object_itself():
    b = broker_from_url("memory://")
    await b.connect()
    it = await _subscribe(b)
    e = _event(1)
    await b.publish(e)
    [got] = await _collect(it, 1)
    assert got is e  # nothing encoded or decoded on one node
    await b.disconnect()


async def test_two_redis_nodes_see_each_others_events(redis_server):
    one, two = broker_from_url(redis_server.url), broker_from_url(redis_server.url)
    its = []
    for b in (one, two):
        await b.connect()
        its.append(await _subscribe(b))
    await one.publish(_event(3))
    assert await _collect(its[1], 1) == [_event(3)]
    assert await _collect(its[0], 1) == [_event(3)]
    for b in (one, two):
        await b.disconnect()


async def test_a_lost_redis_link_raises_broker_unavailable_and_a_new_subscription_works(tmp_path):
    from frontdesk.broker.base import BrokerUnavailable
    from tests.support import RedisServer

    server = RedisServer().start()
    try:
        b = broker_from_url(server.url)
        await b.connect()
        it = await _subscribe(b)
        server.stop()
        with pytest.raises(BrokerUnavailable):
            await asyncio.wait_for(it.__anext__(), 15)
        with pytest.raises(BrokerUnavailable):  # still down: subscribing again says so, it does not hang
            await asyncio.wait_for(b.messages().__anext__(), 15)
        server.start()
        it = await _subscribe(b)
        await b.publish(_event(9))
        assert await _collect(it, 1) == [_event(9)]
        await b.disconnect()
    finally:
        server.stop()


def test_unknown_broker_url_is_refused():
    with pytest.raises(ValueError, match="unsupported broker URL"):
        broker_from_url("kafka://x")
