"""The error and close vocabulary of docs/protocol.md, frame encoding, and the inbound rate limit."""
from __future__ import annotations

import time

import msgspec

# close codes (docs/protocol.md § Close codes)
CLOSE_RESUME = 1012  # "service restart": reconnect at once and resume (e.g. after a broker outage)
CLOSE_BAD_HELLO = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_OVERFLOW = 4408
CLOSE_FLOOD = 4429
CLOSE_BANNED = 4430  # an active ban covers this visitor or address: do not reconnect (widget-banned)

HELLO_TIMEOUT = 10.0
# Inbound rate: a person types and clicks; 20 frames/s with a burst of 40 covers
# typing previews from several tabs, while a script flooding us is cut off.
RATE_PER_SEC = 20.0
RATE_BURST = 40.0
FLOOD_CLOSE_AFTER = 100  # dropped frames before the socket is closed

_encoder = msgspec.json.Encoder()


class FrameError(Exception):
    def __init__(self, code: str, message: str, ref: object = None) -> None:
        super().__init__(message)
        self.code, self.message, self.ref = code, message, ref


def dumps(frame: dict) -> str:
    """One frame as JSON text (UTF-8, no ASCII escaping)."""
    return _encoder.encode(frame).decode()


def error_frame(code: str, message: str, ref: object = None) -> dict:
    frame: dict = {"type": "error", "code": code, "message": message}
    if isinstance(ref, (str, int)) and not isinstance(ref, bool):
        frame["ref"] = ref
    return frame


class TokenBucket:
    def __init__(self, rate: float = RATE_PER_SEC, burst: float = RATE_BURST) -> None:
        self.rate, self.burst = rate, burst
        self.tokens = burst
        self.at = time.monotonic()
        self.dropped = 0

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        self.dropped += 1
        return False
