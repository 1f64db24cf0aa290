"""The one table of Chinese labels for the audit's internal vocabulary.

Checks, the store and the results model speak in short English codes (``connect``, ``department``,
``not_applicable``, ``P12M``); readers are office staff, so every writer and every rendered message
shows these labels instead. ``zh_value`` turns a message parameter that is such a code into its
label (URLs and host names are left alone), so a check may pass the code it has and the report
still reads as Chinese.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

# What a check or a site judged as (core.model.Outcome).
OUTCOME_ZH = {"pass": "通过", "fail": "不通过", "warn": "提示", "not_applicable": "不适用",
              "error": "无法核验", "manual": "需人工核查"}
# Site kinds of sites.toml.
KIND_ZH = {"portal": "门户网站", "department": "部门网站", "street": "街道网站"}
# Finding status against the baseline run (and what a unit may answer in the workbook).
STATUS_ZH = {"new": "新发现", "open": "仍未整改", "fixed": "已整改", "waived": "已报备"}
SEVERITY_ZH = {"fail": "问题", "warn": "提示", "info": "信息"}
# The 级别 column of the 整改清单 (docs: /work/helpers/WORKBOOK.md).
LEVEL_ZH = {"veto": "单项否决", "deduct": "扣分", "hint": "提示", "manual": "需人工核查"}
# Fetch error kinds (docs/CONTRACTS.md, closed set).
ERROR_KIND_ZH = {
    "dns": "域名无法解析", "connect": "无法连接服务器", "timeout": "访问超时", "tls": "HTTPS证书错误",
    "http_status": "HTTP错误状态", "too_many_redirects": "重定向过多", "too_large": "内容过大",
    "blocked": "被网站防火墙拦截", "disallowed": "robots.txt禁止抓取", "refused": "内网地址，未访问",
    "decode": "内容无法解码",
    # not checked — never "broken": the URL or the redirect cannot be requested, or the auditor failed
    "bad_url": "链接地址格式无效，未核查", "bad_redirect": "跳转到无法访问的地址，未核查",
    "internal": "核查程序出错，未核查",
}
# Why a fetch row exists (``fetches.purpose``) and why a link was not read as a page (``extra.why``).
PURPOSE_ZH = {
    "home": "首页", "page": "页面", "link": "仅核对了链接，未读取页面", "attachment": "附件",
    "external": "外部网站", "soft404": "不存在页面测试", "robots": "robots.txt", "ipv6": "IPv6测试",
    "https": "HTTPS测试", "page_cap": "超出抓取页数上限", "depth_cap": "超出抓取层级上限",
    "out_of_column": "不属于本栏目",
}
# DNS answers (``dns.error``).
DNS_ERROR_ZH = {"nxdomain": "域名不存在", "noanswer": "无解析记录", "servfail": "域名服务器故障"}

# Words that reach texts from parsers ("正文所述新收申请数 vs 表三").
WORD_ZH = {"vs": "与"}

_TOKENS: dict[str, str] = {**WORD_ZH, **DNS_ERROR_ZH, **PURPOSE_ZH, **KIND_ZH, **ERROR_KIND_ZH}
_WHOLE_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?")
# URLs, host names and file names: never translated, never counted as leaks (ASCII-only, so a URL
# directly followed by Chinese text ends where the Chinese begins).
_URLISH = re.compile(r"(?:https?|ftp)://[!-~]+|[\w.-]+\.[a-z]{2,}(?::\d+)?(?:/[!-~]*)?", re.I)
_WORD = re.compile(r"(?<![A-Za-z0-9_./:-])(" + "|".join(sorted(map(re.escape, _TOKENS), key=len, reverse=True))
                   + r")(?![A-Za-z0-9_./-])")


def duration_zh(code: str) -> str | None:
    """'P12M' → '12个月', 'P1Y' → '1年', 'P30D' → '30天'; None when ``code`` is not an ISO period."""
    m = _WHOLE_DURATION.fullmatch(code)
    if not m or not any(m.groups()):
        return None
    y, mo, d = m.groups()
    return "".join(f"{n}{unit}" for n, unit in ((y, "年"), (mo, "个月"), (d, "天")) if n)


def zh_text(text: str) -> str:
    """Replace internal codes inside free text with their labels, leaving URLs and host names intact."""
    out, pos = [], 0
    for m in _URLISH.finditer(text):
        out.append(_zh_words(text[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(_zh_words(text[pos:]))
    return "".join(out)


def _zh_words(text: str) -> str:
    return _WORD.sub(lambda m: _TOKENS[m.group(1)], text) if text else text


def zh_value(value: Any, names: Mapping[str, str] | None = None) -> Any:
    """A message parameter as a reader sees it: a site id → the site's name, a code → its label,
    an ISO period → 年/个月/天; any other string has embedded codes replaced (URLs untouched)."""
    if not isinstance(value, str):
        return value
    if names and value in names:
        return names[value]
    if value in _TOKENS:
        return _TOKENS[value]
    if (d := duration_zh(value)) is not None:
        return d
    return zh_text(value)


def label(table: Mapping[str, str], code: Any) -> str:
    """``table[code]``, or the code itself when unknown (never raises in a report)."""
    return table.get(str(code), str(code)) if code is not None else ""


# ASCII words a Chinese office reader meets in official texts too (标准术语); anything else in a
# rendered message is an internal code that leaked (tests/test_messages_render.py).
ASCII_ALLOWED = frozenset({
    "URL", "HTTP", "HTTPS", "IPv4", "IPv6", "AAAA", "A", "NS", "DNS", "TLS", "SSL", "PDF", "DOC", "DOCX",
    "XLS", "XLSX", "WPS", "OFD", "ZIP", "WAF", "JavaScript", "ICP", "CMS", "API", "Cookie",
    "bm",   # 网站标识码 of a department site is literally "bm" + 8 digits
})
# a word, not the tail of a number or a masked value ("4415**********021X" is an ID number)
_ASCII_WORD = re.compile(r"(?<![0-9A-Za-z_*])[A-Za-z][A-Za-z0-9_]*")


def ascii_leaks(text: str) -> list[str]:
    """ASCII words in ``text`` outside URLs, host and file names that are not on ASCII_ALLOWED."""
    bare = _URLISH.sub(" ", text)
    return [w for w in _ASCII_WORD.findall(bare) if w not in ASCII_ALLOWED]
