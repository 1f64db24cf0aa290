"""``zwgk init``: a commented starter ``sites.toml`` and an editable copy of the bundled rules.

A new office starts from a file that already passes ``zwgk audit --sites`` validation (a test
loads it), with every key it will want to change commented in Chinese. Existing files are never
overwritten unless asked: they may hold a year of the office's edits.
"""
from __future__ import annotations

from pathlib import Path

from zwgk.config import ConfigError
from zwgk.rules import default_rules_path

STARTER_SITES = '''\
# 核查哪些网站（zwgk audit --sites sites.toml）。每个 [[site]] 是一个网站或一个栏目。
# 修改后可先运行：zwgk audit --sites sites.toml --format json 检查配置（配置有误时退出码为 2，并指出行号）。

[audit]
name = "示例区"                    # 区县名称（报告标题）
timezone = "Asia/Shanghai"
region_code = "441500"            # 行政区划代码前缀（核对网站标识码）
reports_dir = "audit-reports"     # 报告文件夹（相对于本文件）
# lexicon = "lexicon.toml"        # 本地用词表（领导姓名职务、错别字），默认用内置词表

[network]
# nameservers = ["10.0.0.53"]     # 默认使用本机 DNS
allow_private = false             # 仅内网网站设为 true
user_agent = "zwgk-audit/0.1 (+mailto:zwgk@example.gov.cn)"   # 请写上本单位联系邮箱，便于网站管理员放行

[crawl]
max_pages = 500                   # 每个网站最多抓取页面数
concurrency = 16
per_host_concurrency = 4
delay = 0.5                       # 同一主机两次请求间隔（秒）
timeout = 15

[schedule]
audit_cron = "0 2 * * *"          # 每晚 2 点核查
probe_interval_minutes = 60       # 每小时探测可用性

[[site]]                          # 有独立网站的单位
id = "portal"
name = "示例区人民政府门户网站"
url = "https://www.example.gov.cn/"
unit = "区政府办公室"
kind = "portal"                   # portal 门户 | department 部门 | street 乡镇街道

[[site]]                          # 没有独立网站、在门户开设栏目的单位
id = "street1"
name = "示例街道办事处（门户网站栏目）"
url = "https://www.example.gov.cn/jd1/"
unit = "示例街道办事处"
kind = "street"
column_of = "portal"
'''


def write_starter(folder: Path, *, force: bool = False) -> list[Path]:
    """Write ``sites.toml`` and ``rules.toml`` into ``folder``; return the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    targets = {folder / "sites.toml": STARTER_SITES,
               folder / "rules.toml": default_rules_path().read_text("utf-8")}
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        names = "、".join(str(p) for p in existing)
        raise ConfigError(f"{names}：文件已存在，未覆盖（确需覆盖请加 --force）")
    for path, text in targets.items():
        path.write_text(text, "utf-8")
    return list(targets)
