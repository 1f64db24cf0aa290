"""A synthetic government-style site for the crawl benchmark (DOMAIN.md §9 shapes).

40 columns × 500 TRS-style articles (``/colNN/202103/t20210305_ID.html``), list pages of 20
items paginated by ``createPageHTML`` only (no ``<a>`` pager), ~80 links per article
(40-link nav, 20 neighbours, 20 footer links), a PDF on every 100th article, a broken link
on every 50th, and every 20th article in GBK with only a ``<meta>`` charset. Pages are
generated from the path, deterministically, so the server holds nothing in memory.
"""
from __future__ import annotations

COLUMNS, PER_COLUMN, PER_LIST = 40, 500, 20
FOOTER = 20
_FILLER = ("根据《中华人民共和国政府信息公开条例》，现将有关事项公告如下。" * 40)


def nav() -> str:
    items = "".join(f'<li><a href="/col{c:02d}/index.html">栏目{c:02d}</a></li>' for c in range(COLUMNS))
    return f'<div class="nav"><ul>{items}</ul></div>'


def footer() -> str:
    items = "".join(f'<a href="/about/f{i}.html">底部链接{i}</a>' for i in range(FOOTER))
    return (f'<div id="footer">{items}<p>主办单位：红海湾经济开发区 网站标识码：4415000001 '
            '粤ICP备12345678号-1</p></div>')


_NAV, _FOOTER = nav(), footer()


def _doc(title: str, body: str, charset: str = "utf-8", meta_charset: bool = False) -> str:
    meta = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if meta_charset else ""
    return (f"<!DOCTYPE html><html><head>{meta}<title>{title}</title><meta name=\"SiteName\" content=\"红海湾\">"
            f"</head><body>{_NAV}<div class=\"main\">{body}</div>{_FOOTER}</body></html>")


def article_url(c: int, i: int) -> str:
    return f"/col{c:02d}/202103/t20210305_{c * PER_COLUMN + i}.html"


def render(path: str) -> tuple[int, bytes, str]:
    """(status, body, content-type) for a path of the synthetic site."""
    if path in ("/", "/index.html"):
        items = "".join(f'<li><a href="{article_url(c, 0)}">要闻{c}</a><span>2021-03-05</span></li>'
                        for c in range(COLUMNS))
        return 200, _doc("红海湾经济开发区", f"<ul>{items}</ul>").encode(), "text/html; charset=utf-8"
    if path == "/robots.txt":
        return 200, b"User-agent: *\nDisallow: /admin/\n", "text/plain"
    if path.startswith("/about/f"):
        return 200, _doc("关于", "<p>关于我们</p>").encode(), "text/html; charset=utf-8"
    if path.startswith("/col") and len(path) > 6:
        try:
            c = int(path[4:6])
        except ValueError:
            return 404, b"not found", "text/html"
        rest = path[7:]
        if rest.startswith("index"):
            n = 0 if rest == "index.html" else int(rest[6:-5])
            pages = PER_COLUMN // PER_LIST
            if not 0 <= n < pages:
                return 404, b"not found", "text/html"
            items = "".join(f'<li><a href=".{article_url(c, i)[6:]}" title="文章{i}">文章{c}-{i}</a>'
                            f"<span>2021-03-{1 + i % 28:02d}</span></li>"
                            for i in range(n * PER_LIST, (n + 1) * PER_LIST))
            script = f'<script>createPageHTML({pages}, {n}, "index", "html");</script>'
            return 200, _doc(f"栏目{c}", f"<ul>{items}</ul>{script}").encode(), "text/html; charset=utf-8"
        if rest.startswith("202103/t20210305_"):
            ident = int(rest[17:-5])
            i = ident - c * PER_COLUMN
            if not 0 <= i < PER_COLUMN:
                return 404, _doc("页面不存在", "<p>您访问的页面不存在</p>").encode(), "text/html; charset=utf-8"
            rel = "".join(f'<li><a href="{article_url(c, j % PER_COLUMN)}">相关{j}</a></li>'
                          for j in range(i + 1, i + 21))
            extra = ""
            if i % 100 == 7:
                extra += f'<a href="/col{c:02d}/files/att{i}.pdf">附件</a>'
            if i % 50 == 3:
                extra += f'<a href="/col{c:02d}/missing_{i}.html">失效链接</a>'
            body = f"<h1>文章{c}-{i}</h1><p>发布时间：2021-03-05 10:20</p><p>{_FILLER}</p>{extra}<ul>{rel}</ul>"
            if i % 20 == 11:
                return 200, _doc(f"文章{c}-{i}", body, "gb2312", True).encode("gb18030"), "text/html"
            return 200, _doc(f"文章{c}-{i}", body).encode(), "text/html; charset=utf-8"
        if rest.startswith("files/att"):
            return 200, b"%PDF-1.4\n" + b"0" * 20_000, "application/pdf"
    return 404, _doc("页面不存在", "<p>您访问的页面不存在</p>").encode(), "text/html; charset=utf-8"


def expected_pages() -> int:
    """HTML pages reachable from the home page (home, lists, articles, footer pages, 404 targets)."""
    lists = COLUMNS * (PER_COLUMN // PER_LIST)
    broken = COLUMNS * len([i for i in range(PER_COLUMN) if i % 50 == 3])
    return 1 + lists + COLUMNS * PER_COLUMN + FOOTER + broken
