"""Judge a stored run: every registered check × every site → stored results.

The runner, not each check, decides what is not applicable (site kind, a
unit published as a column of another site) and turns a missing home page or
an exception inside a check into ``error`` (无法核验) — never into a failure.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from checks.base import Check
from checks.documents import documents_view, finish_page_pass, start_page_pass
from checks.interpretation import news_view
from checks.registry import ALL, fingerprint_message_id
from core.labels import KIND_ZH
from core.model import CheckResult, Finding, Outcome
from core.rules import Rules
from core.snapshot import RunView, SiteSnapshot, view_key
from core.store import Store

log = logging.getLogger(__name__)

# Checks that judge stored pages cannot say anything when the home page itself is missing.
_PAGE_INDEPENDENT = {"pages"}
MAX_JUDGE_WORKERS = 4      # each worker holds its sites' snapshot indexes


@dataclass
class Judgement:
    site_id: str
    check_id: str
    result: CheckResult


def normalise_url(url: str | None) -> str:
    """Host lower-case, port and fragment dropped, query sorted: stable across demo ports and runs."""
    if not url:
        return ""
    try:
        p = urlsplit(url.strip())
    except ValueError:
        return url.strip()
    query = urlencode(sorted(parse_qsl(p.query, keep_blank_values=True)))
    return urlunsplit((p.scheme.lower(), (p.hostname or "").lower(), p.path or "/", query, ""))


def fingerprint(check_id: str, site_id: str, f: Finding) -> str:
    # built from the message's first id: a renamed message keeps its findings' 整改 history
    key = f"{check_id}|{site_id}|{fingerprint_message_id(f.message_id)}|{normalise_url(f.url or f.source_url)}|{f.params.get('key', '')}"
    return hashlib.sha1(key.encode()).hexdigest()[:20]


def district_of(store: Store, run_id: int) -> dict[str, Any]:
    """The [audit] table as stored with the run (so re-judging needs no sites file)."""
    try:
        return dict(tomllib.loads(store.run(run_id)["sites_toml"] or "").get("audit", {}))
    except tomllib.TOMLDecodeError:
        return {}


_HOME_ERRORS = {
    "dns": "域名无法解析", "connect": "无法连接服务器", "timeout": "访问超时", "tls": "HTTPS证书/TLS错误",
    "too_many_redirects": "重定向过多", "too_large": "页面过大", "decode": "内容无法解码",
    "disallowed": "robots.txt禁止抓取首页", "refused": "地址不允许访问（内网地址）",
}


def home_reason(home: Any) -> str:
    """Why the home page cannot be judged, in words an office reads: a WAF that blocked the audit
    (401/403/412/429, a JavaScript challenge) is said to be one — the site was not shown to be down."""
    if home is None:
        return "未抓取"
    kind, status = home.error_kind, home.status
    if kind == "blocked":
        how = f"HTTP {status}" if status else "拦截"
        if "challenge" in (home.error_detail or "").lower():
            how += "，JavaScript验证页面"
        return f"网站拦截了本次审计访问（{how}，疑似WAF/安全防护），非网站故障；请将审计地址加入白名单后复查"
    if kind == "dns":   # say which: a name that does not exist, or our resolver's trouble (issue 12)
        from checks.links import dns_kind, dns_reason

        definite, why = dns_reason(dns_kind(home))
        return f"域名无法解析：{why}" if definite else why
    if kind in _HOME_ERRORS:
        return _HOME_ERRORS[kind]
    if status is not None and (kind == "http_status" or status >= 400):
        return f"HTTP {status}"
    if kind:
        return kind
    return "首页无内容" if status is not None else "未抓取"


def judge_one(check: Check, snap: SiteSnapshot, rules: Rules) -> CheckResult:
    site = snap.site
    if site.kind not in check.kinds:
        return CheckResult(Outcome.NOT_APPLICABLE, "common.not_applicable", {"reason": f"不适用于{KIND_ZH[site.kind]}"})
    if check.own_site_only and site.column_of:
        return CheckResult(Outcome.NOT_APPLICABLE, "common.not_applicable",
                           {"reason": "该单位以栏目形式发布，网站层面的项目由所在网站统一核查"})
    if "pages" in check.needs:
        home = snap.home()
        if home is None or not home.ok or not home.body_hash:
            return CheckResult(Outcome.ERROR, "common.no_home", {"reason": home_reason(home)})
        shell = (home.extra or {}).get("shell_unfollowed")
        if shell:   # the home page is only a script/meta redirect we could not follow: nothing to judge
            return CheckResult(Outcome.ERROR, "common.no_home",
                               {"reason": f"首页仅为跳转页（{'meta refresh' if shell.get('via') == 'meta' else '脚本跳转'}"
                                          f"至 {str(shell.get('target'))[:120]}），未能读取跳转后的首页"})
    try:
        # the loader built every registered check's params; a check outside the registry (a test's)
        # is judged with its declared defaults
        rule = rules.checks.get(check.id)
        result = check.judge(snap, rule.params if rule is not None else dict(check.defaults))
    except Exception as e:  # a bug or a page we did not foresee: could not verify, never a failure
        log.exception("check %s crashed on site %s", check.id, site.id)
        return CheckResult(Outcome.ERROR, "common.crashed", {"error": f"{type(e).__name__}: {e}"[:300]})
    if not isinstance(result, CheckResult):
        return CheckResult(Outcome.ERROR, "common.crashed", {"error": f"check returned {type(result).__name__}"})
    if result.outcome in (Outcome.ERROR, Outcome.NOT_APPLICABLE, Outcome.MANUAL):
        result.veto = False   # a veto needs evidence
    # Stored in a canonical order (failures first, then by URL): crawl order varies between
    # nights and must not reshuffle the 整改清单 or the golden results.
    result.findings.sort(key=lambda f: (_SEVERITY_ORDER.get(str(f.severity), 9), f.message_id,
                                        normalise_url(f.url or f.source_url), str(f.params.get("key", ""))))
    return result


def _code_fingerprint() -> str:
    """A hash of the judging code (checks/ and core/, as imported: computed when this module is
    loaded, so a worker started before a deploy keys its views by the code it runs) and of what
    decides how pages parse (lxml, libxml2, Python)."""
    import sys
    from pathlib import Path

    import lxml.etree

    h = hashlib.sha256(repr((lxml.etree.LXML_VERSION, lxml.etree.LIBXML_VERSION, sys.version_info[:2])).encode())
    root = Path(__file__).resolve().parent.parent
    for pkg in ("checks", "core"):
        for f in sorted((root / pkg).rglob("*.py")):
            h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


CODE_FINGERPRINT = _code_fingerprint()


def views_key(store: Store, run_id: int, rules: Rules) -> str:
    """What a run's stored site views (``Store.put_site_view``) depend on besides the site's own
    stored pages: the rules, the run's as-of time and district, and the judging code."""
    run = store.run(run_id)
    parts = (rules.text, str(run["as_of"]), json.dumps(district_of(store, run_id), sort_keys=True, default=str),
             CODE_FINGERPRINT)
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def store_site_views(store: Store, run_id: int, rules: Rules, site_ids: Iterable[str],
                     view: RunView | None = None) -> int:
    """Compute the sites' shared views (their documents, their news items) once and store them, so
    every process judging the run reads them instead of running each site's page pass again
    (checks/documents.py "the documents as a stored view"). ``view``: the judgement's own RunView,
    whose snapshots then keep what was computed for judging the same sites (else each site's
    snapshot is dropped once stored). Returns how many views were stored."""
    own = view is None
    if view is None:
        view = run_view(store, run_id, rules)
    key = view.views_key or views_key(store, run_id, rules)
    n = 0
    for site_id in site_ids:
        snap = view.snapshot(site_id)
        for make in _SITE_VIEWS:
            try:
                made = make(snap)
            except Exception:       # a page that breaks it: each judging process meets it and says so
                log.exception("view %s of site %s not stored", make.__name__, site_id)
                made = None
            if made is not None:
                name, own_key, data = made
                store.put_site_view(run_id, site_id, name, view_key(key, own_key), data)
                n += 1
        if own:
            view.forget(site_id)
    return n


# what a judging process reads of *every* site of the run (not only the sites it judges)
_SITE_VIEWS = (documents_view, news_view)


def run_view(store: Store, run_id: int, rules: Rules, *, stored_views: bool = False) -> RunView:
    """The RunView a judgement reads; ``stored_views``: with the run's stored site views."""
    return RunView(store, run_id, district=district_of(store, run_id), vocabulary=rules.vocabulary,
                   views_key=views_key(store, run_id, rules) if stored_views else None)


def judge_sites(store: Store, run_id: int, rules: Rules, site_ids: Iterable[str],
                checks: tuple[Check, ...] = ALL, *, stored_views: bool | None = None,
                view: RunView | None = None) -> list[Judgement]:
    """Every check × the given sites of a stored run (one snapshot per site, its views shared).
    ``site_ids`` is read lazily, one site after the other (a distributed judge task takes each from
    the run's queue when it is ready for it). ``stored_views``: read the sites' views stored for this
    judgement (:func:`store_site_views`) instead of computing them; ``view``: a RunView to judge in
    (its snapshots' views already computed are reused)."""
    if view is None:
        view = run_view(store, run_id, rules, stored_views=bool(stored_views))
    elif stored_views is not None:
        raise ValueError("judge_sites: stored_views or view, not both (a view carries its own)")
    out: list[Judgement] = []
    for site_id in site_ids:
        snap = view.snapshot(site_id)
        if checks is ALL:
            start_page_pass(snap)    # a large site's documents are read on the other cores meanwhile
        try:
            for check in checks:
                out.append(Judgement(site_id, check.id, judge_one(check, snap, rules)))
        finally:
            finish_page_pass(snap)
    return out


# The judge workers' meeting point (set by the pool's initializer): every worker stores its own
# group's views, waits for the others to have stored theirs, then judges its group in the same
# snapshots (their column maps and documents computed once, for both).
_BARRIER: Any = None
BARRIER_TIMEOUT_S = 900.0     # a group slower than this: the others compute what is not stored yet


def _set_barrier(barrier: Any) -> None:
    global _BARRIER
    _BARRIER = barrier


def _judge_in_worker(db_path: str, run_id: int, rules: Rules, site_ids: list[str]) -> list[Judgement]:
    import threading

    import checks.documents

    checks.documents.no_page_pool()     # the sites already take every core: no page pool inside
    store: Store | None = None
    try:
        store = Store(db_path)
        view = run_view(store, run_id, rules, stored_views=True)
        store_site_views(store, run_id, rules, site_ids, view=view)
    except BaseException:
        # the others must not wait out the timeout for views this worker will never store
        if _BARRIER is not None:
            _BARRIER.abort()
        if store is not None:
            store.close()
        raise
    try:
        if _BARRIER is not None:
            try:
                _BARRIER.wait(BARRIER_TIMEOUT_S)
            except threading.BrokenBarrierError:
                log.warning("judge workers: not every site's views were stored; computing the rest")
        return judge_sites(store, run_id, rules, site_ids, view=view)
    finally:
        store.close()


def _workers(store: Store, run_id: int, site_ids: list[str], checks: tuple[Check, ...]) -> int:
    """How many processes judge this run: one per core, for runs of several sites stored in a file
    with the registered checks (test snapshots in memory and ad-hoc check lists stay in-process)."""
    if checks is not ALL or store.path == ":memory:" or len(site_ids) < 2:
        return 1
    return max(1, min(len(site_ids), os.cpu_count() or 1, MAX_JUDGE_WORKERS))


def partition(store: Store, run_id: int, site_ids: list[str], n: int) -> list[list[str]]:
    """Sites split into ``n`` groups of about equal stored size (largest first to the lightest group)."""
    counts = store.fetch_counts(run_id)
    sizes = {sid: counts.get(sid, 0) for sid in site_ids}
    groups: list[list[str]] = [[] for _ in range(n)]
    load = [0] * n
    for sid in sorted(site_ids, key=lambda s: (-sizes[s], s)):
        i = load.index(min(load))
        groups[i].append(sid)
        load[i] += sizes[sid] + 1
    return [g for g in groups if g]


def judge_run(store: Store, run_id: int, rules: Rules, checks: tuple[Check, ...] = ALL) -> list[Judgement]:
    """Judge every site of a run and store the results (replacing an earlier judgement).

    Sites are independent (a check may read another site's snapshot, never its verdicts), so on a
    multi-core machine they are judged in parallel processes, each reading the store itself; the
    results are written by this process in one transaction, in site order whatever finished first."""
    site_ids = list(store.run_sites(run_id))
    n = _workers(store, run_id, site_ids, checks)
    if n == 1:
        judged = judge_sites(store, run_id, rules, site_ids, checks)
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        by_site: dict[str, list[Judgement]] = {}
        # spawn, not fork: the caller may have threads (the scheduler) and open SQLite handles
        groups = partition(store, run_id, site_ids, n)
        ctx = multiprocessing.get_context("spawn")
        # each worker first stores its group's views, which every worker reads (unit_documents)
        barrier = ctx.Barrier(len(groups))
        with ProcessPoolExecutor(len(groups), mp_context=ctx, initializer=_set_barrier, initargs=(barrier,)) as pool:
            futures = [pool.submit(_judge_in_worker, store.path, run_id, rules, group) for group in groups]
            for fut in futures:
                for j in fut.result():
                    by_site.setdefault(j.site_id, []).append(j)
        judged = [j for sid in site_ids for j in by_site.get(sid, [])]
    store_judgements(store, run_id, rules, judged)
    return judged


def store_judgements(store: Store, run_id: int, rules: Rules, judged: list[Judgement],
                     site_ids: list[str] | None = None) -> None:
    """Store judgements (all of the run's, or replacing only ``site_ids``'s) and the rules used."""
    rows = []
    for j in judged:
        res = j.result
        rows.append((j.site_id, j.check_id, str(res.outcome), res.veto,
                     json.dumps(res.to_dict(), ensure_ascii=False, default=str),
                     [(fingerprint(j.check_id, j.site_id, f), f.message_id, str(f.severity), f.url,
                       json.dumps(f.to_dict(), ensure_ascii=False, default=str)) for f in res.findings]))
    store.replace_results(run_id, rows, site_ids=site_ids)
    store.set_run_rules(run_id, rules.text)


_SEVERITY_ORDER = {"fail": 0, "warn": 1, "info": 2}
