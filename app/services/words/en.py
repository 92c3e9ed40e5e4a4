"""The words of the files GridDesk writes without Qt, in English.

One entry per key; the keys are the same in every language (a test checks, and that each
translation keeps its {placeholders}). app.services.words.Texts reads them. A sheet name holds
at most 31 characters and none of ``[]:*?/\\``.
"""

from __future__ import annotations

WORDS: dict[str, str] = {
    # The meeting workbook, the detail files and the code names they share
    "sheet_cover": "Cover",
    "sheet_pers_team": "Persistency by team",
    "sheet_pers_specialist": "Persistency by specialist",
    "sheet_pers_grid": "Persistency by grid",
    "sheet_trend": "Persistency trend",
    "sheet_funnel": "4-sell funnel",
    "sheet_funnel_specialist": "Funnel by specialist",
    "sheet_activity": "Activity",
    "sheet_equity": "Service equity",
    "sheet_overdue": "Overdue tasks",
    "sheet_coverage": "Coverage gaps",
    "sheet_handoff": "Hand-off and persistency",
    "contact_band": "Days to first contact",
    "band_0-7": "0–7 days",
    "band_8-30": "8–30 days",
    "band_31-90": "31–90 days",
    "band_91+": "over 90 days",
    "band_never": "never contacted",
    "handoff_title": "13-month persistency by days from pool entry to first contact",
    "note_handoff": (
        "Policies due in {period}, grouped by their customer's days from pool entry to first "
        "contact; customers not contacted by the as-of date count as never. The branch's "
        "targets: first contact within {contact} days, first service within {service}."
    ),
    "sheet_customers": "Customers",
    "sheet_policies": "Policies",
    "sheet_tasks": "Tasks",
    "title": "Community grid: weekly meeting figures",
    "branch": "Branch",
    "scope": "Scope",
    "period": "Review period",
    "as_of": "Figures as of",
    "exported_by": "Exported by",
    "exported_at": "Exported at",
    "masking": "Customer contact data",
    "masked": "Masked (phone and ID numbers partly hidden)",
    "unmasked": "Shown in full (keep this file safe)",
    "contents": "Contents",
    "command_line": "command line",
    "scope_branch": "Whole branch",
    "scope_team": "Team",
    "scope_specialist": "Specialist",
    "note_persistency": (
        "13-month persistency (premium basis), grace period {grace} days; "
        "year-on-year change in percentage points. A policy counts for the specialist who "
        "served it on the due date; policies nobody served then have a row of their own."
    ),
    "note_funnel": "4-sell funnel: customers who entered the pool in {period}.",
    "note_activity": (
        "Activity: tasks completed in the last {weeks} whole weeks (Monday to Sunday) and in "
        "the week running up to {as_of}; the roster's tasks done per week is the mean of "
        "those {weeks} whole weeks."
    ),
    "note_equity": (
        "Service equity: completion of servicing and renewal tasks of the last 365 days; "
        "the specialist is flagged when customers who bought more are served over "
        "{threshold} points better."
    ),
    "team": "Team",
    "specialist": "Specialist",
    "grid": "Grid",
    "policies": "Policies past grace",
    "cover_pending": (
        "Policies of this period not yet past their grace period: {n}; the rate counts only "
        "those past it"
    ),
    "cover_pending_due": (
        "Policies of this period not yet past their grace period (some not even due): {n}; "
        "the rate counts only those past it"
    ),
    "funnel_young": (
        "These customers entered the pool {newest}–{oldest} days ago: cross-sell and up-sell "
        "usually take months, so the later steps will still rise."
    ),
    "sheet_pending": (
        "Policies still in their grace period do not count in the rates (see the pending "
        "column) until it ends."
    ),
    "persisting_policies": "Persisting policies",
    "pending_policies": "Pending (in grace)",
    "premium_due": "Premium due (¥)",
    "premium_received": "Premium received (¥)",
    "persistency_premium": "13-month persistency (premium)",
    "persistency_count": "13-month persistency (count)",
    "year_earlier": "Year earlier",
    "change_points": "Change (points)",
    "month": "Month",
    "persistency": "13-month persistency",
    "trend_title": "13-month persistency trend (premium basis)",
    "step": "Step",
    "cohort_size": "Customers in cohort",
    "reached": "Customers reached",
    "step_conversion": "Step conversion",
    "cumulative_conversion": "Cumulative conversion",
    "median_days": "Median days from pool entry",
    "funnel_title": "4-sell funnel (customers reached)",
    "step_1": "Pre-sell",
    "step_2": "Soft-sell",
    "step_3": "Cross-sell",
    "step_4": "Up-sell",
    "reached_n": "{step} reached",
    "conv_n": "{step} conversion",
    "done_week": "Done {week}",
    "done_kind": "{kind} (done)",
    "done_total": "Done in all",
    "overdue_open": "Overdue open",
    "median_hours": "Median hours to complete",
    "tasks_without": "Tasks (never cross- or up-sold)",
    "rate_without": "Completion (never cross- or up-sold)",
    "hours_without": "Median hours (never cross- or up-sold)",
    "tasks_with": "Tasks (cross- or up-sold)",
    "rate_with": "Completion (cross- or up-sold)",
    "hours_with": "Median hours (cross- or up-sold)",
    "gap_points": "Gap (points)",
    "flagged": "Flagged",
    "yes": "yes",
    "base": "Base",
    "few": "few (under 30 policies)",
    "no": "no",
    "task_no": "Task no.",
    "kind": "Kind",
    "status": "Status",
    "customer_no": "Customer no.",
    "customer_name": "Customer",
    "phone": "Phone",
    "id_number": "ID number",
    "address": "Address",
    "policy_no": "Policy no.",
    "employee_no": "Employee no.",
    "specialist_name": "Specialist",
    "grid_code": "Grid code",
    "grid_name": "Grid name",
    "channel": "Channel",
    "created_at": "Created",
    "due_date": "Due",
    "completed_at": "Completed",
    "outcome": "Outcome",
    "days_overdue": "Days overdue",
    "pool_entered_on": "Entered pool",
    "agent_code": "Former agent",
    "step_reached": "4-sell step",
    "product": "Product",
    "issue_date": "Issued",
    "payment_mode": "Payment mode",
    "modal_premium": "Modal premium (¥)",
    "policy_status": "Policy status",
    "status_date": "Status date",
    "gap": "Gap",
    "item": "Item",
    "detail": "Detail",
    "customers": "Customers",
    "capacity": "Capacity",
    "load": "Load",
    "gap_unmatched": "Customers matched to no grid",
    "gap_outside": "Customers whose address is outside coverage",
    "gap_unserved": "Customers without an active specialist",
    "gap_grid": "Grid without an active specialist",
    "gap_over_capacity": "Specialist over capacity",
    "reason_no owner": "no owner",
    "reason_owner on leave": "owner on leave",
    "reason_owner left": "owner left",
    "whole_branch": "whole branch",
    "group_none_grid": "(no grid)",
    "group_none_specialist": "(unassigned)",
    "group_none_team": "(no team)",
    "group_none": "(none)",
    "no_specialist_on_due": "(unserved on the due date)",
    "total": "Total",
    "kind_pre_sell": "Pre-sell",
    "kind_renewal_collection": "Renewal collection",
    "kind_servicing": "Servicing",
    "kind_cross_sell": "Cross-sell",
    "kind_up_sell": "Up-sell",
    "kind_callback": "Callback",
    "status_open": "Open",
    "status_in_progress": "In progress",
    "status_done": "Done",
    "status_failed": "Failed",
    "status_cancelled": "Cancelled",
    "channel_offline": "Offline",
    "channel_online": "Online seat",
    "mode_annual": "Annual",
    "mode_semiannual": "Semi-annual",
    "mode_quarterly": "Quarterly",
    "mode_monthly": "Monthly",
    "mode_single": "Single",
    "policy_in_force": "In force",
    "policy_lapsed": "Lapsed",
    "policy_surrendered": "Surrendered",
    "policy_claim": "Claim",
    "policy_death": "Death",
    "policy_matured": "Matured",
    "step_0": "Not contacted",
    "page_footer": "Page &P of &N",
    # The scorecard workbook
    "sc_title": "Monthly scorecard of the grid specialists",
    "sc_month": "Month",
    "sc_previous": "Compared with",
    "sc_standards": "Standards",
    "sc_definitions": "Definitions",
    "sc_sheet_title": "{team} · scorecard {month} (as of {as_of})",
    "sc_met": "✓ met",
    "sc_not_met": "✗ not met",
    "sc_none": "— no data",
    "sc_few": "few (under {n}): not judged",
    "sc_flag": "⚠ flagged",
    "sc_no_flag": "✓ no flag",
    "sc_met_count": "Standards met",
    "sc_before": "Previous month",
    "sc_change": "Change (points)",
    "sc_mark": "Met?",
    "sc_status": "Status",
    "sc_no_rows": "No specialist of this team has figures.",
    "sp_active": "Active",
    "sp_leave": "On leave",
    "sp_left": "Left",
    "m_renewal": "Renewal premium collected",
    "m_persistency": "13-month persistency",
    "m_tasks": "Tasks done on time",
    "m_contact": "First contact on time",
    "m_equity": "Service equity gap (points)",
    "std_renewal": "Renewal premium collected ≥ {pct}%",
    "std_persistency": "13-month persistency (premium basis) ≥ {pct}%",
    "std_tasks": "Tasks done on time ≥ {pct}%",
    "std_contact": "First contact on time ≥ {pct}%",
    "std_equity": "Service equity: no flag (a gap above {threshold} points flags)",
    "def_renewal": (
        "Renewal premiums (policy year 2 on) due in the month, for who served the customer on "
        "the due date: received within the {grace}-day grace period and by the as-of date "
        "policies ended by death or claim before the due date are left out."
    ),
    "def_persistency": (
        "The meeting workbook's persistency by specialist and griddesk metrics persistency "
        "--by specialist, the same figure."
    ),
    "def_tasks": (
        "Tasks due in the month (cancelled ones left out), for the specialist holding them: done "
        "by the due date is on time; done late, failed, or not done past the due date is late; "
        "not done and not yet due is pending, apart."
    ),
    "def_contact": (
        "Hand-off clock: of the customers who entered the pool in the 90 days to the month's "
        "end (or the as-of date), the share first contacted within the target, for who served "
        "them when it was settled; the roster's figure."
    ),
    "def_equity": (
        "Servicing and renewal tasks of the 365 days to the month's end (or the as-of date); the "
        "meeting workbook's equity sheet."
    ),
    # The weekly visit lists (PDF and workbook)
    "visits_title": "Weekly visit list",
    "visits_sheet_summary": "Summary",
    "visits_specialist": "Specialist",
    "visits_week": "Week",
    "visits_day": "Day",
    "visits_weekday": "Weekday",
    "visits_order": "No.",
    "visits_todo": "To do",
    "visits_first_due": "First due",
    "visits_amount": "Premium to collect (¥)",
    "visits_note": "Note",
    "visits_stops": "Customers to visit",
    "visits_planned": "Planned",
    "visits_unplanned_n": "Not planned",
    "visits_route_km": "Route (km)",
    "visits_unordered_km": "Unordered (km)",
    "visits_route": "route {route} km, unordered {unordered} km",
    "visits_day_line": "{n} customers · route of the day {route} km",
    "visits_day_routes": "Routes by day: {days}",
    "visits_week_route": "whole week: {route}",
    "visits_empty_day": "No visits planned for this day",
    "visits_no_coords": "no coordinates: last in its grid",
    "visits_unplanned": "Not planned this week",
    "visits_unplanned_note": (
        "{n} more customers did not fit this week ({per_day} a day at most): see the workbook's "
        "'Not planned this week'."
    ),
    "visits_no_grid": "(no grid)",
    "visits_gathered": (
        "Gathered: open offline tasks due {monday} to {sunday} or overdue; premiums due in the "
        "30 days from {monday} (to {until}) with no open renewal task; customers past a "
        "hand-off target. Grouped by grid, each walked nearest neighbour + 2-opt, straight-line "
        "distances."
    ),
    "visits_footer": "Figures as of {as_of} · {masking} · page {page} of {pages}",
    "visits_masked_short": "phones masked",
    "visits_unmasked_short": "phones in full: keep this safe",
    "todo_task": "{kind} (due {due})",
    "todo_task_overdue": "{kind} (overdue, due {due})",
    "todo_premium": "Collect ¥{amount} (due {due}, policy {policy})",
    "todo_handoff": "Hand-off late: {missed} ({days} days over)",
    "milestone_sms": "SMS",
    "milestone_contact": "first contact",
    "milestone_service": "first service",
    "weekday_0": "Mon",
    "weekday_1": "Tue",
    "weekday_2": "Wed",
    "weekday_3": "Thu",
    "weekday_4": "Fri",
    "weekday_5": "Sat",
    "weekday_6": "Sun",
    # The grid map (legends, tooltips, layers)
    "map_persistency": "13-month persistency (premium)",
    "map_open_tasks": "Open tasks of the owner",
    "map_load": "Owner's customers / capacity",
    "map_coverage": "Coverage gaps",
    "map_no_data": "No data",
    "map_no_owner": "No owner",
    "map_uncovered": "No active specialist",
    "map_unserved": "Customers without a specialist",
    "map_covered": "Covered",
    "map_grid": "Grid",
    "map_district": "District",
    "map_owner": "Specialist",
    "map_team": "Team",
    "map_customers": "Customers in grid",
    "map_owner_load": "Owner's customers / capacity",
    "map_open_tasks_short": "Owner's open tasks",
    "map_persistency_short": "13-month persistency",
    "map_unserved_short": "Customers without a specialist",
    "map_unmatched_note": "Customers matched to no grid: {n}",
    "map_outside_note": "Customers whose address is outside coverage: {n}",
    "map_grids_layer": "Grids",
    "map_customers_layer": "Customers",
    "map_tiles_layer": "Online base map",
    "map_under": "up to {a}",
    "map_between": "{a} – {b}",
    "map_over": "over {a}",
    "map_period": "Review period {p}",
    "map_few": "Few: under {n} policies, not coloured",
    "map_policies": "{n} policies",
    "map_policies_few": "{n} policies, few",
}
