"""Find the other pages of a list, and the JSON endpoint a list is filled from.

Shared by the crawler (which fetches what these return and stores it with
``extra.discovered = "pagination" | "json_api"``) and the column checks (which
look those pages up in the snapshot). Pure text functions, no I/O.

Why scripts matter (docs/DOMAIN.md §9): TRS WCM writes its pager with
``createPageHTML(totalPages, current, "index", "html")`` so ``index_1.html`` …
are linked by no ``<a>``; provincial platforms (gkmlpt) render the list in the
browser from a JSON API and the HTML container is empty. A crawler that sees
only anchors calls such columns stale or blank — a false veto.
"""
from __future__ import annotations

import re
from urllib.parse import urljoin, urlsplit

from core.parsing.html import SCRIPT_END, closed_prefix, document

MAX_PAGES = 200   # a pager claiming more is either huge or broken; the crawler's page cap decides anyway

_CREATE_PAGE = re.compile(r"\b(?:createPageHTML|createPageHtml|createPage|showPage)\s*\(([^()]*)\)", re.DOTALL)
_ASSIGN = re.compile(r"\b([A-Za-z_$][\w$]*)\s*=\s*(\d+)(?![\w.])")
_PAGE_EXTS = ("html", "htm", "shtml", "jsp", "php", "asp", "aspx")
_NEXT_WORDS = {"下一页", "下页", "后一页", "下一頁", "尾页", "末页", "最后一页", "末頁", "尾頁", ">", ">>", "›", "»",
               "next", "last"}
_TOTAL_PAGES = re.compile(r"共\s*(\d{1,4})\s*页")
_INT_IN_URL = re.compile(r"\d+")

_STATIC_EXT = re.compile(r"\.(?:js|css|png|jpe?g|gif|svg|ico|woff2?|ttf|eot|map|html?|shtml|swf|mp4|pdf|docx?|xlsx?)"
                         r"(?:[?#]|$)", re.IGNORECASE)
_API_HINT = re.compile(r"(?:/api/|\.json\b|getlist|/list\.do|listdata|/ajax|/interface/|/rest/|/openapi/"
                       r"|gkmlpt/api|/search/|/data/|\.do\b|\.action\b|\.ashx\b)", re.IGNORECASE)
_STRING = re.compile(r"""["']((?:https?:)?/?[^"'\s<>(){}]{3,300})["']""")
_CALL = re.compile(r"""(?:\$\.(?:ajax|get|getJSON|post)|\bfetch|\baxios(?:\.(?:get|post))?|\bjsonp)\s*\(\s*["']"""
                   r"""([^"'\s]+)["']|\burl\s*:\s*["']([^"'\s]+)["']""")
_DATA_ATTRS = ("data-url", "data-api", "data-source", "data-list-url", "data-listurl", "data-action", "data-href-api")


def _scripts(html: str) -> str:
    return "\n".join(re.findall(r"<script\b[^>]*>(.*?)</script>", closed_prefix(html, SCRIPT_END),
                                 flags=re.DOTALL | re.IGNORECASE))


def _resolve_arg(arg: str, env: dict[str, int]) -> int | str | None:
    a = arg.strip()
    if not a:
        return None
    if a[0] in "\"'" and a[-1:] == a[0]:
        return a[1:-1]
    if a.isdigit():
        return int(a)
    # parseInt(x) / Number(x) / x-0 — keep it to the simple forms TRS templates use
    m = re.fullmatch(r"(?:parseInt|Number)\s*\(\s*([A-Za-z_$][\w$]*)\s*\)|([A-Za-z_$][\w$]*)", a)
    if m:
        return env.get(m.group(1) or m.group(2))
    return None


def _trs_urls(html: str, base_url: str, max_pages: int) -> list[str]:
    scripts = _scripts(html) or html
    env = {k: int(v) for k, v in _ASSIGN.findall(scripts)}
    out: list[str] = []
    for m in _CREATE_PAGE.finditer(scripts):
        args = [_resolve_arg(a, env) for a in m.group(1).split(",")]
        ints = [a for a in args if isinstance(a, int)]
        strs = [a for a in args if isinstance(a, str)]
        if not ints:
            continue
        total = ints[0]
        ext_i = next((i for i, s in enumerate(strs) if s.lower().lstrip(".") in _PAGE_EXTS), None)
        if ext_i is None:
            prefix, ext = "index", "html"
        else:
            ext = strs[ext_i].lstrip(".")
            prefix = strs[ext_i - 1] if ext_i > 0 else "index"
        for i in range(1, min(total, max_pages)):
            out.append(urljoin(base_url, f"{prefix}_{i}.{ext}"))
        if total > 1 and len(ints) > 1 and ints[1] > 0:   # on a later page: page 0 is prefix.ext
            out.append(urljoin(base_url, f"{prefix}.{ext}"))
    return out


def _range_between(first: str, last: str, max_pages: int) -> list[str]:
    """next=index_1.html, last=index_9.html → index_1 … index_9 (pages in between are linked by no <a>)."""
    a, b = list(_INT_IN_URL.finditer(first)), list(_INT_IN_URL.finditer(last))
    if len(a) != len(b):
        return []
    diff = [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x.group() != y.group()]
    if len(diff) != 1:
        return []
    i = diff[0]
    if first[: a[i].start()] != last[: b[i].start()] or first[a[i].end():] != last[b[i].end():]:
        return []
    lo, hi = int(a[i].group()), int(b[i].group())
    if hi < lo:
        return []
    hi = min(hi, lo + max_pages - 1)
    return [first[: a[i].start()] + str(n) + first[a[i].end():] for n in range(lo, hi + 1)]


def _link_urls(html: str, base_url: str, max_pages: int) -> list[str]:
    doc = document(html)
    if doc is None:
        return []
    nexts: list[str] = []
    numbered: list[str] = []
    for a in doc.iter("a"):
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            continue
        text = re.sub(r"\s+", "", a.text_content() or "").strip("[]【】")
        url = urljoin(base_url, href)
        if text.lower() in _NEXT_WORDS or text in ("下一页>", "下一页>>", "尾页>>", "末页>>"):
            nexts.append(url)
        elif text.isdigit() and len(text) <= 4:
            parent = a.getparent()
            ctx = parent.text_content() if parent is not None else ""
            if "页" in ctx or any(w in ctx for w in ("上一页", "下一页", "首页", "尾页")) or len(numbered) > 0 \
                    or (parent is not None and len(parent.findall(".//a")) >= 3):
                numbered.append(url)
    out = nexts + numbered
    uniq = list(dict.fromkeys(u for u in out if u != base_url))
    if len(uniq) >= 2:
        # fill the gap between the lowest and highest numbered page URLs
        for u in uniq[1:]:
            out += _range_between(uniq[0], u, max_pages)
    total = _TOTAL_PAGES.search(doc.text_content() or "")
    if total and nexts:
        n = int(total.group(1))
        m = list(_INT_IN_URL.finditer(nexts[0]))
        if m:
            last = nexts[0][: m[-1].start()] + str(max(1, n - 1)) + nexts[0][m[-1].end():]
            out += _range_between(nexts[0], last, max_pages)
    return out


_NEXTGROUP = re.compile(r"<nextgroup>\s*<!\[CDATA\[(.*?)\]\]>\s*</nextgroup>", re.IGNORECASE | re.DOTALL)
_NEXTGROUP_END = re.compile(r"\]\]>\s*</nextgroup>", re.IGNORECASE)    # its lazy scan's target (closed_prefix)
_HREF = re.compile(r"""href\s*=\s*["']([^"']+)["']""", re.IGNORECASE)


def _datastore_urls(html: str, base_url: str) -> list[str]:
    """Hanweb JCMS: the ``<nextgroup>`` link of a ``<datastore>`` (``/module/web/jpage/dataproxy.jsp?…``),
    which answers the list's further records (the first ones are inline, see lists.expand_datastores)."""
    if "<nextgroup" not in html.lower():
        return []
    if re.search(r"\.jpage\s*\(", html) and "proxyUrl" in html:
        # the site's jpage script POSTs dataproxy.jsp?startrecord=…&endrecord=…&perpage=… with its ajaxParam
        # (scriptapi.hanweb_requests, fetched by crawler/discovery.py): the bare nextgroup URL is not a page
        return []
    out = []
    for m in _NEXTGROUP.finditer(closed_prefix(html, _NEXTGROUP_END)):     # linear on unclosed groups
        for href in _HREF.findall(m.group(1)):
            href = href.replace("&amp;", "&").strip()
            if href and not href.startswith(("javascript:", "#")):
                out.append(urljoin(base_url, href))
    return out


def script_pagination_urls(html: str, base_url: str, *, max_pages: int = MAX_PAGES) -> list[str]:
    """URLs of the other pages of the list on ``base_url``: script pagers and 下一页/尾页 links.

    Order: script-written pages first (``index_1.html`` …), then linked ones;
    deduplicated, without ``base_url`` itself, capped at ``max_pages``.
    """
    if not html:
        return []
    urls = _trs_urls(html, base_url, max_pages) + _datastore_urls(html, base_url) + \
        _link_urls(html, base_url, max_pages)
    seen: dict[str, None] = {}
    base = base_url.split("#")[0]
    for u in urls:
        u = u.split("#")[0]
        if u != base and urlsplit(u).scheme in ("http", "https"):
            seen.setdefault(u, None)
    return list(seen)[:max_pages]


def json_list_endpoints(html: str, base_url: str, *, constructed: bool = True) -> list[str]:
    """JSON (or JSONP) endpoints a page's scripts or markup load its list from.

    Sources: ``data-url``/``data-api`` attributes, URLs passed to ``$.ajax``,
    ``fetch``, ``axios`` or an ``url:`` option, and string literals in scripts
    that look like APIs (``/api/``, ``.json``, ``getList``, ``.do``). Script and
    style files, images and HTML pages are not endpoints. Literal URLs first;
    then (``constructed``) the gkmlpt API URLs built from the page's site id
    (:func:`gkmlpt_endpoints`), which no real gkmlpt page spells out.
    """
    if not html:
        return []
    literal = _literal_endpoints(html, base_url)
    if not constructed:
        return literal
    return list(dict.fromkeys(literal + gkmlpt_endpoints(html, base_url)))


def _literal_endpoints(html: str, base_url: str) -> list[str]:
    cands: list[str] = []
    for attr in _DATA_ATTRS:
        cands += re.findall(rf"""\b{attr}\s*=\s*["']([^"']+)["']""", html, flags=re.IGNORECASE)
    scripts = _scripts(html)
    for m in _CALL.finditer(scripts):
        cands.append(m.group(1) or m.group(2))
    for m in _STRING.finditer(scripts):
        s = m.group(1)
        # a literal that is concatenated with a variable is only part of a URL
        joined = scripts[m.end():m.end() + 3].lstrip().startswith("+") or \
            scripts[max(0, m.start() - 3):m.start()].rstrip().endswith("+")
        if not joined and _API_HINT.search(s) and ("/" in s or s.endswith(".json")):
            cands.append(s)
    out: dict[str, None] = {}
    for c in cands:
        c = c.strip()
        if not c or c.startswith(("javascript:", "#", "data:")) or "+" in c or "${" in c or "{{" in c:
            continue
        if c.endswith(("/", "=", "?", "&")) and not _API_HINT.search(c):
            continue
        if _STATIC_EXT.search(c) and ".json" not in c.lower():
            continue
        url = urljoin(base_url, c)
        if urlsplit(url).scheme in ("http", "https"):
            out.setdefault(url.split("#")[0], None)
    return list(out)


# -- Guangdong gkmlpt (政府信息公开目录 on the provincial intensive platform) ---------------------------
#
# Real gkmlpt pages never spell the API URL out: the catalog ``<base>/gkmlpt/index`` (or ``/policy``)
# carries the site id in an inline config (``SID: '755325'``) and its categories as URL fragments
# (``<base>/gkmlpt/index#1234``); the browser script asks ``<base>/gkmlpt/api/all/<category>?page=1&sid=
# <SID>`` (category 0 = every document) and gets ``{"total": N, "articles": [{"title", "url" | "post_url",
# "first_publish_time" …: epoch seconds}]}``. ``<base>`` may carry a path prefix (a department's
# catalog on the portal's host: ``http://www.szlh.gov.cn/lhqkjhgyxxhj/gkmlpt/index``).

GKMLPT_MAX_CATEGORIES = 60   # category endpoints per catalog page (besides category 0)

_GK_SID = re.compile(r"""(?<![\w-])["']?sid["']?\s*[:=]\s*["']?([0-9]{1,20})(?![0-9])""", re.IGNORECASE)
_GK_SEG = re.compile(r"/gkmlpt(?:/|$)", re.IGNORECASE)
_GK_REF = re.compile(r"""["'(=]\s*((?:https?:)?[^"'\s()<>]*?/gkmlpt/)""", re.IGNORECASE)
_GK_HREF = re.compile(r"""\bhref\s*=\s*["']?([^"'\s>]*#[0-9]{1,12})["'\s>]""", re.IGNORECASE)
_GK_API = re.compile(r"^(.*?)/gkmlpt/api/all/([0-9]{1,12})$", re.IGNORECASE)
_GK_ROUTE = re.compile(r"^(.*?)/gkmlpt/(?:index|policy)?(?:\.html?)?$", re.IGNORECASE)


def gkmlpt_sid(html: str) -> str | None:
    """The site id of a gkmlpt page's inline config (``SID: '755325'``, ``sid = "755325"``), or None."""
    if not html or "sid" not in html.lower():
        return None
    m = _GK_SID.search(_scripts(html))
    return m.group(1) if m else None


def _gkmlpt_base(html: str, base_url: str) -> str | None:
    """``<scheme>://<host>[/prefix]`` in front of ``/gkmlpt/``: from the page URL, else from the first
    ``…/gkmlpt/…`` reference in the page (a catalog served under another path); None if neither."""
    parts = urlsplit(base_url)
    m = _GK_SEG.search(parts.path)
    if m:
        return f"{parts.scheme}://{parts.netloc}{parts.path[: m.start()]}"
    if "gkmlpt" not in html.lower():
        return None
    for ref in _GK_REF.finditer(html):
        u = urlsplit(urljoin(base_url, ref.group(1)))
        if u.scheme in ("http", "https") and u.netloc == parts.netloc:
            k = _GK_SEG.search(u.path)
            if k:
                return f"{u.scheme}://{u.netloc}{u.path[: k.start()]}"
    return None


def gkmlpt_endpoints(html: str, base_url: str, *, max_categories: int = GKMLPT_MAX_CATEGORIES) -> list[str]:
    """The gkmlpt API URLs a catalog page's browser script would ask: category 0, then each category
    the page links (``…/gkmlpt/index#1234``, or ``#1234`` on a page under ``/gkmlpt/``).

    Only on a gkmlpt page (``/gkmlpt/`` in its URL, or the page mentions gkmlpt) that states its site
    id: without one nothing is invented. Categories of another base (a link to the city's catalog)
    are not this site's.
    """
    if not html:
        return []
    base = _gkmlpt_base(html, base_url)
    sid = gkmlpt_sid(html) if base else None
    if not base or not sid:
        return []
    on_catalog = bool(_GK_SEG.search(urlsplit(base_url).path))
    cats: list[str] = []
    for m in _GK_HREF.finditer(html):
        href = m.group(1).replace("&amp;", "&")
        path_part, _, frag = href.partition("#")
        if not path_part:
            if not on_catalog:
                continue
            target = base_url.split("#")[0]
        else:
            target = urljoin(base_url, path_part)
        route = gkmlpt_route(f"{target}#{frag}")
        if route is None or route[0].lower() != base.lower():
            continue
        if route[1] not in cats and route[1] != "0":
            cats.append(route[1])
        if len(cats) >= max_categories:
            break
    return [gkmlpt_api_url(base, c, sid) for c in ["0", *cats]]


def gkmlpt_api_url(base: str, category: str, sid: str, page: int = 1) -> str:
    return f"{base}/gkmlpt/api/all/{category}?page={page}&sid={sid}"


def gkmlpt_route(url: str) -> tuple[str, str] | None:
    """(base, category id) of a catalog route ``<base>/gkmlpt/index#1234``; None for other URLs."""
    u = urlsplit(url)
    if not u.fragment.isdigit() or u.query:
        return None
    m = _GK_ROUTE.match(u.path)
    if not m:
        return None
    return f"{u.scheme}://{u.netloc}{m.group(1)}", u.fragment


def gkmlpt_api_category(url: str) -> tuple[str, str] | None:
    """(base, category id) of a gkmlpt list API URL ``<base>/gkmlpt/api/all/1234?page=1&sid=…``."""
    u = urlsplit(url)
    m = _GK_API.match(u.path)
    if not m:
        return None
    return f"{u.scheme}://{u.netloc}{m.group(1)}", m.group(2)
