"""The rectification loop (整改闭环): 限期整改 → the unit fixes or explains (报备/说明) → 复核 → 销号.

* ``waivers``   — 报备: justified exceptions (waivers.toml or ``zwgk waive``), recorded with each run;
* ``feedback``  — a unit's returned 整改清单 sheet, validated and stored by fingerprint;
* ``recheck``   — targeted re-check of chosen findings: fetch only what they need, re-judge now;
* ``deadlines`` — 整改时限 (from the reply, else working days per level in rules.toml) and 逾期;
* ``alerts`` / ``alertconfig`` — e-mail and robot webhooks after audits, from alerts.toml;
* ``state``     — what the loop adds to the results model (已报备, replies, 复核, 逾期);
* ``hooks``     — the calls the audit pipeline makes.
"""
