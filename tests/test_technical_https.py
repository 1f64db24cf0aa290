"""https: availability, certificate validity and expiry, HTTP→HTTPS redirect, mixed content."""
from __future__ import annotations

from typing import Any

import pytest
from testkit.snapshots import Page, make_snapshot, repo_rules, site_config

from checks.base import params_for
from checks.https import CHECKS, _parse_time
from core.model import Outcome, Severity
from core.store import LinkRow

CHECK = CHECKS[0]
HOST = "www.example.gov.cn"
HTTP_HOME, HTTPS_HOME = f"http://{HOST}/", f"https://{HOST}/"
VALID = {"verified": True, "error": None, "not_after": "2026-12-31T00:00:00+00:00", "issuer": "CN=CA",
         "subject": f"CN={HOST}"}


def judge(*, https: Page | None, redirect: bool = True, site_url: str = HTTP_HOME,
          links: list[LinkRow] | None = None, **overrides: Any):
    pages: dict[str, Page | str] = {}
    if site_url == HTTP_HOME:
        pages[HTTP_HOME] = Page("<p>首页</p>", final_url=HTTPS_HOME if redirect else HTTP_HOME)
    else:
        pages[HTTPS_HOME] = Page("<p>首页</p>")
    if https is not None:
        pages[HTTPS_HOME + "?https-probe"] = https
    snap = make_snapshot(pages, site=site_config(url=site_url), links=links)
    return CHECK.judge(snap, params_for(CHECK, {**repo_rules()["checks"]["https"], **overrides}))


def https_page(cert: dict[str, Any] | None = None, *, status: int | None = 200, error_kind: str | None = None,
               body: str = "<p>首页</p>") -> Page:
    return Page(body, status=status, error_kind=error_kind, purpose="https", final_url=HTTPS_HOME,
                extra={"cert": cert if cert is not None else VALID})


@pytest.mark.parametrize("kwargs, outcome, findings", [
    ({"https": https_page()}, Outcome.PASS, []),
    ({"https": https_page(), "redirect": False}, Outcome.FAIL, ["https.no_redirect"]),
    ({"https": https_page(), "redirect": False, "require_redirect": False}, Outcome.PASS, []),
    ({"https": https_page({**VALID, "not_after": "2026-06-01T00:00:00+00:00"})}, Outcome.FAIL, ["https.cert_expired"]),
    ({"https": https_page({**VALID, "not_after": "2026-06-25T00:00:00+00:00"})}, Outcome.PASS,
     ["https.cert_expiring"]),
    ({"https": https_page({**VALID, "verified": False, "error": "hostname mismatch"})}, Outcome.FAIL,
     ["https.cert_invalid"]),
    ({"https": https_page({}, status=None, error_kind="tls")}, Outcome.FAIL, ["https.cert_invalid"]),
    ({"https": https_page({"verified": False, "error": None})}, Outcome.PASS, []),  # cert unread ≠ invalid
    ({"https": https_page({}, status=None, error_kind="connect")}, Outcome.FAIL, ["https.unavailable"]),
    ({"https": https_page(status=403, error_kind="blocked")}, Outcome.PASS, []),   # it answered over TLS
    ({"https": https_page({}, status=None, error_kind="blocked")}, Outcome.ERROR, []),
    ({"https": None}, Outcome.ERROR, []),
    ({"https": https_page(body='<img src="http://img.example.com/a.png"><link rel=canonical href="http://x/">')},
     Outcome.FAIL, ["https.mixed_content"]),
    ({"https": https_page(), "site_url": HTTPS_HOME,
      "links": [LinkRow(HTTPS_HOME, "http://cdn.example.com/app.js", None, "body", "script"),
                LinkRow(HTTPS_HOME, "https://cdn.example.com/ok.js", None, "body", "script"),
                LinkRow(HTTPS_HOME, "http://www.other.gov.cn/", "链接", "body", "a")]},
     Outcome.FAIL, ["https.mixed_content"]),
], ids=["all-good", "no-redirect", "redirect-not-required", "expired", "expiring-in-10-days", "hostname-mismatch",
        "tls-error", "cert-not-read", "https-refused", "403-over-https-still-https", "blocked-without-answer", "not-checked",
        "mixed-content-in-https-body", "mixed-content-from-links"])
def test_https(kwargs, outcome, findings) -> None:
    res = judge(**kwargs)
    assert res.outcome is outcome, (res.message_id, res.params)
    assert [f.message_id for f in res.findings] == findings
    if "https.cert_expiring" in findings:
        assert res.findings[0].severity is Severity.WARN and res.findings[0].params["days"] == 9


def test_days_to_expiry_in_metrics() -> None:
    res = judge(https=https_page())
    assert res.metrics["days_left"] == 198 and res.metrics["redirect"] == "是"


@pytest.mark.parametrize("text, iso", [
    ("2026-12-31T00:00:00+00:00", "2026-12-31T00:00:00+00:00"),
    ("Jun  1 12:00:00 2026 GMT", "2026-06-01T12:00:00+00:00"),
    ("2026-12-31T00:00:00Z", "2026-12-31T00:00:00+00:00"),
], ids=["iso", "openssl", "zulu"])
def test_not_after_formats(text, iso) -> None:
    assert _parse_time(text).isoformat() == iso
