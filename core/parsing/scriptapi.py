"""Where a script-rendered page gets its list from: endpoint requests read out of the page's own scripts.

Many 信息公开 pages ship an empty list container and fill it in the browser (docs/DOMAIN.md §9): a JSON
file named only inside the site's ``.js``, a JSONP ``callback(...)`` answer, an API URL assembled from
an inline config object (``window.__APP_CONFIG__ = {apiBase, siteId, catId}``, ``var SID = '…'``), or
Hanweb's ``jpage`` which POSTs ``dataproxy.jsp?startrecord=…&endrecord=…&perpage=…`` with the column's
``ajaxParam``. This module reads such scripts as text — it never runs them — and returns the requests a
browser would make, with the page's own config values substituted. A URL part that cannot be resolved
drops the candidate (a guessed URL would be evidence of nothing).

Pure: text in, requests out; the crawler (``crawler/discovery.py``) fetches them within its scope.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

from core.parsing.html import SCRIPT_END, closed_prefix

MAX_CANDIDATES = 12          # endpoint requests per page (a hostile script may name hundreds)
MAX_EXPR = 400               # characters of one URL expression
MAX_CONFIG_TEXT = 20_000     # characters of one inline config object
MAX_OPTIONS = 2_000          # characters of a $.ajax-style options object around a url: key
MAX_MATCHES = 300            # matches of one pattern looked at per script (hostile scripts repeat them)

# values substituted for paging variables: the first page
_PAGE_VARS = {"page", "pageno", "pagenum", "pageindex", "pagenumber", "curpage", "currentpage", "current", "pn",
              "p", "pageidx", "start", "offset"}
_SIZE_VARS = {"pagesize", "size", "perpage", "rows", "limit", "pagecount", "num", "ps"}
_STATIC_EXT = re.compile(r"\.(?:js|css|png|jpe?g|gif|svg|ico|woff2?|ttf|eot|map|mp4|mp3|pdf|docx?|xlsx?|zip)(?:$|[?#])",
                         re.IGNORECASE)
_DATA_EXT = re.compile(r"\.(?:json|xml|jsonp|do|action|jsp|php|aspx?|ashx)(?:$|[?#])|/api/|/data/|/json/",
                       re.IGNORECASE)
_IDENT = re.compile(r"^[A-Za-z_$][\w$]*(?:\s*\.\s*[A-Za-z_$][\w$]*|\s*\[\s*['\"][\w$]+['\"]\s*\])*$")
_NUMBER = re.compile(r"^-?\d+(?:\.\d+)?$")
# call sites whose first argument is the URL
_CALLS = re.compile(r"(?:\bfetch|\$\.(?:get|getJSON|post|getScript)|\bjQuery\.(?:get|getJSON|post)|"
                    r"\baxios(?:\.(?:get|post))?|\.load|\bhttp\.(?:get|post)|\brequest)\s*\(\s*", re.IGNORECASE)
_XHR_OPEN = re.compile(r"\.open\s*\(\s*(['\"])(GET|POST)\1\s*,\s*", re.IGNORECASE)
_URL_KEY = re.compile(r"(?<![\w$])['\"]?(?:url|api|apiUrl|dataUrl|listUrl|src)['\"]?\s*:\s*", re.IGNORECASE)
_STRING_LIT = re.compile(r"""(['"])((?:(?!\1)[^\\\n]|\\.){3,300})\1""")
_VAR_ASSIGN = re.compile(r"""(?:\b(?:var|let|const)\s+|\bwindow\.)([A-Za-z_$][\w$]*)\s*=\s*""")
_CONFIG_ASSIGN = re.compile(r"""(?:window\.|\b(?:var|let|const)\s+)([A-Za-z_$][\w$]*)\s*=\s*\{""")
_DATA_ATTR = re.compile(r"""\bdata-([a-z][\w-]{0,40})\s*=\s*["']([^"'<>]{1,200})["']""", re.IGNORECASE)
_JPAGE = re.compile(r"\.jpage\s*\(\s*\{", re.IGNORECASE)
_SCRIPT_SRC = re.compile(r"""<script\b[^>]*\bsrc\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_INLINE = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.IGNORECASE | re.DOTALL)
_NEXTGROUP_OPEN = re.compile(r"<nextgroup>", re.IGNORECASE)
_HREF_VALUE = re.compile(r"""href\s*=\s*['"]([^'"]+)['"]""", re.IGNORECASE)
_METHOD = re.compile(r"""\b(?:type|method)\s*:\s*['"](POST|GET)['"]""", re.IGNORECASE)


# A page's scripts also make the requests that CHANGE something: a 留言 submitted, a vote, a comment, an SMS
# code sent, a login. The auditor reads lists only, so a request whose URL or form names such an action is
# never made (words read from the path's words, camelCase split: /mailbox/submitLetter.do → submit), and a
# POST carrying what a person types (title, content, phone, captcha …) is a form submission, not a list.
WRITE_WORDS = frozenset({   # unambiguous verbs only: a list of reports or comments is still read
    "submit", "save", "add", "insert", "create", "update", "modify", "edit", "delete", "del", "remove", "send",
    "sms", "login", "logon", "logout", "signin", "signup", "register", "vote", "zan", "dianzan", "upload", "pay",
    "tijiao", "baocun", "shanchu", "toupiao", "captcha", "verify", "subscribe", "unsubscribe", "reset",
    "password", "pwd"})
FORM_FIELDS = frozenset({   # what a person types into a 留言/registration form (a list filter has none)
    "content", "phone", "tel", "mobile", "email", "realname", "username", "idcard", "sfz", "sfzh", "address",
    "captcha", "yzm", "verifycode", "checkcode", "vcode", "password", "pwd", "message", "question", "contact"})
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")


def _words(s: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(s)}


_KEY = re.compile(r"""['"]?([A-Za-z_$][\w$]*)['"]?\s*:""")


def changes_something(url: str, method: str = "GET", form_keys: Iterable[str] = ()) -> bool:
    """The request would act on the site (submit, vote, send a code …), not read a list: never made.
    ``form_keys``: every key of the POST's data object, those whose value comes from the page's inputs too."""
    if _words(urlsplit(url).path) & WRITE_WORDS:
        return True
    return method == "POST" and any(k.lower() in FORM_FIELDS for k in form_keys)


@dataclass(frozen=True)
class EndpointRequest:
    """One request a page's script makes for its list."""

    url: str
    method: str = "GET"
    form: tuple[tuple[str, str], ...] = ()   # POST body (application/x-www-form-urlencoded)
    source: str = ""                          # the script it was read from ("inline" or its URL)
    how: str = ""                             # literal | call | url-key | template | jpage

    @property
    def key(self) -> str:
        """Identity of the request: the same URL POSTed with another column's form is another request."""
        return self.url if not self.form and self.method == "GET" else \
            f"{self.method} {self.url} {urlencode(self.form)}"

    def body(self) -> bytes | None:
        return urlencode(self.form).encode() if self.method == "POST" else None


def script_urls(html: str, base_url: str, *, limit: int = 20) -> list[str]:
    """``<script src>`` URLs of the page (absolute, http(s) only), in page order."""
    out: dict[str, None] = {}
    for m in _SCRIPT_SRC.finditer(html or ""):
        u = urljoin(base_url, m.group(1).strip()).split("#")[0]
        if urlsplit(u).scheme in ("http", "https"):
            out.setdefault(u, None)
        if len(out) >= limit:
            break
    return list(out)


def inline_scripts(html: str) -> str:
    """The text of the page's inline scripts (not JSON-LD, not templates)."""
    parts = []
    for attrs, body in _INLINE.findall(closed_prefix(html or "", SCRIPT_END)):     # linear on unclosed <script>s
        if "src=" in attrs.lower():
            continue
        t = re.search(r"""type\s*=\s*["']?([\w/+-]+)""", attrs, re.IGNORECASE)
        if t and not any(x in t.group(1).lower() for x in ("javascript", "ecmascript", "module", "babel")):
            continue
        parts.append(body)
    return "\n".join(parts)


def _norm(name: str) -> str:
    return re.sub(r"[_\-$]", "", name).lower()


# -- JavaScript literal reading (no evaluation) --------------------------------------------------------

def _scan(text: str, i: int, stops: str = ",);}") -> int:
    """Index where the expression starting at ``i`` ends (a stop character at depth 0)."""
    depth, n = 0, min(len(text), i + MAX_EXPR)
    while i < n:
        c = text[i]
        if c in "'\"`":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            if depth == 0:
                return i
            depth -= 1
        elif depth == 0 and c in stops:
            return i
        i += 1
    return i


def _object_end(text: str, i: int, limit: int = MAX_CONFIG_TEXT) -> int:
    """Index just after the ``}`` closing the object whose ``{`` is at ``i`` (within ``limit`` characters)."""
    depth, n = 0, min(len(text), i + limit)
    j = i
    while j < n:
        c = text[j]
        if c in "'\"`":
            k = j + 1
            while k < n and text[k] != c:
                k += 2 if text[k] == "\\" else 1
            j = k + 1
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    return -1


def _unquote(s: str) -> str:
    try:
        return str(json.loads('"' + s.replace('"', '\\"').replace("\\'", "'") + '"'))
    except ValueError:
        return s


def _split_top(expr: str, sep: str) -> list[str]:
    out, depth, cur, i = [], 0, [], 0
    while i < len(expr):
        c = expr[i]
        if c in "'\"`":
            j = i + 1
            while j < len(expr) and expr[j] != c:
                j += 2 if expr[j] == "\\" else 1
            cur.append(expr[i:j + 1])
            i = j + 1
            continue
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        if c == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    out.append("".join(cur))
    return [p.strip() for p in out]


def parse_object(text: str, env: dict[str, str] | None = None) -> dict[str, str]:
    """A JS object literal ``{a: 1, 'b': "x", c: {d: 2}}`` as flat string values (nested keys kept by
    their own name and as ``c.d``). Values that are not literals are resolved through ``env`` or dropped."""
    env = env or {}
    s = text.strip()
    if not (s.startswith("{") and s.endswith("}")):
        return {}
    try:
        data = json.loads(s)
        return _flatten(data) if isinstance(data, dict) else {}
    except ValueError:
        pass
    out: dict[str, str] = {}
    for part in _split_top(s[1:-1], ","):
        k, sep, v = part.partition(":")
        if not sep:
            continue
        k = k.strip().strip("'\"")
        if not re.match(r"^[\w$]+$", k):
            continue
        v = v.strip()
        if v.startswith("{"):
            for kk, vv in parse_object(v, env).items():
                out.setdefault(kk.rsplit(".", 1)[-1], vv)
                out[f"{k}.{kk}"] = vv
            continue
        val = evaluate(v, env)
        if val is not None:
            out[k] = val
    return out


def _flatten(d: dict[str, Any], prefix: str = "", depth: int = 0) -> dict[str, str]:
    out: dict[str, str] = {}
    if depth > 4:
        return out
    for k, v in d.items():
        if isinstance(v, dict):
            for kk, vv in _flatten(v, "", depth + 1).items():
                out.setdefault(kk.rsplit(".", 1)[-1], vv)
                out[f"{prefix}{k}.{kk}"] = vv
        elif isinstance(v, (str, int, float)) and not isinstance(v, bool):
            out[f"{prefix}{k}"] = str(v)
    return out


def _lookup(name: str, env: dict[str, str]) -> str | None:
    """A variable or member expression (``cfg.catId``, ``window.__APP_CONFIG__.siteId``) through ``env``:
    the full dotted name, then its last segment (case- and underscore-insensitive)."""
    name = re.sub(r"\[\s*['\"]([\w$]+)['\"]\s*\]", r".\1", re.sub(r"\s+", "", name))
    if name in env:
        return env[name]
    segs = name.split(".")
    for i in range(1, len(segs)):
        tail = ".".join(segs[i:])
        if tail in env:
            return env[tail]
    last = _norm(segs[-1])
    if last in _PAGE_VARS:
        return env.get("__page__", "1")
    if last in _SIZE_VARS:
        hit = next((v for k, v in env.items() if _norm(k.rsplit(".", 1)[-1]) == last), None)
        return hit or "20"
    for k, v in env.items():
        if _norm(k.rsplit(".", 1)[-1]) == last:
            return v
    return None


def evaluate(expr: str, env: dict[str, str]) -> str | None:
    """The string value of a URL expression: literals, ``+`` concatenation, template literals and names
    known in ``env``. None when any part is unknown (a function call, a DOM value, an unknown variable)."""
    expr = expr.strip()
    if not expr or len(expr) > MAX_EXPR:
        return None
    parts = _split_top(expr, "+")
    out = []
    for p in parts:
        p = p.strip()
        while p.startswith("(") and p.endswith(")"):
            p = p[1:-1].strip()
        if len(p) >= 2 and p[0] == p[-1] and p[0] in "'\"":
            out.append(_unquote(p[1:-1]))
        elif len(p) >= 2 and p[0] == p[-1] == "`":
            body = p[1:-1]
            missing = False

            def sub(m: re.Match[str]) -> str:
                nonlocal missing
                v = evaluate(m.group(1), env)
                if v is None:
                    missing = True
                return v or ""
            txt = re.sub(r"\$\{([^}]{1,200})\}", sub, body)
            if missing:
                return None
            out.append(txt)
        elif _NUMBER.match(p):
            out.append(p)
        elif _IDENT.match(p):
            v = _lookup(p, env)
            if v is None:
                return None
            out.append(v)
        else:
            return None
    return "".join(out)


# -- the page's config -------------------------------------------------------------------------------

def page_config(html: str, scripts: str = "") -> dict[str, str]:
    """Config values a page's scripts build their URLs from: inline config objects
    (``window.__APP_CONFIG__ = {...}``, ``var CONFIG = {...}``), simple ``var X = 'literal'`` assignments and
    ``data-*`` attributes (``data-cat-id="12"`` → ``catId``). Later definitions do not override earlier ones."""
    env: dict[str, str] = {}
    text = inline_scripts(html) + "\n" + (scripts or "")
    for n, m in enumerate(_CONFIG_ASSIGN.finditer(text)):
        if n >= MAX_MATCHES // 10:
            break
        start = m.end() - 1
        end = _object_end(text, start)
        if end < 0:
            continue
        obj = parse_object(text[start:end], env)
        for k, v in obj.items():
            env.setdefault(k, v)
            env.setdefault(f"{m.group(1)}.{k}", v)
    for n, m in enumerate(_VAR_ASSIGN.finditer(text)):
        if n >= MAX_MATCHES * 3:
            break
        end = _scan(text, m.end(), ",;\n")
        raw = text[m.end():end].strip()
        if not raw or raw.startswith(("{", "function", "[", "new ", "(")):
            continue
        value = evaluate(raw, env)
        if value is not None and len(value) <= 300:
            env.setdefault(m.group(1), value)
    for m in _DATA_ATTR.finditer(html or ""):
        name = re.sub(r"-([a-z])", lambda x: x.group(1).upper(), m.group(1).lower())
        env.setdefault(name, m.group(2))
    return env


# -- endpoint candidates -------------------------------------------------------------------------------

def _accept(raw: str, strict: bool) -> bool:
    if not raw or raw.startswith(("javascript:", "#", "data:", "blob:", "mailto:")):
        return False
    if not re.search(r"[/.]", raw) or " " in raw.strip():
        return False        # `this.load(1)`, `$.get(name)`: not a URL
    if _STATIC_EXT.search(raw) and not re.search(r"\.json", raw, re.IGNORECASE):
        return False
    return not strict or bool(_DATA_EXT.search(raw))


def find_endpoints(script: str, env: dict[str, str], base_url: str, *, source: str = "inline",
                   limit: int = MAX_CANDIDATES) -> list[EndpointRequest]:
    """Requests a script makes: ``fetch``/``$.ajax``/``$.get``/``axios``/``xhr.open`` calls, ``url:`` keys
    (with ``type: 'POST'`` and a literal ``data: {...}`` object) and string literals naming JSON/XML data.
    URLs are resolved against ``base_url`` (the page: a script's relative URLs are the page's)."""
    out: dict[str, EndpointRequest] = {}

    def add(expr: str, how: str, method: str = "GET", form: dict[str, str] | None = None, form_text: str = "") -> None:
        val = evaluate(expr, env)
        if val is None or not _accept(val, strict=how == "literal"):
            return
        url = urljoin(base_url, val.strip()).split("#")[0]
        if urlsplit(url).scheme not in ("http", "https"):
            return
        req = EndpointRequest(url, method, tuple(sorted((form or {}).items())), source, how)
        if changes_something(req.url, req.method, {*(form or {}), *_KEY.findall(form_text)}):
            return
        out.setdefault(req.key, req)

    for n, m in enumerate(_CALLS.finditer(script)):
        if len(out) >= limit or n >= MAX_MATCHES:
            break
        start = m.end()
        if script[start:start + 1] == "{":          # $.ajax-like option object: read by the url: key pass
            continue
        end = _scan(script, start)
        method = "POST" if "post" in m.group(0).lower() else "GET"
        form, form_text = None, ""
        if method == "POST" and script[end:end + 1] == ",":
            arg_end = _scan(script, end + 1)
            form_text = script[end + 1:arg_end].strip()
            form = parse_object(form_text, env) or None
        add(script[start:end], "call", method, form, form_text)
    for n, m in enumerate(_XHR_OPEN.finditer(script)):
        if n >= MAX_MATCHES:
            break
        end = _scan(script, m.end())
        add(script[m.end():end], "call", m.group(2).upper())
    for n, m in enumerate(_URL_KEY.finditer(script)):
        if len(out) >= limit or n >= MAX_MATCHES:
            break
        end = _scan(script, m.end())
        # the options object around the key: method and a literal data object
        lo = script.rfind("{", max(0, m.start() - 300), m.start())
        hi = _object_end(script, lo, MAX_OPTIONS) if lo >= 0 else -1
        opts = script[lo:hi] if hi > 0 else ""
        meth = _METHOD.search(opts)
        method = meth.group(1).upper() if meth else "GET"
        form, form_text = None, ""
        dm = re.search(r"\bdata\s*:\s*\{", opts)
        if dm and method == "POST":
            dend = _object_end(opts, dm.end() - 1, MAX_OPTIONS)
            form_text = opts[dm.end() - 1:dend] if dend > 0 else ""
            form = parse_object(form_text, env) if dend > 0 else None
        add(script[m.end():end], "url-key", method, form, form_text)
    for n, m in enumerate(_STRING_LIT.finditer(script)):
        if len(out) >= limit or n >= MAX_MATCHES * 10:
            break
        s = m.group(2)
        joined = script[m.end():m.end() + 3].lstrip().startswith("+") or \
            script[max(0, m.start() - 3):m.start()].rstrip().endswith("+")
        if joined or ("/" not in s and "." not in s) or " " in s or s.endswith("/"):
            continue
        val = urljoin(base_url, _unquote(s)).split("#")[0]
        if any(r.url == val for r in out.values()):
            continue            # the URL of a call or url: key already taken with its method
        add(m.group(0), "literal")
    return list(out.values())[:limit]


# -- Hanweb (大汉) jpage / dataproxy.jsp -----------------------------------------------------------------

HANWEB_MAX_REQUESTS = 20     # dataproxy.jsp POSTs per list


def hanweb_requests(html: str, base_url: str, *, scripts: str = "",
                    max_requests: int = HANWEB_MAX_REQUESTS) -> list[EndpointRequest]:
    """The ``dataproxy.jsp`` POSTs Hanweb's ``jpage`` makes for the records after the inline datastore.

    ``$('#div').jpage({totalRecord: 118, perPage: 15, groupSize: 3, proxyUrl: '/module/web/jpage/dataproxy.jsp',
    ajaxParam: {columnid: …, unitid: …, webid: …, …}})``: the script asks
    ``proxyUrl?startrecord=S&endrecord=E&perpage=P`` by POST with ``ajaxParam`` as the form, one group of
    ``groupSize × perPage`` records at a time, starting after the records the page already carries.
    Without ``ajaxParam`` the form is the query of the datastore's ``<nextgroup>`` link."""
    text = inline_scripts(html) + "\n" + (scripts or "")
    out: list[EndpointRequest] = []
    for n, m in enumerate(_JPAGE.finditer(text)):
        if n >= 5:
            break
        start = m.end() - 1
        end = _object_end(text, start)
        if end < 0:
            continue
        env = page_config(html, scripts)
        opts = parse_object(text[start:end], env)
        proxy = opts.get("proxyUrl") or opts.get("proxyurl")
        if not proxy:
            continue
        try:
            total = int(float(opts.get("totalRecord") or opts.get("totalrecord") or _datastore_total(html) or 0))
            per = max(1, int(float(opts.get("perPage") or opts.get("perpage") or 15)))
            group = max(1, int(float(opts.get("groupSize") or opts.get("groupsize") or 1)))
        except ValueError:
            continue
        form = {k.split(".", 1)[1]: v for k, v in opts.items() if k.lower().startswith("ajaxparam.")}
        if not form:
            form = dict(_nextgroup_params(html))
        have = len(re.findall(r"<record\b", html, re.IGNORECASE))
        step = per * group
        s = have + 1
        url0 = urljoin(base_url, proxy)
        while s <= total and len(out) < max_requests:
            e = min(total, s + step - 1)
            sep = "&" if "?" in url0 else "?"
            url = f"{url0}{sep}startrecord={s}&endrecord={e}&perpage={per}"
            out.append(EndpointRequest(url, "POST", tuple(sorted(form.items())), "inline", "jpage"))
            s = e + 1
    return out


def _datastore_total(html: str) -> str | None:
    m = re.search(r"<totalrecord>\s*(\d+)\s*</totalrecord>", html or "", re.IGNORECASE)
    return m.group(1) if m else None


def _nextgroup_params(html: str) -> list[tuple[str, str]]:
    # the first href after the first <nextgroup> — what r"<nextgroup>.*?href…" finds, without its scan from
    # every <nextgroup> to the end of a page that has no href after them (quadratic on a hostile page)
    opening = _NEXTGROUP_OPEN.search(html or "")
    m = _HREF_VALUE.search(html or "", opening.end()) if opening else None
    if not m:
        return []
    return [(k, v) for k, v in parse_qsl(urlsplit(m.group(1)).query) if k.lower() not in ("page",)]


# -- JSON answers: pagination ---------------------------------------------------------------------------

_TOTAL_PAGES = ("totalpage", "totalpages", "pagecount", "pages", "pagetotal", "totalpagenum", "maxpage")
_TOTAL = ("total", "totalcount", "totalnum", "totalrecord", "totalrecords", "recordcount", "totalelements", "count")
_SIZE = ("pagesize", "size", "perpage", "limit", "rows")


def json_page_count(data: Any) -> int | None:
    """How many pages a JSON list answer says it has (``totalPage``, or ``total`` / ``pageSize``)."""
    found: dict[str, int] = {}

    def walk(v: Any, depth: int) -> None:
        if depth > 3 or not isinstance(v, dict):
            return
        for k, x in v.items():
            nk = _norm(k)
            if isinstance(x, (int, str)) and str(x).isdigit() and nk not in found:
                found[nk] = int(x)
            elif isinstance(x, dict):
                walk(x, depth + 1)
    walk(data, 0)
    for k in _TOTAL_PAGES:
        if k in found:
            return found[k]
    total = next((found[k] for k in _TOTAL if k in found), None)
    size = next((found[k] for k in _SIZE if k in found and found[k] > 0), None)
    if total is not None and size:
        return -(-total // size)
    return None


_PAGE_PARAM = re.compile(r"([?&](?:page|pageNo|pageNum|pageIndex|currentPage|curPage|pn|p)=)(\d+)", re.IGNORECASE)
_PAGE_PATH = re.compile(r"([/_-])(\d{1,3})(\.json)$", re.IGNORECASE)


def next_page_url(url: str, page: int) -> str | None:
    """``url`` asking for page ``page`` instead (query ``page=1`` or a ``…/list_1.json`` path); None when
    the URL has no page number to change."""
    m = _PAGE_PARAM.search(url)
    if m:
        return url[:m.start(2)] + str(page) + url[m.end(2):]
    parts = urlsplit(url)
    m = _PAGE_PATH.search(parts.path)
    if m and m.group(2) in ("0", "1"):
        first = int(m.group(2))
        path = parts.path[:m.start(2)] + str(page - 1 + first) + parts.path[m.end(2):]
        return parts._replace(path=path).geturl()
    return None
