"""Real loopback servers (HTTP on 127.0.0.1 and ::1, authoritative DNS) for the demo, tests and benchmark."""

from zwgk.loopback.dns import DNSServer
from zwgk.loopback.http import IPv6Unavailable, LoopbackServer, Request, Resp, Route

__all__ = ["DNSServer", "IPv6Unavailable", "LoopbackServer", "Request", "Resp", "Route"]
