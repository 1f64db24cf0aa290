"""URL normalisation, scope and trap defences.

Normalisation is what makes de-duplication work: lower-case scheme and host, default port
dropped, fragment dropped, an empty path becomes "/", and session ids (``;jsessionid=``,
``JSESSIONID``/``PHPSESSID``/``sid``… query keys) are removed — ASP/JSP government sites put
them in every link, which would make every visit a new URL. Except ``sid`` under ``/gkmlpt/``:
there it is the site id the platform's list API is asked with.

Trap defences (a crawler of 40 sites it does not control must stop by itself): overlong
URLs, deep or self-repeating paths (``/a/b/a/b/a/b/``), endless calendars (years far in
the future or past in path or query), and query explosions (more than N distinct queries on
one path) are refused with a reason, which the crawler stores.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urljoin, urlsplit, urlunsplit

_SESSION_KEYS = {"jsessionid", "phpsessid", "aspsessionid", "sid", "sessionid", "session_id",
                 "cfid", "cftoken", "zh_choose"}  # zh_choose: 简繁 switch, a copy of every page
_PATH_SESSION = re.compile(r";(?:jsessionid|phpsessid|sid)=[^/?#]*", re.IGNORECASE)
_SKIP_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "about:", "ftp:", "file:", "sms:", "#")
_DEFAULT_PORT = {"http": 80, "https": 443}
_YEAR = re.compile(r"(?<!\d)(1[0-9]{3}|2[0-9]{3})(?!\d)")
_CAL_HINT = re.compile(r"(?:calendar|rili|date|year|month|day|nian|yue|\brq\b)", re.IGNORECASE)
ATTACHMENT_EXT = {"pdf", "doc", "docx", "xls", "xlsx", "wps", "ofd", "zip", "rar", "7z", "ppt", "pptx",
                  "et", "dps", "txt", "csv", "ceb", "tif", "tiff"}
_SKIP_EXT = {"jpg", "jpeg", "png", "gif", "bmp", "webp", "svg", "ico", "css", "js", "mp3", "mp4",
             "avi", "flv", "swf", "wmv", "mov", "exe", "apk", "iso", "woff", "woff2", "ttf", "eot"}


def normalize(url: str) -> str | None:
    """Canonical form of an absolute http(s) URL, or None if it is not one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORT[scheme]) else f"{host}:{port}"
    path = parts.path or "/"
    if "/." in path:  # dot segments: urljoin removes them (RFC 3986 §5.2.4)
        path = urlsplit(urljoin("http://x/", path)).path
    if ";" in path:
        path = _PATH_SESSION.sub("", path)
    if " " in path:
        path = path.replace(" ", "%20")
    query = parts.query
    if query:
        # a gkmlpt list API's ``sid`` is the site id the platform needs, not a session
        keep = {"sid"} if "/gkmlpt/" in path.lower() else set()
        kept = [p for p in query.split("&")
                if p and ((k := p.split("=", 1)[0].lower()) not in _SESSION_KEYS or k in keep)]
        query = "&".join(kept)
    return urlunsplit((scheme, netloc, path, query, ""))


class Resolver:
    """href → normalised absolute URL, cached across pages (most hrefs repeat on every page).

    DESIGN.md perf facts: resolving costs twice what parsing does; the header, menu and
    footer hrefs are identical on every page of a site, so absolute and root-relative
    hrefs are cached by (origin, href).
    """

    def __init__(self, max_entries: int = 200_000):
        self._cache: dict[tuple[str, str], str | None] = {}
        self._max = max_entries

    def resolve(self, base: str, origin: str, href: str) -> str | None:
        h = href.strip()
        if not h or h[:11].lower().startswith(_SKIP_SCHEMES):
            return None
        if h.startswith(("http://", "https://", "HTTP://", "HTTPS://")):
            key = ("", h)
        elif h.startswith("/") and not h.startswith("//"):
            key = (origin, h)
        else:
            key = (base, h)
        try:
            return self._cache[key]
        except KeyError:
            pass
        try:
            out = normalize(urljoin(base, h))
        except ValueError:
            out = None
        if len(self._cache) >= self._max:
            self._cache.clear()
        self._cache[key] = out
        return out


def origin_of(url: str) -> str:
    p = urlsplit(url)
    return f"{p.scheme}://{p.netloc}"


def extension(url: str) -> str:
    path = urlsplit(url).path
    last = path.rsplit("/", 1)[-1]
    return last.rsplit(".", 1)[-1].lower() if "." in last else ""


def is_attachment(url: str) -> bool:
    return extension(url) in ATTACHMENT_EXT


def is_skipped_resource(url: str) -> bool:
    """Media, styles, scripts and binaries are not pages to crawl (links table only)."""
    return extension(url) in _SKIP_EXT


def _hp(host: str | None, port: int | None, scheme: str) -> tuple[str, int]:
    return (host or "").lower(), port or _DEFAULT_PORT.get(scheme, 80)


@dataclass
class Scope:
    """Same host (any scheme on the same or default port) plus the site's extra hosts;
    a column site (``column_of``) is limited to its URL's path prefix."""

    start_url: str
    hosts: tuple[str, ...] = ()
    column: bool = False
    exclude: tuple[str, ...] = ()      # start URLs of other sites (columns) living under this one
    host: str = field(init=False)
    port: int = field(init=False)
    prefix: str = field(init=False)

    def __post_init__(self) -> None:
        p = urlsplit(self.start_url)
        self.host, self.port = _hp(p.hostname, p.port, p.scheme)
        path = p.path or "/"
        self.prefix = path if path.endswith("/") else path.rsplit("/", 1)[0] + "/"
        self._extra = {h.split(":")[0].lower() for h in self.hosts}
        self._excluded = [Scope(u, column=True) for u in self.exclude]

    def owned_by_other(self, url: str) -> bool:
        """Under the path prefix of another configured site (a ``column_of`` channel on this host):
        that site's pages and findings, not this one's."""
        return any(x.contains(url) for x in self._excluded)

    def contains(self, url: str) -> bool:
        p = urlsplit(url)
        host, port = _hp(p.hostname, p.port, p.scheme)
        if host == self.host:
            if port != self.port and port not in (80, 443):
                return False
        elif host not in self._extra:
            return False
        if self.column and host == self.host:
            return (p.path or "/").startswith(self.prefix)
        return not (self._excluded and self.owned_by_other(url))

    def same_host(self, url: str) -> bool:
        """On one of the site's hosts, ignoring a column's path prefix."""
        host = (urlsplit(url).hostname or "").lower()
        return host == self.host or host in self._extra


class TrapGuard:
    """Per-site trap defences; state (query variants per path) lives for one crawl."""

    def __init__(self, max_query_variants: int = 50, max_len: int = 400, max_segments: int = 15,
                 today: date | None = None):
        self.max_query_variants = max_query_variants
        self.max_len = max_len
        self.max_segments = max_segments
        self.year = (today or date.today()).year
        self._variants: dict[str, int] = {}

    def reason(self, url: str) -> str | None:
        if len(url) > self.max_len:
            return f"trap: URL longer than {self.max_len}"
        p = urlsplit(url)
        segs = [s for s in p.path.split("/") if s]
        if len(segs) > self.max_segments:
            return f"trap: path deeper than {self.max_segments} segments"
        if len(segs) >= 4:
            counts: dict[str, int] = {}
            for s in segs:
                counts[s] = counts.get(s, 0) + 1
            if max(counts.values()) >= 3:
                return "trap: repeating path segments"
        if _CAL_HINT.search(url):
            for y in _YEAR.findall(p.path + "?" + p.query):
                if not self.year - 30 <= int(y) <= self.year + 1:
                    return f"trap: calendar year {y}"
        if p.query:
            key = f"{p.netloc}{p.path}"
            n = self._variants.get(key, 0) + 1
            self._variants[key] = n
            if n > self.max_query_variants:
                return f"trap: more than {self.max_query_variants} query variants of {p.path}"
        return None
