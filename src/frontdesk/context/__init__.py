"""Visitor context: where a visit came from, which browser and device, where on Earth.

Pure functions over strings, no I/O except reading the GeoIP data once:

- :mod:`frontdesk.context.sources` classifies the traffic source of a visit
  (landing URL + referrer) by a rule table kept as data;
- :mod:`frontdesk.context.useragent` reads browser / OS / device type from a
  User-Agent (ua-parser, cached);
- :mod:`frontdesk.context.geoip` looks up country / region / city of an IP and
  truncates IPs for storage.

Nothing here touches the database, the web layer or the event bus: the callers
(visit tracking, the visitor card) decide when to classify and what to store.
"""
