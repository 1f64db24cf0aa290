"""The bundled demo district (红海湾经济开发区, 汕尾市, 广东; region 441500): pure data.

`build_district(today)` returns every site's routes plus the list of planted problems and the
check results expected to pass, all dated relative to `today` so the demo never goes stale.
"""

from __future__ import annotations

import datetime as dt

from zwgk.demo import externals, site_dzjd, site_fzj, site_ggsy, site_jyj, site_portal, site_sfj, site_tqjd
from zwgk.demo.model import District, Plant, Routes

NAME = "红海湾经济开发区"
REGION = "441500"


def build_district(today: dt.date) -> District:
    portal, portal_cms = site_portal.build(today)
    dzjd = site_dzjd.build(portal_cms, today)  # adds /dzjd/ routes to the portal
    assert isinstance(portal.routes, Routes)       # the portal's CMS built it (DemoSite types it as a dict)
    site_portal.sitemap(portal.routes)
    fzj = site_fzj.build(today)
    sfj, sfj_plants = site_sfj.build(today)
    tqjd, tqjd_plants = site_tqjd.build(today)
    ggsy, ggsy_plants = site_ggsy.build(today)
    jyj, jyj_plants = site_jyj.build(today)
    plants = [
        Plant("fzj", "ipv6", "fake IPv6: AAAA record present, nothing listens on ::1", "/"),
        *sfj_plants, *tqjd_plants, *ggsy_plants, *jyj_plants,
    ]
    compliant = [
        *(("portal", c) for c in (
            "availability", "ipv6", "site-identity", "links", "homepage-freshness", "column-blank", "column-stale",
            "forged-dates", "budget-current-year", "final-accounts", "budget-history", "debt-disclosure",
            "annual-report", "regulations-column", "normative-documents", "policy-interpretation",
            "interaction-response", "application-channel", "disclosure-guide", "column-plans",
            "column-negative-list", "column-enforcement", "column-subsidies", "column-epidemic",
            "column-leader-mailbox", "column-gazette", "column-statutory", "website-annual-form")),
        ("fzj", "availability"), ("fzj", "column-blank"), ("fzj", "budget-current-year"),
        ("fzj", "final-accounts"), ("fzj", "site-identity"), ("fzj", "homepage-freshness"),
        ("fzj", "disclosure-guide"), ("fzj", "application-channel"),
        ("ggsy", "availability"), ("ggsy", "homepage-freshness"), ("ggsy", "ipv6"), ("ggsy", "site-identity"),
        ("ggsy", "budget-current-year"), ("ggsy", "annual-report"), ("ggsy", "disclosure-guide"),
        ("ggsy", "normative-documents"),
        ("dzjd", "budget-current-year"), ("dzjd", "final-accounts"), ("dzjd", "annual-report"),
        ("dzjd", "disclosure-guide"), ("dzjd", "column-standard-catalog"),
        ("dzjd", "regulations-column"),
        ("sfj", "availability"), ("sfj", "site-identity"), ("sfj", "homepage-freshness"),
        # jyj: read only through its script's JSON (issue 15)
        ("jyj", "budget-current-year"), ("jyj", "homepage-freshness"), ("jyj", "disclosure-guide"),
        ("jyj", "application-channel"),
        # tqjd availability: not compliant; run.py seeds its planted outage (DEMO_OUTAGE_HOURS)
    ]
    return District(today=today, name=NAME, region_code=REGION, timezone="Asia/Shanghai", zone_apex="hhw.gov.cn",
                    sites=[portal, fzj, sfj, tqjd, ggsy, jyj, dzjd], externals=externals.build(),
                    plants=plants, compliant=compliant)
