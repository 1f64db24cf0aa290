"""Data model of the demo district: sites as plain route tables plus the documented plants.

`build_district` returns pure data; `serve.py` turns it into loopback servers. Ports are not known
while the content is built, so cross-host links carry a marker (`port_mark`) that `serve.py`
replaces with the real port before the first request is served.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from dataclasses import dataclass, field
from email.utils import format_datetime

from zwgk.loopback.http import Resp

CST = dt.timezone(dt.timedelta(hours=8))
MARK_PREFIX = "@@PORT:"


def port_mark(site_id: str) -> str:
    """Placeholder for the port of `site_id`'s server; serve.py substitutes it."""
    return f"{MARK_PREFIX}{site_id}@@"


def host_url(site_id: str, hostname: str, path: str = "/") -> str:
    return f"http://{hostname}:{port_mark(site_id)}{path}"


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar month arithmetic, clamping the day (Jan 31 + 1 month = Feb 28/29)."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Plant:
    """One planted problem: the check that must notice it and where.

    `path` is the URL path (on the site's own host) the finding points at or is found on;
    `expect` is "fail" for a real problem, "unverified" where the right answer is
    "could not verify" (Outcome.ERROR), "manual" where a person must confirm it (Outcome.MANUAL:
    the finding is raised for review, e.g. possible forged dates, a 严重错误 veto item), "info" for
    informational results.
    """

    site_id: str
    check_id: str
    what: str
    path: str | None
    expect: str = "fail"


@dataclass
class DemoSite:
    id: str
    name: str
    unit: str
    kind: str  # portal | department | street | external
    hostname: str
    ipv6: str = "none"  # real | fake (AAAA, nothing on ::1) | partial (inner pages fail) | none
    encoding: str = "utf-8"
    routes: dict[str, Resp] = field(default_factory=dict)
    routes_v6: dict[str, Resp] = field(default_factory=dict)
    fallback: Resp | None = None  # answer for unknown paths (None: plain 404)
    column_of: str | None = None  # set for a unit publishing in a column of another site
    path: str = "/"  # start path (the column prefix for column sites)
    site_code: str | None = None  # 网站标识码 as published (may be wrong on purpose)

    @property
    def served(self) -> bool:
        """Column sites live inside their host site's routes and get no server of their own."""
        return self.column_of is None

    @property
    def has_aaaa(self) -> bool:
        return self.ipv6 in ("real", "fake", "partial")

    @property
    def listens_v6(self) -> bool:
        return self.ipv6 in ("real", "partial")


@dataclass
class District:
    today: dt.date
    name: str
    region_code: str
    timezone: str
    zone_apex: str
    sites: list[DemoSite]
    externals: list[DemoSite]  # off-government hosts the sites link to (served too)
    plants: list[Plant]
    compliant: list[tuple[str, str]]
    nameservers: list[str] = field(default_factory=lambda: ["ns1.hhw.gov.cn", "ns2.hhw.gov.cn"])

    def site(self, site_id: str) -> DemoSite:
        for site in [*self.sites, *self.externals]:
            if site.id == site_id:
                return site
        raise KeyError(site_id)

    def host_site(self, site_id: str) -> DemoSite:
        """The site whose server answers for `site_id` (itself, or the site it is a column of)."""
        site = self.site(site_id)
        return self.site(site.column_of) if site.column_of else site


def http_date(day: dt.date, hour: int = 9) -> str:
    return format_datetime(dt.datetime(day.year, day.month, day.day, hour, tzinfo=CST).astimezone(dt.UTC),
                           usegmt=True)


class Routes(dict[str, Resp]):
    """A route table with helpers that add the validators a real CMS sends (ETag, Last-Modified)."""

    def __init__(self, encoding: str = "utf-8", charset_header: bool = True) -> None:
        super().__init__()
        self.encoding = encoding
        # Old ASP sites often send "text/html" with no charset: the page's <meta> must decide.
        self.charset_header = charset_header

    def page(self, path: str, html: str, modified: dt.date | None = None, *, status: int = 200,
             extra: dict[str, str] | None = None) -> str:
        body = html.encode(self.encoding, errors="xmlcharrefreplace")
        ctype = f"text/html; charset={self.encoding}" if self.charset_header else "text/html"
        self.raw(path, body, ctype, modified, status=status, extra=extra)
        return path

    def raw(self, path: str, body: bytes, content_type: str, modified: dt.date | None = None, *,
            status: int = 200, extra: dict[str, str] | None = None) -> str:
        headers = {"Content-Type": content_type, "Server": "nginx"}
        if status == 200:
            headers["ETag"] = f'W/"{hashlib.sha1(body).hexdigest()[:16]}"'
            if modified is not None:
                headers["Last-Modified"] = http_date(modified)
        headers.update(extra or {})
        self[path] = Resp(status, body, headers)
        return path
