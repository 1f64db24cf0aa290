"""The foundation: what every stage shares and nothing above it changes.

The results vocabulary (``model``), the store (``store``), the read-only snapshot checks judge
(``snapshot``), scoring, TOML position helpers, labels, the wording lexicon, the Chromium pipe and
the pure page/text understanding in ``parsing/``. ``core`` imports no other in-house package;
``crawler/``, ``checks/`` and ``reports/`` import only ``core`` (``tests/test_layering.py``).
"""
