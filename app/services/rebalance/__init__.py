"""Workload rebalancing (DOMAIN.md process 3).

- ``workload``: each specialist's weighted workload and what each grid would take with it.
- ``optimise`` and ``search``: the optimiser (pure: plain items in, moves out).
- ``make``: a plan made from the database; ``plan``: the plan, its edits and its JSON file.
- ``apply``: applying a plan in one transaction with version checks, and undoing it.
"""
