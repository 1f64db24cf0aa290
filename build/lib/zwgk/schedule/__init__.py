"""The scheduler's parts: crontab triggers, settings, the persistent job store and the service.

``scheduler.py`` (the process entry point and the job functions the job store refers to as
``scheduler:<name>``) re-exports what tests and operators use from here.
"""
