"""Alerts with real servers on loopback: an aiosmtpd SMTP server (plain, STARTTLS with login,
implicit TLS) receiving the units' mails with their own sheet attached, and an HTTP receiver for
DingTalk / WeCom / JSON webhooks. Failures are retried and logged, never raised; dry-run sends
nothing; alerts.toml is validated like sites.toml."""
from __future__ import annotations

import email
import email.policy
import io
import json
import socket
import ssl
from collections.abc import Iterator
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from openpyxl import Workbook, load_workbook
from testkit.sample import MESSAGES, RULES, TITLES, sample_store

from core.report import AuditReport
from zwgk.config import ConfigError
from zwgk.loopback.http import LoopbackServer, Request, Resp
from zwgk.loopback.tls import make_ca
from zwgk.rectify.alertconfig import parse_alert_config
from zwgk.rectify.alerts import dispatch, events, signed_url
from zwgk.results import build_report

USER, PASSWORD = "zwgk", "s3cret-from-env"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 (aiosmtpd API)
        self.messages.append((list(envelope.rcpt_tos),
                              email.message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"


def _auth(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and data.login == USER.encode() and data.password == PASSWORD.encode()
    return AuthResult(success=ok)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def smtp(request: pytest.FixtureRequest, ca: Any) -> Iterator[tuple[Inbox, int, str]]:
    """(inbox, port, security) — parametrised by the security mode."""
    mode = request.param
    inbox = Inbox()
    cert, key = ca.issue(["127.0.0.1", "localhost"])
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(str(cert), str(key))
    port = _free_port()
    kw: dict[str, Any] = {"hostname": "127.0.0.1", "port": port}
    if mode == "starttls":
        kw.update(tls_context=tls, require_starttls=True, authenticator=_auth, auth_required=True)
    elif mode == "ssl":
        kw.update(ssl_context=tls, authenticator=_auth, auth_required=True, auth_require_tls=False)
    ctl = Controller(inbox, **kw)
    ctl.start()
    try:
        yield inbox, port, mode
    finally:
        ctl.stop()


def _workbook(path: Path) -> Path:
    """A 整改清单 with a 汇总 sheet and one sheet per unit (the WORKBOOK.md shape, enough for mail)."""
    wb = Workbook()
    wb.active.title = "汇总"
    for unit in ("区党工委综合办公室", "区司法局", "田墘街道办事处", "东洲街道办事处"):
        ws = wb.create_sheet(unit)
        ws.append(["序号", "问题描述", "指纹"])
        ws.append([1, f"{unit}的问题", "0" * 20])
    wb.save(path)
    return path


@pytest.fixture
def model() -> AuditReport:
    store, _, r2 = sample_store()
    return build_report(store, r2, RULES, messages=(MESSAGES, TITLES))


def _config(tmp_path: Path, port: int, security: str, extra: str = "") -> Any:
    text = f"""
[alerts]
office = ["gkb@hhw.gov.cn"]
sender = "zwgk@hhw.gov.cn"
retries = 2
retry_delay = 0.05

[smtp]
host = "127.0.0.1"
port = {port}
security = "{security}"
{'username = "zwgk"' if security != "none" else ''}
{'password_env = "ZWGK_TEST_SMTP_PASSWORD"' if security != "none" else ''}
ca_file = "ca.pem"

[[contact]]
unit = "区党工委综合办公室"
email = ["bgs@hhw.gov.cn"]

[[contact]]
unit = "东洲街道办事处"
email = ["dz@hhw.gov.cn", "dz2@hhw.gov.cn"]
{extra}
"""
    path = tmp_path / "alerts.toml"
    path.write_text(text, "utf-8")
    return parse_alert_config(text, path)


# aiosmtpd cannot tell that an implicit-TLS (SMTPS) connection is encrypted, so it warns about AUTH
@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
@pytest.mark.parametrize("smtp", ["none", "starttls", "ssl"], indirect=True)
def test_mails_reach_units_and_office_with_their_own_sheet(smtp: tuple[Inbox, int, str], model: AuditReport,
                                                           tmp_path: Path, ca: Any,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, port, mode = smtp
    monkeypatch.setenv("ZWGK_TEST_SMTP_PASSWORD", PASSWORD)
    (tmp_path / "ca.pem").write_bytes(Path(ca.cert_path).read_bytes())
    cfg = _config(tmp_path, port, mode)
    xlsx = _workbook(tmp_path / "整改清单.xlsx")
    counts = dispatch(model, cfg, report_paths={"xlsx": xlsx}, rules=RULES, out=lambda s: None)
    assert counts == {"sent": 3, "failed": 0, "dry-run": 0}
    by_rcpt = {tuple(r): m for r, m in inbox.messages}
    assert set(by_rcpt) == {("bgs@hhw.gov.cn",), ("dz@hhw.gov.cn", "dz2@hhw.gov.cn"), ("gkb@hhw.gov.cn",)}
    unit_mail = by_rcpt[("dz@hhw.gov.cn", "dz2@hhw.gov.cn")]
    assert "东洲街道办事处" in unit_mail["Subject"]
    parts = [p for p in unit_mail.walk() if p.get_filename()]
    assert len(parts) == 1
    sheet = load_workbook(io.BytesIO(parts[0].get_payload(decode=True)))
    assert sheet.sheetnames == ["东洲街道办事处"]           # its own sheet only, not the others'
    body = next(p for p in unit_mail.walk() if p.get_content_type() == "text/plain").get_content()
    assert "空白栏目：栏目4（整改时限 2026-03-09，已逾期）" in body   # 5 working days for a veto
    assert "新增单项否决" not in body          # the blank-column veto was already there last run
    office = by_rcpt[("gkb@hhw.gov.cn",)]
    office_sheets = load_workbook(io.BytesIO(next(p for p in office.walk() if p.get_filename())
                                             .get_payload(decode=True))).sheetnames
    assert len(office_sheets) == 5


def test_unreachable_mail_server_is_retried_logged_and_not_raised(model: AuditReport, tmp_path: Path,
                                                                   caplog: pytest.LogCaptureFixture) -> None:
    from core.store import Store

    store = Store(":memory:")
    port = _free_port()     # nothing listens there: connection refused
    counts = dispatch(model, _config(tmp_path, port, "none"), store=store, rules=RULES, out=lambda s: None)
    assert counts == {"sent": 0, "failed": 3, "dry-run": 0}
    rows = store.db.execute("SELECT status, attempts, error FROM alerts").fetchall()
    assert [(r[0], r[1]) for r in rows] == [("failed", 2)] * 3
    assert "ConnectionRefusedError" in rows[0][2]
    assert "attempt 1/2" in caplog.text


def test_webhooks_in_dingtalk_wecom_and_json_formats(model: AuditReport, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    got: list[Request] = []
    fail_first = {"n": 0}

    def receive(req: Request) -> Resp:
        got.append(req)
        if req.path.startswith("/flaky") and fail_first["n"] == 0:
            fail_first["n"] += 1
            return Resp(503, "busy")
        return Resp(200, json.dumps({"errcode": 0, "errmsg": "ok"}), {"Content-Type": "application/json"})

    with LoopbackServer(receive, families=(4,)) as srv:
        monkeypatch.setenv("ZWGK_TEST_DING_SECRET", "SEC123")
        monkeypatch.setenv("ZWGK_TEST_WECOM_URL", srv.url("/flaky/wecom?key=abc"))
        text = f"""
[alerts]
dry_run = false
retries = 3
retry_delay = 0.05

[[webhook]]
kind = "dingtalk"
url = "{srv.url('/robot/send?access_token=t1')}"
secret_env = "ZWGK_TEST_DING_SECRET"

[[webhook]]
kind = "wecom"
url_env = "ZWGK_TEST_WECOM_URL"
events = ["overdue"]

[[webhook]]
kind = "json"
url = "{srv.url('/hook')}"
events = ["overdue"]
"""
        cfg = parse_alert_config(text, tmp_path / "alerts.toml")
        counts = dispatch(model, cfg, rules=RULES, out=lambda s: None)
    assert counts == {"sent": 3, "failed": 0, "dry-run": 0}
    ding = next(r for r in got if r.path.startswith("/robot/send"))
    assert "timestamp=" in ding.path and "sign=" in ding.path        # 加签
    body = json.loads(ding.body)
    assert body["msgtype"] == "markdown" and "已逾期" in body["markdown"]["text"]
    wecom = [r for r in got if r.path.startswith("/flaky")]
    assert len(wecom) == 2                                          # a 503, then the retry
    wbody = json.loads(wecom[-1].body)
    assert wbody["msgtype"] == "markdown" and "空白栏目：栏目0（整改时限 2026-03-09，已逾期）" in wbody["markdown"]["content"]
    plain = json.loads(next(r for r in got if r.path == "/hook").body)
    assert plain["run_id"] == model.run.id and {e["kind"] for e in plain["events"]} == {"overdue"}


def test_dingtalk_signature_matches_the_documented_algorithm() -> None:
    # DingTalk docs: sign = urlencode(base64(hmac_sha256(secret, f"{timestamp}\n{secret}")))
    import base64
    import hashlib
    import hmac
    import urllib.parse

    url = signed_url("https://oapi.example/robot/send?access_token=x", "SEC", now_ms=1700000000000)
    want = urllib.parse.quote_plus(base64.b64encode(
        hmac.new(b"SEC", b"1700000000000\nSEC", hashlib.sha256).digest()))
    assert url.endswith(f"&timestamp=1700000000000&sign={want}")


def test_unreachable_webhook_never_raises(model: AuditReport, tmp_path: Path) -> None:
    port = _free_port()   # nothing listens there
    cfg = parse_alert_config(f'[alerts]\nretries = 2\nretry_delay = 0.01\n[[webhook]]\nkind = "json"\n'
                             f'url = "http://127.0.0.1:{port}/x"\n', tmp_path / "alerts.toml")
    assert dispatch(model, cfg, rules=RULES, out=lambda s: None) == {"sent": 0, "failed": 1, "dry-run": 0}


def test_dry_run_prints_and_sends_nothing(model: AuditReport, tmp_path: Path) -> None:
    port = _free_port()
    cfg = _config(tmp_path, port, "none", f'[[webhook]]\nkind = "wecom"\nurl = "http://127.0.0.1:{port}/k?key=SECRET"\n')
    lines: list[str] = []
    counts = dispatch(model, cfg, rules=RULES, dry_run=True, out=lines.append)
    assert counts == {"sent": 0, "failed": 0, "dry-run": 4}
    text = "\n".join(lines)
    assert "[dry-run] 邮件 → dz@hhw.gov.cn, dz2@hhw.gov.cn" in text and "[dry-run] wecom" in text
    assert "SECRET" not in text      # webhook tokens are not printed


def test_events_new_veto_only_when_new_and_overdue(model: AuditReport) -> None:
    kinds = {(e.kind, e.site_id) for e in events(model, RULES)}
    assert ("overdue", "portal") in kinds and ("overdue", "dzjd") in kinds
    assert not any(k == "veto" for k, _ in kinds)     # run 2: dzjd's veto is still open, tqjd's is fixed
    store, r1, _ = sample_store()
    first = build_report(store, r1, RULES, messages=(MESSAGES, TITLES))
    assert {(e.kind, e.site_id) for e in events(first, RULES) if e.kind == "veto"} == {("veto", "dzjd"),
                                                                                      ("veto", "tqjd")}


def test_availability_approaching_the_veto_line(model: AuditReport) -> None:
    def with_ratio(ratio: float) -> AuditReport:
        sites = tuple(s.replace(checks=tuple(c.replace(metrics={"fail_ratio": ratio}) if c.check_id == "availability"
                                             else c for c in s.checks)) if s.id == "tqjd" else s
                      for s in model.sites)
        return model.replace(sites=sites)

    assert ("availability", "tqjd") in {(e.kind, e.site_id) for e in events(with_ratio(0.042), RULES)}
    assert ("availability", "tqjd") not in {(e.kind, e.site_id) for e in events(with_ratio(0.01), RULES)}


# -- alerts.toml bad input: file:line, exit 2 --------------------------------------------------

@pytest.mark.parametrize("text, line, words", [
    ('[smtp]\nhost = "mail"\npassword = "hunter2"\n', 3, "password_env"),
    ('[smtp]\nhost = "mail"\nsecurity = "tls"\n', 3, "ssl, starttls, none"),
    ('[smtp]\nhost = "mail"\nport = "25"\n', 3, "类型应为 int"),
    ('[alerts]\noffice = ["not-an-address"]\n', 2, "e-mail"),
    ('[[webhook]]\nkind = "slack"\nurl = "http://x/"\n', 2, "dingtalk, wecom, json"),
    ('[[webhook]]\nkind = "json"\nurl = "http://x/"\nevents = ["bored"]\n', 4, "未知的事件"),
    ('[[contact]]\nunit = "区司法局"\nemail = ["a@b.cn"]\n', None, "[smtp]"),
    ('[smpt]\nhost = "x"\n', 1, "未知的表"),
    ('[smtp]\nhost = "mail"\nsecurity = "none"\nusername = "u"\npassword_env = "P"\n', 3, "unencrypted"),
])
def test_bad_alerts_toml(tmp_path: Path, text: str, line: int | None, words: str) -> None:
    with pytest.raises(ConfigError) as e:
        parse_alert_config(text, tmp_path / "alerts.toml")
    msg = str(e.value)
    assert words in msg
    if line is not None:
        assert f"alerts.toml:{line}:" in msg


@pytest.mark.parametrize("smtp", ["none"], indirect=True)
def test_recheck_results_are_mailed_to_the_unit_and_the_office(smtp: tuple[Inbox, int, str], tmp_path: Path) -> None:
    from core.store import Store
    from zwgk.rectify.alerts import send_recheck

    inbox, port, mode = smtp
    _config(tmp_path, port, mode)            # writes alerts.toml next to the (notional) sites.toml
    store = Store(":memory:")
    outcomes = [{"result": "passed", "unit": "东洲街道办事处", "site_name": "东洲", "text": "空白栏目：栏目0"},
                {"result": "open", "unit": "区司法局", "site_name": "司法局", "text": "失效链接"}]
    counts = send_recheck(store, tmp_path / "sites.toml", "红海湾经济开发区", 7, 5, outcomes, out=lambda s: None)
    assert counts == {"sent": 2, "failed": 0, "dry-run": 0}     # 区司法局 has no contact: only 东洲 + office
    by_rcpt = {tuple(r): m for r, m in inbox.messages}
    unit = by_rcpt[("dz@hhw.gov.cn", "dz2@hhw.gov.cn")]
    body = unit.get_body(("plain",)).get_content()
    assert "[复核通过] 东洲 空白栏目：栏目0" in body and "失效链接" not in body
    office = by_rcpt[("gkb@hhw.gov.cn",)].get_body(("plain",)).get_content()
    assert "[仍存在] 司法局 失效链接" in office and "复核批次 7" in office


def test_password_from_a_file_next_to_the_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "smtp.pass").write_text("from-file\n", "utf-8")
    cfg = parse_alert_config('[smtp]\nhost = "mail"\nusername = "u"\npassword_file = "smtp.pass"\n',
                             tmp_path / "alerts.toml")
    assert cfg.smtp is not None and cfg.smtp.password() == "from-file"
    monkeypatch.setenv("ZWGK_X", "from-env")
    cfg = parse_alert_config('[smtp]\nhost = "mail"\npassword_env = "ZWGK_X"\n', tmp_path / "alerts.toml")
    assert cfg.smtp is not None and cfg.smtp.password() == "from-env"
    with pytest.raises(ConfigError, match="not both"):
        parse_alert_config('[smtp]\nhost = "m"\npassword_env = "A"\npassword_file = "b"\n', tmp_path / "alerts.toml")


def test_contact_for_a_unit_not_in_sites_toml(tmp_path: Path) -> None:
    text = '[alerts]\ndry_run = true\n\n[[contact]]\nunit = "区司法厅"\nemail = ["a@b.cn"]\n'
    with pytest.raises(ConfigError) as e:
        parse_alert_config(text, tmp_path / "alerts.toml", units=["区司法局", "田墘街道办事处"])
    assert "alerts.toml:5:" in str(e.value) and "'区司法厅' 不是 sites.toml 中的单位" in str(e.value)


# -- re-check webhooks: the same robots, formats, retries and log as an audit's --------------------

RECHECK_OUTCOMES = [
    {"result": "passed", "unit": "东洲街道办事处", "site_name": "东洲", "site_id": "dzjd",
     "text": "空白栏目：栏目0", "deadline": "2026-03-09"},
    {"result": "open", "unit": "区司法局", "site_name": "司法局", "site_id": "sfj",
     "text": "失效链接 /fzxc", "deadline": "2026-03-09"},                  # still there, past due
    {"result": "open", "unit": "区司法局", "site_name": "司法局", "site_id": "sfj",
     "text": "失效链接 /pfxx", "deadline": "2026-04-30"},                  # still there, not yet due
    {"result": "unverified", "unit": "东洲街道办事处", "site_name": "东洲", "site_id": "dzjd",
     "text": "栏目更新不及时", "deadline": "2026-03-01"},                   # could not judge: never overdue
]


def test_recheck_sends_webhooks_summary_and_still_overdue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    from datetime import date

    from core.store import Store
    from zwgk.rectify.alerts import send_recheck

    got: list[Request] = []

    def receive(req: Request) -> Resp:
        got.append(req)
        if req.path.startswith("/down"):
            return Resp(503, "busy")
        if req.path.startswith("/flaky") and sum(r.path.startswith("/flaky") for r in got) == 1:
            return Resp(200, json.dumps({"errcode": 310000, "errmsg": "keywords not in content"}),
                        {"Content-Type": "application/json"})
        return Resp(200, json.dumps({"errcode": 0, "errmsg": "ok"}), {"Content-Type": "application/json"})

    with LoopbackServer(receive, families=(4,)) as srv:
        monkeypatch.setenv("ZWGK_TEST_DING_SECRET", "SEC123")
        (tmp_path / "alerts.toml").write_text(f"""
[alerts]
retries = 2
retry_delay = 0.01

[[webhook]]
kind = "dingtalk"
url = "{srv.url('/robot/send?access_token=t1')}"
secret_env = "ZWGK_TEST_DING_SECRET"

[[webhook]]
kind = "wecom"
url = "{srv.url('/flaky/wecom?key=abc')}"
events = ["overdue"]

[[webhook]]
kind = "json"
url = "{srv.url('/hook')}"
events = ["recheck"]

[[webhook]]
kind = "json"
url = "{srv.url('/vetoes-only')}"
events = ["veto", "availability"]

[[webhook]]
kind = "json"
url = "{srv.url('/down')}"
events = ["recheck"]
""", "utf-8")
        store = Store(":memory:")
        counts = send_recheck(store, tmp_path / "sites.toml", "红海湾经济开发区", 7, 5, RECHECK_OUTCOMES,
                              as_of=date(2026, 3, 20), out=lambda s: None)
    # no mail configured; 3 robots reached (wecom after one errcode answer), /down failed twice,
    # /vetoes-only asked for nothing a re-check says
    assert counts == {"sent": 3, "failed": 1, "dry-run": 0}
    assert not any(r.path.startswith("/vetoes-only") for r in got)
    assert sum(r.path.startswith("/down") for r in got) == 2 and "attempt 1/2" in caplog.text

    ding = json.loads(next(r for r in got if r.path.startswith("/robot/send")).body)["markdown"]
    assert ding["title"] == "红海湾经济开发区 复核批次 7（第5次核查的问题）结果"
    text = ding["text"]
    assert "复核 4 项：复核通过 1，仍存在 2，无法核验 1" in text
    assert "区司法局：复核 2 项：复核通过 0，仍存在 2" in text
    assert "司法局：失效链接 /fzxc（整改时限 2026-03-09，复核仍存在，已逾期）" in text
    assert "/pfxx（" not in text and "栏目更新不及时（" not in text and "空白栏目：栏目0（" not in text

    wecom = [json.loads(r.body)["markdown"]["content"] for r in got if r.path.startswith("/flaky")]
    assert len(wecom) == 2                                   # errcode answer, then the retry
    assert wecom[-1].count("已逾期") == 1 and "复核通过" not in wecom[-1]   # overdue only, as asked

    plain = json.loads(next(r for r in got if r.path == "/hook").body)
    assert plain["kind"] == "recheck" and plain["run_id"] == 7 and plain["audit_run"] == 5
    assert plain["counts"] == {"passed": 1, "open": 2, "unverified": 1} and plain["as_of"] == "2026-03-20"
    assert {e["kind"] for e in plain["events"]} == {"recheck"}

    rows = store.db.execute("SELECT run_id, channel, status, attempts FROM alerts ORDER BY id").fetchall()
    assert sorted(tuple(r) for r in rows) == sorted([(7, "dingtalk", "sent", 1), (7, "wecom", "sent", 2),
                                                     (7, "json", "sent", 1), (7, "json", "failed", 2)])


def test_recheck_webhooks_dry_run_prints_and_sends_nothing(tmp_path: Path) -> None:
    from datetime import date

    from core.store import Store
    from zwgk.rectify.alerts import send_recheck

    port = _free_port()   # nothing listens: a real send would fail, a dry run never tries
    (tmp_path / "alerts.toml").write_text(f'[alerts]\ndry_run = true\n[[webhook]]\nkind = "wecom"\n'
                                          f'url = "http://127.0.0.1:{port}/k?key=SECRET"\n', "utf-8")
    store = Store(":memory:")
    lines: list[str] = []
    counts = send_recheck(store, tmp_path / "sites.toml", "红海湾", 7, 5, RECHECK_OUTCOMES,
                          as_of=date(2026, 3, 20), out=lines.append)
    assert counts == {"sent": 0, "failed": 0, "dry-run": 1}
    text = "\n".join(lines)
    assert "[dry-run] wecom" in text and "仍存在 2" in text and "复核仍存在，已逾期" in text
    assert "SECRET" not in text
    assert [tuple(r) for r in store.db.execute("SELECT run_id, status FROM alerts")] == [(7, "dry-run")]
    # the same items on their deadline day are not overdue yet
    lines.clear()
    send_recheck(store, tmp_path / "sites.toml", "红海湾", 8, 5, RECHECK_OUTCOMES, as_of=date(2026, 3, 9),
                 out=lines.append)
    assert "已逾期" not in "\n".join(lines)


def test_a_failing_webhook_never_logs_or_stores_its_token(model: AuditReport, tmp_path: Path,
                                                          caplog: pytest.LogCaptureFixture) -> None:
    """httpx names the URL in its error ('... for url http://…?access_token=…'): the token would reach
    the log and the alerts table, which office staff read."""
    from core.store import Store

    store, _, _ = sample_store(Store(tmp_path / "a.sqlite"))
    with LoopbackServer(lambda req: Resp(500, "down"), families=(4,)) as srv:
        cfg = parse_alert_config(f'[alerts]\nretries = 1\nretry_delay = 0.01\n[[webhook]]\nkind = "dingtalk"\n'
                                 f'url = "{srv.url("/robot/send?access_token=TOKEN123")}"\n', tmp_path / "alerts.toml")
        with caplog.at_level("WARNING"):
            counts = dispatch(model, cfg, store=store, rules=RULES, out=lambda s: None)
    assert counts["failed"] == 1
    stored = " ".join(str(v) for r in store.db.execute("SELECT * FROM alerts") for v in tuple(r))
    assert "500" in stored
    assert "TOKEN123" not in stored and "TOKEN123" not in caplog.text
