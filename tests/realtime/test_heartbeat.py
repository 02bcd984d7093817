"""One timer per socket does the heartbeat and the idle deadline (no task per frame): the server
pings, a socket that keeps talking stays open, a socket that stays silent is closed with 1000."""
import asyncio

import pytest
import websockets

from tests.support import ServerProcess, visitor_ws


@pytest.fixture
def quick_server(tmp_path):
    proc = ServerProcess(tmp_path / "data", env={"FRONTDESK_WS_PING_INTERVAL": "0.3",
                                                 "FRONTDESK_WS_IDLE_TIMEOUT": "4"}).start()
    yield proc
    proc.stop()


async def test_pings_then_a_silent_socket_is_closed_and_a_talking_one_is_not(quick_server):
    key = quick_server.demo["site_key"]
    talking = await visitor_ws(quick_server, key)
    silent = await visitor_ws(quick_server, key)

    async def silent_until_closed() -> int | None:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                frame = await asyncio.wait_for(silent.conn.recv(), 60)
                assert '"ping"' in frame  # pinged, never answered
        return closed.value.rcvd.code if closed.value.rcvd else None

    waiting = asyncio.ensure_future(silent_until_closed())
    pings = 0
    while not waiting.done():  # the talking socket answers every ping with a frame of its own
        frame = await talking.expect("ping", timeout=30)
        assert isinstance(frame["t"], int)
        pings += 1
        await talking.send({"type": "ping"})
        await talking.expect("pong", timeout=30)
    assert await waiting == 1000
    assert pings > 1
    await talking.send({"type": "ping"})  # still open and served
    await talking.expect("pong", timeout=30)
    await talking.close()
