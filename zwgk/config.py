"""``sites.toml``: what is audited, loaded and validated before anything is crawled.

Every problem is reported as ``file:line: [table] key: what is wrong`` — in Chinese, since office
staff read it (table and key names stay as written in the file) — and the CLI exits with status 2 (see README "Exit codes"), so a typo never becomes a
half-run audit. Defaults for [crawl] live in ``crawler/config.py``; this module
only checks names and types so that errors surface here, with a line number.
"""
from __future__ import annotations

import importlib.util
import ipaddress
import math
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.site import SITE_KINDS, Site
from core.tomlpos import Positions, where
from crawler.config import parse_nameserver

__all__ = ["SITE_KINDS", "AuditConfig", "ConfigError", "Site", "load_sites", "parse_nameserver", "parse_sites"]
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

# key -> (types, required)
AUDIT_KEYS: dict[str, tuple[tuple[type, ...], bool]] = {
    "name": ((str,), True), "timezone": ((str,), False), "region_code": ((str,), False),
    "reports_dir": ((str,), False), "lexicon": ((str,), False),
}
def _types_of(dc: type) -> dict[str, tuple[type, ...]]:
    """Accepted TOML types per field of a crawler config dataclass (the crawler owns the defaults)."""
    out: dict[str, tuple[type, ...]] = {}
    for name, f in dc.__dataclass_fields__.items():  # type: ignore[attr-defined]
        d = f.default
        out[name] = ((bool,) if isinstance(d, bool) else (int, float) if isinstance(d, (int, float))
                     else (list,) if isinstance(d, tuple) else (str,))
    return out


def _network_keys() -> dict[str, tuple[type, ...]]:
    from crawler.config import NetworkConfig

    keys = _types_of(NetworkConfig)
    keys.update({"nameservers": (list,), "allow_networks": (list,), "static_hosts": (dict,), "https_port": (int,)})
    return keys


def _crawl_keys() -> dict[str, tuple[type, ...]]:
    from crawler.config import CrawlConfig

    keys = _types_of(CrawlConfig)
    for k in ("max_pages", "max_depth", "concurrency", "per_host_concurrency", "max_redirects", "retries"):
        keys[k] = (int,)
    return keys


SCHEDULE_KEYS: dict[str, tuple[type, ...]] = {
    "audit_cron": (str,), "probe_interval_minutes": (int, float), "probe_jitter_seconds": (int, float),
    "summary_cron": (str,), "misfire_grace_hours": (int, float),
    "distributed": (bool,), "broker": (str,),      # enqueue the nightly audit for `zwgk worker`s (issue 19)
}
SITE_KEYS: dict[str, tuple[tuple[type, ...], bool]] = {
    "id": ((str,), True), "name": ((str,), True), "url": ((str,), True), "unit": ((str,), True),
    "kind": ((str,), True), "hosts": ((list,), False), "respect_robots": ((bool,), False),
    "max_pages": ((int,), False), "max_depth": ((int,), False), "column_of": ((str,), False),
    "services": ((bool,), False), "delay": ((int, float), False), "encoding": ((str,), False),
}
TOP_KEYS = ("audit", "network", "crawl", "schedule", "store", "site")
STORE_KEYS: dict[str, tuple[type, ...]] = {"url": (str,)}   # [store] url: postgresql://… or an SQLite path

# Ranges of numbers (issue 12 item 10): (minimum, maximum, minimum allowed?). NaN and ±inf are never
# allowed. Timeouts must be positive (0 would fail every request; inf hangs); retries and the DNS
# timeout are capped, because backoff grows with them and a closed port must not hang a night.
_SECONDS = (0.0, 600.0, False)
RANGES: dict[str, dict[str, tuple[float, float, bool]]] = {
    "crawl": {
        "timeout": _SECONDS, "connect_timeout": _SECONDS, "read_timeout": _SECONDS, "probe_timeout": _SECONDS,
        "parse_timeout": _SECONDS,
        "delay": (0.0, 60.0, True), "retry_backoff": (0.0, 30.0, True), "max_robots_delay": (0.0, 600.0, True),
        "retries": (0, 5, True), "max_redirects": (0, 30, True),
        "max_pages": (1, 1_000_000, True), "max_depth": (0, 100, True), "concurrency": (1, 256, True),
        "per_host_concurrency": (1, 64, True), "max_bytes": (1, 1 << 31, True),
        "max_decompressed": (1, 1 << 32, True), "attachment_max_bytes": (1, 1 << 31, True),
        "external_max_bytes": (1, 1 << 31, True), "external_per_host": (0, 10_000, True),
        "max_external": (0, 1_000_000, True), "max_link_checks": (0, 10_000_000, True),
        "ipv6_l2_sample": (0, 10_000, True), "ipv6_l3_sample": (0, 10_000, True),
        "max_query_variants": (1, 100_000, True), "max_pagination": (0, 100_000, True),
    },
    "network": {"dns_timeout": (0.0, 30.0, False)},
    "schedule": {"probe_interval_minutes": (0.0, 1440.0, False), "probe_jitter_seconds": (0.0, 3600.0, True),
                 "misfire_grace_hours": (0.0, 168.0, False)},
    "site": {"delay": (0.0, 60.0, True), "max_pages": (1, 1_000_000, True), "max_depth": (0, 100, True)},
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?$")


def range_problem(value: Any, rng: tuple[float, float, bool]) -> str | None:
    """Why a number is outside its range (NaN and infinities included), or None."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None      # the type check reports it
    lo, hi, lo_ok = rng
    if not math.isfinite(value):
        return f"应为有限数值（当前为 {value}）"
    if value < lo or (value == lo and not lo_ok) or value > hi:
        low = f"{'≥' if lo_ok else '>'} {lo:g}"
        return f"应 {low} 且 ≤ {hi:g}（当前为 {value:g}）"
    return None
SCHEDULE_DEFAULTS = {"audit_cron": "0 2 * * *", "probe_interval_minutes": 60, "probe_jitter_seconds": 120,
                     "misfire_grace_hours": 20}


class ConfigError(Exception):
    """Bad configuration; the message names file and line. CLI exit status 2."""


# how far past now an --as-of may be: the clocks of the machine that starts an audit (cron, the
# scheduler) and of the one that runs it may differ a little
AS_OF_SLACK = timedelta(minutes=5)


def check_as_of(text: str | None, timezone: Callable[[], str] | None = None) -> datetime | None:
    """--as-of must be an ISO date or date-time and, when ``timezone`` is given, not later than now
    (+ :data:`AS_OF_SLACK`): checked before anything is crawled or stored (exit 2).

    An audit "as of" a time that has not come yet judges what has not happened: the probes of the
    availability week taken after now count into a re-judge but not the audit (the demo's re-judge
    once counted probes its audit never saw), and 整改时限 fall due early. ``timezone``: the audit's
    time zone name, read only for a time without an offset (it is a local time there)."""
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigError(f"--as-of: {text!r} 不是 ISO 格式的日期或时间"
                          "（如 2026-06-01 或 2026-06-01T10:00）") from None
    if timezone is None:
        return when
    zone = when.tzinfo or ZoneInfo(timezone())
    now = datetime.now(zone)
    if (when if when.tzinfo else when.replace(tzinfo=zone)) > now + AS_OF_SLACK:
        here = f"（{timezone()}）" if when.tzinfo is None else ""
        raise ConfigError(f"--as-of: {text} 晚于现在（现在是 {now.isoformat(sep=' ', timespec='minutes')}{here}）："
                          "核查时间不能是将来的时间——将来的时间会把尚未进行的可用性探测、尚未到期的整改时限"
                          "算进本次结果。请去掉 --as-of（按现在核查），或给出现在或过去的时间")
    return when


@dataclass
class AuditConfig:
    path: Path
    text: str
    audit: dict[str, Any]
    network: dict[str, Any]
    crawl: dict[str, Any]
    schedule: dict[str, Any]
    sites: list[Site] = field(default_factory=list)     # built once here, stored with the run as-is
    store_url: str | None = None     # [store] url, an SQLite path already made relative to the sites file

    @property
    def timezone(self) -> str:
        return str(self.audit["timezone"])

    @property
    def reports_dir(self) -> Path:
        d = Path(self.audit["reports_dir"])
        return d if d.is_absolute() else self.path.parent / d

    def site(self, site_id: str) -> Site:
        return next(s for s in self.sites if s.id == site_id)


def read_config_text(path: Path) -> str:
    """A configuration file's text; a missing or unreadable file is a ConfigError naming it."""
    try:
        return path.read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: 文件不存在") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"{path}: 无法读取：{e.strerror if isinstance(e, OSError) and e.strerror else e}") from None


def parse_toml(text: str, path: Path) -> dict[str, Any]:
    """TOML to a dict; a syntax error is a ConfigError naming the file (the CLI's exit 2, not a traceback)."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(toml_syntax_error(path, e)) from None


_AT = re.compile(r"\s*\(at line (\d+), column (\d+)\)\s*$|\s*\(at end of document\)\s*$")


def toml_syntax_error(path: str | Path, e: tomllib.TOMLDecodeError) -> str:
    """``file:line: TOML 语法错误（第N列）：detail`` — tomllib's detail stays as it is (English), the
    position moves to the front where every other error has it."""
    msg = str(e)
    m = _AT.search(msg)
    detail = msg[: m.start()] if m else msg
    if m and m.group(1):
        return f"{path}:{m.group(1)}: TOML 语法错误（第{m.group(2)}列）：{detail}"
    return f"{path}: TOML 语法错误{'（文件末尾）' if m else ''}：{detail}"


def load_sites(path: str | Path) -> AuditConfig:
    path = Path(path)
    return parse_sites(read_config_text(path), path)


def parse_sites(text: str, path: str | Path = "sites.toml") -> AuditConfig:
    path = Path(path)
    data = parse_toml(text, path)
    pos = Positions(text)
    errors: list[str] = []

    def err(table: str, index: int, key: str | None, msg: str) -> None:
        label = f"[[{table}]] #{index + 1}" if table == "site" else f"[{table}]"
        errors.append(f"{where(path, pos, table, index, key)}: {label}{' ' + key if key else ''}: {msg}")

    for k in data:
        if k not in TOP_KEYS:
            errors.append(f"{where(path, pos, k)}: 未知的表或键 {k!r}（应为以下之一：{', '.join(TOP_KEYS)}）")

    audit = _table(data, "audit", err)
    _check_keys(audit, "audit", 0, {k: v[0] for k, v in AUDIT_KEYS.items()},
                [k for k, v in AUDIT_KEYS.items() if v[1]], err)
    audit.setdefault("timezone", "Asia/Shanghai")
    audit.setdefault("reports_dir", "audit-reports")
    if isinstance(audit.get("timezone"), str):
        try:
            ZoneInfo(audit["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            err("audit", 0, "timezone", f"未知的时区 {audit['timezone']!r}（如 Asia/Shanghai）")
    rc = audit.get("region_code")
    if isinstance(rc, str) and not re.fullmatch(r"\d{2,6}", rc):
        err("audit", 0, "region_code", f"{rc!r} 不是行政区划代码前缀（2-6位数字）")
    lx = audit.get("lexicon")
    if isinstance(lx, str):     # the wording lexicon must be usable before anything is crawled
        from core.lexicon import LexiconError, load_lexicon
        try:
            load_lexicon(Path(lx) if Path(lx).is_absolute() else path.parent / lx)
        except LexiconError as e:
            err("audit", 0, "lexicon", str(e))

    network = _table(data, "network", err)
    _check_keys(network, "network", 0, _network_keys(), [], err)
    for ns in network.get("nameservers", []) if isinstance(network.get("nameservers"), list) else []:
        if not isinstance(ns, str) or parse_nameserver(ns) is None:
            err("network", 0, "nameservers", f"{ns!r} 不是 \"ip\" 或 \"ip:port\" 格式")
    for cidr in network.get("allow_networks", []) if isinstance(network.get("allow_networks"), list) else []:
        try:
            ipaddress.ip_network(str(cidr), strict=False)
        except ValueError:
            err("network", 0, "allow_networks", f"{cidr!r} 不是 CIDR 网段（如 10.0.0.0/8）")
    for host, addrs in (network.get("static_hosts") or {}).items():
        for a in addrs if isinstance(addrs, list) else [addrs]:
            try:
                ipaddress.ip_address(str(a))
            except ValueError:
                err("network", 0, "static_hosts", f"{host}：{a!r} 不是 IP 地址")
    if isinstance(network.get("ca_bundle"), str):
        # relative to the sites file, so a config folder can carry its intranet CA
        ca = Path(network["ca_bundle"])
        network["ca_bundle"] = str(ca if ca.is_absolute() else path.parent / ca)
    network.setdefault("allow_private", False)
    network.setdefault("allow_networks", [])
    ua = network.get("user_agent")
    if isinstance(ua, str) and (not ua.strip() or _CONTROL.search(ua) or not ua.isascii()):
        err("network", 0, "user_agent", "须为非空的可打印 ASCII 字符，不含控制字符（CR/LF 会破坏每个请求）")
    for key in ("selfcheck_names", "selfcheck_ipv4", "selfcheck_ipv6"):
        for item in network.get(key, []) if isinstance(network.get(key), list) else []:
            if not isinstance(item, str) or not _target_ok(item, names_only=key == "selfcheck_names"):
                what = "主机名" if key == "selfcheck_names" else "\"host:port\"、\"ip:port\" 或 \"[v6]:port\" 格式"
                err("network", 0, key, f"{item!r} 不是{what}")

    crawl = _table(data, "crawl", err)
    _check_keys(crawl, "crawl", 0, _crawl_keys(), [], err)
    for table, values in (("crawl", crawl), ("network", network)):
        for k, v in values.items():
            rng = RANGES[table].get(k)
            problem = range_problem(v, rng) if rng else (
                range_problem(v, (0, math.inf, True)) if isinstance(v, (int, float)) and not isinstance(v, bool)
                and (not math.isfinite(v) or v < 0) else None)
            if problem:
                err(table, 0, k, problem)

    schedule = _table(data, "schedule", err)
    _check_keys(schedule, "schedule", 0, SCHEDULE_KEYS, [], err)
    for key in ("audit_cron", "summary_cron"):
        if isinstance(schedule.get(key), str):
            msg = _cron_problem(schedule[key])
            if msg:
                err("schedule", 0, key, msg)
    for k, v in schedule.items():
        problem = range_problem(v, RANGES["schedule"][k]) if k in RANGES["schedule"] else None
        if problem:
            err("schedule", 0, k, problem)
    broker = schedule.get("broker")
    if isinstance(broker, str) and not broker.startswith(("redis://", "rediss://", "unix://")):
        err("schedule", 0, "broker", f"{broker!r} 不是 Redis 地址（redis://host:6379/0、rediss://…、unix://…）")
    if schedule.get("distributed") is True and importlib.util.find_spec("celery") is None:
        err("schedule", 0, "distributed", "需要安装 [distributed] 扩展（pip install 'zwgk-audit[distributed]'）")
    schedule = {**SCHEDULE_DEFAULTS, **schedule}

    store = _table(data, "store", err)
    _check_keys(store, "store", 0, STORE_KEYS, [], err)
    store_url = None
    if isinstance(store.get("url"), str):
        problem = store_url_problem(store["url"])
        if problem:
            err("store", 0, "url", problem)
        else:
            store_url = resolve_store(store["url"], path.parent)

    raw_sites = data.get("site", [])
    if not isinstance(raw_sites, list) or not raw_sites:
        errors.append(f"{path}: 没有 [[site]] 条目，无网站可审计")
        raw_sites = raw_sites if isinstance(raw_sites, list) else []
    sites: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, s in enumerate(raw_sites):
        s = dict(s)
        _check_keys(s, "site", i, {k: v[0] for k, v in SITE_KEYS.items()},
                    [k for k, v in SITE_KEYS.items() if v[1]], err)
        sid = s.get("id")
        if isinstance(sid, str):
            if not _ID.match(sid):
                err("site", i, "id", f"{sid!r}：只能使用小写字母、数字、'-' 或 '_'")
            if sid in seen:
                err("site", i, "id", f"网站 id {sid!r} 重复（首次出现在第 {seen[sid] + 1} 个 [[site]]）")
            seen.setdefault(sid, i)
        url = s.get("url")
        if isinstance(url, str):
            problem = url_problem(url)
            if problem:
                err("site", i, "url", problem)
        kind = s.get("kind")
        if isinstance(kind, str) and kind not in SITE_KINDS:
            err("site", i, "kind", f"{kind!r} 不是以下之一：{', '.join(SITE_KINDS)}")
        for h in s.get("hosts", []) if isinstance(s.get("hosts"), list) else []:
            if not isinstance(h, str) or not re.fullmatch(r"[A-Za-z0-9.-]+(:\d+)?", h):
                err("site", i, "hosts", f"{h!r} 不是主机名")
        for k, rng in RANGES["site"].items():
            problem = range_problem(s.get(k), rng) if k in s else None
            if problem:
                err("site", i, k, problem)
        s.setdefault("hosts", [])
        sites.append(s)

    ids = {s.get("id") for s in sites}
    for i, s in enumerate(sites):
        parent = s.get("column_of")
        if parent is None:
            continue
        if parent == s.get("id") or parent not in ids:
            err("site", i, "column_of", f"{parent!r} 不是另一个 [[site]] 的 id")
            continue
        p = next(x for x in sites if x.get("id") == parent)
        if p.get("column_of"):
            err("site", i, "column_of", f"{parent!r} 本身是栏目，请指向承载它的网站")
        elif isinstance(s.get("url"), str) and isinstance(p.get("url"), str) and \
                urlsplit(s["url"]).hostname != urlsplit(p["url"]).hostname:
            err("site", i, "url", f"{parent!r} 的栏目必须位于其主机 {urlsplit(p['url']).hostname} 上")

    if not errors:
        # the crawler's own checks (ASCII user agent, concurrency ≥ 1, ...), with a line number
        from crawler.config import ConfigError as CrawlerConfigError
        from crawler.config import CrawlSettings

        try:
            CrawlSettings.from_mapping(network, crawl)
        except (CrawlerConfigError, ValueError, TypeError) as e:
            msg = str(e)
            table = "network" if msg.startswith("[network]") else "crawl"
            bad = next((k for k in (network if table == "network" else crawl) if k in msg), None)
            errors.append(f"{where(path, pos, table, 0, bad)}: 抓取设置无效：{msg}")
    if errors:
        raise ConfigError("\n".join(errors))
    return AuditConfig(path=path, text=text, audit=audit, network=network, crawl=crawl,
                       schedule=schedule, sites=[Site.from_dict(s) for s in sites], store_url=store_url)


def _table(data: dict[str, Any], name: str, err: Any) -> dict[str, Any]:
    t = data.get(name, {})
    if not isinstance(t, dict):
        err(name, 0, None, "应为表（[表名] 下的键值）")
        return {}
    return dict(t)


def _check_keys(table: dict[str, Any], name: str, index: int, types: dict[str, tuple[type, ...]],
                required: list[str], err: Any) -> None:
    for k, v in table.items():
        if k not in types:
            err(name, index, k, f"未知的键（可用：{', '.join(sorted(types))}）")
        elif not isinstance(v, types[k]) or (isinstance(v, bool) and bool not in types[k]):
            err(name, index, k, f"类型应为 {' 或 '.join(t.__name__ for t in types[k])}，实际为 {type(v).__name__}")
    for k in required:
        if k not in table:
            err(name, index, None, f"缺少必填键 {k!r}")


def store_url_problem(value: str) -> str | None:
    """What is wrong with a ``[store] url`` / ``--db`` value, or None. A URL must be PostgreSQL's
    (``postgresql://user@host:port/dbname``); anything without ``://`` is an SQLite file path."""
    from urllib.parse import urlsplit

    if not value.strip() or _CONTROL.search(value):
        return "应为 postgresql:// 地址或 SQLite 文件路径"
    if "://" not in value:
        return None
    u = urlsplit(value)
    if u.scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        return f"不支持 {u.scheme}://（请使用 postgresql://user@host:port/dbname 或 SQLite 文件路径）"
    if not u.path.strip("/"):
        return "地址中未指明数据库（postgresql://user@host:port/dbname）"
    try:
        u.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "地址中的端口不是 1-65535 之间的数字"
    return None


def resolve_store(value: str, base: Path) -> str:
    """A ``[store] url`` as the Store opens it: URLs as given, a relative SQLite path from ``base``."""
    if "://" in value or Path(value).is_absolute():
        return value
    return str(base / value)


def url_problem(url: str) -> str | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        return f"{url!r} 不是有效的网址：{e}"
    if parts.scheme not in ("http", "https"):
        return f"{url!r}：只能审计 http:// 或 https:// 网址"
    if not parts.hostname:
        return f"{url!r} 缺少主机名"
    if port == 0:
        return f"{url!r}：端口不能为 0"
    from crawler.fetcher import url_problem as unrequestable  # httpx, IDNA and numeric-host rules
    why = unrequestable(url)
    return f"{url!r} 无法请求（{why}）" if why else None


def _target_ok(spec: str, *, names_only: bool) -> bool:
    """A self-check reference: a host name, or "host:port" / "ip:port" / "[v6]:port"."""
    if names_only:
        return bool(_HOSTNAME.match(spec))
    m = re.fullmatch(r"\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?", spec)
    if m:
        host, port = m.group(1), m.group(2)
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            return False
    else:
        host, _, port = spec.partition(":") if spec.count(":") == 1 else (spec, "", None)
        if not _HOSTNAME.match(host):
            return False
    return port is None or (port.isdigit() and 0 < int(port) < 65536)


def _cron_problem(expr: str) -> str | None:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expr)
    except ValueError as e:
        return f"{expr!r} 不是有效的 crontab 表达式（分 时 日 月 星期）：{e}"
    return None
