"""``zwgk init`` writes a starter that passes validation and never overwrites an office's files."""
from __future__ import annotations

from pathlib import Path

from zwgk.cli import main
from zwgk.config import load_sites
from zwgk.rules import load_rules


def test_init_output_passes_validation(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "核查 配置"
    assert main(["init", str(folder)]) == 0
    cfg = load_sites(folder / "sites.toml")
    assert [s.id for s in cfg.sites] == ["portal", "street1"]
    rules = load_rules(folder / "rules.toml")
    assert len(rules.tasks) == 50
    assert "已写入" in capsys.readouterr().out


def test_init_refuses_to_overwrite_without_force(tmp_path: Path, capsys) -> None:
    (tmp_path / "sites.toml").write_text("# the office's own edits\n", "utf-8")
    assert main(["init", str(tmp_path)]) == 2
    assert (tmp_path / "sites.toml").read_text("utf-8") == "# the office's own edits\n"
    assert not (tmp_path / "rules.toml").exists()      # nothing half-written
    assert "已存在" in capsys.readouterr().err
    assert main(["init", str(tmp_path), "--force"]) == 0
    assert load_sites(tmp_path / "sites.toml").sites
