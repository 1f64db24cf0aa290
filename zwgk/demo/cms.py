"""A small UTF-8 CMS generator used by the demo's modern sites (TRS WCM and JCMS URL styles).

TRS WCM (docs/DOMAIN.md §9): articles at /<col>/<yyyymm>/t<yyyymmdd>_<id>.html, list items
`<li><a href title>…</a><span>yyyy-mm-dd</span></li>`, and pagination written by a script,
`createPageHTML(n, i, "index", "html")`, so index_1.html … are reachable only through the script.
JCMS (Hanweb) style: articles at /art/<y>/<m>/<d>/art_<col>_<id>.html, lists with plain links.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass, field

from zwgk.demo import layout
from zwgk.demo.layout import Identity
from zwgk.demo.model import Routes

e = html.escape


@dataclass
class Item:
    """One published item (article, notice, document, report)."""

    title: str
    date: dt.date  # the publication date shown in lists and on the article
    body: str = ""  # article HTML; a plausible paragraph is generated when empty
    info: list[str] = field(default_factory=list)  # extra info lines (文号, 有效性, 题注)
    link: str | None = None  # set: the list links here (off-site or elsewhere) and no article is made
    pubdate_meta: str | None = None  # override of <meta name="PubDate"> (forged-date plants)
    source: str | None = None
    hhmm: str = "10:20"
    url: str = ""  # filled by the builder: the path the list links to


def paragraph(title: str, unit: str) -> str:
    return (f"<p>为进一步做好相关工作，{e(unit)}根据上级部署，现将《{e(title)}》有关情况公布如下。</p>"
            "<p>各有关单位要高度重视，结合实际认真抓好贯彻落实，确保各项措施落地见效。</p>")


class CmsSite:
    """Accumulates one site's routes; every list and article shares the site's chrome."""

    def __init__(self, ident: Identity, routes: Routes, *, unit: str, scheme: str = "trs",
                 first_id: int = 4512000, nav: Sequence[tuple[str, str]] = ()) -> None:
        self.ident = ident
        self.routes = routes
        self.unit = unit
        self.scheme = scheme
        self.nav = list(nav)
        self._next_id = first_id
        self._col_ids: dict[str, int] = {}
        layout.static_assets(routes)

    # -- generic pages ----------------------------------------------------------------------------
    def page(self, path: str, title: str, body: str, *, column: str | None = None,
             trail: list[tuple[str, str]] | None = None, modified: dt.date | None = None,
             status: int = 200) -> str:
        full = title if title == self.ident.site_name else f"{title}_{self.ident.site_name}"
        doc = layout.document(self.ident, self.nav, full, body, trail=trail, column=column)
        return self.routes.page(path, doc, modified, status=status)

    def article_url(self, col_path: str, item: Item) -> str:
        self._next_id += 1
        d = item.date
        if self.scheme == "jcms":
            col_id = self._col_ids.setdefault(col_path, 1000 + 7 * len(self._col_ids))
            return f"/art/{d.year}/{d.month}/{d.day}/art_{col_id}_{self._next_id}.html"
        return f"{col_path}{d:%Y%m}/t{d:%Y%m%d}_{self._next_id}.html"

    def assign(self, col_path: str, item: Item) -> str:
        """Give `item` its article URL now (two-way links need both URLs before rendering)."""
        if not item.url:
            item.url = self.article_url(col_path, item)
        return item.url

    def article(self, path: str, item: Item, *, column: str, trail: list[tuple[str, str]]) -> str:
        pub = item.pubdate_meta or f"{item.date:%Y-%m-%d} {item.hhmm}"
        info = "".join(f"<p class=\"info-line\">{line}</p>" for line in item.info)
        body = item.body or paragraph(item.title, self.unit)
        content = (f'<div class="article"><h1>{e(item.title)}</h1>'
                   f'<div class="info">发布时间：{item.date:%Y-%m-%d} {item.hhmm}　'
                   f'来源：{e(item.source or self.unit)}</div>{info}'
                   f'<div class="content" id="zoom">{body}</div></div>')
        doc = layout.document(self.ident, self.nav, f"{item.title}_{self.ident.site_name}", content,
                              trail=trail, column=column, article=item.title, pubdate=pub,
                              source=item.source or self.unit)
        return self.routes.page(path, doc, item.date)

    # -- columns ----------------------------------------------------------------------------------
    def column(self, path: str, name: str, items: list[Item], *, per_page: int = 15,
               trail: list[tuple[str, str]] | None = None, intro: str = "",
               empty_text: str | None = None) -> list[Item]:
        """List pages (+ script pagination) and one article per item; items newest first."""
        trail = (trail or []) + [(name, path)]
        items = sorted(items, key=lambda it: it.date, reverse=True)
        for item in items:
            if item.link is not None:
                item.url = item.link
            else:
                self.assign(path, item)
                self.article(item.url, item, column=name, trail=trail)
        pages = [items[i:i + per_page] for i in range(0, len(items), per_page)] or [[]]
        for n, chunk in enumerate(pages):
            lis = "".join(self._li(path, it) for it in chunk)
            if not chunk and empty_text is not None:
                lis = f"<li class=\"empty\">{e(empty_text)}</li>"
            pager = (f'<div class="page"><script>createPageHTML({len(pages)}, {n}, "index", "html");'
                     "</script></div>" if len(pages) > 1 else "")
            body = (f'<div class="column"><h2 class="column-title">{e(name)}</h2>{intro}'
                    f'<ul class="list">{lis}</ul>{pager}</div>')
            newest = chunk[0].date if chunk else None
            self.page(f"{path}index.html" if n == 0 else f"{path}index_{n}.html", name, body,
                      column=name, trail=trail, modified=newest)
            if n == 0:
                self.routes[path] = self.routes[f"{path}index.html"]
        return items

    def _li(self, col_path: str, item: Item) -> str:
        href = item.url
        if self.scheme == "trs" and href.startswith(col_path):
            href = "./" + href[len(col_path):]
        return (f'<li><a href="{e(href)}" title="{e(item.title)}" target="_blank">{e(item.title)}</a>'
                f"<span>{item.date:%Y-%m-%d}</span></li>")


def block(title: str, more: str, items: Sequence[Item], limit: int = 6) -> str:
    """A home-page box: the newest items of one column (full dates) with a 更多 link."""
    lis = "".join(f'<li><a href="{e(it.url)}" title="{e(it.title)}">{e(it.title)}</a>'
                  f"<span>{it.date:%Y-%m-%d}</span></li>" for it in list(items)[:limit])
    return (f'<div class="box"><div class="box-hd"><h3>{e(title)}</h3><a class="more" href="{e(more)}">'
            f"更多&gt;&gt;</a></div><ul class=\"list\">{lis}</ul></div>")


def series(titles: Sequence[str], newest: dt.date, step_days: int) -> list[Item]:
    """Items from `titles`, the first dated `newest`, each next one `step_days` older."""
    return [Item(t, newest - dt.timedelta(days=i * step_days)) for i, t in enumerate(titles)]
