"""One contract suite, every broker, real services (the Redis is a throwaway redis-server)."""
import asyncio

import pytest

from frontdesk.broker import broker_from_url


@pytest.fixture(params=["memory", "redis"])
async def broker(request):
    url = "memory://" if request.param == "memory" else request.getfixturevalue("redis_server").url
    b = broker_from_url(url)
    await b.connect()
    yield b
    await b.disconnect()


async def _collect(b, n: int, timeout: float = 5.0) -> list:
    out = []

    async def run():
        async for item in b.messages():
            out.append(item)
            if len(out) == n:
                return

    await asyncio.wait_for(run(), timeout)
    return out


async def test_publish_reaches_subscriber_in_order(broker):
    await broker.subscribe("ch")
    for i in range(50):
        await broker.publish("ch", f"m{i} ✓ привет")
    got = await _collect(broker, 50)
    assert got == [("ch", f"m{i} ✓ привет") for i in range(50)]


async def test_only_subscribed_channels_are_received(broker):
    await broker.subscribe("a")
    await broker.publish("b", "not for us")
    await broker.publish("a", "for us")
    assert await _collect(broker, 1) == [("a", "for us")]


async def test_unsubscribe_stops_delivery(broker):
    await broker.subscribe("a")
    await broker.subscribe("b")
    await broker.unsubscribe("a")
    await broker.publish("a", "gone")
    await broker.publish("b", "kept")
    assert await _collect(broker, 1) == [("b", "kept")]


async def test_two_redis_nodes_see_each_others_events(redis_server):
    one, two = broker_from_url(redis_server.url), broker_from_url(redis_server.url)
    for b in (one, two):
        await b.connect()
        await b.subscribe("frontdesk.events")
    await one.publish("frontdesk.events", "from node one")
    assert await _collect(two, 1) == [("frontdesk.events", "from node one")]
    assert await _collect(one, 1) == [("frontdesk.events", "from node one")]
    for b in (one, two):
        await b.disconnect()


def test_unknown_broker_url_is_refused():
    with pytest.raises(ValueError, match="unsupported broker URL"):
        broker_from_url("kafka://x")
