"""Event brokers chosen by URL: ``memory://`` (one process) or ``redis://`` (several nodes)."""
from frontdesk.broker.base import Broker, broker_from_url

__all__ = ["Broker", "broker_from_url"]
