"""Short-interval meetings: who met in front of which board, the problems raised (handed to the improvement
module as actions or problem sheets) and their escalation to the next level's board."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, object_session, selectinload

from dashboards.models import Board, Escalation, Meeting, Problem
from dashboards.services import can_enter
from modules.improvement import services as improvement
from shopfloor import access, clock
from shopfloor.auth.models import User
from shopfloor.db import lock, lock_by_id
from shopfloor.errors import Conflict, Forbidden, ValidationError
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.services import ensure_editable
from shopfloor.registry import ActivityType, Origin, ParetoSource, registry_of
from shopfloor.urls import link

TREATMENTS = {"action": "Action (responsable et échéance)", "problem": "Fiche problème",
              "none": "Traité en séance"}
ACTIONS_SHOWN = 12        # per state, on a board or a screen


def meeting_url(meeting: Meeting) -> str:
    return link("dashboards.meeting", meeting_id=meeting.id)


MEETING_TYPE = ActivityType("aic_meeting", "Réunion AIC (animation à intervalles courts)", ("LEAN-6", "QSE-6"),
                            url=meeting_url)


def _clean_names(participants) -> str:
    if isinstance(participants, str):
        participants = participants.splitlines()
    if not isinstance(participants, (list, tuple)) or not all(isinstance(p, str) for p in participants):
        raise ValidationError("Les participants sont une liste de noms.", "participants")
    names = [p.strip() for p in participants if p.strip()]
    if not names:
        raise ValidationError("Indiquez au moins un participant.", "participants")
    if len(names) > 60 or any(len(n) > 120 for n in names):
        raise ValidationError("Trop de participants ou nom trop long (120 caractères).", "participants")
    return "\n".join(names)


def create_meeting(db: Session, actor: User, board: Board, *, performed_at: datetime, now: datetime,
                   participants, reviewed: list[str], led: bool = False, duration_minutes: int = 10,
                   title: str | None = None, description: str = "") -> Meeting:
    """Record a meeting held in front of a board, as an activity of the actor."""
    if not can_enter(actor, board):
        raise Forbidden("Seule l'équipe du tableau, un tuteur ou un administrateur enregistre ses réunions.",
                        "board_id")
    if performed_at > now:
        raise ValidationError("La date de la réunion ne peut pas être dans le futur.", "performed_at")
    if not isinstance(duration_minutes, int) or not 1 <= duration_minutes <= 240:
        raise ValidationError("La durée est un nombre de minutes entre 1 et 240.", "duration_minutes")
    on_board = {r.indicator_key for r in board.rows}
    unknown = [k for k in reviewed if k not in on_board]
    if unknown:
        raise ValidationError(f"Indicateur(s) absent(s) du tableau : {', '.join(unknown)}.", "reviewed")
    title = (title or "").strip() or f"Réunion AIC – {board.name} – {clock.paris_day(performed_at):%d/%m/%Y}"
    if len(title) > 200:
        raise ValidationError("Le titre dépasse 200 caractères.", "title")
    meeting = new_activity(Meeting, actor, now, performed_at=performed_at, site_id=board.site_id,
                           team_id=board.team_id, title=title, description=description or "", board_id=board.id,
                           led=bool(led), duration_minutes=duration_minutes,
                           participants=_clean_names(participants), reviewed=list(reviewed))
    db.add(meeting)
    db.flush()
    return meeting


def _tutors_board(db: Session, actor: User, board: Board, author: User) -> bool:
    """A tutor of the board's team: in that team, or tutoring the author or an apprentice of the team."""
    if actor.role != "tutor":
        return False
    if author.tutor_id == actor.id or (board.team_id is not None and actor.team_id == board.team_id):
        return True
    if board.team_id is None:  # a workshop or site board: every tutor follows it
        return True
    return db.scalar(select(User.id).where(User.tutor_id == actor.id, User.team_id == board.team_id).limit(1)) \
        is not None


def may_edit_meeting(db: Session, actor: User, meeting: Meeting) -> bool:
    """Writes: the meeting's leader (its author), the board's tutors, admins."""
    return actor.role == "admin" or actor.id == meeting.author_id or \
        _tutors_board(db, actor, meeting.board, meeting.author)


def recent_meetings(db: Session, board_id: int, limit: int = 10) -> list[Meeting]:
    return list(db.scalars(select(Meeting).where(Meeting.board_id == board_id)
                           .options(joinedload(Meeting.author))
                           .order_by(Meeting.performed_at.desc()).limit(limit)))


def _may_edit_meeting(actor: User, meeting: Meeting) -> None:
    db = object_session(meeting)
    if not access.can_see(db, Meeting, actor, meeting.id):
        raise access.not_found(Meeting, meeting.id, "meeting_id")
    if not may_edit_meeting(db, actor, meeting):
        raise Forbidden("Seul l'animateur de la réunion, un tuteur du tableau ou un administrateur peut la "
                        "compléter.", "meeting_id")


def add_problem(db: Session, actor: User, meeting: Meeting, *, title: str, letter: str, category: str,
                treatment: str, now: datetime, owner: User | None = None, due: date | None = None,
                deliverable: str = "", method: str = "QRQC") -> Problem:
    """A problem raised in the meeting; 'action' opens an improvement action (owner, due date),
    'problem' a problem sheet, 'none' when it was settled on the spot."""
    _may_edit_meeting(actor, meeting)
    ensure_editable(meeting)
    if treatment == "action" and (owner is None or due is None):
        raise ValidationError("Une action a un responsable et une échéance.", "owner" if owner is None else "due")
    if treatment != "none" and not registry_of(db).has("improvement"):
        raise ValidationError("Le module Amélioration n'est pas installé : traitez le problème sans action "
                              "ni fiche problème.", "treatment")
    problem = Problem(meeting=meeting, board_id=meeting.board_id, letter=letter, category=category, title=title,
                      raised_on=clock.paris_day(meeting.performed_at))
    db.add(problem)
    db.flush()
    if treatment == "action":
        spec = improvement.NewAction(title=title, deliverable=deliverable or title, due=due)
        action = improvement.create_action(db, actor, spec, owner=owner, now=now, origin=("aic_problem", problem.id),
                                           team_id=meeting.board.team_id)
        problem.action_id = action.id
    elif treatment == "problem":
        spec = improvement.NewProblem(title=title, method=method, what=title)
        sheet = improvement.create_problem(db, actor, spec, now=now, origin=("aic_problem", problem.id),
                                           team_id=meeting.board.team_id)
        problem.problem_sheet_id = sheet.id
    db.flush()
    return problem


def get_problem(db: Session, problem_id: int) -> Problem:
    return access.get(db, Problem, problem_id, field="problem_id", label="Problème")


def _lock_problem(db: Session, problem: Problem) -> None:
    """Lock the meeting (the record first), then the problem, and re-read its escalations: of two
    escalations sent together, the second waits and finds the first one waiting for its answer."""
    lock_by_id(db, Meeting, problem.meeting_id, f"Réunion n° {problem.meeting_id} introuvable.", "meeting_id")
    lock(db, problem)
    db.scalars(select(Escalation).where(Escalation.problem_id == problem.id)
               .execution_options(populate_existing=True)).all()
    db.expire(problem, ["escalations"])


def escalate(db: Session, actor: User, problem: Problem, *, reason: str, now: datetime) -> Escalation:
    """Send a problem to the next level's board; it stays there until someone answers."""
    board = problem.board
    if not access.can_see(db, Meeting, actor, problem.meeting_id):   # a problem is seen with its meeting
        raise access.not_found(Problem, problem.id, "problem_id", label="Problème")
    if not can_enter(actor, board):
        raise Forbidden("Seule l'équipe du tableau, un tuteur ou un administrateur remonte ses problèmes.",
                        "problem_id")
    if board.parent is None:
        raise Conflict(f"Le tableau « {board.name} » n'a pas de tableau de niveau supérieur : "
                       f"rattachez-le à un tableau d'atelier ou de site.", "problem_id")
    _lock_problem(db, problem)
    if any(e.answered_at is None for e in problem.escalations):
        raise Conflict("Ce problème est déjà remonté et attend une réponse.", "problem_id")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Dites ce que vous attendez du niveau supérieur.", "reason")
    if len(reason) > 2000:
        raise ValidationError("Le motif dépasse 2000 caractères.", "reason")
    escalation = Escalation(problem=problem, from_board_id=board.id, to_board_id=board.parent.id, reason=reason,
                            raised_by_id=actor.id, raised_at=now)
    db.add(escalation)
    db.flush()
    return escalation


def get_escalation(db: Session, escalation_id: int) -> Escalation:
    return access.get(db, Escalation, escalation_id, field="escalation_id", label="Remontée")


def answer_escalation(db: Session, actor: User, escalation: Escalation, *, answer: str, now: datetime) -> Escalation:
    """The upper level's answer: the escalation leaves its board."""
    if not can_enter(actor, escalation.to_board):
        raise Forbidden("Seuls l'équipe du tableau destinataire, un tuteur ou un administrateur répondent.",
                        "escalation_id")
    lock(db, escalation)  # of two answers sent together, the second finds the first
    if escalation.answered_at is not None:
        raise Conflict("Cette remontée a déjà reçu une réponse.", "escalation_id")
    answer = (answer or "").strip()
    if not answer or len(answer) > 2000:
        raise ValidationError("La réponse est obligatoire (2000 caractères au plus).", "answer")
    escalation.answer, escalation.answered_by_id, escalation.answered_at = answer, actor.id, now
    db.flush()
    return escalation


def _escalations(db: Session, column, board_id: int, answered: bool | None, limit: int = 50) -> list[Escalation]:
    query = (select(Escalation).where(column == board_id)
             .options(joinedload(Escalation.problem), joinedload(Escalation.from_board),
                      joinedload(Escalation.to_board), joinedload(Escalation.raised_by))
             .order_by(Escalation.raised_at.desc()).limit(limit))
    if answered is not None:
        query = query.where(Escalation.answered_at.isnot(None) if answered else Escalation.answered_at.is_(None))
    return list(db.scalars(query))


def open_escalations(db: Session, board_id: int) -> list[Escalation]:
    """Problems escalated to this board and not answered yet."""
    return _escalations(db, Escalation.to_board_id, board_id, answered=False)


def sent_escalations(db: Session, board_id: int, limit: int = 10) -> list[Escalation]:
    """What this board escalated, answered or not (latest first)."""
    return _escalations(db, Escalation.from_board_id, board_id, answered=None, limit=limit)


def board_actions(db: Session, board: Board, today: date) -> list[dict]:
    """The improvement module's actions of the board's team (all teams on a workshop or site board):
    late first, then open, then done this week."""
    if not registry_of(db).has("improvement"):
        return []
    groups = improvement.team_actions(db, board.team_id, today)
    late_ids = {a.id for a in groups.get("late", [])}
    result = []
    for state, actions in (("late", groups.get("late", [])),
                           ("open", [a for a in groups.get("open", []) if a.id not in late_ids]),
                           ("done", groups.get("done_this_week", []))):
        for action in sorted(actions, key=lambda a: (a.due, a.id))[:ACTIONS_SHOWN]:
            result.append({"id": action.id, "title": action.title, "owner": action.owner.full_name,
                           "due": action.due.isoformat(), "status": action.status, "state": state,
                           "late": state == "late", "done_on": action.done_on.isoformat() if action.done_on else None})
    return result


def problems_of_meetings(db: Session, meeting_ids: list[int]) -> dict[int, list[Problem]]:
    rows = db.scalars(select(Problem).where(Problem.meeting_id.in_(meeting_ids))
                      .options(selectinload(Problem.escalations)).order_by(Problem.id))
    found: dict[int, list[Problem]] = {}
    for problem in rows:
        found.setdefault(problem.meeting_id, []).append(problem)
    return found


def _resolve_problem(db: Session, problem_id: int):
    problem = db.get(Problem, problem_id)
    if problem is None:
        return None
    return (f"{problem.title} (réunion AIC, {problem.board.name})",
            link("dashboards.meeting", meeting_id=problem.meeting_id))


def _pareto_of_problems(db: Session, start: date, end: date, team_id: int | None) -> list[tuple[str, float]]:
    query = (select(Problem.category, func.count()).join(Board, Board.id == Problem.board_id)
             .where(Problem.raised_on.between(start, end)).group_by(Problem.category))
    if team_id is not None:
        query = query.where(Board.team_id == team_id)
    return [(category, float(count)) for category, count in db.execute(query)]


def _problem_meeting(db: Session, problem_id: int) -> int | None:
    """The actions and problem sheets opened for a problem freeze with its meeting."""
    return db.scalar(select(Problem.meeting_id).where(Problem.id == problem_id))


# Actions and problem sheets opened in a meeting link back to it; its problems feed the Pareto page.
ORIGINS = [Origin("aic_problem", "Problème remonté en réunion AIC", _resolve_problem, owner=_problem_meeting)]
PARETO_SOURCES = [ParetoSource("aic_problems", "Problèmes soulevés en réunion AIC (par catégorie)", _pareto_of_problems)]
