"""Personal data in published text: 居民身份证号, mainland mobile numbers, bank card numbers. Pure.

Rules (docs/DOMAIN.md "严重错误 and personal information"; 《政府信息公开条例》 第十五条, 《个人信息保护法》):
published lists (低保, 补贴, 拆迁, 处罚) must not expose a full 身份证号, phone number or bank account.
A machine only proposes candidates for a person (需人工核查); these detectors aim at precision first,
because every candidate costs a reviewer's time, and the labelled set in
``tests/test_privacy_labelled.py`` measures both precision and recall.

* **身份证号** (GB 11643-1999): 6-digit area code whose first two digits are a province code, an
  8-digit birth date that is a real, past date within 120 years, a 3-digit sequence and the check
  character ``"10X98765432"[Σ dᵢ·wᵢ mod 11]``. No context needed: a valid number is the finding.
* **Mobile** (1[3-9] + 9 digits, also written 3-4-4): reported in a person list (a table whose header
  names people: 姓名, 户主, 申请人 …) or under a personal label (手机, 联系电话 in such a row, 当事人 …);
  an office's own contact line (联系人, 咨询电话, 监督电话 …) in prose is published on purpose.
* **Bank card** (16-19 digits, Luhn, issuer prefix 3/4/5/6/9): needs context — a card/account label
  or column, or a person list — because one random number in ten passes Luhn.

Known false-positive shapes excluded (each has negative examples in the tests): 统一社会信用代码 and
other labelled registry numbers (订单号, 流水号, 编号, 文号, 发票号 …), digit runs that are part of a
longer number or code (letters or digits adjacent), numbers that start with a date (order and serial
numbers), an office's bank account (户名 is an office), and numbers already masked (``4415**********021X``).

Nothing here keeps a full number: a :class:`Hit` carries only the masked number and a masked excerpt.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# -- validators -------------------------------------------------------------------------------

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
# GB/T 2260 province-level codes (first two digits of the area code); 71 台湾, 81 香港, 82 澳门,
# 83 台湾居民居住证.
PROVINCES = frozenset({11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
                       50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83})
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def id_check_char(first17: str) -> str:
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True)) % 11]


def birth_date(number: str) -> date | None:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        return None


def valid_id(number: str, today: date | None = None) -> bool:
    """An 18-character 居民身份证号 with a valid province, birth date and check character."""
    n = number.upper()
    if not re.fullmatch(r"\d{17}[\dX]", n) or int(n[:2]) not in PROVINCES:
        return False
    born = birth_date(n)
    today = today or date.today()
    if born is None or born > today or today.year - born.year > 120:
        return False
    return id_check_char(n[:17]) == n[17]


def valid_id15(number: str, today: date | None = None) -> bool:
    """A first-generation 15-digit number (GB 11643-1989): province, then a YYMMDD birth date in 19xx."""
    if not re.fullmatch(r"\d{15}", number) or int(number[:2]) not in PROVINCES:
        return False
    return valid_id_date("19" + number[6:12], today)


def valid_id_date(yyyymmdd: str, today: date | None = None) -> bool:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        return False
    today = today or date.today()
    return born <= today and today.year - born.year <= 120


def luhn(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def valid_uscc(code: str) -> bool:
    """统一社会信用代码 (GB 32100-2015) check character."""
    c = code.upper()
    if len(c) != 18 or any(ch not in _USCC_CHARS for ch in c):
        return False
    s = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(c[:17], _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - s % 31) % 31] == c[17]


def _starts_with_date(digits: str) -> bool:
    """Order and serial numbers often start with their date (20261127…)."""
    if not digits.startswith(("19", "20")):
        return False
    try:
        date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return False
    return True


# -- masking ------------------------------------------------------------------------------------

def mask_number(number: str) -> str:
    """4415**********021X, 139****1845, 6222***********0123: first 3-4 and last 4 characters kept."""
    n = re.sub(r"[\s-]", "", number)
    keep = 3 if len(n) <= 11 else 4
    return n[:keep] + "*" * (len(n) - keep - 4) + n[-4:]


# ≥ 11 digits, single spaces or dashes allowed between them, an optional X at the end
_LANDLINE = re.compile(r"0\d{2,3}-\d{7,8}")
_LONG_RUN = re.compile(r"\d(?:[ \-]?\d){9,}(?:[ \-]?[\dXx])")


def mask_text(text: str) -> str:
    """Mask every run of ≥ 11 digits in ``text`` (the safety net on every excerpt we show)."""
    def one(m: re.Match[str]) -> str:
        run = m.group(0)
        if _LANDLINE.fullmatch(run):
            return run                      # an office's landline (0660-3388210) is public on purpose
        digits = [i for i, ch in enumerate(run) if ch.isalnum()]
        keep = 3 if len(digits) <= 11 else 4
        hide = set(digits[keep:len(digits) - 4])
        return "".join("*" if i in hide else ch for i, ch in enumerate(run))
    return _LONG_RUN.sub(one, text)


def mask_ids(text: str, today: date | None = None) -> str:
    """Mask only valid 身份证号 (for URLs, which must stay usable: TRS paths hold long digit runs)."""
    return _ID_RE.sub(lambda m: mask_number(m.group(1)) if valid_id(m.group(1), today) else m.group(0), text)


# -- context -----------------------------------------------------------------------------------

# labels of registry and transaction numbers: a number right after one of these is not personal data
REGISTRY_LABELS = ("统一社会信用代码", "社会信用代码", "信用代码", "组织机构代码", "机构代码", "纳税人识别号",
                   "识别号", "税号", "注册号", "登记号", "订单号", "订单编号", "单号", "流水号", "交易号",
                   "交易编号", "编号", "批次号", "合同号", "发票号码", "发票代码", "发票号", "票号", "凭证号",
                   "档案号", "序列号", "证书号", "证书编号", "许可证号", "备案号", "条码", "运单号", "快递单号",
                   "文号", "案号", "项目代码", "项目编号", "工单号", "受理号", "申请号", "宗地号", "不动产单元号")
ID_LABELS = ("身份证", "公民身份号码", "身份号码", "证件号", "证件号码", "身份证号")
PHONE_LABELS = ("手机", "电话", "联系方式", "联系号码", "手机号", "移动电话")
CARD_LABELS = ("银行卡", "卡号", "账号", "帐号", "银行账户", "银行帐户", "账户", "帐户", "存折", "社保卡", "折号",
               "一卡通", "收款账户")
# an office's own contact line, published on purpose
OFFICIAL_CONTACT = ("联系人", "咨询电话", "监督电话", "举报电话", "投诉电话", "办公电话", "服务热线", "热线",
                    "传真", "值班电话", "受理电话", "报名电话", "联系地址", "经办人")
OFFICIAL_HOLDER = re.compile(r"户\s*名[:：]?\s*\S*(?:局|政府|委员会|中心|办事处|财政|公司|管委会|银行|学校|医院|所|站|院)")
PERSON_HEADERS = ("姓名", "户主", "申请人", "领取人", "收款人", "救助对象", "补助对象", "补贴对象", "保障对象",
                  "对象", "家属", "当事人", "被征收人", "权利人", "户名", "持卡人", "监护人", "学生", "老人")
SUBJECT_LABELS = ("当事人", "申请人", "户主", "姓名", "被申请人", "被处罚人", "住址", "家庭住址", "监护人")
STAFF_HEADERS = ("科室", "部门", "职务", "单位名称", "办公室", "岗位")
RECIPIENT_WORDS = ("低保", "最低生活保障", "补贴", "补助", "救助", "抚恤", "慰问", "特困", "五保", "残疾",
                   "名单", "名册", "花名册", "发放", "困难", "征收", "补偿", "优待", "资助", "公示")


@dataclass(frozen=True)
class Line:
    """One line of readable text: a paragraph, or a table row with cells joined by ``" | "``."""

    text: str
    locator: str                      # where a person finds it: "正文第12行", "表格1第3行", "工作表“名单”第5行"
    header: str | None = None         # the header row of the table this row belongs to


CELL_SEP = " | "


@dataclass(frozen=True)
class Hit:
    kind: str            # id | mobile | bank
    masked: str          # the masked number
    excerpt: str         # masked context around it
    locator: str
    offset: int          # character offset in the line
    why: str             # the context that made it a candidate (label, column, person list)


def _label_before(text: str, start: int, labels: tuple[str, ...], window: int = 16) -> tuple[int, str] | None:
    """(distance, label) of the nearest label ending within ``window`` characters before ``start``."""
    before = text[max(0, start - window):start]
    best: tuple[int, str] | None = None
    for lab in labels:
        i = before.rfind(lab)
        if i >= 0:
            dist = len(before) - (i + len(lab))
            if best is None or dist < best[0] or (dist == best[0] and len(lab) > len(best[1])):
                best = (dist, lab)
    return best


def _column_header(line: Line, start: int) -> str:
    """The header cell above the table cell holding ``start`` ("" outside tables)."""
    if not line.header or CELL_SEP not in line.text:
        return ""
    col = line.text[:start].count(CELL_SEP)
    cells = line.header.split(CELL_SEP)
    return cells[col] if col < len(cells) else ""


def _person_table(line: Line) -> bool:
    h = line.header or ""
    return any(w in h for w in PERSON_HEADERS) and not any(w in h for w in STAFF_HEADERS) \
        and not ("联系人" in h and "姓名" not in h)


def _number_char(text: str, i: int) -> bool:
    """``text[i]`` belongs to a number run as :data:`_LONG_RUN` reads it (a digit, an X, or one
    space/dash between digits)."""
    ch = text[i]
    if ch.isdigit() or ch in "Xx":
        return True
    return ch in " -" and 0 < i < len(text) - 1 and text[i - 1].isdigit() and text[i + 1].isdigit()


def masked_window(text: str, a: int, b: int) -> str:
    """``text[a:b]`` masked, widened so that no number is cut in two: a cut run (``6222 0212 3456 |
    7890 123``) would be masked from a different digit on, or fall under 11 digits and not be masked."""
    a, b = max(0, a), min(len(text), b)
    while 0 < a < len(text) and _number_char(text, a - 1) and _number_char(text, a):
        a -= 1
    while 0 < b < len(text) and _number_char(text, b - 1) and _number_char(text, b):
        b += 1
    return ("…" if a else "") + mask_text(text[a:b]) + ("…" if b < len(text) else "")


def _excerpt(text: str, start: int, end: int, width: int = 18) -> str:
    return masked_window(text, start - width, end + width)


def _registry_labelled(text: str, start: int, personal: tuple[str, ...]) -> bool:
    """A registry/transaction label is nearer before the number than any personal label."""
    reg = _label_before(text, start, REGISTRY_LABELS)
    if reg is None:
        return False
    mine = _label_before(text, start, personal)
    return mine is None or mine[0] > reg[0]


_ID_RE = re.compile(r"(?<![0-9A-Za-z*])(\d{17}[\dXx])(?![0-9A-Za-z*])")
_ID15_RE = re.compile(r"(?<![0-9A-Za-z*])(\d{15})(?![0-9A-Za-z*])")
_MOBILE_RE = re.compile(r"(?<![0-9A-Za-z*+])(1[3-9]\d(?:\d{8}|[ \-]\d{4}[ \-]\d{4}))(?![0-9A-Za-z*])")
_CARD_RE = re.compile(r"(?<![0-9A-Za-z*])([3-69]\d{15,18}|[3-69]\d{3}(?:[ \-]\d{4}){3}(?:[ \-]\d{1,3})?)"
                      r"(?![0-9A-Za-z*])")


def detect_line(line: Line, *, recipient_page: bool, today: date | None = None) -> list[Hit]:
    """Candidates in one line. ``recipient_page``: the page/table is about a list of people
    (低保, 补贴, 名单 …) — the typical place for a leak."""
    text = line.text
    hits: list[Hit] = []
    taken: list[tuple[int, int]] = []
    in_person_row = _person_table(line) or (recipient_page and CELL_SEP in text and line.header is not None)
    # a short line on a page about a list of people: a table row whose cells a PDF flattened
    row_like = in_person_row or (recipient_page and len(text) <= 80)

    for m in _ID_RE.finditer(text):
        n = m.group(1)
        if not valid_id(n, today):
            continue
        if _registry_labelled(text, m.start(), ID_LABELS) or \
                any(w in _column_header(line, m.start()) for w in ("信用代码", "机构代码", "编号", "单号")):
            continue
        hits.append(Hit("id", mask_number(n), _excerpt(text, m.start(), m.end()), line.locator, m.start(),
                        "校验位与出生日期有效"))
        taken.append(m.span())

    # first-generation 15-digit numbers (no check character): only under an ID label or column
    for m in _ID15_RE.finditer(text):
        n = m.group(1)
        header = _column_header(line, m.start())
        labelled = any(w in header for w in ID_LABELS) or (
            not header and _label_before(text, m.start(), ID_LABELS, window=12) is not None)
        if not labelled or not valid_id15(n, today):
            continue
        hits.append(Hit("id", mask_number(n), _excerpt(text, m.start(), m.end()), line.locator, m.start(),
                        "15位身份证号（身份证号标签下，出生日期有效）"))
        taken.append(m.span())

    for m in _MOBILE_RE.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        start = m.start()
        if _registry_labelled(text, start, PHONE_LABELS):
            continue
        header = _column_header(line, start)
        if header:
            if not in_person_row or any(w in header for w in ("编号", "单号", "序号")):
                continue
            why = f"名单表格“{header.strip()[:10]}”列"
        else:
            official = _label_before(text, start, OFFICIAL_CONTACT, window=24)
            subject = _label_before(text, start, SUBJECT_LABELS, window=60)
            label = _label_before(text, start, PHONE_LABELS, window=24)
            if official is not None and (subject is None or subject[0] > official[0]):
                continue                       # the office's own contact line
            if subject is None and label is None and not row_like:
                continue
            why = "个人信息标签" if (subject or label) else "名单行"
        hits.append(Hit("mobile", mask_number(m.group(1)), _excerpt(text, m.start(), m.end()), line.locator,
                        start, why))
        taken.append(m.span())

    for m in _CARD_RE.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        digits = re.sub(r"[\s-]", "", m.group(1))
        if not 16 <= len(digits) <= 19 or not luhn(digits) or _starts_with_date(digits):
            continue
        start = m.start()
        if _registry_labelled(text, start, CARD_LABELS):
            continue
        header = _column_header(line, start)
        card_label = _label_before(text, start, CARD_LABELS, window=20)
        if header:
            card_col = any(w in header for w in CARD_LABELS)
            if not (card_col or in_person_row) or any(w in header for w in ("编号", "单号", "代码")):
                continue
            why = f"名单表格“{header.strip()[:10]}”列"
        elif card_label is not None:
            if OFFICIAL_HOLDER.search(text):
                continue                       # an office's own account, published for payments
            why = f"标签“{card_label[1]}”"
        elif row_like:
            why = "名单行"
        else:
            continue
        hits.append(Hit("bank", mask_number(digits), _excerpt(text, m.start(), m.end()), line.locator, start, why))
        taken.append(m.span())
    return sorted(hits, key=lambda h: h.offset)


def is_recipient_context(title: str, text_sample: str) -> bool:
    """The page is about a list of people (低保/补贴 recipients, 名单, 公示 …)."""
    probe = (title or "") + " " + text_sample[:2000]
    return any(w in probe for w in RECIPIENT_WORDS)


def detect(lines: list[Line], *, title: str = "", today: date | None = None) -> list[Hit]:
    """Every candidate in a document's lines (see :func:`detect_line`)."""
    recipient: bool | None = None      # what the page is about: read only once a line holds a number
    out: list[Hit] = []
    for ln in lines:
        if _CANDIDATE.search(ln.text):
            if recipient is None:
                recipient = is_recipient_context(title, " ".join(x.text for x in lines[:60]))
            out.extend(detect_line(ln, recipient_page=recipient, today=today))
    return out


# Every number a detector reports has at least 11 digits, at most one space or dash between two of
# them (ID 18/15, mobile 11 or 3-4-4, card 16-19 or groups of 4): a line without such a run — most
# lines of most pages, dates and short numbers included — cannot hold one, and is passed after one search.
_CANDIDATE = re.compile(r"\d(?:[ \-]?\d){10}")
