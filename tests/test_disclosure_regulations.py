"""Task 26 for units published as a column of the portal."""
from __future__ import annotations

import pytest

from checks.base import params_for
from core.model import Outcome


def test_a_column_unit_is_served_by_its_portals_regulations_column() -> None:
    """Task 26 publishes 规章 through the portal's 专栏: a street published as a portal column passes
    when the portal's 规章 column does, and fails like any street when it does not."""
    from testkit.snapshots import make_snapshot, site_config

    from checks.regulations import CHECKS as REG

    portal_url = "http://www.example.gov.cn/"
    col = site_config("jd", portal_url + "jd/", kind="street", unit="某街道办事处", column_of="portal")
    portal_pages = {portal_url: '<html><body><ul class="nav"><li><a href="/zwgk/gz/">规章</a></li></ul></body></html>',
                    portal_url + "zwgk/gz/": '<html><body><h2>规章</h2><ul><li><a href="http://www.shanwei.gov.cn/gzk/">'
                                             '汕尾市人民政府规章库</a></li></ul></body></html>'}
    check = next(c for c in REG if c.id == "regulations-column")
    from core.store import LinkRow

    links = {"portal": [LinkRow(portal_url, portal_url + "zwgk/gz/", "规章", "nav"),
                        LinkRow(portal_url + "zwgk/gz/", "http://www.shanwei.gov.cn/gzk/", "汕尾市人民政府规章库", "body")]}
    snap = make_snapshot({portal_url + "jd/": "<html><body><p>街道栏目</p></body></html>"}, site=col,
                         other_sites={"portal": (site_config("portal", portal_url), portal_pages)}, links=links)
    res = check.judge(snap, params_for(check, None))
    assert (res.outcome, res.message_id) == (Outcome.PASS, "regulations-column.host_site"), res.params

    # without the portal's 规章 column the street column fails like any street
    bare = make_snapshot({portal_url + "jd/": "<html><body><p>街道栏目</p></body></html>"}, site=col,
                         other_sites={"portal": (site_config("portal", portal_url), {portal_url: "<p>门户</p>"})})
    assert check.judge(bare, params_for(check, None)).outcome == Outcome.FAIL


def test_a_column_unit_uses_its_portals_application_channel() -> None:
    from testkit.snapshots import make_snapshot, site_config

    from checks.channels import CHECKS as CH
    from core.store import LinkRow

    portal_url = "http://www.example.gov.cn/"
    col = site_config("jd", portal_url + "jd/", kind="street", unit="某街道办事处", column_of="portal")
    check = next(c for c in CH if c.id == "application-channel")
    portal = {"portal": (site_config("portal", portal_url),
                         {portal_url: '<html><body><a href="/ysqgk/">依申请公开</a></body></html>'})}
    with_channel = make_snapshot({portal_url + "jd/": "<p>街道栏目</p>"}, site=col, other_sites=portal,
                                 links={"portal": [LinkRow(portal_url, portal_url + "ysqgk/sq.html", "在线申请依申请公开",
                                                           "body")]})
    res = check.judge(with_channel, params_for(check, None))
    assert res.metrics["application"] == portal_url + "ysqgk/sq.html", res.metrics
    bare = make_snapshot({portal_url + "jd/": "<p>街道栏目</p>"}, site=col, other_sites=portal)
    assert check.judge(bare, params_for(check, None)).metrics["application"] is None


@pytest.mark.parametrize("kind, applies", [("street", False), ("department", True), ("portal", True)])
def test_normative_documents_are_judged_for_the_units_task_27_names(kind: str, applies: bool) -> None:
    from checks.regulations import CHECKS as REG

    check = next(c for c in REG if c.id == "normative-documents")
    assert (kind in check.kinds) is applies
