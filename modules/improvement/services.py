"""The improvement module's services, as other modules call them (actions, problems, decisions, standards)."""
from modules.improvement.actions import (  # noqa: F401
    KIND_LABELS, PDCA_LABELS, STATUS_LABELS, FollowUp, can_edit_action, create_action, create_plan, follow_up,
    list_actions, list_plans, my_actions, origin_actions, owner_by_username, plan_follow_up, team_actions,
    update_action, week_bounds)
from modules.improvement.decisions import (  # noqa: F401
    check_may_change, create_decision, list_decisions, update_decision)
from modules.improvement.inputs import Effectiveness, NewAction, NewProblem, new_action, new_problem  # noqa: F401
from modules.improvement.ideas import IDEA_LABELS, answer_idea, list_ideas, submit_idea  # noqa: F401
from modules.improvement.models import (  # noqa: F401
    CATEGORY_LABELS, METHODS, OPEN_STATUSES, Action, ActionPlan, DecisionStudy, Idea, ProblemSheet, Standard)
from modules.improvement.problems import (  # noqa: F401
    METHOD_STEPS, QQOQCCP, add_cause, add_problem_action, add_why, check_may_edit, check_participant,
    check_why_addable,
    choose_cause, clear_whys,
    close_problem, closure_missing, create_problem, list_sheets, ranked_causes, remove_cause, reopen_problem,
    sheet_actions, sheet_cause, steps, unvote, update_problem, vote)
from modules.improvement.ranking import Ranked, ranking, roi  # noqa: F401
from modules.improvement.standards import (  # noqa: F401
    add_step, can_validate, check_step_addable, create_standard, list_standards, move_step, remove_step, update_standard,
    validate_standard)
