"""The demo district builds for any audit day and is really served on loopback (HTTP + DNS)."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
import socket
import tomllib
from pathlib import Path

import dns.message
import dns.query
import dns.rcode
import httpx
import pypdf
import pytest

from zwgk.demo import annual
from zwgk.demo.district import build_district
from zwgk.demo.model import add_months
from zwgk.demo.serve import serve_district

TODAYS = [dt.date(2026, 11, 27), dt.date(2027, 2, 15), dt.date(2027, 6, 1)]


def _ipv6_ok() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


IPV6 = _ipv6_ok()


@pytest.fixture(scope="module", params=TODAYS, ids=str)
def served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    district = build_district(request.param)
    with serve_district(district, workdir=tmp_path_factory.mktemp("demo")) as servers:
        yield servers


def _get(servers, site_id: str, path: str, family: int = 4) -> httpx.Response:
    site = servers.district.host_site(site_id)
    addr = "127.0.0.1" if family == 4 else "[::1]"
    with httpx.Client(trust_env=False, timeout=5) as client:
        return client.get(f"http://{addr}:{servers.ports[site.id]}{path}",
                          headers={"Host": f"{site.hostname}:{servers.ports[site.id]}"})


def test_every_site_home_page_is_served_over_ipv4(served) -> None:
    for site in served.district.sites:
        resp = _get(served, site.id, site.path)
        assert resp.status_code == 200, site.id
        assert "ETag" in resp.headers and "Last-Modified" in resp.headers, site.id
        assert b"@@PORT:" not in resp.content, site.id


@pytest.mark.skipif(not IPV6, reason="no IPv6 loopback here")
def test_ipv6_modes(served) -> None:
    assert _get(served, "portal", "/", 6).status_code == 200
    assert _get(served, "ggsy", "/", 6).status_code == 200
    assert _get(served, "sfj", "/", 6).status_code == 200  # partial: the home page works ...
    inner = "/col/col1001/"
    assert _get(served, "sfj", inner, 4).status_code == 200
    try:  # ... inner pages do not
        assert _get(served, "sfj", inner, 6).status_code >= 500
    except httpx.TransportError:
        pass
    with pytest.raises(httpx.ConnectError):  # fake IPv6: AAAA but nothing listens on ::1
        _get(served, "fzj", "/", 6)


def test_gbk_site_declares_charset_only_in_meta(served) -> None:
    resp = _get(served, "tqjd", "/")
    assert resp.headers["content-type"] == "text/html"
    text = resp.content.decode("gb18030")
    assert 'http-equiv="Content-Type"' in text and "田墘街道" in text
    listing = _get(served, "tqjd", "/List.asp?ClassID=11").content.decode("gb18030")
    assert "[" in listing and "年</b>" in listing


def test_gkmlpt_container_is_empty_and_the_json_api_has_items(served) -> None:
    """As on real gkmlpt sites: no API URL in the page, only the site id and #category links."""
    from zwgk.demo.site_fzj import SID, api_path

    page = _get(served, "fzj", "/gkmlpt/index").text
    assert '<ul id="gkmlpt-list" class="gkmlpt-list"></ul>' in page
    assert "/gkmlpt/api/all/0" not in page and "?page=1" not in page and f"SID: '{SID}'" in page
    assert 'href="#2882"' in page
    data = json.loads(_get(served, "fzj", api_path(0)).content)
    assert data["total"] == len(data["articles"]) > 5
    budgets = json.loads(_get(served, "fzj", api_path(2882)).content)["articles"]
    assert budgets and all(a["classify_id"] == 2882 for a in budgets) and len(budgets) < len(data["articles"])
    first = data["articles"][0]
    assert isinstance(first["first_publish_time"], int)
    assert f":{served.ports['fzj']}/" in first["url"]
    assert dt.datetime.fromtimestamp(first["first_publish_time"]).date() <= served.district.today


def test_fzj_annual_report_pdf_has_extractable_chinese_text(served) -> None:
    page = _get(served, "fzj", "/zfxxgknb/").text
    found = re.findall(r'href="([^"]+\.pdf)"', page)
    assert found
    pdf_path = found[0]
    pdf = pypdf.PdfReader(io.BytesIO(_get(served, "fzj", pdf_path).content))
    text = "".join(p.extract_text() for p in pdf.pages)
    assert "政府信息公开工作年度报告" in text and "三、收到和处理政府信息公开申请情况" in text


def test_every_plant_path_is_served(served) -> None:
    for plant in served.district.plants:
        if plant.path is None:
            continue
        site = served.district.host_site(plant.site_id)
        assert plant.path in site.routes, plant
        resp = _get(served, plant.site_id, plant.path)
        assert resp.status_code == site.routes[plant.path].status, plant


def test_sfj_link_plants_have_their_status(served) -> None:
    assert _get(served, "sfj", "/col/col1010/index.html").status_code == 404
    assert _get(served, "sfj", "/interface/zxzx/index.jsp").status_code == 403
    soft = _get(served, "sfj", "/col/col1099/index.html")
    assert soft.status_code == 200 and "您访问的页面不存在" in soft.text
    home = _get(served, "sfj", "/").text
    bad = served.district.site("oldpartner")
    assert f"http://{bad.hostname}:{served.ports['oldpartner']}/" in home
    casino = _get(served, "oldpartner", "/").text
    assert "赌场" in casino and "在线投注" in casino


def test_dns_zone_and_sites_toml(served) -> None:
    host, port = served.dns.address.rsplit(":", 1)

    def ask(name: str, rtype: str) -> dns.message.Message:
        return dns.query.udp(dns.message.make_query(name, rtype), host, port=int(port), timeout=2)

    assert ask("www.hhw.gov.cn", "AAAA").answer and ask("fzj.hhw.gov.cn", "AAAA").answer
    assert not ask("tqjd.hhw.gov.cn", "AAAA").answer and ask("tqjd.hhw.gov.cn", "A").answer
    assert ask("www.old-partner-gov.cn", "A").answer
    assert len(ask("hhw.gov.cn", "NS").answer[0]) == 2
    assert ask("ns1.hhw.gov.cn", "AAAA").answer
    cfg = tomllib.loads(Path(served.sites_toml).read_text(encoding="utf-8"))
    assert cfg["audit"]["region_code"] == "441500" and cfg["network"]["nameservers"] == [served.dns.address]
    ids = {s["id"]: s for s in cfg["site"]}
    assert set(ids) == {"portal", "fzj", "sfj", "tqjd", "ggsy", "jyj", "dzjd"}
    assert ids["dzjd"]["column_of"] == "portal" and ids["dzjd"]["url"].endswith("/dzjd/")
    assert ids["portal"]["url"] == f"http://www.hhw.gov.cn:{served.ports['portal']}/"
    try:
        from zwgk.config import load_sites
    except ImportError:
        return
    load_sites(served.sites_toml)


@pytest.mark.parametrize("today", TODAYS + [dt.date(2026, 1, 5), dt.date(2026, 3, 31)], ids=str)
def test_district_is_consistent_for_any_day(today: dt.date) -> None:
    district = build_district(today)
    ids = {s.id for s in district.sites}
    assert {p.site_id for p in district.plants} <= ids
    assert {sid for sid, _ in district.compliant} <= ids
    future = [p for p in district.plants if p.check_id == "forged-dates"]
    assert future
    portal = district.site("portal")
    assert "/robots.txt" in portal.routes and "/sitemap.xml" in portal.routes
    assert "/dzjd/" in portal.routes and "createPageHTML(3, 0" in portal.routes["/zwgk/zcwj/"].body.decode()
    assert "/zwgk/zcwj/index_2.html" in portal.routes


def test_annual_report_arithmetic() -> None:
    n = annual.numbers("区司法局", 2025)
    for col in range(6):
        assert n.new[col] + n.carry_in[col] == n.total7[col] + n.carry_out[col]
    assert annual.numbers("区司法局", 2026).carry_in == n.carry_out  # A7
    broken = annual.table3(n, a1_error=True)
    assert broken != annual.table3(n)


def test_late_reply_is_three_months_and_a_day() -> None:
    received = dt.date(2026, 6, 30)
    assert add_months(received, 3) == dt.date(2026, 9, 30)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)


def test_no_unplanned_broken_internal_links() -> None:
    """Every same-host href/src resolves to a 200 route, except the planted link problems."""
    district = build_district(TODAYS[0])
    planted = {(p.site_id, p.path) for p in district.plants if p.check_id == "links"}
    for site in district.sites:
        if not site.served:
            continue
        routes = site.routes
        for path, resp in routes.items():
            ctype = resp.headers.get("Content-Type", "")
            if not ctype.startswith("text/html") or resp.status != 200:
                continue
            text = bytes(resp.body).decode("gb18030" if site.encoding == "gbk" else "utf-8")
            for href in re.findall(r'(?:href|src)="([^"#]+)"', text):
                href = href.replace("&amp;", "&")
                if href.startswith("./"):
                    href = path.rsplit("/", 1)[0] + href[1:]
                if not href.startswith("/"):
                    continue
                ok = href in routes and routes[href].status == 200
                assert ok or (site.id, href) in planted, (site.id, path, href)


def test_plants_use_known_expectations() -> None:
    """Each plant's `expect` names an outcome the e2e test knows how to assert."""
    district = build_district(TODAYS[0])
    assert {p.expect for p in district.plants} <= {"fail", "unverified", "manual", "info"}
    assert {p.expect for p in district.plants if p.check_id == "forged-dates"} == {"manual"}


@pytest.mark.parametrize("today", TODAYS + [dt.date(2026, 1, 5), dt.date(2026, 3, 31)], ids=str)
def test_portal_policies_of_the_last_year_have_a_two_way_interpretation(today: dt.date) -> None:
    """A district portal issues a policy document about once a month, each with its 解读 (tasks 13-15)."""
    routes = build_district(today).site("portal").routes
    year_ago = add_months(today, -12)

    def html(path: str) -> str:
        return routes[path].body.decode()

    recent = []
    for listing in ("/zwgk/zcwj/index.html", "/zwgk/zcwj/index_1.html", "/zwgk/zcwj/index_2.html",
                    "/zwgk/gfxwj/index.html"):
        col = listing.rsplit("/", 1)[0] + "/"
        for href, day in re.findall(r'<li><a href="\./([^"]+)"[^>]*>[^<]*</a><span>(\d{4}-\d\d-\d\d)</span>', html(listing)):
            if dt.date.fromisoformat(day) >= year_ago:
                recent.append(col + href)
    assert 8 <= len(recent) <= 20, len(recent)
    for path in recent:
        jd = re.search(r'相关解读：<a href="([^"]+)"', html(path))
        assert jd, path
        assert f'相关文件：<a href="{path}"' in html(jd.group(1)), (path, jd.group(1))
