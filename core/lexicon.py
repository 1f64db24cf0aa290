"""The wording lexicon: 错别字, outdated terms, sensitive expressions and the office's leaders. Pure.

Rule (国办秘函〔2019〕19号 检查指标, 单项否决 严重错误; docs/DOMAIN.md "严重错误 and personal information"):
wrong names or titles of leaders and politically wrong expressions are 严重错误. A machine only
proposes candidates (需人工核查); a person confirms before anything is scored.

The bundled ``core/lexicon.toml`` holds common mistakes of government writing; an audit replaces it
with its own file through ``[audit] lexicon = "path"`` in sites.toml (relative to that file) — the
office's list of current leaders lives there. Format::

    [[typo]]                 # 错别字
    wrong = "布署"
    right = "部署"
    [[outdated]]             # 机构改革后的旧称 etc.
    term = "国家工商行政管理总局"
    current = "国家市场监督管理总局"
    note = "2018年机构改革"
    [[sensitive]]            # 不规范/禁用表述
    term = "台湾总统"
    right = "台湾地区领导人"
    [[leader]]               # 现任领导：姓名与职务
    name = "陈志远"
    titles = ["区党工委书记"]
    misspellings = ["陈至远"]   # optional
    [titles]                 # optional: extra title words recognised next to a name
    words = ["党组书记"]
"""
from __future__ import annotations

import hashlib
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.tomlpos import Positions, where

DEFAULT_PATH = Path(__file__).with_name("lexicon.toml")
# title words recognised before or after a leader's name (longest first when matching)
TITLE_WORDS = ("书记", "副书记", "主任", "副主任", "区长", "副区长", "县长", "副县长", "市长", "副市长", "镇长",
               "副镇长", "局长", "副局长", "主席", "副主席", "部长", "副部长", "秘书长", "副秘书长", "常委", "委员",
               "处长", "副处长", "科长", "副科长", "所长", "副所长", "组长", "副组长", "党组书记", "调研员",
               "巡视员", "总经理", "院长", "副院长", "队长", "副队长", "站长", "副站长", "主任委员", "专职副主任")
_KEYS = {"typo": {"wrong", "right", "note"}, "outdated": {"term", "current", "note"},
         "sensitive": {"term", "right", "note"}, "leader": {"name", "titles", "misspellings", "note"}}


class LexiconError(Exception):
    """A lexicon file that cannot be used; the message names file:line."""


@dataclass(frozen=True)
class Term:
    kind: str            # typo | outdated | sensitive
    term: str
    suggestion: str
    note: str = ""


@dataclass(frozen=True)
class Leader:
    name: str
    titles: tuple[str, ...]
    misspellings: tuple[str, ...] = ()


@dataclass
class Lexicon:
    terms: list[Term] = field(default_factory=list)
    leaders: list[Leader] = field(default_factory=list)
    title_words: tuple[str, ...] = TITLE_WORDS
    source: str = ""
    sha: str = ""


def parse_lexicon(text: str, path: str | Path = "lexicon.toml") -> Lexicon:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise LexiconError(f"{path}: TOML 语法错误：{e}") from e
    pos = Positions(text)
    errors: list[str] = []
    lex = Lexicon(source=str(path), sha=hashlib.sha256(text.encode()).hexdigest()[:12])
    for top, val in data.items():
        if top == "titles":
            words = val.get("words", []) if isinstance(val, dict) else None
            if not isinstance(words, list) or not all(isinstance(w, str) and w for w in words):
                errors.append(f"{where(path, pos, 'titles')}: [titles] words 应为字符串列表")
            else:
                lex.title_words = tuple(dict.fromkeys((*TITLE_WORDS, *words)))
            continue
        if top not in _KEYS or not isinstance(val, list):
            errors.append(f"{where(path, pos, top)}: 未知的表 {top!r}（应为 [[typo]]、[[outdated]]、"
                          "[[sensitive]]、[[leader]] 或 [titles]）")
            continue
        for i, entry in enumerate(val):
            bad = set(entry) - _KEYS[top]
            if bad:
                errors.append(f"{where(path, pos, top, i, sorted(bad)[0])}: [[{top}]] #{i + 1}: 未知的键 "
                              f"{sorted(bad)[0]!r}（可用：{', '.join(sorted(_KEYS[top]))}）")
                continue

            def need(key: str, entry: dict[str, Any] = entry, i: int = i, top: str = top) -> str:
                v = entry.get(key)
                if not isinstance(v, str) or not v.strip():
                    errors.append(f"{where(path, pos, top, i, key)}: [[{top}]] #{i + 1}: {key} 应为非空字符串")
                    return ""
                return v.strip()

            note = str(entry.get("note", ""))
            if top == "typo":
                w, r = need("wrong"), need("right")
                if w:
                    lex.terms.append(Term("typo", w, r, note))
            elif top == "outdated":
                t, c = need("term"), need("current")
                if t:
                    lex.terms.append(Term("outdated", t, c, note))
            elif top == "sensitive":
                t = need("term")
                if t:
                    lex.terms.append(Term("sensitive", t, str(entry.get("right", "")), note))
            else:
                name = need("name")
                titles, miss = entry.get("titles"), entry.get("misspellings", [])
                if not isinstance(titles, list) or not titles or not all(isinstance(t, str) and t for t in titles):
                    errors.append(f"{where(path, pos, top, i, 'titles')}: [[leader]] #{i + 1}: titles 应为非空的字符串列表")
                elif not isinstance(miss, list) or not all(isinstance(m, str) and m for m in miss):
                    errors.append(f"{where(path, pos, top, i, 'misspellings')}: [[leader]] #{i + 1}: "
                                  "misspellings 应为字符串列表")
                elif name:
                    lex.leaders.append(Leader(name, tuple(titles), tuple(miss)))
    if errors:
        raise LexiconError("\n".join(errors))
    return lex


_CACHE: dict[tuple[str, float, int], Lexicon] = {}


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """The lexicon at ``path`` (default: the bundled one), cached by path and modification time."""
    p = Path(path) if path else DEFAULT_PATH
    try:
        st = p.stat()
        key = (str(p.resolve()), st.st_mtime, st.st_size)
        if key not in _CACHE:
            _CACHE[key] = parse_lexicon(p.read_text("utf-8"), p)
        return _CACHE[key]
    except OSError as e:
        raise LexiconError(f"{p}: 无法读取词库：{e.strerror or e}") from e
    except UnicodeDecodeError as e:
        raise LexiconError(f"{p}: 不是 UTF-8 编码的文本") from e


# -- matching -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Match:
    kind: str            # typo | outdated | sensitive | leader_title | leader_name
    term: str            # what the page says
    suggestion: str      # what it should probably say
    offset: int
    note: str = ""


_HAN = re.compile(r"[\u4e00-\u9fff]")


def _title_phrase_before(text: str, i: int, limit: int = 14) -> str:
    """The run of Chinese characters right before position ``i`` (a title phrase such as 区党工委书记)."""
    j = i
    while j > 0 and i - j < limit and _HAN.match(text[j - 1]):
        j -= 1
    return text[j:i]


def _longest_suffix(phrase: str, words: tuple[str, ...]) -> str:
    return max((w for w in words if phrase.endswith(w)), key=len, default="")


def _longest_prefix(phrase: str, words: tuple[str, ...]) -> str:
    return max((w for w in words if phrase.startswith(w)), key=len, default="")


# what an organisation name ends with (区党工委, 管委会, 区政府, 财政局 …): the part of a title phrase
# before the title word is compared only when it is an organisation, not "会议由"
ORG_ENDINGS = ("委", "会", "区", "局", "府", "办", "处", "部", "院", "协", "室", "道", "镇", "市", "省", "县",
               "厅", "组", "党", "中心", "所", "站", "队", "署")


def _title_ok(phrase: str, word: str, titles: tuple[str, ...]) -> bool:
    """``phrase`` (Chinese characters before a name, ending in title word ``word``) fits a title."""
    if any(phrase.endswith(t) for t in titles):
        return True
    org = phrase[:-len(word)]
    if org and org.endswith(ORG_ENDINGS):
        return False                        # another organisation's title (市委书记 for 区党工委书记)
    return any(t.endswith(word) for t in titles)


def match_leaders(text: str, lex: Lexicon) -> list[Match]:
    out: list[Match] = []
    names = {ld.name for ld in lex.leaders}
    for ld in lex.leaders:
        expected = "、".join(ld.titles)
        for m in re.finditer(re.escape(ld.name), text):
            phrase = _title_phrase_before(text, m.start())
            word = _longest_suffix(phrase, lex.title_words)
            if word:
                if not _title_ok(phrase, word, ld.titles):
                    shown = phrase[-(len(word) + 8):]
                    out.append(Match("leader_title", f"{shown}{ld.name}", f"{ld.name}：{expected}", m.start()))
                continue
            word = _longest_prefix(text[m.end():m.end() + 6], lex.title_words)
            if word and not any(t.endswith(word) for t in ld.titles):
                out.append(Match("leader_title", f"{ld.name}{word}", f"{ld.name}：{expected}", m.start()))
        for wrong in ld.misspellings:
            for m in re.finditer(re.escape(wrong), text):
                out.append(Match("leader_name", wrong, f"{ld.name}（{expected}）", m.start()))
        # a near-miss of the name right after one of the leader's full titles: 管委会主任林海滔
        for t in ld.titles:
            if len(t) < 3:
                continue
            for m in re.finditer(re.escape(t) + "([\u4e00-\u9fff]{" + str(len(ld.name)) + "})", text):
                cand = m.group(1)
                diff = sum(x != y for x, y in zip(cand, ld.name, strict=True))
                if cand not in names and diff == 1 and cand not in ld.misspellings:
                    out.append(Match("leader_name", f"{t}{cand}", f"{t}{ld.name}", m.start(1)))
    return out


def match_terms(text: str, lex: Lexicon) -> list[Match]:
    out = []
    for t in lex.terms:
        start = 0
        while (i := text.find(t.term, start)) >= 0:
            out.append(Match(t.kind, t.term, t.suggestion, i, t.note))
            start = i + len(t.term)
    return out


def match_text(text: str, lex: Lexicon) -> list[Match]:
    return sorted(match_terms(text, lex) + match_leaders(text, lex), key=lambda m: m.offset)


def _any_of(literals: list[str]) -> re.Pattern[str] | None:
    return re.compile("|".join(map(re.escape, literals))) if literals else None


def holds_literal(lex: Lexicon) -> Callable[[str], bool]:
    """Whether a text holds any literal a match of ``lex`` needs (those :func:`text_matcher` looks for
    first): a document whose whole text holds none has no match on any of its lines, which one search
    of the document tells instead of one per line."""
    patterns = [p for p in (_any_of([t.term for t in lex.terms]),
                            _any_of([w for ld in lex.leaders for w in (ld.name, *ld.misspellings, *ld.titles)]))
                if p is not None]
    return lambda text: any(p.search(text) for p in patterns)


def text_matcher(lex: Lexicon) -> Callable[[str], list[Match]]:
    """:func:`match_text` for ``lex``, with every literal a match needs (the terms; the leaders' names,
    misspellings and full titles) compiled into one pattern per part: a line holding none of them —
    most lines of most pages — is passed after one search instead of a find per term and leader.
    The lexicon must not change while the matcher is used."""
    terms = _any_of([t.term for t in lex.terms])
    leaders = _any_of([w for ld in lex.leaders for w in (ld.name, *ld.misspellings, *ld.titles)])

    def match(text: str) -> list[Match]:
        found = match_terms(text, lex) if terms is not None and terms.search(text) else []
        if leaders is not None and leaders.search(text):
            found = found + match_leaders(text, lex)
        return sorted(found, key=lambda m: m.offset)

    return match
