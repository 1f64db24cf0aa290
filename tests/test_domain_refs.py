"""Every domain rule the code cites resolves inside the repository.

Code cites the domain brief as ``docs/DOMAIN.md §N`` (ranges ``§2-§4`` and lists ``§2, §8``) or by a
quoted heading (``docs/DOMAIN.md "严重错误 and personal information"``). docs/DOMAIN.md is the vendored
copy of the rules cited; a citation of a section it does not have, or of a DOMAIN.md outside the
repository, fails here.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOMAIN = ROOT / "docs" / "DOMAIN.md"
# a citation: what precedes DOMAIN.md (must be docs/), then a chain of § numbers and quoted headings
CITATION = re.compile(r'(?P<path>[\w./-]*)DOMAIN\.md(?P<refs>(?:[ ,;]*(?:§\d+(?:\s*[-–]\s*§\d+)?|"[^"]+"))*)')
SECTION = re.compile(r"§(\d+)(?:\s*[-–]\s*§(\d+))?")
QUOTED = re.compile(r'"([^"]+)"')


def _headings() -> tuple[set[int], list[str]]:
    heads = [line[3:].strip() for line in DOMAIN.read_text("utf-8").splitlines() if line.startswith("## ")]
    numbered = {int(m.group(1)) for h in heads if (m := re.match(r"(\d+)\.\s", h))}
    return numbered, heads


def _flat(text: str) -> str:
    """Source text with line breaks (and the comment markers of continued comments) as spaces, so
    a citation wrapped over two lines reads as one."""
    return re.sub(r"\s*\n\s*(?:#\s*)?", " ", text)


def citations(path: Path) -> list[tuple[str, str]]:
    return [(m.group("path"), m.group("refs").strip()) for m in CITATION.finditer(_flat(path.read_text("utf-8")))]


def unresolved(path: Path) -> list[str]:
    numbered, heads = _headings()
    bad = []
    for where, refs in citations(path):
        cited = f"{where}DOMAIN.md {refs}".strip()
        if where != "docs/":
            bad.append(f"{cited}: cite the vendored docs/DOMAIN.md")
            continue
        sections = [(int(a), int(b or a)) for a, b in SECTION.findall(refs)]
        quoted = QUOTED.findall(refs)
        if not sections and not quoted:
            bad.append(f"{cited}: name the section (§N or a quoted heading)")
        for a, b in sections:
            missing = [n for n in range(a, b + 1) if n not in numbered]
            if missing or b < a:
                bad.append(f"{cited}: no section §{missing or [a, b]} in docs/DOMAIN.md")
        for q in quoted:
            if not any(h.startswith(q) for h in heads):
                bad.append(f"{cited}: no heading starting {q!r} in docs/DOMAIN.md")
    return bad


FILES = sorted(p for pkg in ("core", "crawler", "checks", "reports", "zwgk", "tests", "bench")
               for p in (ROOT / pkg).rglob("*.py") if p != Path(__file__).resolve())


@pytest.mark.parametrize("path", FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_domain_citation_resolves_in_the_vendored_rules(path: Path) -> None:
    bad = unresolved(path)
    assert not bad, f"{path.relative_to(ROOT)}:\n" + "\n".join(bad)


def test_the_checks_cite_the_rules_at_all() -> None:
    """The resolver above must be finding citations, or it proves nothing."""
    found = [c for p in FILES for c in citations(p)]
    assert len(found) >= 30
    assert ("docs/", '"严重错误 and personal information"') in found


@pytest.mark.parametrize("text, problem", [
    ("Rule (DOMAIN.md §2)", "cite the vendored"),
    ("Rule (/work/shared/DOMAIN.md §2)", "cite the vendored"),
    ("Rule (docs/DOMAIN.md §12)", "no section"),
    ("Rule (docs/DOMAIN.md §8-§10)", "no section"),
    ('Rule (docs/DOMAIN.md "Personal data")', "no heading"),
    ("Rule (docs/DOMAIN.md: never blame)", "name the section"),
    ("Rules (docs/DOMAIN.md §2, §8, §9;", None),
    ('(docs/DOMAIN.md "严重错误 and personal\n# information")', None),
])
def test_the_resolver_catches_what_does_not_resolve(tmp_path: Path, text: str, problem: str | None) -> None:
    p = tmp_path / "x.py"
    p.write_text(f'"""{text}"""\n', "utf-8")
    bad = unresolved(p)
    assert (problem is None and not bad) or (problem is not None and len(bad) == 1 and problem in bad[0]), bad
