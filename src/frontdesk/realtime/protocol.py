"""Frame decoding and the error/close vocabulary of docs/protocol.md."""
from __future__ import annotations

import json
import time

# close codes (docs/protocol.md § Close codes)
CLOSE_GOING_AWAY = 1001
CLOSE_BAD_HELLO = 4400
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN_ORIGIN = 4403
CLOSE_OVERFLOW = 4408
CLOSE_FLOOD = 4429

HELLO_TIMEOUT = 10.0
# Inbound rate: a person types and clicks; 20 frames/s with a burst of 40 covers
# typing previews from several tabs, while a script flooding us is cut off.
RATE_PER_SEC = 20.0
RATE_BURST = 40.0
FLOOD_CLOSE_AFTER = 100  # dropped frames before the socket is closed


class FrameError(Exception):
    def __init__(self, code: str, message: str, ref: object = None) -> None:
        super().__init__(message)
        self.code, self.message, self.ref = code, message, ref


def dumps(frame: dict) -> str:
    return json.dumps(frame, ensure_ascii=False, separators=(",", ":"))


def error_frame(code: str, message: str, ref: object = None) -> dict:
    frame = {"type": "error", "code": code, "message": message}
    if isinstance(ref, (str, int)) and not isinstance(ref, bool):
        frame["ref"] = ref
    return frame


def decode(raw: str) -> dict:
    try:
        frame = json.loads(raw)
    except (ValueError, RecursionError):
        raise FrameError("invalid_json", "frame is not valid JSON") from None
    if not isinstance(frame, dict):
        raise FrameError("invalid_frame", "frame must be a JSON object")
    if not isinstance(frame.get("type"), str):
        raise FrameError("invalid_frame", "frame needs a string field 'type'", _ref(frame))
    return frame


def _ref(frame: dict) -> object:
    return frame.get("ref", frame.get("client_id"))


def ref_of(frame: dict) -> object:
    return _ref(frame)


def require(frame: dict, name: str, kind: type | tuple[type, ...]) -> object:
    value = frame.get(name)
    if value is None or not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise FrameError("invalid_frame", f"field '{name}' is missing or has the wrong type", _ref(frame))
    return value


def conversation_id_of(frame: dict) -> int:
    """Conversation ids arrive as numbers (or digit strings); anything else is not_found —
    the same answer as a conversation that is not yours."""
    value = frame.get("conversation_id")
    if isinstance(value, str) and value.isdigit() and len(value) < 19:
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0 or value >= 2**63:
        raise FrameError("not_found", "conversation not found", _ref(frame))
    return value


def parse_resume(value: object) -> dict[int, int]:
    """{"41": 17} → {41: 17}; malformed entries are dropped (answered as not_found later)."""
    out: dict[int, int] = {}
    if not isinstance(value, dict):
        return out
    for k, v in list(value.items())[:200]:
        if isinstance(k, str) and k.isdigit() and len(k) < 19 and isinstance(v, int) and not isinstance(v, bool) and v >= 0:
            out[int(k)] = v
    return out


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
