"""Suite-wide defaults. Evidence screenshots cost ~2 s of headless Chromium each; only the tests
about them take any (tests/test_reports_screenshots.py clears this), so every other audit stays fast."""
import os

os.environ.setdefault("ZWGK_MAX_SCREENSHOTS", "0")

# A real PostgreSQL server for the store tests on both engines (tests/pgserver.py)
from pgserver import pg_server, pg_url, store_target  # noqa: E402, F401
