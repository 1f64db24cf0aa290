"""The design, enforced: checks never touch the network, rules and registry agree,
every check is documented and used, every CLI command is in the README."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from checks.registry import ALL, BY_ID, catalogue
from zwgk.cli import build_parser
from zwgk.rules import load_rules

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {"httpx", "httpcore", "dns", "socket", "asyncio", "urllib.request", "crawler", "ssl", "requests"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted((ROOT / "checks").glob("*.py")), ids=lambda p: p.name)
def test_checks_do_no_network_io(path: Path) -> None:
    bad = {n for n in _imports(path) if n in FORBIDDEN or n.split(".")[0] in FORBIDDEN}
    assert not bad, f"{path.name} imports {bad}: checks judge the stored snapshot only"


def test_rules_load_against_the_registry() -> None:
    rules = load_rules(ROOT / "rules.toml")
    assert sorted(t.number for t in rules.tasks) == list(range(1, 51))


def test_every_registered_check_is_used_by_a_task() -> None:
    used = load_rules(ROOT / "rules.toml").used_checks()
    unused = sorted(c.id for c in ALL if c.id not in used)
    assert not unused, f"checks no task maps to: {unused}"


def test_check_ids_unique_and_messages_namespaced() -> None:
    assert len(BY_ID) == len(ALL)
    cat = catalogue()
    for c in ALL:
        assert c.title and c.doc, f"{c.id}: title and doc are shown in reports and the README"
        assert (c.judge.__doc__ or "").strip() or (c.judge.__module__ and
               (__import__(c.judge.__module__, fromlist=["x"]).__doc__ or "").strip()), c.id
        for mid in c.messages:
            assert mid.split(".", 1)[0] in (c.id, "common"), f"{c.id}: message id {mid} should be {c.id}.<name>"
            assert mid in cat


def test_every_cli_command_is_documented_in_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    missing = [name for name in sub.choices if not re.search(rf"zwgk {name}\b", readme)]
    assert not missing, f"commands missing from README: {missing}"


def test_every_check_is_listed_in_readme() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    missing = [c.id for c in ALL if f"`{c.id}`" not in readme]
    assert not missing, f"checks missing from the README's check table: {missing}"


def test_readme_check_table_is_current() -> None:
    from zwgk.docs import render_readme

    text = (ROOT / "README.md").read_text("utf-8")
    assert render_readme(text) == text, "README check table is stale: run `python -m zwgk.docs`"


def test_default_rules_ship_inside_the_package() -> None:
    """A wheel install has no repository root: the bundled rules.toml must be package data
    (``zwgk/rules.toml`` links to the top-level file, which stays the one people edit)."""
    packaged = ROOT / "zwgk" / "rules.toml"
    assert packaged.is_file(), "zwgk/rules.toml (package data) is missing"
    assert packaged.read_bytes() == (ROOT / "rules.toml").read_bytes()
    pyproject = (ROOT / "pyproject.toml").read_text("utf-8")
    assert re.search(r'"\*"\s*=\s*\[[^\]]*"\*\.toml"', pyproject), "package-data must include *.toml"


# -- the layers (issue 11): core ◄─ crawler / checks / reports ◄─ zwgk (application) ------------
IN_HOUSE = {"core", "crawler", "checks", "reports", "zwgk", "scheduler"}
ALLOWED = {                      # package -> in-house packages it may import (besides itself)
    "core": set(),
    "crawler": {"core"},
    "checks": {"core"},
    "reports": {"core"},
}


def _in_house_imports(path: Path, *, typing_only: bool = True) -> set[str]:
    """Every in-house module a file imports, at module level or lazily inside a function
    (``typing_only=False``: leaving out imports under ``if TYPE_CHECKING:``, which never run)."""
    tree = ast.parse(path.read_text("utf-8"))
    skip: set[int] = set()
    if not typing_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skip.update(id(n) for b in node.body for n in ast.walk(b))
    names: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return {n for n in names if n.split(".")[0] in IN_HOUSE}


def _modules() -> dict[str, Path]:
    found = {}
    for pkg in ("core", "crawler", "checks", "reports", "zwgk"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).with_suffix("")
            name = ".".join(p for p in rel.parts if p != "__init__")
            found[name] = path
    found["scheduler"] = ROOT / "scheduler.py"
    return found


@pytest.mark.parametrize("pkg", sorted(ALLOWED))
def test_lower_layers_import_nothing_above_them(pkg: str) -> None:
    bad = []
    for path in sorted((ROOT / pkg).rglob("*.py")):
        for name in _in_house_imports(path):
            top = name.split(".")[0]
            if top != pkg and top not in ALLOWED[pkg]:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "imports up the layers:\n" + "\n".join(bad)


# Being removed (issue 11 item 5): scheduler.py becomes a thin shim over zwgk/schedule/.
KNOWN_CYCLES = {("scheduler", "zwgk.schedule.service", "scheduler")}


def test_no_import_cycles_between_files() -> None:
    """No two in-house files import each other, directly or round a longer loop."""
    mods = _modules()

    def resolve(name: str) -> str | None:
        while name and name not in mods:      # `from core.parsing import office` names a package
            name = name.rpartition(".")[0]
        return name or None

    graph = {m: {t for n in _in_house_imports(p, typing_only=False) if (t := resolve(n)) and t != m}
             for m, p in mods.items()}
    # a package's __init__ importing its own submodules is not a cycle worth reporting
    for m in graph:
        graph[m] = {t for t in graph[m] if not (t.startswith(m + ".") and mods[m].name == "__init__.py")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(m: str, stack: list[str]) -> None:
        state[m] = 1
        for t in sorted(graph[m]):
            if state.get(t) == 1:
                cycles.append(stack[stack.index(t):] + [t] if t in stack else [m, t])
            elif t not in state:
                visit(t, stack + [t])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    cycles = [c for c in cycles if tuple(c) not in KNOWN_CYCLES]
    assert not cycles, "import cycles:\n" + "\n".join(" → ".join(c) for c in cycles)


# A view derived from a snapshot is cached by ``snap.derived`` only (docs/CONTRACTS.md "A check"):
# a module-level dict keyed by snapshot (or its id) outlives the run and mixes runs up.
_OTHER_CACHES = re.compile(r"WeakKeyDictionary|WeakValueDictionary|\bid\(\s*snap|snap\.__dict__|"
                           r"setattr\(\s*snap|snap\._[a-z_]+\s*=")


@pytest.mark.parametrize("path", sorted([*(ROOT / "checks").glob("*.py"), ROOT / "core" / "snapshot.py"]),
                         ids=lambda p: p.name)
def test_derived_views_have_one_cache(path: Path) -> None:
    hits = [f"{path.name}:{i}: {line.strip()}" for i, line in enumerate(path.read_text("utf-8").splitlines(), 1)
            if _OTHER_CACHES.search(line)]
    assert not hits, f"cache derived views with snap.derived(build, *args): {hits}"
