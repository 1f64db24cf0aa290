"""A synthetic government-style site for the benchmarks (docs/DOMAIN.md §9 shapes), any size.

``COLUMNS`` columns × ``per_column`` TRS-style articles (``/colNN/202103/t20210305_ID.html``),
list pages of 20 items paginated by ``createPageHTML`` only (no ``<a>`` pager), ~90 links per
article (40-link nav, 25 neighbours, 25 footer links), a PDF on ~3% of articles, a broken link
on ~1%, and 30% of articles in GBK with only a ``<meta>`` charset. The first columns carry real
政务公开 names (政策文件, 部门预算决算, 年度报告 …) and some titles name 预算/决算/年度报告, so the
column map, list reading and document finding all do their real work. Pages are generated
from the path, deterministically, so the server holds nothing in memory.

``configure(pages)`` sizes the site (about ``pages`` HTML pages); the default is 20,000 articles.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

COLUMNS, PER_LIST, FOOTER, RELATED = 40, 20, 25, 25
PER_COLUMN = 500
_FILLER = ("根据《中华人民共和国政府信息公开条例》，现将有关事项公告如下。" * 40)
_NAMES = ["政策文件", "通知公告", "部门预算决算", "政府信息公开年报", "规划计划", "人事信息", "工作动态",
          "规范性文件", "政策解读", "行政执法"]


def configure(pages: int, columns: int | None = None, footer: int | None = None) -> None:
    """Size the site to about ``pages`` HTML pages (articles + list pages + a few others);
    ``columns`` and ``footer`` shrink it below the 40 × 20 minimum (bench/district.py's small units)."""
    global PER_COLUMN, COLUMNS, FOOTER, _NAV, _FOOTER
    if columns is not None:
        COLUMNS = max(1, min(columns, 99))
    if footer is not None:
        FOOTER = max(0, footer)
    _NAV, _FOOTER = nav(), footer_html()
    PER_COLUMN = max(PER_LIST, round((pages - 1 - FOOTER) / COLUMNS / (1 + 1 / PER_LIST + 0.01)))


def _lists() -> int:
    return -(-PER_COLUMN // PER_LIST)


def column_name(c: int) -> str:
    return _NAMES[c] if c < len(_NAMES) else f"栏目{c:02d}"


def nav() -> str:
    items = "".join(f'<li><a href="/col{c:02d}/index.html">{column_name(c)}</a></li>' for c in range(COLUMNS))
    return f'<div class="nav"><ul>{items}</ul></div>'


def footer_html() -> str:
    items = "".join(f'<a href="/about/f{i}.html">底部链接{i}</a>' for i in range(FOOTER))
    return (f'<div id="footer">{items}<p>主办单位：红海湾经济开发区 网站标识码：4415000001 '
            '粤ICP备12345678号-1</p></div>')


_NAV, _FOOTER = nav(), footer_html()


def _doc(title: str, body: str, charset: str = "utf-8", meta_charset: bool = False, meta: str = "") -> str:
    cs = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">' if meta_charset else ""
    return (f"<!DOCTYPE html><html><head>{cs}<title>{title}</title><meta name=\"SiteName\" content=\"红海湾\">"
            f"{meta}</head><body>{_NAV}<div class=\"main\">{body}</div>{_FOOTER}</body></html>")


def article_url(c: int, i: int) -> str:
    return f"/col{c:02d}/202103/t20210305_{c * PER_COLUMN + i}.html"


def article_title(c: int, i: int) -> str:
    if c == 2:
        return f"红海湾经济开发区{2015 + i % 8}年部门{'预算' if i % 2 else '决算'}公开（{i}）"
    if c == 3:
        return f"红海湾经济开发区{2015 + i % 8}年政府信息公开工作年度报告（{i}）"
    return f"文章{c}-{i}"


def _date(i: int) -> str:
    return f"2021-03-{1 + i % 28:02d}"


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
            try:
                n = 0 if rest == "index.html" else int(rest[6:-5])
            except ValueError:
                n = -1
            pages = _lists()
            if not 0 <= n < pages:
                return 404, b"not found", "text/html"
            items = "".join(f'<li><a href=".{article_url(c, i)[6:]}" title="{article_title(c, i)}">'
                            f"{article_title(c, i)}</a><span>{_date(i)}</span></li>"
                            for i in range(n * PER_LIST, min(PER_COLUMN, (n + 1) * PER_LIST)))
            script = f'<script>createPageHTML({pages}, {n}, "index", "html");</script>'
            meta = f'<meta name="ColumnName" content="{column_name(c)}">'
            return (200, _doc(column_name(c), f"<ul>{items}</ul>{script}", meta=meta).encode(),
                    "text/html; charset=utf-8")
        if rest.startswith("202103/t20210305_"):
            try:
                ident = int(rest[17:-5])
            except ValueError:
                ident = -1
            i = ident - c * PER_COLUMN
            if not 0 <= i < PER_COLUMN:
                return 404, _doc("页面不存在", "<p>您访问的页面不存在</p>").encode(), "text/html; charset=utf-8"
            rel = "".join(f'<li><a href="{article_url(c, j % PER_COLUMN)}">相关{j}</a></li>'
                          for j in range(i + 1, i + 1 + RELATED))
            extra = ""
            if i % 33 == 7:       # ~3% of articles carry an attachment
                extra += f'<a href="/col{c:02d}/files/att{i}.pdf">附件</a>'
            if i % 100 == 3:      # ~1% carry a broken link
                extra += f'<a href="/col{c:02d}/missing_{i}.html">失效链接</a>'
            title = article_title(c, i)
            body = (f"<h1>{title}</h1><p>发布时间：{_date(i)} 10:20</p><p>{_FILLER}</p>{extra}"
                    f"<ul>{rel}</ul>")
            meta = f'<meta name="ArticleTitle" content="{title}"><meta name="PubDate" content="{_date(i)} 10:20">'
            if i % 10 in (1, 4, 7):   # 30% GBK, charset only in <meta>
                return (200, _doc(title, body, "gb2312", True, meta=meta).encode("gb18030"), "text/html")
            return 200, _doc(title, body, meta=meta).encode(), "text/html; charset=utf-8"
        if rest.startswith("files/att"):
            return 200, b"%PDF-1.4\n" + b"0" * 20_000, "application/pdf"
    return 404, _doc("页面不存在", "<p>您访问的页面不存在</p>").encode(), "text/html; charset=utf-8"


def expected_pages() -> int:
    """HTML pages reachable from the home page (home, lists, articles, footer pages, 404 targets)."""
    lists = COLUMNS * _lists()
    broken = COLUMNS * len([i for i in range(PER_COLUMN) if i % 100 == 3])
    return 1 + lists + COLUMNS * PER_COLUMN + FOOTER + broken


def start_server(script: str, port_file: Path, *args: str) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``python SCRIPT --serve PORT_FILE ARGS…`` (a benchmark serving this site in another
    process) and wait up to 20 s for the port it writes."""
    proc = subprocess.Popen([sys.executable, script, "--serve", str(port_file), *args])
    for _ in range(400):
        if port_file.exists() and port_file.read_text():
            break
        time.sleep(0.05)
    return proc, int(port_file.read_text())
