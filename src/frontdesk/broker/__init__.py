"""Event brokers chosen by URL: ``memory://`` (one process) or ``redis://`` (several nodes)."""
from frontdesk.broker.base import Broker, BrokerUnavailable


def broker_from_url(url: str) -> Broker:
    scheme = url.split("://", 1)[0]
    if scheme == "memory":
        from frontdesk.broker.memory import MemoryBroker

        return MemoryBroker()
    if scheme in ("redis", "rediss", "unix"):
        from frontdesk.broker.redis import RedisBroker  # imports redis only when it is used

        return RedisBroker(url)
    raise ValueError(f"unsupported broker URL {url!r}: use memory:// or redis://")


__all__ = ["Broker", "BrokerUnavailable", "broker_from_url"]
