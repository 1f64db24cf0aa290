"""Golden-file helpers: normalise a results model so it is stable across runs and machines.

Volatile values — run ids, timestamps, the generator version, rules hashes, loopback ports —
are replaced with placeholders; everything an inspector would read stays.

    assert_golden(model, Path("tests/golden/x.json"))   # ZWGK_UPDATE_GOLDEN=1 rewrites the file
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

_PORT = re.compile(r"(https?://(?:\[[0-9a-fA-F:]+\]|[^/:\s\"']+)):\d+")
_PROBE_PATH = re.compile(r"zwgk-audit-[0-9a-f]{8,}")   # the crawler's random soft-404 probe path
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})?$")
_VOLATILE_KEYS = {"generator": "<generator>", "rules_hash": "<hash>", "started_at": "<time>",
                  "finished_at": "<time>", "stats": "<stats>",
                  # evidence of a finding: fetch order, body bytes and sizes carry ports and timing
                  "fetch_id": "<fetch>", "body_hash": "<hash>", "size": "<size>", "fetched_at": "<time>"}


def normalise(value: Any, *, run_ids: dict[int, int] | None = None, key: str | None = None) -> Any:
    """A copy of ``value`` with volatile fields masked; run ids renumbered 1, 2, … in order seen."""
    run_ids = {} if run_ids is None else run_ids
    if key in _VOLATILE_KEYS:
        return _VOLATILE_KEYS[key]
    if isinstance(value, dict):
        return {k: normalise(v, run_ids=run_ids, key=k) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise(v, run_ids=run_ids, key=key) for v in value]
    if key in ("run_id", "id") and isinstance(value, int) and key is not None:
        return run_ids.setdefault(value, len(run_ids) + 1)
    if isinstance(value, str):
        if _TIMESTAMP.match(value):
            return value[:10]
        return _PROBE_PATH.sub("zwgk-audit-<random>", _PORT.sub(r"\1:<port>", value))
    return value


def normalise_model(model: dict[str, Any]) -> dict[str, Any]:
    run_ids: dict[int, int] = {}
    for r in sorted({h["run_id"] for hs in model.get("history", {}).values() for h in hs}):
        run_ids.setdefault(r, len(run_ids) + 1)  # number runs chronologically, not by first mention
    out = normalise(model, run_ids=run_ids)
    assert isinstance(out, dict)
    return out


def assert_golden(model: dict[str, Any], path: Path) -> None:
    """Compare the normalised model with a golden JSON file (rewrite it with ZWGK_UPDATE_GOLDEN=1)."""
    text = json.dumps(normalise_model(model), ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    if os.environ.get("ZWGK_UPDATE_GOLDEN") or not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, "utf-8")
        if not os.environ.get("ZWGK_UPDATE_GOLDEN"):
            raise AssertionError(f"{path}: golden file was missing and has been written; check it in")
        return
    expected = path.read_text("utf-8")
    if text != expected:
        import difflib
        diff = "".join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            str(path), "actual", n=2))
        raise AssertionError(f"results differ from {path} (ZWGK_UPDATE_GOLDEN=1 to accept):\n{diff[:6000]}")
