"""What the crawler does for each fetch purpose: one table instead of string branches.

``SiteCrawl.fetch_one`` (and the budget, resume and re-check code around it) reads the
:class:`Handling` of the row's :class:`core.model.Purpose` — whether robots.txt is obeyed, which
``[crawl]`` size cap applies, whether the body is kept and whether the answer is parsed — so a new
purpose is one row here. The purposes themselves are documented in ``core.model.Purpose``.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from core.model import Purpose


@dataclass(frozen=True)
class Handling:
    robots: bool = True             # a same-host URL is fetched only when robots.txt allows it
    size_cap: Literal["max_bytes", "attachment_max_bytes", "external_max_bytes"] = "max_bytes"
    oversize_ok: bool = False       # a body over the cap is recorded as skipped, not as ``too_large``
    keep_body: bool = False         # the body is stored (unless the caller says otherwise)
    keep_html_only: bool = False    # ... and then only an HTML body (a link target's PDF is not kept)
    crawl: bool = False             # a page of the site: parsed, its links stored and followed, counted
    inspect_html: bool = False      # an HTML answer is parsed for title/meta only, nothing followed
    revalidate: bool = False        # conditional GET with the previous run's validators (ETag, Last-Modified)
    discover: bool = False          # script-filled list test; a non-text answer is re-filed as an attachment
    budget: Literal["page", "link", "external"] | None = None   # the per-site cap the fetch spends
    recheck: bool = False           # a timeout/connect/5xx failure is fetched once more (crawler/recheck.py)


PURPOSES: Mapping[Purpose, Handling] = MappingProxyType({
    Purpose.HOME: Handling(keep_body=True, crawl=True, revalidate=True, budget="page"),
    Purpose.PAGE: Handling(keep_body=True, crawl=True, revalidate=True, discover=True, budget="page",
                           recheck=True),
    Purpose.LINK: Handling(oversize_ok=True, keep_body=True, keep_html_only=True, inspect_html=True,
                           budget="link", recheck=True),
    Purpose.ATTACHMENT: Handling(size_cap="attachment_max_bytes", oversize_ok=True, keep_body=True,
                                 budget="link", recheck=True),
    Purpose.EXTERNAL: Handling(robots=False, size_cap="external_max_bytes", oversize_ok=True, keep_body=True,
                               inspect_html=True, budget="external", recheck=True),
    Purpose.SOFT404: Handling(robots=False, keep_body=True, inspect_html=True),
    Purpose.ROBOTS: Handling(robots=False, keep_body=True),
    Purpose.SITEMAP: Handling(keep_body=True),
    Purpose.IPV6: Handling(),                     # bodies kept for level 1 only: the caller says so
    Purpose.HTTPS: Handling(robots=False),        # written by gather.https_step with the certificate
    Purpose.SCRIPT: Handling(),                   # kept by crawler/discovery.py (≤ script_max_bytes)
    Purpose.RENDER: Handling(keep_body=True),     # written by crawler/discovery.py (the rendered DOM)
})

RECHECK_PURPOSES = frozenset(p for p, h in PURPOSES.items() if h.recheck)


_UNKNOWN = Handling(robots=True)


def handling(purpose: str) -> Handling:
    """The handling of a purpose (a stored row's string included; a value this version does not
    know — a newer database — gets the most cautious handling: robots obeyed, nothing kept)."""
    try:
        return PURPOSES[Purpose(purpose)]
    except ValueError:
        return _UNKNOWN
