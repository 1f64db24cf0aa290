"""A night's audit spread over worker processes and machines (issue 19): Celery with Redis.

    zwgk audit --distributed  ──►  run in the store, start task on the broker
    start task                ──►  auditor self-check, one crawl task per site
    crawl task (per site)     ──►  crawl_run(only={site}) into the shared store
    last site crawled         ──►  one judge task per worker's share of sites (checks may read
                                   other sites' pages, so judging waits for every crawl)
    last site judged          ──►  exactly one party scores and writes the reports

Every step is idempotent and resumable: tasks are acknowledged late, so a worker killed mid-site
(SIGKILL, OOM, power) has its task re-delivered and the crawl resumes from the stored frontier;
a per-site lease (``coord.Coordinator``) keeps a re-delivered copy from crawling a site another
worker is still crawling, so no page is stored twice. Without ``--distributed`` nothing here is
imported and the audit runs in one process as before.
"""
