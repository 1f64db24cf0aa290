"""Reference check — copy this module to add one. Judges 《政府网站工作年度报表》 on the home page.

Rule: 国办函〔2018〕12号 (关于加强政府网站信息内容建设的意见 / 年度报表 practice, DOMAIN.md §3):
by **Jan 31** each year every government website publishes its 《政府网站工作年度报表》 for the
previous year *prominently on its home page*. Mapped to task 28 (平台建设) in ``rules.toml``.

How a check is built (every hook, in the order the runner uses them):

1. ``MESSAGES`` — the Chinese texts, ids ``<check id>.<name>``. Reports (HTML, Excel,
   JSON, CSV) render them from one catalogue, so all say the same thing.
2. ``DEFAULTS`` — every number or word list an inspector might change. ``rules.toml``
   ``[checks.<id>]`` overrides them; a key not declared here is a configuration error. The judge
   gets the merged values as ``params``; shared vocabularies (column categories, document kinds)
   are ``snap.vocabulary`` — never the whole rules.toml.
3. ``judge(snap, params)`` — pure: reads the stored crawl through ``snap`` (``home()``,
   ``pages()``, ``tree()``, ``links()``, ``dns()``, ``probes()``), never the network.
   * Return ``Outcome.ERROR`` ("could not verify") when the evidence is missing or unreadable
     — a script-rendered home page is not proof that something is absent.
   * Give every finding the URL a unit would open (``url``) and the page it was found on
     (``source_url``); put a stable ``params["key"]`` on findings without a URL so the
     finding keeps its identity (new / still open / fixed) from run to run.
   * Set ``veto=True`` only when the rubric's 单项否决 condition itself is met.
4. ``CHECKS`` — the declaration: id, Chinese title, one-line ``doc`` for the README table,
   which site kinds it applies to, ``own_site_only`` for per-website checks (a unit published
   as a column of another site is judged on that site), and what stored data it ``needs``.
   The runner handles not-applicable, a missing home page and exceptions (→ ``error``).
5. Register the module in ``checks/registry.py``, map the check to its tasks in ``rules.toml``,
   write a table-driven test over ``testkit.snapshots.make_snapshot`` and run
   ``python -m zwgk.docs`` to update the README table.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from checks.base import Check
from core.model import CheckResult, Finding, Outcome, Severity
from core.snapshot import SiteSnapshot

CHECK_ID = "website-annual-form"

MESSAGES = {
    f"{CHECK_ID}.ok": "首页已发布{year}年度政府网站工作年度报表：{title}",
    f"{CHECK_ID}.not_due": "{year}年度报表尚未到发布期限（{due}），不作判定",
    f"{CHECK_ID}.missing": "首页未发布{year}年度政府网站工作年度报表（应于{due}前在首页显著位置发布）",
    f"{CHECK_ID}.not_prominent": "{year}年度报表已发布但未在首页显著位置：{title}",
    f"{CHECK_ID}.unverified": "首页内容过少（可能由脚本生成），无法核验年度报表：{reason}",
}

DEFAULTS: dict[str, Any] = {
    "due": "01-31",                    # MM-DD of the year after the reported year
    "names": ["政府网站工作年度报表", "网站工作年度报表", "政府网站年度报表", "网站年度报表"],
    "min_home_text": 200,              # fewer visible characters: treat the home page as script-rendered
}


def _target_year(as_of: date, due: str) -> tuple[int, date]:
    """The reported year whose form must be up now, and its due date."""
    month, day = (int(x) for x in due.split("-"))
    due_this_year = date(as_of.year, month, day)
    year = as_of.year - 1 if as_of > due_this_year else as_of.year - 2
    return year, date(year + 1, month, day)


def _mentions(text: str, names: list[str], year: int) -> bool:
    flat = re.sub(r"\s+", "", text)
    return any(n in flat for n in names) and re.search(rf"{year}\s*年", text) is not None


def judge(snap: SiteSnapshot, params: Mapping[str, Any]) -> CheckResult:
    """Find the previous year's 网站工作年度报表 on the home page (or, as a lesser finding, deeper)."""
    year, due = _target_year(snap.as_of.date(), params["due"])
    home = snap.home()
    tree = snap.tree(home) if home else None
    if home is None or tree is None:
        return CheckResult(Outcome.ERROR, f"{CHECK_ID}.unverified", {"reason": "首页未抓取或无法解析"})
    names = list(params["names"])
    for a in tree.iter("a"):
        text, title = " ".join(a.itertext()).strip(), (a.get("title") or "").strip()
        label = text if title in text else f"{text} {title}"
        if _mentions(label, names, year):
            return CheckResult(Outcome.PASS, f"{CHECK_ID}.ok", {"year": year, "title": label.strip()[:80]})
    # Linked deeper only (a 通知公告 item, not a home-page entry): published, but not prominent.
    for page in snap.pages():
        if page is not home and page.title and _mentions(page.title, names, year):
            f = Finding(f"{CHECK_ID}.not_prominent", {"year": year, "title": page.title[:80]},
                        Severity.FAIL, url=page.final_url or page.url, source_url=home.final_url or home.url)
            return CheckResult(Outcome.FAIL, f"{CHECK_ID}.not_prominent", f.params, [f])
    visible = re.sub(r"\s+", "", tree.text_content() or "")
    if len(visible) < params["min_home_text"]:
        return CheckResult(Outcome.ERROR, f"{CHECK_ID}.unverified",
                           {"reason": f"首页可见文字仅{len(visible)}字"})
    f = Finding(f"{CHECK_ID}.missing", {"year": year, "due": due.isoformat(), "key": str(year)},
                Severity.FAIL, url=home.final_url or home.url, expected=f"{year}年度政府网站工作年度报表")
    return CheckResult(Outcome.FAIL, f"{CHECK_ID}.missing", f.params, [f])


CHECKS = [Check(
    id=CHECK_ID,
    title="政府网站工作年度报表",
    judge=judge,
    messages=MESSAGES,
    defaults=DEFAULTS,
    own_site_only=True,
    needs=("pages",),
    doc="首页显著位置发布上一年度《政府网站工作年度报表》（国办函〔2018〕12号，1月31日前）",
)]
