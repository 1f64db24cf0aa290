"""The scheduler: crontab triggers (``cron``), settings, the persistent job store and its lock
(``jobstore``), the job functions the store names (``jobs``), the running service (``service``) and
the ``zwgk schedule`` command (``cli``). ``scheduler.py`` at the top level is only a shim that
re-exports these for job stores written by earlier releases.
"""
