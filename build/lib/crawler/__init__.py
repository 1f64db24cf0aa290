"""The crawler: the only network I/O of zwgk-audit (docs/CONTRACTS.md)."""
from crawler.run import crawl_run, probe_sites

__all__ = ["crawl_run", "probe_sites"]
