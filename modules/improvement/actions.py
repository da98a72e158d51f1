"""Actions and action plans: create, follow up (done / in progress / late), check effectiveness."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, joinedload

from modules.improvement.inputs import Effectiveness, NewAction
from modules.improvement.models import ACTION_STATUSES, OPEN_STATUSES, Action, ActionPlan
from shopfloor.origins import check_origin
from shopfloor import access, clock
from shopfloor.auth.models import User
from shopfloor.db import lock, lock_by_id
from shopfloor.errors import Forbidden, ValidationError
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.services import ensure_editable

STATUS_LABELS = {"todo": "À faire", "in_progress": "En cours", "done": "Faite", "abandoned": "Abandonnée",
                 "late": "En retard"}
PDCA_LABELS = {"plan": "Plan (préparer)", "do": "Do (réaliser)", "check": "Check (vérifier)", "act": "Act (standardiser)"}
KIND_LABELS = {"containment": "Sécurisation", "corrective": "Corrective", "standardisation": "Standardisation"}
LIST_LIMIT = 200


# -- who may change (who may see: Action.__access__) ---------------------------------

def can_edit_action(actor: User, action: Action) -> bool:
    if actor.role == "admin" or actor.id in (action.owner_id, action.created_by_id):
        return True
    return actor.role == "tutor" and actor.id in (action.owner.tutor_id, action.created_by.tutor_id)


# -- creating and changing ----------------------------------------------------------

def _check_owner(db: Session, owner: User | None) -> User:
    if owner is None or not owner.active:
        raise ValidationError("Le responsable de l'action est inconnu ou désactivé.", "owner")
    return owner


def owner_by_username(db: Session, username) -> User:
    if not isinstance(username, str) or not username.strip():
        raise ValidationError("Le champ « owner » (identifiant du responsable) est obligatoire.", "owner")
    user = db.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None or not user.active:
        raise ValidationError(f"Responsable inconnu : {username}.", "owner")
    return user


def editable_plan(db: Session, actor: User, plan_id: int) -> ActionPlan:
    """The plan an action is added to: one the actor sees (else, as a missing one, a 422 on the field)."""
    if not access.can_see(db, ActionPlan, actor, plan_id):
        raise ValidationError(f"Plan d'actions {plan_id} introuvable.", "plan_id")
    plan = db.get(ActionPlan, plan_id)
    ensure_editable(plan)
    return plan


def create_action(db: Session, actor: User, spec: NewAction, *, owner: User, now: datetime,
                  origin: tuple[str, int] | None = None, plan_id: int | None = None,
                  team_id: int | None = None) -> Action:
    """A new action (status "todo"); team_id defaults to the owner's team."""
    owner = _check_owner(db, owner)
    today = clock.paris_day(now)
    start = spec.planned_start or today
    if spec.due < today:
        raise ValidationError("L'échéance ne peut pas être dans le passé.", "due")
    if spec.due < start:
        raise ValidationError("L'échéance précède le début prévu.", "due")
    origin = check_origin(db, origin)
    if plan_id is not None:
        editable_plan(db, actor, plan_id)
    action = Action(title=spec.title, deliverable=spec.deliverable, owner=owner, created_by=actor,
                    team_id=team_id if team_id is not None else owner.team_id, plan_id=plan_id,
                    origin_type=origin[0] if origin else None, origin_id=origin[1] if origin else None,
                    pdca=spec.pdca, kind=spec.kind, status="todo", planned_start=start, due=spec.due, created_at=now)
    db.add(action)
    db.flush()
    return action


def set_status(action: Action, status: str, today: date, reason: str = "") -> None:
    if status not in ACTION_STATUSES:
        raise ValidationError(f"Statut attendu : {', '.join(ACTION_STATUSES)}.", "status")
    if status == "abandoned" and not (reason or action.abandon_reason).strip():
        raise ValidationError("Donnez la raison de l'abandon.", "abandon_reason")
    if status in ("in_progress", "done") and action.started_on is None:
        action.started_on = today
    action.done_on = today if status == "done" else None
    if status == "abandoned":
        action.abandon_reason = reason.strip() or action.abandon_reason
    if status in ("done", "abandoned"):
        action.late_since = None
    action.status = status


def record_effectiveness(action: Action, actor: User, check: Effectiveness, today: date) -> None:
    """Indicator, value before, target, value after (once done), checked by the actor on a date."""
    if not check.indicator and not action.eff_indicator:
        raise ValidationError("Le champ « indicator » est obligatoire.", "indicator")
    action.eff_indicator = check.indicator or action.eff_indicator
    for key, number in check.numbers.items():
        setattr(action, f"eff_{key}", number)
    if action.eff_after is not None:
        if action.status != "done":
            raise ValidationError("La valeur après se mesure une fois l'action faite.", "effectiveness")
        checked_on = check.checked_on or today
        if checked_on > today:
            raise ValidationError("La date de vérification ne peut pas être dans le futur.", "checked_on")
        action.eff_checked_on, action.eff_checked_by_id = checked_on, actor.id
    else:
        action.eff_checked_on = action.eff_checked_by_id = None


def _lock(db: Session, action: Action) -> None:
    """Lock the action's plan (the record first), then the action, and re-read it before deciding:
    two status changes sent together apply one after the other, the second on what the first left."""
    if action.plan_id is not None:
        lock_by_id(db, ActionPlan, action.plan_id, f"Plan d'action {action.plan_id} introuvable.", "plan_id")
    lock(db, action)


def update_action(db: Session, actor: User, action: Action, now: datetime, *, status: str | None = None,
                  abandon_reason: str = "", due: date | None = None,
                  effectiveness: Effectiveness | None = None) -> Action:
    if not can_edit_action(actor, action):
        raise Forbidden("Seuls le responsable, le créateur de l'action, leur tuteur ou un administrateur "
                        "peuvent la modifier.", "action_id")
    _lock(db, action)
    today = clock.paris_day(now)
    if due is not None:
        if due < action.planned_start:
            raise ValidationError("L'échéance précède le début prévu.", "due")
        if due != action.due:
            action.due, action.late_since = due, None
    if status is not None:
        set_status(action, status, today, abandon_reason or "")
    if effectiveness is not None:
        record_effectiveness(action, actor, effectiveness, today)
    db.flush()
    return action


# -- follow-up ------------------------------------------------------------------------

def _status_filter(query, status: str | None, today: date):
    if status == "late":
        return query.where(Action.status.in_(OPEN_STATUSES), Action.due < today)
    if status == "open":
        return query.where(Action.status.in_(OPEN_STATUSES))
    if status in ACTION_STATUSES:
        return query.where(Action.status == status)
    if status not in (None, "", "all"):
        raise ValidationError("Filtre « status » attendu : late, open, done, todo, in_progress, abandoned ou all.",
                              "status")
    return query


def my_actions(db: Session, user: User, today: date, status: str | None = "open",
               limit: int = LIST_LIMIT) -> list[Action]:
    """The user's actions (most urgent first); served by the (owner_id, status, due) index."""
    query = _status_filter(select(Action).where(Action.owner_id == user.id), status, today)
    return list(db.scalars(query.order_by(Action.due, Action.id).limit(limit)))


def list_actions(db: Session, actor: User, today: date, *, status: str | None = None, owner: User | None = None,
                 limit: int = LIST_LIMIT, offset: int = 0) -> list[Action]:
    query = _status_filter(select(Action).options(joinedload(Action.owner)), status, today)
    if owner is not None:
        query = query.where(Action.owner_id == owner.id)
    query = query.where(access.visible_filter(Action, actor))
    return list(db.scalars(query.order_by(Action.due, Action.id).limit(limit).offset(offset)))


def origin_actions(db: Session, origin_type: str, origin_id: int) -> list[Action]:
    return list(db.scalars(select(Action).options(joinedload(Action.owner))
                           .where(Action.origin_type == origin_type, Action.origin_id == origin_id)
                           .order_by(Action.kind, Action.due, Action.id)))


def week_bounds(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def team_actions(db: Session, team_id: int | None, today: date) -> dict:
    """{"open", "late", "done_this_week"}: lists of Action for a team (None = all teams).
    "open" holds every action to do or in progress, late ones included."""
    team = (Action.team_id == team_id) if team_id is not None else None

    def query(*conditions):
        q = select(Action).options(joinedload(Action.owner)).where(*conditions)
        if team is not None:
            q = q.where(team)
        return list(db.scalars(q.order_by(Action.due, Action.id)))

    monday, sunday = week_bounds(today)
    return {"open": query(Action.status.in_(OPEN_STATUSES)),
            "late": query(Action.status.in_(OPEN_STATUSES), Action.due < today),
            "done_this_week": query(Action.status == "done", Action.done_on >= monday, Action.done_on <= sunday)}


@dataclass
class FollowUp:
    actions: list[Action]
    counts: dict[str, int] = field(default_factory=dict)   # todo, in_progress, late, done, abandoned

    @property
    def total(self) -> int:
        return len(self.actions)

    @property
    def done_pct(self) -> int:
        active = self.total - self.counts.get("abandoned", 0)
        return round(100 * self.counts.get("done", 0) / active) if active else 0

    @property
    def effectiveness(self) -> list[Action]:
        return [a for a in self.actions if a.eff_indicator]


def follow_up(actions: list[Action], today: date) -> FollowUp:
    counts = {key: 0 for key in ("todo", "in_progress", "late", "done", "abandoned")}
    for action in actions:
        counts[action.follow_up(today)] += 1
    return FollowUp(actions, counts)


def plan_follow_up(db: Session, plan: ActionPlan, today: date) -> FollowUp:
    actions = list(db.scalars(select(Action).options(joinedload(Action.owner)).where(Action.plan_id == plan.id)
                              .order_by(Action.planned_start, Action.due, Action.id)))
    return follow_up(actions, today)


# -- plans ------------------------------------------------------------------------------

def create_plan(db: Session, actor: User, *, title: str, objective: str, scope: str, now: datetime,
                team_id: int | None = None) -> ActionPlan:
    plan = new_activity(ActionPlan, actor, now, team_id=team_id, title=title, objective=objective, scope=scope)
    db.add(plan)
    db.flush()
    return plan


def list_plans(db: Session, actor: User, limit: int = 100) -> list[ActionPlan]:
    return list(db.scalars(select(ActionPlan).where(access.visible_filter(ActionPlan, actor))
                           .order_by(ActionPlan.performed_at.desc()).limit(limit)))


def late_candidates(today: date):
    """Open actions past due that the job has not flagged yet."""
    return and_(Action.status.in_(OPEN_STATUSES), Action.due < today, Action.late_since.is_(None))
