"""Workload rebalancing (DOMAIN.md process 3).

- ``workload``: each specialist's weighted workload and what each grid would take with it.
- ``optimise``: the optimiser (pure: plain items in, moves out), with the LP lower bound;
  ``search`` (tabu search), ``construct`` (greedy, LP rounding, pruning, customer moves) and
  ``state`` (the working assignment) behind it.
- ``make``: a plan made from the database; ``plan``: the plan, its edits and its JSON file.
- ``apply``: applying a plan in one transaction with version checks; ``undo``: undoing it;
  ``changes``: what the two share.
"""
