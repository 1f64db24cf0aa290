"""Where the broker is and the timings that make re-delivery safe (one place, documented in deploy/).

The broker URL comes from ``--broker``, else ``ZWGK_BROKER``, else ``redis://127.0.0.1:6379/0``.

Timings (environment variables, seconds):

- ``ZWGK_VISIBILITY_TIMEOUT`` (default 3600): how long Redis keeps a delivered, unacknowledged task
  before it hands it to another worker. A worker killed mid-site has its task re-delivered after
  this long (or as soon as a worker restarts on the same host). Shorter means a faster recovery
  but more re-deliveries of tasks that are merely long: those find the site's lease held and
  come back later, so a short timeout costs broker traffic, never a page stored twice.
- ``ZWGK_LEASE_TTL`` (default 60): a running site task renews its lease every third of this; a
  lease not renewed for this long belongs to a dead worker and may be taken over.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"


def _seconds(name: str, default: float, lo: float, hi: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: not a number of seconds") from None
    if not lo <= value <= hi:   # also refuses NaN
        raise ValueError(f"{name}={raw!r}: must be between {lo:g} and {hi:g} seconds")
    return value


@dataclass(frozen=True)
class Timings:
    visibility_timeout: float
    lease_ttl: float

    @classmethod
    def from_env(cls) -> Timings:
        return cls(visibility_timeout=_seconds("ZWGK_VISIBILITY_TIMEOUT", 3600, 5, 7 * 86400),
                   lease_ttl=_seconds("ZWGK_LEASE_TTL", 60, 2, 3600))


def broker_url(explicit: str | None = None) -> str:
    return explicit or os.environ.get("ZWGK_BROKER") or DEFAULT_BROKER
