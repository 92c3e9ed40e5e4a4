"""HiGHS (``highspy``) as the rebalancer's MILP steps use it, through its public API only.

- :func:`new_highs` gives an instance that prints nothing, not even the banner the wrapper's
  constructor would print, without touching the process's standard output (the solver runs on
  a worker thread in the app and beside a plan written to standard output on the command line).
- :func:`limit_work` limits a run by work (one thread, a fixed seed, a node limit), so plans do
  not depend on the computer's speed; the clock is only a safety net.
- :func:`run` runs a model so that the result does not depend on what HiGHS ran before in the
  same process: a run refused because HiGHS's thread scheduler was set up earlier with another
  thread count is run again on a fresh scheduler. A step that still fails is logged and kept in
  :func:`failures`, which the optimiser reports in its proposal: never silent.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import highspy
import numpy as np

from app.services.rebalance.problem import Problem, plan_ok, stopped_by_clock

log = logging.getLogger(__name__)

_failures: ContextVar[list[str] | None] = ContextVar("highs_failures", default=None)


class _QuietHighs(highspy.Highs):
    """``highspy.Highs`` with its output off before its first call: the wrapper's constructor
    calls :meth:`enableCallbacks`, which would print the banner with the default options."""

    def enableCallbacks(self) -> None:  # noqa: N802 - highspy's name
        self.setOptionValue("output_flag", False)
        super().enableCallbacks()


def new_highs() -> highspy.Highs:
    """Return a HiGHS instance that writes nothing anywhere."""
    return _QuietHighs()


def binary_model(
    cost: np.ndarray,
    col_lower: np.ndarray,
    col_upper: np.ndarray,
    a: Any,
    row_lower: np.ndarray,
    row_upper: np.ndarray,
    *,
    binaries: int,
) -> highspy.HighsLp:
    """Return the model min ``cost``·x with the rows' bounds on ``a`` x (a scipy sparse matrix
    in column form); the first ``binaries`` columns are integers, the others continuous."""
    lp = highspy.HighsLp()
    lp.num_col_ = a.shape[1]
    lp.num_row_ = a.shape[0]
    lp.col_cost_ = cost
    lp.col_lower_ = col_lower
    lp.col_upper_ = col_upper
    lp.row_lower_ = row_lower
    lp.row_upper_ = row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = a.indptr
    lp.a_matrix_.index_ = a.indices
    lp.a_matrix_.value_ = a.data
    lp.integrality_ = [highspy.HighsVarType.kInteger] * binaries + [
        highspy.HighsVarType.kContinuous
    ] * (a.shape[1] - binaries)
    return lp


def limit_work(h: highspy.Highs, *, nodes: int, deadline: float) -> None:
    """Limit a run by work: one thread (its search is then the same every run), seed 0 and at
    most ``nodes`` branch-and-bound nodes; the clock (``deadline``) is only a safety net."""
    h.setOptionValue("threads", 1)
    h.setOptionValue("random_seed", 0)
    h.setOptionValue("mip_max_nodes", max(1, int(nodes)))
    h.setOptionValue("time_limit", max(0.05, deadline - time.perf_counter()))


@contextmanager
def failures() -> Iterator[list[str]]:
    """Collect the solver steps that failed while the block runs (in this thread)."""
    found: list[str] = []
    token = _failures.set(found)
    try:
        yield found
    finally:
        _failures.reset(token)


def run(h: highspy.Highs, step: str) -> bool:
    """Run the model in ``h``; return whether HiGHS ran it (it may still have found nothing).

    HiGHS sets up one thread scheduler per process; a run asking for another thread count
    than the first run is refused ("Not Set"). Such a run is run again on a fresh scheduler.
    A run that fails even so is logged and recorded as a failed ``step``."""
    status = h.run()
    if (
        status == highspy.HighsStatus.kError
        and h.getModelStatus() == highspy.HighsModelStatus.kNotset
    ):
        highspy.Highs.resetGlobalScheduler(True)
        status = h.run()
    if h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit:
        stopped_by_clock(step)
    if status == highspy.HighsStatus.kError:
        model_status = h.modelStatusToString(h.getModelStatus())
        log.warning(
            "HiGHS failed in the %s step (%s); the plan keeps what it had", step, model_status
        )
        found = _failures.get()
        if found is not None:
            found.append(f"{step}: {model_status}")
        return False
    return True


def run_from(
    h: highspy.Highs,
    start: np.ndarray,
    pairs: Sequence[tuple[int, int]],
    assign: Sequence[int],
    problem: Problem,
    max_moves: int | None,
    *,
    step: str,
    check_capacity: bool = True,
) -> list[int] | None:
    """Solve the model in ``h`` from the warm start ``start`` (one column per (grid,
    specialist) pair first) and return the assignment it gives, or None when it found no
    solution, failed (see :func:`run`) or the solution breaks a rule of the plan."""
    solution = highspy.HighsSolution()
    solution.col_value = list(start)
    solution.value_valid = True
    h.setSolution(solution)
    if not run(h, step):
        return None
    if h.getInfo().primal_solution_status == 2 and not _as_reported(h):
        # HiGHS 1.16 may end a run from a starting plan with "optimal", an objective it never
        # reached and the starting plan as its solution (seen with presolve on). Run it again
        # without the starting plan.
        log.warning("HiGHS returned a plan that is not the one it reported in the %s step", step)
        h.clearSolver()
        if not run(h, step):
            return None
    if h.getInfo().primal_solution_status != 2:  # no feasible solution
        return None
    x: Any = h.getSolution().col_value
    found = list(assign)
    for j, (g, s) in enumerate(pairs):
        if x[j] > 0.5:
            found[g] = s
    return found if plan_ok(problem, found, max_moves, check_capacity=check_capacity) else None


def _as_reported(h: highspy.Highs) -> bool:
    """Whether the solution HiGHS returns has the objective it reports."""
    x = np.asarray(h.getSolution().col_value)
    actual = float(np.dot(np.asarray(h.getLp().col_cost_), x))
    reported = h.getInfo().objective_function_value
    return abs(actual - reported) <= 1e-6 * max(1.0, abs(reported))
