"""A specialist who leaves (or goes on leave), from first look to hand-over.

- ``impact``: what they leave behind (grids, customers, open tasks, the premium falling due),
  for the supervisor to read before the leaving date.
- ``handover``: a plan that hands every unlocked grid and customer to the others in scope,
  balanced with the rebalancer's optimiser: an ordinary rebalancing plan, applied and undone
  like any other (app.services.rebalance).
- ``left_behind``: what such a plan cannot move (locked grids and customers, customers without
  a grid, tasks of customers who stay), and giving the unlocked ones to one specialist.
"""
