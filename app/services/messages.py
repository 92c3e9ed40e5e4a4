"""The message catalogue: every refusal and problem the services report, by code.

A domain error (app.services.errors.DomainError) carries a code of MESSAGES and the parameters
its English template names, never a sentence; a Message is the same pair where a sentence is a
value (a part of another message, a reason kept for later). ``str()`` of either is the English
sentence, which the command line prints. The views word the same code in the user's language
(app.views.errors.error_text): pyside6-lupdate (resources/i18n/build.py) takes the templates
below as source strings of the context "messages", so resources/i18n/griddesk_zh_CN.ts holds
their translations, which keep the template's {placeholders} (a test checks). Nothing matches
English text to find out what went wrong: the code says it.

A parameter is a plain value (a text, or a number the template may format as ``{n:,}``), a
Message (worded in the same language), a list of items ("a, b", in Chinese "a、b"), Clauses
(Messages that are clauses of one sentence: "a; b", in Chinese "a；b"), Alternatives ("a, or
b", in Chinese "a或b") or Lines (one per line).
A parameter named after a table of codes (``role``, ``specialist_status``, ...) holds the code;
the views show its label (app.views.errors.CODED).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from string import Formatter
from typing import Any

_PLACEHOLDER = re.compile(r"%(\d+)")


def arg(text: str, *values: object) -> str:
    """Return ``text`` with Qt's placeholders %1, %2, … filled with ``values``, in one pass.

    As ``QString.arg`` does: a value that itself holds "%2" stays as it is (filling one
    placeholder after another would fill it again), and a placeholder with no value is left."""

    def fill(m: re.Match[str]) -> str:
        i = int(m.group(1)) - 1
        return str(values[i]) if 0 <= i < len(values) else m.group(0)

    return _PLACEHOLDER.sub(fill, text)


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 (the name lupdate looks for)
    """Mark ``text`` for translation under ``context`` and return it as it is.

    The services do not import Qt; pyside6-lupdate finds the templates by this name (see
    resources/i18n/build.py) and the views translate them under "messages"."""
    return text


MESSAGES: dict[str, str] = {
    # What a long job is doing (JobState.report), shown in its progress dialog.
    "progress.drawing_grids": QT_TRANSLATE_NOOP("messages", "Drawing the city's grids"),
    "progress.hiring_teams": QT_TRANSLATE_NOOP("messages", "Hiring the teams"),
    "progress.writing_customers": QT_TRANSLATE_NOOP(
        "messages", "Writing customers, policies and tasks"
    ),
    "progress.deriving_steps": QT_TRANSLATE_NOOP("messages", "Deriving the 4-sell steps"),
    "progress.refreshing_persistency": QT_TRANSLATE_NOOP(
        "messages", "Refreshing the persistency base"
    ),
    "progress.demo_ready": QT_TRANSLATE_NOOP("messages", "Demo branch ready"),
    "progress.reading_workloads": QT_TRANSLATE_NOOP("messages", "Reading workloads"),
    "progress.reading_heavy_grids": QT_TRANSLATE_NOOP(
        "messages", "Reading the customers of the heaviest grids"
    ),
    "progress.looking_for_moves": QT_TRANSLATE_NOOP("messages", "Looking for the best moves"),
    "progress.writing_plan": QT_TRANSLATE_NOOP("messages", "Writing the plan"),
    "progress.weighing_disruption": QT_TRANSLATE_NOOP("messages", "Weighing what the moves break"),
    "progress.plan_ready": QT_TRANSLATE_NOOP("messages", "Plan ready"),
    "progress.choosing_owners": QT_TRANSLATE_NOOP("messages", "Choosing new owners"),
    "progress.handing_over": QT_TRANSLATE_NOOP("messages", "Handing over the other customers"),
    "progress.persistency": QT_TRANSLATE_NOOP("messages", "Persistency"),
    "progress.trend": QT_TRANSLATE_NOOP("messages", "Persistency trend"),
    "progress.funnel": QT_TRANSLATE_NOOP("messages", "4-sell funnel"),
    "progress.activity": QT_TRANSLATE_NOOP("messages", "Activity"),
    "progress.tasks": QT_TRANSLATE_NOOP("messages", "Tasks"),
    "progress.coverage": QT_TRANSLATE_NOOP("messages", "Coverage"),
    "progress.workbook": QT_TRANSLATE_NOOP("messages", "Writing the workbook"),
    "progress.scorecard": QT_TRANSLATE_NOOP("messages", "Scorecard figures"),
    "progress.visit_lists": QT_TRANSLATE_NOOP("messages", "Gathering the visits and their routes"),
    "progress.visit_file": QT_TRANSLATE_NOOP("messages", "Writing the visit lists"),
    "progress.rows_read": QT_TRANSLATE_NOOP("messages", "{rows:,} rows read"),
    "progress.rows_imported": QT_TRANSLATE_NOOP("messages", "{rows:,} rows imported"),
    "progress.copying_table": QT_TRANSLATE_NOOP("messages", "Copying {table}"),
    "progress.writing_sheet": QT_TRANSLATE_NOOP("messages", "Writing {sheet}"),
    # Parts of messages: who, what, where, since when, what to do.
    "who.person": QT_TRANSLATE_NOOP("messages", "{name} ({employee_no})"),
    "who.nobody": QT_TRANSLATE_NOOP("messages", "nobody"),
    "noun.grid": QT_TRANSLATE_NOOP("messages", "grid"),
    "noun.customer": QT_TRANSLATE_NOOP("messages", "customer"),
    "noun.customer_rows": QT_TRANSLATE_NOOP("messages", "customer rows"),
    "noun.task_rows": QT_TRANSLATE_NOOP("messages", "task rows"),
    "noun.rebalance": QT_TRANSLATE_NOOP("messages", "rebalance"),
    "noun.import": QT_TRANSLATE_NOOP("messages", "import"),
    "noun.intake": QT_TRANSLATE_NOOP("messages", "intake"),
    "noun.task": QT_TRANSLATE_NOOP("messages", "task"),
    "named.specialist": QT_TRANSLATE_NOOP("messages", "specialist {specialist}"),
    "named.grid": QT_TRANSLATE_NOOP("messages", "grid {grid}"),
    "named.scenario": QT_TRANSLATE_NOOP("messages", 'scenario "{name}"'),
    "since.plan": QT_TRANSLATE_NOOP("messages", "since this plan was made"),
    "since.rebalance": QT_TRANSLATE_NOOP("messages", "after that rebalance"),
    "since.import": QT_TRANSLATE_NOOP("messages", "since that import"),
    "since.intake": QT_TRANSLATE_NOOP("messages", "since that intake"),
    "when.today": QT_TRANSLATE_NOOP("messages", "at {time}"),
    "when.day": QT_TRANSLATE_NOOP("messages", "on {day} at {time}"),
    "where.plan": QT_TRANSLATE_NOOP("messages", "plan"),
    "where.specialist": QT_TRANSLATE_NOOP("messages", "specialist {n}"),
    "where.move": QT_TRANSLATE_NOOP("messages", "move {n}"),
    "wanted.object": QT_TRANSLATE_NOOP("messages", "an object"),
    "wanted.list": QT_TRANSLATE_NOOP("messages", "a list"),
    "wanted.text": QT_TRANSLATE_NOOP("messages", "a non-empty text"),
    "wanted.whole_number": QT_TRANSLATE_NOOP("messages", "a whole number"),
    "wanted.number": QT_TRANSLATE_NOOP("messages", "a number"),
    "target.sms": QT_TRANSLATE_NOOP("messages", "the sms target"),
    "target.contact": QT_TRANSLATE_NOOP("messages", "the contact target"),
    "target.service": QT_TRANSLATE_NOOP("messages", "the service target"),
    "standard.renewal": QT_TRANSLATE_NOOP("messages", "the renewal standard"),
    "standard.persistency": QT_TRANSLATE_NOOP("messages", "the persistency standard"),
    "standard.tasks": QT_TRANSLATE_NOOP("messages", "the tasks standard"),
    "standard.contact": QT_TRANSLATE_NOOP("messages", "the contact standard"),
    "advice.new_proposal": QT_TRANSLATE_NOOP("messages", "Make a new proposal."),
    "advice.undo_whole": QT_TRANSLATE_NOOP("messages", "It can no longer be undone as a whole."),
    "advice.intake_undo_whole": QT_TRANSLATE_NOOP(
        "messages", "The intake can no longer be undone as a whole."
    ),
    "advice.import_undo_whole": QT_TRANSLATE_NOOP(
        "messages", "The import can no longer be undone as a whole."
    ),
    # Someone else changed the data a change relies on (StaleData), or the change reaches outside
    # the user's teams.
    "stale.status_changed": QT_TRANSLATE_NOOP("messages", "{name}'s status was changed {since}"),
    "stale.now_with": QT_TRANSLATE_NOOP(
        "messages", "{what} {label} is now with {holder}, a change made {since}"
    ),
    "stale.reassigned": QT_TRANSLATE_NOOP(
        "messages", "{what} {label} was reassigned to {holder} by {actor} {when} {since}"
    ),
    "stale.changes": QT_TRANSLATE_NOOP("messages", "{changes}. {advice}"),
    "stale.changes_more": QT_TRANSLATE_NOOP(
        "messages", "{changes}; and {more} more change(s). {advice}"
    ),
    "stale.changed_while_saving": QT_TRANSLATE_NOOP(
        "messages", "{what} was changed by someone else while saving; nothing was saved"
    ),
    "stale.rows_changed_while_saving": QT_TRANSLATE_NOOP(
        "messages", "{rows} were changed by someone else while saving; nothing was saved"
    ),
    "stale.specialist_gone": QT_TRANSLATE_NOOP(
        "messages", "specialist {specialist} no longer exists"
    ),
    "stale.not_active": QT_TRANSLATE_NOOP(
        "messages", "{who} is no longer active ({specialist_status})"
    ),
    "stale.grid_gone": QT_TRANSLATE_NOOP("messages", "grid {grid} no longer exists"),
    "stale.grid_locked": QT_TRANSLATE_NOOP("messages", "grid {grid} was locked {since}"),
    "stale.grid_retired": QT_TRANSLATE_NOOP("messages", "grid {grid} was retired {since}"),
    "stale.customer_gone": QT_TRANSLATE_NOOP("messages", "customer {customer} no longer exists"),
    "stale.customer_moved_grid": QT_TRANSLATE_NOOP(
        "messages", "customer {customer} was moved to another grid {since}"
    ),
    "stale.customer_locked": QT_TRANSLATE_NOOP(
        "messages", "customer {customer} was locked {since}"
    ),
    "stale.customer_kept_by_step": QT_TRANSLATE_NOOP(
        "messages",
        "customer {customer} reached 4-sell step {step}, which this plan keeps in place, {since}",
    ),
    "stale.grid_joined_one": QT_TRANSLATE_NOOP(
        "messages",
        "grid {grid} has {n} customer who joined it {since}: undone, they "
        "would stay apart from the grid's owner",
    ),
    "stale.grid_joined": QT_TRANSLATE_NOOP(
        "messages",
        "grid {grid} has {n} customers who joined it {since}: undone, they "
        "would stay apart from the grid's owner",
    ),
    "stale.changed_hands": QT_TRANSLATE_NOOP("messages", "{what} {label} changed hands {since}"),
    "change.outside_teams": QT_TRANSLATE_NOOP(
        "messages",
        "this change touches {people}, outside your teams; only a senior "
        "supervisor of the branch may make it",
    ),
    "change.outside_teams_more": QT_TRANSLATE_NOOP(
        "messages",
        "this change touches {people} and {more} more, outside your "
        "teams; only a senior supervisor of the branch may make it",
    ),
    # Rows that do not exist (any more).
    "specialist.not_found": QT_TRANSLATE_NOOP("messages", "specialist {specialist} does not exist"),
    "customer.not_found": QT_TRANSLATE_NOOP("messages", "customer {customer} does not exist"),
    "grid.not_found": QT_TRANSLATE_NOOP("messages", "grid {grid} does not exist"),
    "branch.not_found": QT_TRANSLATE_NOOP("messages", "branch {branch} does not exist"),
    "branch.bad_code": QT_TRANSLATE_NOOP(
        "messages", "a branch code has 1 to {maximum} characters and no spaces"
    ),
    "branch.bad_name": QT_TRANSLATE_NOOP("messages", "a branch name has 1 to {maximum} characters"),
    "branch.exists": QT_TRANSLATE_NOOP("messages", "this database already holds a branch"),
    # Making, editing and applying a rebalancing plan; hand-overs.
    "plan.no_moves": QT_TRANSLATE_NOOP("messages", "the plan has no moves to apply"),
    "plan.handover_moves_nothing": QT_TRANSLATE_NOOP(
        "messages", "the hand-over moves nothing of the specialist who leaves"
    ),
    "plan.other_branch_apply": QT_TRANSLATE_NOOP(
        "messages",
        "the plan was made for branch {branch}, not yours; only its own supervisors may apply it",
    ),
    "plan.branch_not_here": QT_TRANSLATE_NOOP(
        "messages", "the plan was made for branch {branch}, which is not in this database"
    ),
    "plan.other_database_specialists": QT_TRANSLATE_NOOP(
        "messages", "the plan was made on another database (specialist ids differ)"
    ),
    "plan.other_database_grids": QT_TRANSLATE_NOOP(
        "messages", "the plan was made on another database (grid ids differ)"
    ),
    "plan.crosses_teams": QT_TRANSLATE_NOOP(
        "messages",
        "moving {grid} from {source} to {target} crosses teams; only a senior "
        "supervisor may do that",
    ),
    "plan.same_grid_twice": QT_TRANSLATE_NOOP("messages", "the plan moves the same grid twice"),
    "plan.customer_twice": QT_TRANSLATE_NOOP(
        "messages", "customer {customer} is moved on their own and with grid {grid}"
    ),
    "plan.keep_step": QT_TRANSLATE_NOOP(
        "messages", "keep customers from a 4-sell step 1 to 4, not {step}"
    ),
    "plan.not_covered": QT_TRANSLATE_NOOP(
        "messages", "{specialist} is not one of the specialists this plan covers"
    ),
    "plan.excluded": QT_TRANSLATE_NOOP("messages", "{specialist} may not take work in this plan"),
    "plan.grid_outside": QT_TRANSLATE_NOOP("messages", "grid {grid} is outside this plan's scope"),
    "plan.grid_locked": QT_TRANSLATE_NOOP(
        "messages", "grid {grid} is locked: it stays with its owner"
    ),
    "plan.giving_crosses_teams": QT_TRANSLATE_NOOP(
        "messages",
        "giving {grid} from {source} to {target} crosses teams; only a "
        "senior supervisor may do that",
    ),
    "plan.same_target": QT_TRANSLATE_NOOP(
        "messages", "move {move} already comes from {specialist}"
    ),
    "handover.nobody_to_take_over": QT_TRANSLATE_NOOP(
        "messages", "there is no other active specialist in scope to take over from {leaver}"
    ),
    "handover.to_leaver": QT_TRANSLATE_NOOP(
        "messages", "{leaver} is the one leaving; their customers go to someone else"
    ),
    "handover.not_in_scope": QT_TRANSLATE_NOOP(
        "messages", "{specialist} is not an active specialist in scope"
    ),
    "handover.crosses_teams": QT_TRANSLATE_NOOP(
        "messages",
        "giving {leaver}'s customers to {target} crosses teams; only a "
        "senior supervisor may do that",
    ),
    "handover.nothing_left_behind": QT_TRANSLATE_NOOP(
        "messages", "the hand-over leaves behind no customer of {leaver}"
    ),
    # Undoing a change.
    "undo.undone_meanwhile": QT_TRANSLATE_NOOP(
        "messages", "{what} {batch} was undone by someone else meanwhile"
    ),
    "undo.nothing": QT_TRANSLATE_NOOP("messages", "there is no rebalance to undo"),
    "undo.already_undone": QT_TRANSLATE_NOOP("messages", "change batch {batch} was already undone"),
    "undo.other_branch": QT_TRANSLATE_NOOP(
        "messages", "change batch {batch} belongs to another branch"
    ),
    "undo.not_undoable": QT_TRANSLATE_NOOP(
        "messages", "change batch {batch} is not one that can be undone"
    ),
    # Scenarios kept for later, and plans scheduled for a later day.
    "scenario.name_empty": QT_TRANSLATE_NOOP("messages", "give the scenario a name"),
    "scenario.name_too_long": QT_TRANSLATE_NOOP(
        "messages", "a scenario's name has at most {maximum} characters"
    ),
    "scenario.other_branch": QT_TRANSLATE_NOOP(
        "messages", "the plan was made for branch {branch}, not yours"
    ),
    "scenario.other_database_teams": QT_TRANSLATE_NOOP(
        "messages", "the plan was made on another database (its teams are not here)"
    ),
    "scenario.own_team_only": QT_TRANSLATE_NOOP(
        "messages",
        "a supervisor keeps scenarios of their own team only: propose for "
        "one of your teams, then keep it",
    ),
    "scenario.name_taken": QT_TRANSLATE_NOOP(
        "messages", 'a scenario named "{name}" exists already: choose another name'
    ),
    "scenario.compare_with_today_twice": QT_TRANSLATE_NOOP(
        "messages", "compare a scenario with another one, or with today"
    ),
    "scenario.not_found": QT_TRANSLATE_NOOP(
        "messages", 'there is no scenario named "{name}" you may see'
    ),
    "scenario.unreadable": QT_TRANSLATE_NOOP(
        "messages", 'scenario "{name}": its plan cannot be read'
    ),
    "scheduled.not_in_future": QT_TRANSLATE_NOOP(
        "messages", "{day} is not after today ({today}): apply the plan now instead"
    ),
    "scheduled.not_waiting": QT_TRANSLATE_NOOP(
        "messages", "scheduled plan {plan} is {plan_status} already: nothing to cancel"
    ),
    "scheduled.overlap": QT_TRANSLATE_NOOP(
        "messages",
        "scheduled plan {plan} (from {day}) moves some of the same grids or "
        "customers: cancel it first, or take them out of this plan",
    ),
    "scheduled.not_found": QT_TRANSLATE_NOOP(
        "messages", "there is no scheduled plan {plan} you may see"
    ),
    # Reading a plan file (or a plan kept in the database).
    "planfile.missing": QT_TRANSLATE_NOOP("messages", "{file}: no such plan file"),
    "planfile.not_text": QT_TRANSLATE_NOOP(
        "messages", "{file}: not a text file (a plan is UTF-8 JSON)"
    ),
    "planfile.not_json": QT_TRANSLATE_NOOP(
        "messages", "{file}: not valid JSON (line {line}, column {column}: {problem})"
    ),
    "planfile.not_a_plan": QT_TRANSLATE_NOOP(
        "messages", '{source}: not a GridDesk rebalancing plan (no "format": "{format}")'
    ),
    "planfile.version": QT_TRANSLATE_NOOP(
        "messages",
        "{source}: plan format version {version} is not supported (this "
        "GridDesk reads version {supported})",
    ),
    "planfile.scope": QT_TRANSLATE_NOOP(
        "messages", '{source}: "scope" must be "branch" or {{"teams": [...]}}'
    ),
    "planfile.kind": QT_TRANSLATE_NOOP(
        "messages", '{source}: {where}: "kind" must be "grid" or "customer", not {kind}'
    ),
    "planfile.unknown_specialist": QT_TRANSLATE_NOOP(
        "messages", "{source}: {where}: specialist {specialist} is not in the plan's list"
    ),
    "planfile.same_person": QT_TRANSLATE_NOOP(
        "messages", "{source}: {where}: moves from {specialist} to the same person"
    ),
    "planfile.grid_customers": QT_TRANSLATE_NOOP(
        "messages", '{source}: "grid_customers" of grid {grid} must be a list of ids'
    ),
    "planfile.grid_no_version": QT_TRANSLATE_NOOP(
        "messages", "{source}: {where}: grid {grid} has no base version"
    ),
    "planfile.customer_no_version": QT_TRANSLATE_NOOP(
        "messages", "{source}: {where}: customer {customer} has no base version"
    ),
    "planfile.bad_date": QT_TRANSLATE_NOOP(
        "messages", "{source}: a date in the plan cannot be read ({problem})"
    ),
    "planfile.max_moves": QT_TRANSLATE_NOOP(
        "messages", '{source}: "max_moves" must be a whole number or null'
    ),
    "planfile.max_distance": QT_TRANSLATE_NOOP(
        "messages", '{source}: "max_distance_km" must be a number or null'
    ),
    "planfile.keep_step": QT_TRANSLATE_NOOP(
        "messages", '{source}: "keep_from_step" must be a 4-sell step from 1 to 4, or null'
    ),
    "planfile.move_costs": QT_TRANSLATE_NOOP(
        "messages",
        '{source}: "move_costs" must give "by_step" (five numbers), '
        '"recent_days" and "recent_factor"',
    ),
    "planfile.wrong_type": QT_TRANSLATE_NOOP(
        "messages", '{source}: {where}: "{key}" must be {wanted}'
    ),
    "planfile.not_object": QT_TRANSLATE_NOOP("messages", "{source}: {where} must be an object"),
    "planfile.key_missing": QT_TRANSLATE_NOOP("messages", '{source}: {where}: "{key}" is missing'),
    "planfile.key_not_id": QT_TRANSLATE_NOOP(
        "messages", '{source}: {where}: key "{key}" is not an id'
    ),
    "planfile.version_not_number": QT_TRANSLATE_NOOP(
        "messages", "{source}: {where}.{key}: the version of {id} is not a number"
    ),
    # Intake, addresses matching no grid (and their rules), addresses outside coverage.
    "intake.senior_only": QT_TRANSLATE_NOOP("messages", "only a senior supervisor runs an intake"),
    "intake.senior_only_undo": QT_TRANSLATE_NOOP(
        "messages", "only a senior supervisor undoes an intake, as only they run one"
    ),
    "intake.no_agent": QT_TRANSLATE_NOOP("messages", "no departed agent with code '{agent}'"),
    "intake.put_in_grid_meanwhile": QT_TRANSLATE_NOOP(
        "messages", "customer {customer} was put in a grid meanwhile; reload the queue"
    ),
    "unmatched.senior_only": QT_TRANSLATE_NOOP(
        "messages", "only a senior supervisor files unmatched addresses"
    ),
    "unmatched.grid_other_branch": QT_TRANSLATE_NOOP(
        "messages", "grid {grid} belongs to another branch"
    ),
    "unmatched.grid_retired": QT_TRANSLATE_NOOP("messages", "grid {grid} is retired"),
    "unmatched.customer_or_grid_gone": QT_TRANSLATE_NOOP(
        "messages", "customer {customer} or grid {grid} does not exist"
    ),
    "rule.too_short": QT_TRANSLATE_NOOP(
        "messages", "the rule '{rule}' is too short: give at least {minimum} characters"
    ),
    "rule.not_in_address": QT_TRANSLATE_NOOP(
        "messages",
        "the rule '{rule}' does not occur in the customer's address as "
        "matching reads it (without spaces, punctuation and the province and city)",
    ),
    "rule.other_district": QT_TRANSLATE_NOOP(
        "messages",
        "grid {grid} lies in {grid_district} and the address in {district}: "
        "a rule may only send addresses to a grid of their own district",
    ),
    "rule.community_missing": QT_TRANSLATE_NOOP(
        "messages",
        "the rule must contain the address's community '{community}': "
        "'{rule}' would send other communities' addresses to grid {grid} too",
    ),
    "rule.other_districts": QT_TRANSLATE_NOOP(
        "messages", "the rule '{rule}' would also send addresses in {places} to grid {grid}"
    ),
    "rule.other_communities": QT_TRANSLATE_NOOP(
        "messages", "the rule '{rule}' would also send addresses of {places} to grid {grid}"
    ),
    "rule.taken": QT_TRANSLATE_NOOP(
        "messages", "the rule '{rule}' already sends addresses to grid {grid}"
    ),
    "coverage.reason": QT_TRANSLATE_NOOP(
        "messages", "choose why the address is outside coverage: one of {choices}"
    ),
    "coverage.note_needed": QT_TRANSLATE_NOOP(
        "messages", "say in the note why the address is outside coverage"
    ),
    "coverage.note_too_long": QT_TRANSLATE_NOOP(
        "messages", "the note is too long: at most {maximum} characters"
    ),
    "coverage.not_in_pool": QT_TRANSLATE_NOOP(
        "messages", "customer {customer} is not in the pool; reload the queue"
    ),
    "coverage.marked_already": QT_TRANSLATE_NOOP(
        "messages", "customer {customer} is marked outside coverage already; reload the queue"
    ),
    "coverage.not_marked": QT_TRANSLATE_NOOP(
        "messages", "customer {customer} is not marked outside coverage (any more); reload the list"
    ),
    "coverage.senior_only_mark": QT_TRANSLATE_NOOP(
        "messages", "only a senior supervisor marks addresses outside coverage"
    ),
    "coverage.senior_only_restore": QT_TRANSLATE_NOOP(
        "messages", "only a senior supervisor puts addresses back in the unmatched queue"
    ),
    "coverage.none_chosen": QT_TRANSLATE_NOOP("messages", "no customer chosen"),
    "coverage.customers_gone": QT_TRANSLATE_NOOP(
        "messages", "customers {customers} do not exist; nothing was changed"
    ),
    # Imports: where a problem is, and the problems of a file as a whole (a file's name comes before
    # those of file.*); the SMS gateway's result file.
    "import.senior_only_undo": QT_TRANSLATE_NOOP(
        "messages", "only a senior supervisor undoes an imported history, as only they import"
    ),
    "import.failed": QT_TRANSLATE_NOOP(
        "messages", "{file} was not imported, nothing was changed:\n{problems}"
    ),
    "import.the_file": QT_TRANSLATE_NOOP("messages", "the file"),
    "import.problem": QT_TRANSLATE_NOOP("messages", "{where}: {message}"),
    "import.at_row": QT_TRANSLATE_NOOP("messages", "row {row}"),
    "import.at_feature": QT_TRANSLATE_NOOP("messages", "feature {row}"),
    "import.at_column": QT_TRANSLATE_NOOP("messages", "column {column}"),
    "import.more_one": QT_TRANSLATE_NOOP("messages", "… and {n} more problem"),
    "import.more": QT_TRANSLATE_NOOP("messages", "… and {n} more problems"),
    "import.stopped": QT_TRANSLATE_NOOP("messages", "(checking stopped after {n} problems)"),
    "import.unknown_kind": QT_TRANSLATE_NOOP(
        "messages", "unknown kind '{kind}': choose one of {choices}"
    ),
    "import.branch_needed": QT_TRANSLATE_NOOP(
        "messages",
        "this database holds several branches: say which one to import into (--branch CODE)",
    ),
    "import.column_missing_one": QT_TRANSLATE_NOOP(
        "messages",
        "required column missing: write {names} in the header row (headers found: {headers})",
    ),
    "import.column_missing": QT_TRANSLATE_NOOP(
        "messages",
        "required column missing: write {names}, in the header row (headers found: {headers})",
    ),
    "import.column_names": QT_TRANSLATE_NOOP("messages", "{name} or {zh}"),
    "import.no_headers": QT_TRANSLATE_NOOP("messages", "none"),
    "file.encoding": QT_TRANSLATE_NOOP("messages", "is neither UTF-8 nor GBK/GB18030 text"),
    "file.missing": QT_TRANSLATE_NOOP("messages", "does not exist"),
    "file.folder": QT_TRANSLATE_NOOP("messages", "is a folder, not a file"),
    "file.cannot_open": QT_TRANSLATE_NOOP("messages", "cannot be opened ({problem})"),
    "file.empty": QT_TRANSLATE_NOOP("messages", "is empty"),
    "file.bad_xlsx": QT_TRANSLATE_NOOP(
        "messages", "is not a valid .xlsx workbook (save it again from Excel as .xlsx)"
    ),
    "file.xls": QT_TRANSLATE_NOOP(
        "messages", "is an old .xls workbook: save it from Excel as .xlsx or .csv"
    ),
    "file.not_table": QT_TRANSLATE_NOOP("messages", "is not a text (CSV) or Excel (.xlsx) file"),
    "file.mixed_encoding": QT_TRANSLATE_NOOP(
        "messages",
        "has bytes that are not {encoding} text after row {row}: save the "
        "whole file in one encoding (UTF-8 or GBK)",
    ),
    "file.bad_csv": QT_TRANSLATE_NOOP("messages", "is not well-formed CSV at row {row}: {problem}"),
    "file.unreadable_xlsx": QT_TRANSLATE_NOOP(
        "messages", "is not a readable .xlsx workbook ({problem})"
    ),
    "file.part_too_large": QT_TRANSLATE_NOOP(
        "messages",
        "is too large to read: its part {part} would unpack to {mb} MB, and "
        "at most {maximum} MB is read from a workbook; save it as CSV instead",
    ),
    "file.sheet_too_large": QT_TRANSLATE_NOOP(
        "messages",
        "is too large to read: sheet '{sheet}' claims {rows:,} rows × "
        "{columns:,} columns, and at most {maximum:,} cells are read from a workbook; save it as "
        "CSV instead",
    ),
    "file.row_beyond": QT_TRANSLATE_NOOP(
        "messages", "has a row {row:,}, beyond row {last:,}, the last Excel has"
    ),
    "file.too_many_cells": QT_TRANSLATE_NOOP(
        "messages",
        "is too large to read: more than {maximum:,} cells by row {row:,}; save it as CSV instead",
    ),
    "file.no_sheets": QT_TRANSLATE_NOOP("messages", "is a workbook without sheets"),
    "geojson.not_text": QT_TRANSLATE_NOOP("messages", "is not a GeoJSON text file (UTF-8)"),
    "geojson.invalid": QT_TRANSLATE_NOOP(
        "messages", "is not valid GeoJSON: {problem} at line {line}, column {column}"
    ),
    "geojson.not_collection": QT_TRANSLATE_NOOP("messages", "is not a GeoJSON FeatureCollection"),
    "geojson.no_features": QT_TRANSLATE_NOOP("messages", "has no list of features"),
    "outbox.failed": QT_TRANSLATE_NOOP("messages", "{problem}"),
    "outbox.failed_more": QT_TRANSLATE_NOOP("messages", "{problem} (and {more} more problems)"),
    "outbox.unreadable": QT_TRANSLATE_NOOP("messages", "the file could not be read"),
    "outbox.encoding": QT_TRANSLATE_NOOP("messages", "the file is neither UTF-8 nor GBK text"),
    "outbox.empty": QT_TRANSLATE_NOOP("messages", "the file is empty"),
    "outbox.column_missing": QT_TRANSLATE_NOOP(
        "messages", "this column is missing (the header row names it)"
    ),
    # Reassigning tasks.
    "tasks.role": QT_TRANSLATE_NOOP("messages", "your role may not reassign tasks"),
    "tasks.target_other_branch": QT_TRANSLATE_NOOP("messages", "{name} works in another branch"),
    "tasks.target_not_active": QT_TRANSLATE_NOOP("messages", "{who} is not active"),
    "tasks.target_other_team": QT_TRANSLATE_NOOP("messages", "{name} is not in your team"),
    "tasks.gone": QT_TRANSLATE_NOOP("messages", "{n} of the selected tasks no longer exist"),
    "tasks.other_branch": QT_TRANSLATE_NOOP("messages", "tasks of another branch: {tasks}"),
    "tasks.changed": QT_TRANSLATE_NOOP(
        "messages",
        "{n} task(s) were changed by someone else since you loaded them ({tasks}); "
        "reload and try again",
    ),
    "tasks.changed_more": QT_TRANSLATE_NOOP(
        "messages",
        "{n} task(s) were changed by someone else since you loaded them "
        "({tasks}…); reload and try again",
    ),
    "tasks.closed": QT_TRANSLATE_NOOP(
        "messages", "only open tasks can be reassigned; closed: {tasks}"
    ),
    "tasks.outside_team": QT_TRANSLATE_NOOP("messages", "tasks outside your team: {tasks}"),
    # Opening a database; signing in; database roles.
    "dburl.unreadable": QT_TRANSLATE_NOOP(
        "messages",
        "'{url}' is not a database URL. Use sqlite:///path/to/file.db or "
        "postgresql://user:password@host:5432/dbname.",
    ),
    "dburl.unsupported": QT_TRANSLATE_NOOP(
        "messages", "database '{backend}' is not supported: GridDesk runs on SQLite or PostgreSQL."
    ),
    "dburl.no_file": QT_TRANSLATE_NOOP("messages", "{path} does not exist"),
    "dburl.no_driver": QT_TRANSLATE_NOOP("messages", "{problem}"),
    "open.missing": QT_TRANSLATE_NOOP(
        "messages", "no database at {path}: create one with 'griddesk init'"
    ),
    "open.foreign": QT_TRANSLATE_NOOP(
        "messages", "{path} is not a GridDesk database; GridDesk leaves it alone"
    ),
    "open.snapshot": QT_TRANSLATE_NOOP(
        "messages",
        "{label} is an offline copy, which is read-only: make the change in the branch's database",
    ),
    "open.no_schema": QT_TRANSLATE_NOOP(
        "messages", "{label} has no GridDesk schema yet: run 'griddesk init'"
    ),
    "open.old_schema": QT_TRANSLATE_NOOP(
        "messages", "{label} has an older schema: run 'griddesk init' to migrate it"
    ),
    "open.old_schema_owner": QT_TRANSLATE_NOOP(
        "messages", "{label} has an older schema: its owner must run 'griddesk init' on it"
    ),
    "auth.wrong": QT_TRANSLATE_NOOP("messages", "wrong user name or password"),
    "auth.locked_one": QT_TRANSLATE_NOOP(
        "messages",
        "too many wrong passwords for {login}: the account is locked, try again "
        "in {minutes} minute",
    ),
    "auth.locked": QT_TRANSLATE_NOOP(
        "messages",
        "too many wrong passwords for {login}: the account is locked, try again in "
        "{minutes} minutes",
    ),
    "dbrole.colon": QT_TRANSLATE_NOOP(
        "messages", "the user name '{login}' cannot be a database role: it holds ':'"
    ),
    "dbrole.too_long": QT_TRANSLATE_NOOP(
        "messages",
        "the user name '{login}' is too long for a database role: with the "
        "database's name '{database}' it may take {maximum} bytes",
    ),
    "dbrole.not_postgresql": QT_TRANSLATE_NOOP(
        "messages",
        "database roles are for a shared PostgreSQL database; a SQLite "
        "file is one person's, and GridDesk checks each role itself there",
    ),
    # User accounts.
    "account.last_senior": QT_TRANSLATE_NOOP(
        "messages",
        "{login} is the branch's last active senior supervisor: add another "
        "senior supervisor before deactivating this account",
    ),
    "account.not_senior": QT_TRANSLATE_NOOP(
        "messages", "{login} ({role}) may not manage user accounts: only a senior supervisor may"
    ),
    "account.unknown_login": QT_TRANSLATE_NOOP("messages", "there is no user '{login}'"),
    "account.other_branch_user": QT_TRANSLATE_NOOP(
        "messages",
        "{login} is a user of another branch: only its own senior supervisor may change it",
    ),
    "account.other_branch_add": QT_TRANSLATE_NOOP(
        "messages", "you may add users to your own branch only, not to '{branch}'"
    ),
    "account.sign_in_needed": QT_TRANSLATE_NOOP(
        "messages", "this database has users: sign in as a senior supervisor to add one"
    ),
    "account.first_senior": QT_TRANSLATE_NOOP(
        "messages", "the first account of a database must be a senior supervisor"
    ),
    "account.unknown_branch": QT_TRANSLATE_NOOP("messages", "there is no branch '{branch}'"),
    "account.no_branch": QT_TRANSLATE_NOOP(
        "messages", "this database holds no branch yet: import the branch's teams first"
    ),
    "account.branch_needed": QT_TRANSLATE_NOOP(
        "messages", "this database holds several branches: say which (--branch CODE)"
    ),
    "account.bad_login": QT_TRANSLATE_NOOP(
        "messages", "'{login}' cannot be a user name: 1 to {maximum} characters without spaces"
    ),
    "account.login_taken": QT_TRANSLATE_NOOP("messages", "the user name '{login}' is taken"),
    "account.bad_name": QT_TRANSLATE_NOOP(
        "messages", "a display name has 1 to {maximum} characters"
    ),
    "account.bad_role": QT_TRANSLATE_NOOP("messages", "'{value}' is not a role: choose {choices}"),
    "account.teams_unused": QT_TRANSLATE_NOOP(
        "messages",
        "only a supervisor is limited to teams: a senior supervisor or an "
        "analyst sees the whole branch",
    ),
    "account.team_needed": QT_TRANSLATE_NOOP(
        "messages", "a supervisor needs at least one team of the branch"
    ),
    "account.unknown_team": QT_TRANSLATE_NOOP("messages", "the branch has no team {teams}"),
    "account.short_password": QT_TRANSLATE_NOOP(
        "messages", "a password needs at least {minimum} characters"
    ),
    # Branch settings and a new branch.
    "settings.not_senior": QT_TRANSLATE_NOOP(
        "messages",
        "{login} ({role}) may not change the branch's settings: only its senior supervisor may",
    ),
    "settings.amount_limit": QT_TRANSLATE_NOOP(
        "messages", "the amount limit must be between 1 and {maximum:,} yuan, not {yuan:,}"
    ),
    "handoff.target_range": QT_TRANSLATE_NOOP(
        "messages", "{target} must be between 0 and {maximum} days, not {days}"
    ),
    "handoff.target_order": QT_TRANSLATE_NOOP(
        "messages",
        "the targets must come in order: SMS sent, then first contact, then "
        "first service ({sms}, {contact}, {service} days given)",
    ),
    "scorecard.standard_range": QT_TRANSLATE_NOOP(
        "messages", "{standard} must be 0 to 100 %, not {pct}"
    ),
    # Figures, periods and weeks.
    "grouping.unknown": QT_TRANSLATE_NOOP(
        "messages", "cannot group by '{by}': choose one of {choices}"
    ),
    "period.month": QT_TRANSLATE_NOOP("messages", "'{text}': month must be 01 to 12"),
    "period.unreadable": QT_TRANSLATE_NOOP(
        "messages",
        "'{text}' is not a period: write a month (2024-03), a quarter (2024-Q1) or a year (2024)",
    ),
    "week.unreadable": QT_TRANSLATE_NOOP(
        "messages", "'{text}' is not a week: write 2025-W49 or a day such as 2025-12-01"
    ),
    "week.not_monday": QT_TRANSLATE_NOOP("messages", "{day} is not a Monday"),
    # Exports, tables and offline copies.
    "scope.other_branch": QT_TRANSLATE_NOOP(
        "messages", "{login} belongs to branch '{own}', not '{branch}'"
    ),
    "scope.no_branch": QT_TRANSLATE_NOOP(
        "messages", "no branch with code '{branch}' in this database"
    ),
    "scope.no_branch_yet": QT_TRANSLATE_NOOP("messages", "the database holds no branch yet"),
    "scope.branch_needed": QT_TRANSLATE_NOOP(
        "messages", "the database holds several branches: say which one with --branch CODE"
    ),
    "scope.own_team_only": QT_TRANSLATE_NOOP(
        "messages", "{login} sees only their own team: use --scope team:CODE or specialist:EMPNO"
    ),
    "scope.no_team": QT_TRANSLATE_NOOP("messages", "no team with code '{team}' in this branch"),
    "scope.not_your_team": QT_TRANSLATE_NOOP("messages", "team '{team}' is not one of your teams"),
    "scope.no_specialist": QT_TRANSLATE_NOOP(
        "messages", "no specialist with employee number '{specialist}' in this branch"
    ),
    "scope.specialist_not_yours": QT_TRANSLATE_NOOP(
        "messages", "specialist '{specialist}' is not in your team"
    ),
    "scope.unreadable": QT_TRANSLATE_NOOP(
        "messages", "'{text}' is not a scope: write branch, team:CODE or specialist:EMPNO"
    ),
    "export.suffix_one": QT_TRANSLATE_NOOP(
        "messages", "{file}: the file name must end with {suffix}"
    ),
    "export.suffix": QT_TRANSLATE_NOOP(
        "messages", "{file}: the file name must end with {suffixes} or {last}"
    ),
    "export.folder": QT_TRANSLATE_NOOP("messages", "{target} is a folder, not a file name"),
    "export.no_folder": QT_TRANSLATE_NOOP(
        "messages", "cannot write {target}: the folder {folder} does not exist"
    ),
    "export.cannot_write": QT_TRANSLATE_NOOP("messages", "cannot write {target}: {problem}"),
    "export.unknown_table": QT_TRANSLATE_NOOP(
        "messages", "unknown table '{table}': choose from {choices}"
    ),
    "export.csv_one_table": QT_TRANSLATE_NOOP(
        "messages", "a CSV file holds one table: choose one of customers, policies or tasks"
    ),
    "table.suffix": QT_TRANSLATE_NOOP(
        "messages", "cannot write a table as '{suffix}': use .xlsx or .csv"
    ),
    "table.too_many_rows": QT_TRANSLATE_NOOP(
        "messages",
        "{rows:,} rows do not fit in one Excel sheet ({maximum:,} at most): export as CSV instead",
    ),
    "snapshot.own_teams": QT_TRANSLATE_NOOP(
        "messages", "an offline copy can hold only your own teams"
    ),
    "snapshot.inconsistent": QT_TRANSLATE_NOOP(
        "messages", "the copy is inconsistent: {n} rows refer to rows outside the scope"
    ),
}


class Message:
    """A code of MESSAGES and its parameters: a sentence, or a part of one, not yet worded."""

    __slots__ = ("code", "params")

    def __init__(self, code: str, /, **params: object) -> None:
        self.code = code
        self.params = params

    def __str__(self) -> str:
        return render(self.code, self.params)

    def __repr__(self) -> str:
        return f"Message({self.code!r}, **{self.params!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and (self.code, self.params) == (other.code, other.params)

    __hash__ = None  # type: ignore[assignment]


class Clauses(tuple):
    """Messages that are clauses of one sentence, joined with semicolons."""

    __slots__ = ()


class Alternatives(tuple):
    """Values of which one is wanted ("a, or b")."""

    __slots__ = ()


class Lines(tuple):
    """Values shown one per line."""

    __slots__ = ()


class Wording:
    """How a message is worded: in English here; the views word it in the user's language."""

    def template(self, code: str) -> str:
        return MESSAGES[code]

    def value(self, name: str, value: object) -> object:
        """Return a plain parameter as the template receives it (as it is, in English)."""
        return value

    def items(self, parts: list[str]) -> str:
        return ", ".join(parts)

    def clauses(self, parts: list[str]) -> str:
        return "; ".join(parts)

    def alternatives(self, parts: list[str]) -> str:
        return ", or ".join(parts)


ENGLISH = Wording()


def render(code: str, params: Mapping[str, object], wording: Wording = ENGLISH) -> str:
    """Return the message ``code`` with ``params`` in the words of ``wording``."""
    values = {name: _value(name, v, wording) for name, v in params.items()}
    return wording.template(code).format(**values)


def _value(name: str, value: object, wording: Wording) -> object:
    if isinstance(value, Message):
        return render(value.code, value.params, wording)
    if isinstance(value, list | tuple):
        parts = [str(_value(name, v, wording)) for v in value]
        if isinstance(value, Clauses):
            return wording.clauses(parts)
        if isinstance(value, Alternatives):
            return wording.alternatives(parts)
        if isinstance(value, Lines):
            return "\n".join(parts)
        return wording.items(parts)
    return wording.value(name, value)


def to_data(message: Message) -> dict[str, Any]:
    """Return ``message`` as JSON-ready data, to be stored and worded later (from_data)."""
    return {"code": message.code, "params": {k: _encode(v) for k, v in message.params.items()}}


def from_data(data: Any) -> Message | None:
    """Return the message stored as ``data`` by to_data (None for anything else)."""
    if not isinstance(data, dict) or data.get("code") not in MESSAGES:
        return None
    params = data.get("params")
    if not isinstance(params, dict):
        return None
    return Message(data["code"], **{k: _decode(v) for k, v in params.items()})


# How each kind of list is stored.
_KINDS: dict[type, str] = {Clauses: "clauses", Alternatives: "alternatives", Lines: "lines"}
_LISTS: dict[str, Any] = {"items": list, **{kind: t for t, kind in _KINDS.items()}}


def _encode(value: object) -> object:
    if isinstance(value, Message):
        return {"message": to_data(value)}
    if isinstance(value, list | tuple):
        return {_KINDS.get(type(value), "items"): [_encode(v) for v in value]}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _decode(value: object) -> object:
    if isinstance(value, dict) and len(value) == 1:
        ((kind, inner),) = value.items()
        if kind == "message":
            return from_data(inner) or ""
        if kind in _LISTS and isinstance(inner, list):
            return _LISTS[kind]([_decode(v) for v in inner])
    return value


def placeholders(template: str) -> set[tuple[str, str]]:
    """Return the (name, format spec) of each {placeholder} in ``template``."""
    return {(name, spec or "") for _, name, spec, _ in Formatter().parse(template) if name}
