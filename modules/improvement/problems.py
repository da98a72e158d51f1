"""Problem sheets: QQOQCCP and data, Ishikawa 5M with bâtonnage, 5 pourquoi, actions, closure."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from modules.improvement.actions import create_action, origin_actions
from modules.improvement.inputs import NewAction, NewCause, NewProblem
from modules.improvement.models import Action, Cause, CauseVote, ProblemSheet, Why
from shopfloor import access
from shopfloor.auth.models import User
from shopfloor.db import lock
from shopfloor.errors import Conflict, Forbidden, NotFound
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.services import ensure_editable
from shopfloor.origins import check_origin

QQOQCCP = (("qui", "Qui ?"), ("quoi", "Quoi ?"), ("ou", "Où ?"), ("quand", "Quand ?"), ("comment", "Comment ?"),
           ("combien", "Combien ?"), ("pourquoi", "Pourquoi est-ce un problème ?"))
MAX_WHYS = 7

# The steps of each method, in order, and the section of the sheet that carries each one.
METHOD_STEPS: dict[str, list[tuple[str, str]]] = {
    "QRQC": [("Constater : le problème sur le terrain (QQOQCCP)", "problem"),
             ("Sécuriser : actions immédiates", "containment"),
             ("Analyser : Ishikawa et bâtonnage", "ishikawa"), ("Analyser : 5 pourquoi", "whys"),
             ("Corriger : plan d'actions", "actions"), ("Vérifier l'efficacité", "effectiveness"),
             ("Standardiser", "standard"), ("Clôturer", "closure")],
    "8D": [("D1 Constituer l'équipe", "team"), ("D2 Décrire le problème (QQOQCCP)", "problem"),
           ("D3 Actions de sécurisation", "containment"), ("D4 Causes : Ishikawa", "ishikawa"),
           ("D4 Causes racines : 5 pourquoi", "whys"), ("D5-D6 Actions correctives", "actions"),
           ("D6 Vérifier l'efficacité", "effectiveness"), ("D7 Prévenir la récidive : standardiser", "standard"),
           ("D8 Clôturer et féliciter l'équipe", "closure")],
    "PDCA": [("Plan : poser le problème (QQOQCCP)", "problem"), ("Plan : sécuriser", "containment"),
             ("Plan : causes (Ishikawa)", "ishikawa"), ("Plan : 5 pourquoi", "whys"),
             ("Do : plan d'actions", "actions"), ("Check : efficacité", "effectiveness"),
             ("Act : standardiser", "standard"), ("Clôturer", "closure")],
    "DMAIC": [("Define : définir le problème (QQOQCCP)", "problem"), ("Define : sécuriser", "containment"),
              ("Measure / Analyze : Ishikawa", "ishikawa"), ("Analyze : 5 pourquoi", "whys"),
              ("Improve : plan d'actions", "actions"), ("Control : efficacité", "effectiveness"),
              ("Control : standardiser", "standard"), ("Clôturer", "closure")],
    "A3": [("Contexte et équipe", "team"), ("Situation actuelle (QQOQCCP et données)", "problem"),
           ("Mesures immédiates", "containment"), ("Analyse des causes : Ishikawa", "ishikawa"),
           ("Analyse des causes : 5 pourquoi", "whys"), ("Plan d'actions", "actions"),
           ("Suivi et résultats", "effectiveness"), ("Standardisation", "standard"), ("Clôture", "closure")],
}


# -- who may see (ProblemSheet.__access__) and change -----------------------------------

def list_sheets(db: Session, actor: User, status: str | None = None, limit: int = 100) -> list[ProblemSheet]:
    query = (select(ProblemSheet).where(access.visible_filter(ProblemSheet, actor))
             .order_by(ProblemSheet.performed_at.desc()).limit(limit))
    if status:
        query = query.where(ProblemSheet.status == status)
    return list(db.scalars(query))


def _team(db: Session, actor: User, sheet: ProblemSheet, message: str) -> None:
    """Those who see the sheet (its team, the author and their tutor, admins) take part in it."""
    if not access.can_see(db, ProblemSheet, actor, sheet.id):
        raise Forbidden(message, "problem_id")


def _author(actor: User, sheet: ProblemSheet) -> None:
    if actor.id != sheet.author_id:
        raise Forbidden("Seul l'auteur de la fiche peut la modifier (l'équipe ajoute des causes et vote).",
                        "problem_id")


def _open(sheet: ProblemSheet) -> None:
    """Lock the sheet and re-read it before deciding (the sheet first, then its causes, whys and
    actions): of two closures sent together, the second finds it closed."""
    lock(object_session(sheet), sheet)
    ensure_editable(sheet)
    if sheet.status == "closed":
        raise Conflict("Fiche clôturée : elle ne se modifie plus.", "problem_id")


def _participant(db: Session, actor: User, sheet: ProblemSheet) -> None:
    _team(db, actor, sheet, "Seule l'équipe de la fiche peut proposer des causes et voter.")
    _open(sheet)


# -- the sheet ---------------------------------------------------------------------

def create_problem(db: Session, actor: User, spec: NewProblem, *, now: datetime,
                   origin: tuple[str, int] | None = None, team_id: int | None = None) -> ProblemSheet:
    """A problem sheet (an activity authored by the actor) following its method."""
    origin = check_origin(db, origin)
    sheet = new_activity(ProblemSheet, actor, now, team_id=team_id, title=spec.title, method=spec.method,
                         status="open", quoi=spec.what,
                         origin_type=origin[0] if origin else None, origin_id=origin[1] if origin else None)
    if spec.pareto is not None:
        sheet.pareto = spec.pareto
    db.add(sheet)
    db.flush()
    return sheet


def check_may_edit(actor: User, sheet: ProblemSheet) -> None:
    """The author changes an open sheet (the handlers check it before parsing the changes)."""
    _author(actor, sheet)
    _open(sheet)


def update_problem(db: Session, actor: User, sheet: ProblemSheet, changes: dict) -> ProblemSheet:
    """Apply inputs.sheet_changes: the sheet's texts (QQOQCCP, team, data, root cause, standardisation,
    effectiveness), its title, method, Pareto, the effectiveness verdict or the cause the 5 pourquoi starts from."""
    check_may_edit(actor, sheet)
    for key, value in changes.items():
        if key != "chosen_cause_id":
            setattr(sheet, key, value)
    if "chosen_cause_id" in changes:
        choose_cause(db, actor, sheet, changes["chosen_cause_id"])
    db.flush()
    return sheet


# -- Ishikawa and bâtonnage -----------------------------------------------------------

def add_cause(db: Session, actor: User, sheet: ProblemSheet, spec: NewCause) -> Cause:
    _participant(db, actor, sheet)
    cause = Cause(sheet=sheet, category=spec.category, text=spec.text, weight=0, created_by_id=actor.id)
    db.add(cause)
    db.flush()
    return cause


def sheet_cause(sheet: ProblemSheet, cause_id) -> Cause:
    cause = next((c for c in sheet.causes if str(c.id) == str(cause_id)), None)
    if cause is None:
        raise access.not_found(Cause, cause_id, "cause_id", label="Cause de cette fiche")
    return cause


def vote(db: Session, actor: User, sheet: ProblemSheet, cause: Cause, now: datetime, voter_label: str = "") -> Cause:
    """One bâton for the cause, once per person (the actor, or a colleague named on the shared tablet)."""
    _participant(db, actor, sheet)
    label = voter_label
    if db.scalar(select(CauseVote.id).where(CauseVote.cause_id == cause.id, CauseVote.voter_id == actor.id,
                                            CauseVote.voter_label == label)):
        raise Conflict(f"{label or 'Vous'} a déjà voté pour cette cause." if label else
                       "Vous avez déjà voté pour cette cause.", "cause_id")
    try:
        with db.begin_nested():
            db.add(CauseVote(cause=cause, voter_id=actor.id, voter_label=label, created_at=now))
    except IntegrityError:
        raise Conflict("Ce vote est déjà enregistré.", "cause_id") from None
    _recount(db, cause)
    return cause


def unvote(db: Session, actor: User, sheet: ProblemSheet, cause: Cause, voter_label: str = "") -> Cause:
    _participant(db, actor, sheet)
    row = db.scalar(select(CauseVote).where(CauseVote.cause_id == cause.id, CauseVote.voter_id == actor.id,
                                            CauseVote.voter_label == voter_label))
    if row is None:
        raise NotFound("Aucun vote à retirer pour cette cause.", "cause_id")
    db.delete(row)
    db.flush()
    _recount(db, cause)
    return cause


def _recount(db: Session, cause: Cause) -> None:
    db.flush()
    cause.weight = db.scalar(select(func.count()).select_from(CauseVote).where(CauseVote.cause_id == cause.id))
    db.flush()


def remove_cause(db: Session, actor: User, sheet: ProblemSheet, cause: Cause) -> None:
    _author(actor, sheet)
    _open(sheet)
    if sheet.chosen_cause_id == cause.id:
        sheet.chosen_cause = None
    sheet.causes.remove(cause)
    db.flush()


def choose_cause(db: Session, actor: User, sheet: ProblemSheet, cause_id) -> Cause:
    """The cause the 5 pourquoi starts from."""
    _author(actor, sheet)
    _open(sheet)
    cause = sheet_cause(sheet, cause_id)
    if sheet.chosen_cause_id != cause.id and sheet.whys:
        raise Conflict("La chaîne des 5 pourquoi part déjà d'une autre cause : effacez-la avant d'en choisir une "
                       "nouvelle.", "chosen_cause_id")
    sheet.chosen_cause = cause
    db.flush()
    return cause


def ranked_causes(sheet: ProblemSheet) -> list[Cause]:
    return sorted(sheet.causes, key=lambda c: (-c.weight, c.id))


# -- 5 pourquoi ---------------------------------------------------------------------

def check_participant(db: Session, actor: User, sheet: ProblemSheet) -> None:
    """The sheet's team adds causes and votes while it is open (the handlers check it before parsing)."""
    _participant(db, actor, sheet)


def check_why_addable(actor: User, sheet: ProblemSheet) -> None:
    """The author adds a why to an open sheet, from a chosen cause, up to MAX_WHYS (checked before parsing)."""
    _author(actor, sheet)
    _open(sheet)
    if sheet.chosen_cause is None:
        raise Conflict("Choisissez d'abord, dans l'Ishikawa, la cause à analyser.", "chosen_cause_id")
    if len(sheet.whys) >= MAX_WHYS:
        raise Conflict(f"{MAX_WHYS} pourquoi au plus : la cause racine est atteinte.", "answer")


def add_why(db: Session, actor: User, sheet: ProblemSheet, answer: str, question: str = "") -> Why:
    check_why_addable(actor, sheet)
    previous = sheet.whys[-1].answer if sheet.whys else sheet.chosen_cause.text
    question = question or f"Pourquoi : {previous} ?"
    why = Why(position=len(sheet.whys) + 1, question=question[:300], answer=answer)
    sheet.whys.append(why)
    sheet.root_cause = answer   # the deepest answer so far is the root cause until the author says otherwise
    db.flush()
    return why


def clear_whys(db: Session, actor: User, sheet: ProblemSheet) -> None:
    _author(actor, sheet)
    _open(sheet)
    sheet.whys.clear()
    sheet.root_cause = ""
    db.flush()


# -- actions and closure -------------------------------------------------------------

def sheet_actions(db: Session, sheet: ProblemSheet) -> list[Action]:
    return origin_actions(db, "problem", sheet.id)


def add_problem_action(db: Session, actor: User, sheet: ProblemSheet, spec: NewAction, *, owner: User,
                       now: datetime) -> Action:
    _team(db, actor, sheet, "Seule l'équipe de la fiche peut y planifier des actions.")
    _open(sheet)
    return create_action(db, actor, spec, owner=owner, now=now, origin=("problem", sheet.id), team_id=sheet.team_id)


def closure_missing(db: Session, sheet: ProblemSheet) -> list[str]:
    """What still prevents closing the sheet, in words."""
    missing = []
    actions = sheet_actions(db, sheet)
    if not any(a.kind == "corrective" for a in actions):
        missing.append("aucune action corrective n'est planifiée")
    unfinished = [a for a in actions if a.status not in ("done", "abandoned")]
    if unfinished:
        names = ", ".join(f"« {a.title} »" for a in unfinished[:5])
        more = f" et {len(unfinished) - 5} autre(s)" if len(unfinished) > 5 else ""
        missing.append(f"{len(unfinished)} action(s) ni faite(s) ni abandonnée(s) : {names}{more}")
    unmeasured = [a for a in actions if a.status == "done" and a.eff_indicator and not a.effectiveness_recorded]
    if unmeasured:
        missing.append("efficacité non mesurée pour : " + ", ".join(f"« {a.title} »" for a in unmeasured[:5]))
    if not sheet.effectiveness.strip() or sheet.effective is None:
        missing.append("l'efficacité n'est pas enregistrée (constat et verdict efficace / non efficace)")
    return missing


def close_problem(db: Session, actor: User, sheet: ProblemSheet, now: datetime) -> ProblemSheet:
    _author(actor, sheet)
    _open(sheet)
    missing = closure_missing(db, sheet)
    if missing:
        raise Conflict("Clôture impossible : " + " ; ".join(missing) + ".", "status")
    sheet.status, sheet.closed_at = "closed", now
    db.flush()
    return sheet


def reopen_problem(db: Session, actor: User, sheet: ProblemSheet) -> ProblemSheet:
    _author(actor, sheet)
    lock(db, sheet)
    ensure_editable(sheet)
    sheet.status, sheet.closed_at = "open", None
    db.flush()
    return sheet


def steps(sheet: ProblemSheet) -> list[tuple[str, str]]:
    return METHOD_STEPS.get(sheet.method, METHOD_STEPS["PDCA"])

