"""Defaults and choices the command line shows before any heavy module is imported.

``catalog-sync --help`` and every command's ``--help`` must answer at once, so option
declarations read their defaults from here rather than from the modules that use them
(which import pandas, pyarrow, pandera, requests).  The users import these names too.
"""

from __future__ import annotations

from pathlib import Path

#: ``--state``: the SQLite ledger.
DEFAULT_STATE = Path(".catalog-sync") / "state.db"
#: ``--mode`` and ``--blanks``.
MODES = ("upsert", "create", "update", "mirror")
BLANKS = ("keep", "clear")
#: the sides a three-way conflict is settled to (--prefer, job key prefer, a field's prefer in house rules)
PREFER = ("sheet", "remote")
#: ``--engine`` (and the job key ``engine``), the default first: which engine reads and plans a
#: catalog (:mod:`catalog_sync.engine.choose`)
ENGINES = ("auto", "memory", "disk")
#: Limits of what a provider may answer (README "Limits").
DEFAULT_TIMEOUT = 60.0  # seconds for one whole answer (connect, send, headers and body)
DEFAULT_MAX_ANSWER_MB = 128  # decoded (decompressed) size of one answer
DEFAULT_MAX_PAGES = 50_000  # pages of one listing
DEFAULT_MAX_RECORDS = 5_000_000  # records of one listing
DEFAULT_MAX_SKEW = 300.0  # seconds a signed Keevault answer's time may be from this machine's clock
#: ``catalog-sync sandbox --lost-answer-mode``: how a sandbox loses the answer to a write it applied.
LOST_ANSWER_MODES = ("both", "502", "close")
#: What ``--report`` (validate, apply) and ``validate --fix -o`` may write.
REPORT_SUFFIXES = (".csv", ".xlsx", ".json")
#: The page to review (``plan --html``; ``apply --report FILE.html``, which takes the table suffixes too).
PAGE_SUFFIXES = (".html",)
APPLY_REPORT_SUFFIXES = (*REPORT_SUFFIXES, *PAGE_SUFFIXES)
FIXED_SUFFIXES = (".xlsx", ".ods", ".csv")
#: ``--date-format`` (job key ``date_format``): the local ways of writing a date a catalog may be read in
#: (single-digit days and months, ``7/4/2024``, are read under the same pattern).
DATE_FORMATS = ("MM/DD/YYYY", "DD/MM/YYYY", "DD.MM.YYYY", "YYYY/MM/DD")
