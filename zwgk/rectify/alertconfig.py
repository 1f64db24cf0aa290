"""``alerts.toml`` next to ``sites.toml``: who is told what, and how.

Validated like sites.toml (exit 2 with ``file:line``). Secrets never appear in it in clear:
the SMTP password comes from an environment variable (``password_env``) or a file
(``password_file``, e.g. a systemd credential); a ``password`` key is an error. Webhook URLs
carry access tokens, so they may come from the environment too (``url_env``).

    [alerts]
    dry_run = false                  # true: print what would be sent, send nothing
    office = ["gkb@hhw.gov.cn"]      # the office's summary
    sender = "zwgk@hhw.gov.cn"
    retries = 3                      # attempts per message
    retry_delay = 5.0                # seconds, doubled after each failure

    [smtp]
    host = "smtp.hhw.gov.cn"
    port = 465
    security = "ssl"                 # ssl | starttls | none
    username = "zwgk"
    password_env = "ZWGK_SMTP_PASSWORD"      # or password_file = "/etc/zwgk-audit/smtp.pass"

    [[contact]]
    unit = "区司法局"
    email = ["fzk@sfj.hhw.gov.cn"]

    [[webhook]]
    kind = "dingtalk"                # dingtalk | wecom | json
    url_env = "ZWGK_DINGTALK_URL"    # or url = "https://…"
    secret_env = "ZWGK_DINGTALK_SECRET"      # DingTalk 加签 (optional)
    events = ["veto", "availability", "overdue", "recheck"]   # default: all of them
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.tomlpos import Positions, where
from zwgk.config import ConfigError, parse_toml, read_config_text

ALERTS_FILE = "alerts.toml"
# veto/availability: after an audit; overdue: after an audit and after a re-check (items still open
# past their 整改时限); recheck: a re-check's result summary (复核通过 / 仍存在 / 无法核验 counts)
EVENTS = ("veto", "availability", "overdue", "recheck")
WEBHOOK_KINDS = ("dingtalk", "wecom", "json")
SECURITY = ("ssl", "starttls", "none")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")

_KEYS: dict[str, dict[str, tuple[type, ...]]] = {
    "alerts": {"dry_run": (bool,), "office": (list,), "sender": (str,), "retries": (int,),
               "retry_delay": (int, float), "subject_prefix": (str,)},
    "smtp": {"host": (str,), "port": (int,), "security": (str,), "username": (str,), "username_env": (str,),
             "password_env": (str,), "password_file": (str,), "timeout": (int, float), "ca_file": (str,)},
    "contact": {"unit": (str,), "email": (list,)},
    "webhook": {"kind": (str,), "url": (str,), "url_env": (str,), "secret_env": (str,), "events": (list,),
                "name": (str,)},
}


@dataclass
class SmtpSettings:
    host: str
    port: int
    security: str = "starttls"
    username: str | None = None
    password_env: str | None = None
    password_file: str | None = None
    timeout: float = 30.0
    ca_file: str | None = None      # an intranet mail server's CA (default: the system's trust store)

    def password(self) -> str | None:
        """Read at sending time, so a rotated secret is picked up without re-validating."""
        if self.password_env:
            return os.environ.get(self.password_env)
        if self.password_file:
            return Path(self.password_file).read_text("utf-8").strip()
        return None


@dataclass
class Webhook:
    kind: str
    url: str | None = None
    url_env: str | None = None
    secret_env: str | None = None
    events: tuple[str, ...] = EVENTS
    name: str = ""

    def resolved_url(self) -> str | None:
        return self.url or (os.environ.get(self.url_env) if self.url_env else None)


@dataclass
class AlertConfig:
    path: Path
    dry_run: bool = False
    office: list[str] = field(default_factory=list)
    sender: str = "zwgk-audit@localhost"
    retries: int = 3
    retry_delay: float = 5.0
    subject_prefix: str = "【政务公开核查】"
    smtp: SmtpSettings | None = None
    contacts: dict[str, list[str]] = field(default_factory=dict)   # unit -> addresses
    webhooks: list[Webhook] = field(default_factory=list)


def alerts_path(sites_path: str | Path) -> Path:
    return Path(sites_path).parent / ALERTS_FILE


def load_alert_config(sites_path: str | Path, units: list[str] | None = None) -> AlertConfig | None:
    path = alerts_path(sites_path)
    if not path.exists():
        return None
    return parse_alert_config(read_config_text(path), path, units=units)


def parse_alert_config(text: str, path: str | Path, *, units: list[str] | None = None) -> AlertConfig:
    """Validate alerts.toml; ``units`` (from sites.toml) catches a [[contact]] whose unit is misspelt,
    which would otherwise silently never receive its sheet."""
    path = Path(path)
    data = parse_toml(text, path)
    pos = Positions(text)
    errors: list[str] = []

    def err(table: str, index: int, key: str | None, msg: str) -> None:
        label = f"[[{table}]] #{index + 1}" if table in ("contact", "webhook") else f"[{table}]"
        errors.append(f"{where(path, pos, table, index, key)}: {label}{' ' + key if key else ''}: {msg}")

    for k in data:
        if k not in _KEYS:
            errors.append(f"{where(path, pos, k)}: 未知的表 {k!r}（应为以下之一：{', '.join(_KEYS)}）")

    def keys(table: str, index: int, t: Any) -> dict[str, Any]:
        if not isinstance(t, dict):
            err(table, index, None, "应为表（[表名] 下的键值）")
            return {}
        for k, v in t.items():
            if k == "password":
                err(table, index, k, "密码不能写在配置文件中：请用 password_env（环境变量）或 password_file")
            elif k not in _KEYS[table]:
                err(table, index, k, f"未知的键（可用：{', '.join(_KEYS[table])}）")
            elif not isinstance(v, _KEYS[table][k]) or (isinstance(v, bool) and bool not in _KEYS[table][k]):
                err(table, index, k, f"类型应为 {' 或 '.join(x.__name__ for x in _KEYS[table][k])}，"
                                     f"实际为 {type(v).__name__}")
        return dict(t)

    a = keys("alerts", 0, data.get("alerts", {}))
    cfg = AlertConfig(path=path)
    if isinstance(a.get("dry_run"), bool):
        cfg.dry_run = a["dry_run"]
    for k in ("sender", "subject_prefix"):
        if isinstance(a.get(k), str):
            setattr(cfg, k, a[k])
    if isinstance(a.get("retries"), int) and not isinstance(a.get("retries"), bool):
        if a["retries"] < 1:
            err("alerts", 0, "retries", "至少为 1")
        cfg.retries = a["retries"]
    if isinstance(a.get("retry_delay"), (int, float)) and not isinstance(a.get("retry_delay"), bool):
        cfg.retry_delay = float(a["retry_delay"])
    for addr in a.get("office", []) if isinstance(a.get("office"), list) else []:
        if not isinstance(addr, str) or not _EMAIL.match(addr):
            err("alerts", 0, "office", f"{addr!r} 不是电子邮件地址（e-mail）")
        else:
            cfg.office.append(addr)

    if "smtp" in data:
        s = keys("smtp", 0, data["smtp"])
        if not isinstance(s.get("host"), str):
            err("smtp", 0, None, "缺少必填键 'host'")
        sec = s.get("security", "starttls")
        if sec not in SECURITY:
            err("smtp", 0, "security", f"{sec!r} 不是以下之一：{', '.join(SECURITY)}")
        if s.get("password_env") and s.get("password_file"):
            err("smtp", 0, "password_file", "password_env 与 password_file 只能给出一个（not both）")
        if sec == "none" and (s.get("password_env") or s.get("password_file")):
            # smtplib would send the password in clear over the office network (AUTH without TLS)
            err("smtp", 0, "security", "密码不能通过未加密连接（unencrypted）发送：请用 security = \"starttls\" "
                                       "或 \"ssl\"（或使用无需密码的转发服务器）")
        if isinstance(s.get("username_env"), str):
            s["username"] = os.environ.get(s["username_env"])
        port = s.get("port", 465 if sec == "ssl" else 587)
        if isinstance(port, int) and not 0 < port < 65536:
            err("smtp", 0, "port", f"{port} 不是有效的 TCP 端口")
        if isinstance(s.get("host"), str) and isinstance(port, int):
            pf = s.get("password_file")
            if isinstance(pf, str) and not Path(pf).is_absolute():
                pf = str(path.parent / pf)
            ca = s.get("ca_file")
            if isinstance(ca, str) and not Path(ca).is_absolute():
                ca = str(path.parent / ca)
            cfg.smtp = SmtpSettings(s["host"], port, str(sec), s.get("username"), s.get("password_env"), pf,
                                    float(s.get("timeout", 30)), ca if isinstance(ca, str) else None)

    contacts = data.get("contact", [])
    for i, c in enumerate(contacts if isinstance(contacts, list) else []):
        c = keys("contact", i, c)
        if not isinstance(c.get("unit"), str) or not isinstance(c.get("email"), list):
            err("contact", i, None, "须给出 unit = \"单位名称\" 和 email = [\"…\"]")
            continue
        if units is not None and c["unit"] not in units:
            err("contact", i, "unit", f"{c['unit']!r} 不是 sites.toml 中的单位（可用：{', '.join(sorted(set(units)))}）")
            continue
        bad = [e for e in c["email"] if not isinstance(e, str) or not _EMAIL.match(e)]
        for e in bad:
            err("contact", i, "email", f"{e!r} 不是电子邮件地址（e-mail）")
        if not bad:
            cfg.contacts.setdefault(c["unit"], []).extend(c["email"])

    hooks = data.get("webhook", [])
    for i, h in enumerate(hooks if isinstance(hooks, list) else []):
        h = keys("webhook", i, h)
        kind = h.get("kind")
        if kind not in WEBHOOK_KINDS:
            err("webhook", i, "kind", f"{kind!r} 不是以下之一：{', '.join(WEBHOOK_KINDS)}")
            continue
        if not (isinstance(h.get("url"), str) or isinstance(h.get("url_env"), str)):
            err("webhook", i, None, "须给出 url 或 url_env")
            continue
        if isinstance(h.get("url"), str) and not h["url"].startswith(("http://", "https://")):
            err("webhook", i, "url", f"{h['url']!r} 不是 http(s) 网址")
            continue
        events = h.get("events", list(EVENTS))
        unknown = [e for e in events if e not in EVENTS]
        if unknown:
            err("webhook", i, "events", f"未知的事件 {unknown}（可用：{', '.join(EVENTS)}）")
            continue
        cfg.webhooks.append(Webhook(kind, h.get("url"), h.get("url_env"), h.get("secret_env"), tuple(events),
                                    str(h.get("name", kind))))
    if cfg.contacts and cfg.smtp is None and not cfg.dry_run:
        errors.append(f"{path}: [[contact]] 的电子邮件地址需要 [smtp] 表（或设置 [alerts] dry_run = true）")
    if errors:
        raise ConfigError("\n".join(errors))
    return cfg
