"""Page chrome shared by the demo sites: <head> meta tags, header/nav, and the identity footer.

The footer follows 国办发〔2017〕47号 (政府网站发展指引) 底部功能区: 党政机关网站标识 (conac), 主办单位,
联系方式, 网站标识码, ICP备案编号 linked to beian.miit.gov.cn, 公安机关备案号 linked with the same
14 digits, and the 我为政府网站找错 entry carrying the same site code.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

# A 1x1 PNG: logos and badges must load, or the links check would see broken images everywhere.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")

PAGE_JS = """function createPageHTML(_nPageCount, _nCurrIndex, _sPageName, _sPageExt) {
  if (_nPageCount == null || _nPageCount <= 1) { return; }
  var s = "";
  if (_nCurrIndex == 0) { s += "<span>首页</span> "; }
  else { s += "<a href=\\"" + _sPageName + "." + _sPageExt + "\\">首页</a> "; }
  for (var i = 1; i < _nPageCount; i++) {
    s += "<a href=\\"" + _sPageName + "_" + i + "." + _sPageExt + "\\">" + (i + 1) + "</a> ";
  }
  document.write(s);
}
"""

e = html.escape


@dataclass(frozen=True)
class Identity:
    """What a site publishes about itself (meta tags and footer)."""

    site_name: str
    domain: str
    sponsor: str  # 主办单位
    phone: str
    address: str
    site_code: str | None  # in <meta name="SiteIDCode"> and the 找错 link
    footer_code: str | None  # 网站标识码 printed in the footer (None: missing)
    icp: str = "粤ICP备05012345号-1"
    police: str = "44150202000123"
    conac_id: str = "5A1E0C6B2F3D4E5F60718293A4B5C6D7"
    show_conac: bool = True
    show_jiucuo: bool = True


def head(ident: Identity, title: str, *, column: str | None = None, article: str | None = None,
         pubdate: str | None = None, source: str | None = None, charset: str = "utf-8",
         meta_style: str = "charset", keywords: str = "") -> str:
    """<head> with the 网页设计规范 meta tags for the page's level (site, column, article)."""
    if meta_style == "charset":
        charset_tag = f'<meta charset="{charset}">'
    else:  # old sites: only http-equiv, which is all the crawler has to go on
        charset_tag = f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
    metas = [("SiteName", ident.site_name), ("SiteDomain", ident.domain)]
    if ident.site_code:
        metas.append(("SiteIDCode", ident.site_code))
    if column:
        metas += [("ColumnName", column), ("ColumnType", column)]
    if article:
        metas += [("ArticleTitle", article), ("PubDate", pubdate or ""), ("ContentSource", source or ident.sponsor)]
    if keywords:
        metas.append(("Keywords", keywords))
    meta_html = "\n".join(f'<meta name="{n}" content="{e(v)}">' for n, v in metas)
    return (f"<head>\n{charset_tag}\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{e(title)}</title>\n{meta_html}\n"
            '<link rel="stylesheet" href="/css/style.css">\n<script src="/js/page.js"></script>\n</head>')


def footer(ident: Identity) -> str:
    parts = ['<footer class="footer"><div class="foot-wrap">']
    if ident.show_conac:
        parts.append('<span id="_ideConac"><a href="https://bszs.conac.cn/sitename?method=show&amp;id='
                     f'{ident.conac_id}" target="_blank"><img id="imgConac" src="/images/red.png" '
                     'alt="党政机关"></a></span>')
    parts.append(f"<p>主办单位：{e(ident.sponsor)}　地址：{e(ident.address)}　联系电话：{e(ident.phone)}</p>")
    code = f"　网站标识码：{ident.footer_code}" if ident.footer_code else ""
    parts.append(f'<p><a href="https://beian.miit.gov.cn/" target="_blank">{e(ident.icp)}</a>{code}　'
                 f'<a href="http://www.beian.gov.cn/portal/registerSystemInfo?recordcode={ident.police}" '
                 f'target="_blank"><img src="/images/ga.png" alt="">粤公网安备 {ident.police}号</a></p>')
    if ident.show_jiucuo and ident.site_code:
        parts.append('<p><a href="https://zfwzgl.www.gov.cn/exposure/jiucuo.html?site_code='
                     f'{ident.site_code}" target="_blank"><img src="/images/jiucuo.png" alt="">'
                     "我为政府网站找错</a>　<a href=\"/wzdt/\">网站地图</a></p>")
    parts.append("</div></footer>")
    return "\n".join(parts)


def header(ident: Identity, nav: list[tuple[str, str]]) -> str:
    links = "".join(f'<li><a href="{e(href)}">{e(text)}</a></li>' for text, href in nav)
    return (f'<header class="header"><div class="logo"><a href="/"><img src="/images/logo.png" '
            f'alt="{e(ident.site_name)}"></a></div>'
            '<div class="search"><form action="/search/" method="get"><input name="q" type="text">'
            '<button type="submit">搜索</button></form></div></header>\n'
            f'<nav class="nav"><ul><li><a href="/">首页</a></li>{links}</ul></nav>')


def crumbs(trail: list[tuple[str, str]]) -> str:
    inner = " &gt; ".join(f'<a href="{e(h)}">{e(t)}</a>' for t, h in trail)
    return f'<div class="crumb">当前位置：<a href="/">首页</a> &gt; {inner}</div>' if trail else ""


def document(ident: Identity, nav: list[tuple[str, str]], title: str, body: str, *,
             trail: list[tuple[str, str]] | None = None, **meta: str | None) -> str:
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n" + head(ident, title, **meta)  # type: ignore[arg-type]
            + "\n<body>\n" + header(ident, nav) + '\n<div class="main">' + crumbs(trail or [])
            + "\n" + body + "\n</div>\n" + footer(ident) + "\n</body>\n</html>\n")


def static_assets(routes: object) -> None:
    """Logo, badges, stylesheet and the TRS pagination script every page references."""
    from zwgk.demo.model import Routes

    assert isinstance(routes, Routes)
    for name in ("logo", "red", "ga", "jiucuo"):
        routes.raw(f"/images/{name}.png", PNG_1X1, "image/png")
    routes.raw("/css/style.css", b"body{font-family:SimSun,serif}.list li span{float:right}\n",
               "text/css; charset=utf-8")
    routes.raw("/js/page.js", PAGE_JS.encode(), "application/javascript; charset=utf-8")
