"""Test-only helpers (not shipped in the wheel): snapshots built from page lists for check tests
(``snapshots``), a stored sample run for report tests (``sample``) and the golden-file compare
(``golden``). ``tests/`` is on ``sys.path`` under pytest; benchmarks add it themselves."""
