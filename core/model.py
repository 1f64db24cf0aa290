"""The shared vocabulary: outcomes and severities of results, and the fetch purposes and error
kinds the crawler stores (``Purpose``, ``ErrorKind``: each documented in its docstring table).

Outcomes follow Internet.nl's small closed set: a check either passes, fails,
does not apply, could not be judged (``error`` — shown as 无法核验, never counted
as a failure) or needs a person (``manual``). ``warn`` marks a check whose
findings are advisory only (for example A5–A7 of the annual report).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    NOT_APPLICABLE = "not_applicable"
    ERROR = "error"        # could not verify: data missing, blocked, unparseable
    MANUAL = "manual"      # a person must judge


class Severity(StrEnum):
    FAIL = "fail"          # counts towards the check's deduction
    WARN = "warn"          # shown, never scored
    INFO = "info"          # evidence only (e.g. tables present in a 决算)


class Purpose(StrEnum):
    """Why a ``fetches`` row exists (``fetches.purpose``; docs/CONTRACTS.md "What the crawler stores").

    ==============  =====================================================================
    value           the row
    ==============  =====================================================================
    ``home``        the site's start URL, body stored; exactly one per site per run
    ``page``        a crawled page (HTML, or a list's JSON/pagination/script-API answer)
    ``link``        an in-scope target checked, not crawled (``extra.why`` says why)
    ``attachment``  a PDF/DOC/XLS/OFD/ZIP target (body kept up to ``attachment_max_bytes``)
    ``external``    an off-site link, checked politely (body ≤ ``external_max_bytes``)
    ``soft404``     a random nonexistent path on the site host
    ``robots``      robots.txt (``extra.blocks_audit``)
    ``sitemap``     sitemap.xml and the sitemaps robots.txt names (extra seeds)
    ``ipv6``        a family-pinned fetch (``family`` 4 or 6, ``extra.level`` 1–3)
    ``https``       ``https://<host>/`` with its certificate (``extra.cert``)
    ``script``      a same-site script a list page loads, read for its endpoints
    ``render``      a page rendered in headless Chromium (body = the rendered DOM)
    ==============  =====================================================================

    What the crawler does per purpose (robots, size cap, keep body, parse) is one table:
    ``crawler/purposes.py``. Stored values are these strings, so old databases read unchanged.
    """

    HOME = "home"
    PAGE = "page"
    LINK = "link"
    ATTACHMENT = "attachment"
    EXTERNAL = "external"
    SOFT404 = "soft404"
    ROBOTS = "robots"
    SITEMAP = "sitemap"
    IPV6 = "ipv6"
    HTTPS = "https"
    SCRIPT = "script"
    RENDER = "render"


class ErrorKind(StrEnum):
    """Why a fetch failed (``fetches.error_kind``, ``probes.error_kind``): a closed set.

    ======================  ================================================================
    value                   meaning (whose trouble)
    ======================  ================================================================
    ``dns``                 the name did not resolve (``error_detail`` = host: nxdomain …)
    ``connect``             no connection (refused, unreachable)
    ``timeout``             no answer in time — time in flight only, never our queue
    ``tls``                 TLS handshake or certificate failure
    ``http_status``         an HTTP status ≥ 400 other than the ``blocked`` ones
    ``too_many_redirects``  over ``max_redirects``, or a loop ("redirect loop" in the detail)
    ``too_large``           the body exceeded the cap where that is an error
    ``blocked``             401/403/412/429 or a JS challenge: a WAF, not the site down
    ``disallowed``          robots.txt disallows it (never fetched)
    ``refused``             the SSRF policy refused the address (never fetched)
    ``decode``              the body could not be decoded
    ``bad_url``             the URL cannot be requested (999.1.1.1, IDNA-invalid) — not checked
    ``bad_redirect``        a redirect to javascript:/mailto:/data: or an unusable Location
    ``internal``            the auditor's own failure — never the site's fault
    ======================  ================================================================

    ``bad_url``, ``bad_redirect`` and ``internal`` mean "not checked", never broken. The Chinese
    labels are ``core.labels.ERROR_KIND_ZH``.
    """

    DNS = "dns"
    CONNECT = "connect"
    TIMEOUT = "timeout"
    TLS = "tls"
    HTTP_STATUS = "http_status"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    TOO_LARGE = "too_large"
    BLOCKED = "blocked"
    DISALLOWED = "disallowed"
    REFUSED = "refused"
    DECODE = "decode"
    BAD_URL = "bad_url"
    BAD_REDIRECT = "bad_redirect"
    INTERNAL = "internal"


@dataclass
class Finding:
    """One problem (or one piece of evidence) with what a unit needs to act on it.

    ``message_id`` keys the Chinese text in the catalogue (each check declares
    its messages); ``params`` fill its ``{placeholders}``.
    """

    message_id: str
    params: dict[str, Any] = field(default_factory=dict)
    severity: Severity = Severity.FAIL
    url: str | None = None          # the offending URL (evidence)
    source_url: str | None = None   # the page where it was found
    anchor: str | None = None       # link text or a locator on the page
    observed: str | None = None
    expected: str | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = str(self.severity)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Finding:
        d = dict(d)
        d["severity"] = Severity(d.get("severity", "fail"))
        return cls(**d)


@dataclass
class CheckResult:
    """What one check says about one site.

    ``veto`` is set by the check when the rubric's 单项否决 condition itself is
    met (e.g. ≥ 5 blank columns); whether a veto counts is still decided by
    ``rules.toml`` (``veto = true`` on the check).
    """

    outcome: Outcome
    message_id: str
    params: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    veto: bool = False

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.FAIL]

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": str(self.outcome),
            "message_id": self.message_id,
            "params": self.params,
            "findings": [f.to_dict() for f in self.findings],
            "metrics": self.metrics,
            "veto": self.veto,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> CheckResult:
        return cls(
            outcome=Outcome(d["outcome"]),
            message_id=d["message_id"],
            params=d.get("params", {}),
            findings=[Finding.from_dict(f) for f in d.get("findings", [])],
            metrics=d.get("metrics", {}),
            veto=bool(d.get("veto", False)),
        )


def unverified(message_id: str, **params: Any) -> CheckResult:
    """Shorthand for 'could not verify' — never a failure, never a veto."""
    return CheckResult(Outcome.ERROR, message_id, params)
