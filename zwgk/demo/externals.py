"""Off-district hosts the demo sites link to, served on loopback like the sites.

www.shanwei.gov.cn / www.gd.gov.cn: the city's and province's 规章库 and the 12345 page (healthy
outbound links). www.old-partner-gov.cn: a lapsed former government domain that now serves a
gambling page, the 外链变异 case (docs/DOMAIN.md §8).
"""

from __future__ import annotations

from zwgk.demo.model import DemoSite, Routes


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title></head>'
            f"<body>{body}</body></html>")


def build() -> list[DemoSite]:
    sw = Routes()
    sw.page("/", _page("汕尾市人民政府门户网站", '<a href="/zwgk/gzk/">规章库</a>'))
    sw.page("/zwgk/gzk/", _page("汕尾市人民政府规章库", "<ul><li>汕尾市城市市容和环境卫生管理规定</li>"
                                               "<li>汕尾市餐厨垃圾管理办法</li><li>汕尾市海岸带保护与利用管理办法</li></ul>"))
    gd = Routes()
    gd.page("/", _page("广东省人民政府门户网站", '<a href="/zwgk/gzk/">规章库</a>'))
    gd.page("/zwgk/gzk/", _page("广东省人民政府规章库", "<ul><li>广东省政府信息公开规定</li></ul>"))
    gd.page("/hdjl/12345/", _page("12345政务服务便民热线", "<p>12345政务服务便民热线，全天候受理企业和群众诉求。</p>"))
    bad = Routes()
    bad.page("/", _page("澳门葡京娱乐城-在线投注官网", "<h1>澳门葡京 赌场</h1><p>在线投注 真人娱乐 百家乐 注册即送彩金</p>"
                                              "<p>体育投注 彩票 老虎机 24小时在线充值提款</p>"))
    return [DemoSite("swgov", "汕尾市人民政府门户网站", "", "external", "www.shanwei.gov.cn", routes=sw),
            DemoSite("gdgov", "广东省人民政府门户网站", "", "external", "www.gd.gov.cn", routes=gd),
            DemoSite("oldpartner", "汕尾市法律援助网（已失效域名）", "", "external", "www.old-partner-gov.cn", routes=bad)]
