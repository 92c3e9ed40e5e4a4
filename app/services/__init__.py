"""Plain-Python services: each takes a Session (or plain data) and returns plain data. No Qt;
never a commit (the views and the commands own the transaction).

The parts, each a package with its own docstring:

- ``people/``: signing in, roles, accounts, teams and specialists, branch settings, the roster.
- ``customers/``: a customer's 4-sell step, who served them when, the SMS that tells them.
- ``tasks/``: the task queues and their pages.
- ``intake/``: departed agents' customers into the pool, matched to grids; the unmatched queue.
- ``leaving/``: a specialist who leaves: what they leave behind, the hand-over plan.
- ``rebalance/``: plans that move grids between specialists, applied and undone.
- ``visits/``: the weekly visit lists and their routes.
- ``metrics/``: persistency, the funnel and every other figure, with the derived tables.
- ``importer/`` reads files in; ``exports/`` writes the workbooks and PDFs; ``files/`` holds
  the file formats (the one Excel writer, CSV, offline copies).
- ``render/`` (charts, the CJK font) and ``mapping/`` (the map page) draw.
- ``database/``: the unit of work, the SQL both dialects share, PostgreSQL roles and policies.
- ``demo/`` builds the demo branch.
- ``words/``: the words of the files and the map, one catalogue per language (the screens'
  words are Qt's, in resources/i18n).

The kernel every part uses stays at the top: ``messages`` (the message codes and their
templates), ``errors`` (domain errors carrying them), ``changes`` (what a write changed),
``progress`` (a job's state), ``clock`` and ``periods`` (a branch's days and report periods).
"""
