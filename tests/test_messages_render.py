"""Every message a report can show reads as Chinese: no unfilled ``{placeholder}``, no check id,
no internal English code (issue 16).

Three views of the same promise:
1. every template of every check, rendered with its own placeholders filled, is clean;
2. every place in ``checks/`` that creates a result or finding with a literal message id passes
   (declares) every placeholder its template needs — the ``{found}`` leak of 预算/决算 was a
   finding created without ``found``;
3. every text of the golden demo run (the real output of the demo district) is clean.
"""
from __future__ import annotations

import ast
import json
import string
from pathlib import Path

import pytest

from checks.registry import BY_ID, catalogue
from core.labels import ERROR_KIND_ZH, KIND_ZH, ascii_leaks, zh_text, zh_value
from zwgk.results import message_text

ROOT = Path(__file__).resolve().parent.parent
CAT = catalogue()
CHECK_IDS = sorted(BY_ID, key=len, reverse=True)


def fields(template: str) -> set[str]:
    return {name.split(".")[0].split("[")[0] for _, name, _, _ in string.Formatter().parse(template) if name}


def problems(text: str) -> list[str]:
    out = []
    if "{" in text or "}" in text:
        out.append("unfilled placeholder")
    out += [f"check id {cid}" for cid in CHECK_IDS if "-" in cid and cid in text]
    out += [f"ASCII word {w!r}" for w in ascii_leaks(text)]
    return out


# -- 1. templates ---------------------------------------------------------------

SAMPLES = {"url": "http://www.example.gov.cn/a/b.html", "host": "www.example.gov.cn", "year": 2026,
           "date": "2026-03-01", "due": "2026-04-20", "count": 3, "reason": "connect", "kind": "department",
           "window": "P12M", "v4": "HTTP 200，5332字节", "v6": "timeout"}


@pytest.mark.parametrize("message_id", sorted(CAT))
def test_every_template_renders_clean_chinese(message_id: str) -> None:
    template = CAT[message_id]
    params = {f: SAMPLES.get(f, "某项") for f in fields(template)}
    text = message_text(message_id, params, CAT)
    assert not problems(text), (message_id, text, problems(text))


def test_codes_in_parameters_are_shown_as_labels() -> None:
    for code, zh in {**ERROR_KIND_ZH, **KIND_ZH}.items():
        assert zh_value(code) == zh and not ascii_leaks(zh.replace("robots.txt", "")), code
    assert zh_value("P12M") == "12个月" and zh_value("P1Y") == "1年"
    assert zh_value("sfj", {"sfj": "区司法局网站"}) == "区司法局网站"
    # codes inside free text are replaced; URLs and file names are not touched
    text = zh_text("栏目页无法访问（blocked，HTTP 403） http://x.gov.cn/link/timeout.pdf（connect）")
    assert text == "栏目页无法访问（被网站防火墙拦截，HTTP 403） http://x.gov.cn/link/timeout.pdf（无法连接服务器）"


def test_an_unknown_message_id_never_shows_the_id() -> None:
    text = message_text("budget.no_such_message", {"year": 2026, "key": "x"}, CAT)
    assert "budget" not in text and "2026" in text


# -- 2. call sites declare every placeholder -------------------------------------

def _consts(value: ast.expr) -> set[str] | None:
    """The strings an assignment can give: "x" or "x" if c else "y"; None for anything else."""
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return {value.value}
    if isinstance(value, ast.IfExp):
        a, b = _consts(value.body), _consts(value.orelse)
        return a | b if a is not None and b is not None else None
    return None


def _names(scope: ast.AST, before: int | None = None) -> dict[str, set[str]]:
    """name → the strings of its last assignment in ``scope`` (a module: top-level statements only)
    before line ``before``; a name whose last assignment is not such a string is dropped."""
    last: dict[str, tuple[int, set[str] | None]] = {}
    nodes = scope.body if isinstance(scope, ast.Module) else list(ast.walk(scope))
    for node in nodes:
        if isinstance(node, ast.For) and (before is None or node.lineno <= before):
            for t in ast.walk(node.target):
                if isinstance(t, ast.Name):
                    last[t.id] = (node.lineno, None)
        if isinstance(node, ast.Assign) and (before is None or node.lineno <= before):
            for t in node.targets:
                if isinstance(t, ast.Name) and node.lineno >= last.get(t.id, (-1, None))[0]:
                    last[t.id] = (node.lineno, _consts(node.value))
    return {k: v for k, (_, v) in last.items() if v}


def _candidates(node: ast.expr, names: dict[str, set[str]]) -> set[str]:
    """Message ids an id argument can be: a literal, a name assigned literals, or an f-string whose
    parts are literals and such names (f"{p}.missing" with p = "budget" if … else "final")."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value} & set(CAT)
    if isinstance(node, ast.Name):
        return names.get(node.id, set()) & set(CAT)
    if isinstance(node, ast.JoinedStr):
        texts = {""}
        for part in node.values:
            if isinstance(part, ast.Constant):
                texts = {t + str(part.value) for t in texts}
            elif isinstance(part, ast.FormattedValue) and isinstance(part.value, ast.Name) \
                    and part.value.id in names:
                texts = {t + v for t in texts for v in names[part.value.id]}
            else:
                return set()
        return texts & set(CAT)
    return set()


def _declared(call: ast.Call, position: int) -> set[str] | None:
    """Keys of the params argument when they can be read statically (dict literal or **kwargs)."""
    node = call.args[position] if len(call.args) > position else None
    for kw in call.keywords:
        if kw.arg == "params":
            node = kw.value
    if node is None:
        return set()
    if isinstance(node, ast.Dict) and all(isinstance(k, ast.Constant) for k in node.keys):
        return {str(k.value) for k in node.keys}  # type: ignore[union-attr]
    return None


def _call_sites() -> list[tuple[str, int, set[str], set[str]]]:
    sites = []
    for path in sorted((ROOT / "checks").glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        module_names = _names(tree)
        scopes = {id(call): {**module_names, **_names(fn, call.lineno)} for fn in ast.walk(tree)
                  if isinstance(fn, ast.FunctionDef) for call in ast.walk(fn) if isinstance(call, ast.Call)}
        for call in ast.walk(tree):
            if not isinstance(call, ast.Call):
                continue
            ids = scopes.get(id(call), module_names)
            name = getattr(call.func, "id", getattr(call.func, "attr", ""))
            if name == "Finding" and call.args:
                mids, declared = _candidates(call.args[0], ids), _declared(call, 1)
            elif name == "CheckResult" and len(call.args) > 1:
                mids, declared = _candidates(call.args[1], ids), _declared(call, 2)
            elif name == "unverified" and call.args:
                mids, declared = _candidates(call.args[0], ids), {k.arg for k in call.keywords if k.arg}
            else:
                continue
            if mids and declared is not None:
                sites.append((f"{path.name}:{call.lineno}", call.lineno, mids, declared))
    return sites


def test_every_call_site_declares_the_placeholders_of_its_message() -> None:
    sites = _call_sites()
    assert len(sites) > 100          # the scan really reads the checks
    missing = [(where, mid, sorted(fields(CAT[mid]) - declared))
               for where, _, mids, declared in sites for mid in mids if fields(CAT[mid]) - declared]
    assert not missing, missing


# -- 3. the demo district's real texts -------------------------------------------

def _texts(node: object) -> list[str]:
    if isinstance(node, dict):
        return [v for k, v in node.items() if k in ("text", "observed", "expected") and isinstance(v, str)] + \
            [t for k, v in node.items() if k not in ("params", "metrics") for t in _texts(v)]
    if isinstance(node, list):
        return [t for v in node for t in _texts(v)]
    return []


def test_golden_demo_texts_are_clean() -> None:
    model = json.loads((ROOT / "tests" / "golden" / "demo_2026-11-27.json").read_text("utf-8"))
    texts = _texts(model)
    assert len(texts) > 200
    bad = sorted({(t, ", ".join(problems(t))) for t in texts if problems(t)})
    assert not bad, bad[:20]


# -- 4. every page and cell the office reads, rendered from the demo's model -----------------------

_HEXISH = __import__("re").compile(r"^[0-9a-f]{6,}$")
_ALLOWED_HERE = {"zwgk", "review", "audit", "SHA", "fetch", "hash", "generator", "time"}   # commands, hash label, golden masks


def test_rendered_html_and_workbook_of_the_demo_are_clean(tmp_path: Path) -> None:
    import openpyxl

    from reports import write_reports
    from reports.evidence import visible_text

    model = json.loads((ROOT / "tests" / "golden" / "demo_2026-11-27.json").read_text("utf-8"))
    out = write_reports(model, tmp_path, ("html", "xlsx", "csv"))
    bad: set[tuple[str, str]] = set()

    def scan(where: str, text: str) -> None:
        if "{" in text and "}" in text:
            bad.add((where, text[:80]))
        for w in ascii_leaks(text):
            if w not in _ALLOWED_HERE and not _HEXISH.match(w):
                bad.add((where, w))

    pages = sorted(tmp_path.glob("*.html"))
    assert len(pages) > 10
    for page in pages:
        for line in visible_text(page.read_text("utf-8"))[1].splitlines():
            scan(page.name, line)
    wb = openpyxl.load_workbook(out["xlsx"])
    for ws in wb:
        head = [c.value for c in ws[1]]
        for row in ws.iter_rows(values_only=True):
            for h, v in zip(head, row, strict=False):
                if isinstance(v, str) and h != "指纹":
                    scan(ws.title, v)
    assert not bad, sorted(bad)[:30]


def test_every_error_kind_has_a_chinese_label() -> None:
    """A report must never show "无应答" (no answer) for a URL the audit did not even request:
    bad_url / bad_redirect / internal read as 未核查, the site is not blamed."""
    from core.model import ErrorKind

    assert set(ERROR_KIND_ZH) == {k.value for k in ErrorKind}
    for kind in (ErrorKind.BAD_URL, ErrorKind.BAD_REDIRECT, ErrorKind.INTERNAL):
        assert "未核查" in ERROR_KIND_ZH[kind] and "无应答" not in ERROR_KIND_ZH[kind]
