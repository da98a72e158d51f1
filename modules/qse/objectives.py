"""Objectives and indicators (QSE-4, QSE-6, QSE-7): SMART objectives, indicators, measurements, charts,
off-target alerts (a scheduled job) and indicator follow-ups."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from modules.qse.editing import editable
from modules.qse.inputs import FollowupInput, IndicatorInput, MeasurementInput, NewObjective
from modules.qse.models import IndicatorFollowup, Measurement, Objective, QseIndicator
from shopfloor import access, clock
from shopfloor.auth.models import User
from shopfloor.errors import Conflict, Forbidden, ValidationError
from shopfloor.evidence.activities import new_activity
from shopfloor.notifications.services import notify_many
from shopfloor.urls import link

LIST_LIMIT = 200
CHART_POINTS = 60


def _person(db: Session, username: str, field: str) -> User:
    user = db.scalar(select(User).where(User.username == username))
    if user is None or not user.active:
        raise ValidationError(f"Le champ « {field} » : utilisateur inconnu ({username}).", field)
    return user


# -- objectives (activity qse_objectives) --------------------------------------------------

def create_objective(db: Session, actor: User, spec: NewObjective, now: datetime) -> Objective:
    objective = new_activity(Objective, actor, now, title=spec.title, description=spec.description, axis=spec.axis,
                             target=spec.target, deadline=spec.deadline, owner=_person(db, spec.owner, "owner"),
                             policy_commitment=spec.policy_commitment, means=spec.means)
    db.add(objective)
    db.flush()
    return objective


def set_objective_status(db: Session, actor: User, objective: Objective, status: str) -> Objective:
    """`status` as parsed by inputs.objective_status."""
    editable(actor, objective, "cet objectif")
    objective.status = status
    db.flush()
    return objective


def get_objective(db: Session, actor: User, objective_id: int) -> Objective:
    return access.visible(db, Objective, actor, objective_id, label="L'objectif")


def objectives(db: Session, actor: User) -> list[Objective]:
    """The objectives `actor` may see (an activity: its author, their tutor, admins), active first, by deadline."""
    query = (select(Objective).options(joinedload(Objective.owner), selectinload(Objective.indicators))
             .where(access.visible_filter(Objective, actor))
             .order_by(Objective.status != "active", Objective.deadline, Objective.id).limit(LIST_LIMIT))
    return list(db.scalars(query))


# -- indicators and measurements -----------------------------------------------------------------

INDICATOR_FIELDS = ("name", "definition", "purpose", "formula", "unit", "frequency", "target", "direction", "visual",
                    "owner", "objective_id")


def save_indicator(db: Session, actor: User, spec: IndicatorInput, indicator: QseIndicator | None = None
                   ) -> QseIndicator:
    if indicator is not None:
        check_may_change_indicator(actor, indicator)
    if spec.objective_id is not None and db.get(Objective, spec.objective_id) is None:
        raise ValidationError(f"Objectif n° {spec.objective_id} introuvable.", "objective_id")
    owner = _person(db, spec.owner, "owner")
    indicator = indicator or QseIndicator(created_by_id=actor.id)
    for name in ("name", "definition", "purpose", "formula", "unit", "frequency", "target", "direction", "visual",
                 "objective_id"):
        setattr(indicator, name, getattr(spec, name))
    indicator.owner_id = owner.id
    db.add(indicator)
    db.flush()
    return indicator


def check_may_change_indicator(actor: User, indicator: QseIndicator) -> None:
    """The indicator's owner, its creator, their tutor or an admin keeps it up to date."""
    people = {indicator.owner_id, indicator.created_by_id}
    if actor.id in people or actor.role == "admin":
        return
    if actor.role == "tutor" and any(a.id in people for a in actor.apprentices):
        return
    raise Forbidden("Seuls le pilote de l'indicateur, son créateur, leur tuteur ou un administrateur le "
                    "mettent à jour.", "indicator_id")


def get_indicator(db: Session, indicator_id: int) -> QseIndicator:
    return access.get(db, QseIndicator, indicator_id, "indicator_id")


def add_measurement(db: Session, actor: User, indicator: QseIndicator, values: MeasurementInput,
                    now: datetime) -> Measurement:
    """A measure as parsed by inputs.measurement: not in the future, one a day."""
    check_may_change_indicator(actor, indicator)
    measured_on = values.measured_on
    if measured_on > clock.paris_day(now):
        raise ValidationError("On ne mesure pas un indicateur dans le futur.", "measured_on")
    if db.scalar(select(Measurement.id).where(Measurement.indicator_id == indicator.id,
                                              Measurement.measured_on == measured_on)):
        raise Conflict(f"Une mesure existe déjà au {measured_on:%d/%m/%Y} pour cet indicateur.", "measured_on")
    measurement = Measurement(indicator_id=indicator.id, measured_on=measured_on, value=values.value,
                              comment=values.comment, recorded_by_id=actor.id)
    db.add(measurement)
    db.flush()
    return measurement


def measurements(db: Session, indicator_id: int, limit: int = CHART_POINTS) -> list[Measurement]:
    """The latest measurements of an indicator, oldest first."""
    rows = db.scalars(select(Measurement).where(Measurement.indicator_id == indicator_id)
                      .order_by(Measurement.measured_on.desc()).limit(limit))
    return list(reversed(list(rows)))


def last_measurements(db: Session, indicator_ids: list[int]) -> dict[int, Measurement]:
    """Indicator id → its latest measurement, in one query."""
    if not indicator_ids:
        return {}
    latest = (select(Measurement.indicator_id, func.max(Measurement.measured_on).label("day"))
              .where(Measurement.indicator_id.in_(indicator_ids)).group_by(Measurement.indicator_id).subquery())
    rows = db.scalars(select(Measurement).join(latest, (Measurement.indicator_id == latest.c.indicator_id)
                                               & (Measurement.measured_on == latest.c.day)))
    return {m.indicator_id: m for m in rows}


@dataclass
class IndicatorStatus:
    indicator: QseIndicator
    last: Measurement | None

    @property
    def off_target(self) -> bool:
        return self.last is not None and not self.indicator.on_target(self.last.value)


def indicator_statuses(db: Session, limit: int = LIST_LIMIT) -> list[IndicatorStatus]:
    indicators = list(db.scalars(select(QseIndicator).options(joinedload(QseIndicator.owner),
                                                              joinedload(QseIndicator.objective))
                                 .order_by(QseIndicator.name, QseIndicator.id).limit(limit)))
    last = last_measurements(db, [i.id for i in indicators])
    return [IndicatorStatus(i, last.get(i.id)) for i in indicators]


def chart_figure(indicator: QseIndicator, rows: list[Measurement]) -> str:
    """Plotly JSON: the measures (line or bars, red when off target) and the target as a dashed line."""
    import plotly.graph_objects as go

    days = [m.measured_on.isoformat() for m in rows]
    values = [float(m.value) for m in rows]
    colours = ["#2b8a3e" if indicator.on_target(m.value) else "#c92a2a" for m in rows]
    if indicator.visual == "bar":
        trace = go.Bar(x=days, y=values, marker={"color": colours}, name=indicator.name)
    else:
        trace = go.Scatter(x=days, y=values, mode="lines+markers", name=indicator.name,
                           line={"color": "#1c7ed6", "width": 3}, marker={"color": colours, "size": 10})
    figure = go.Figure(trace)
    figure.add_hline(y=float(indicator.target), line_dash="dash", line_color="#e67700",
                     annotation_text=f"Cible {indicator.target.normalize():f} {indicator.unit}".strip())
    figure.update_layout(margin={"l": 50, "r": 10, "t": 20, "b": 40}, height=320, showlegend=False,
                         yaxis={"title": indicator.unit or "valeur"})
    return json.dumps(figure.to_plotly_json(), default=str)


def alert_off_target(db: Session, now: datetime) -> str:
    """Notify each owner once per off-target latest measurement (the notification key carries the measurement id:
    safe to run twice or on two workers)."""
    rows = []
    for status in indicator_statuses(db, limit=10_000):
        if status.off_target:
            indicator, last = status.indicator, status.last
            rows.append({"user_id": indicator.owner_id, "key": f"qse.indicator_off_target.{last.id}",
                         "url": link("qse.indicator", indicator_id=indicator.id),
                         "message": f"Indicateur « {indicator.name} » hors cible : {last.value.normalize():f} "
                                    f"{indicator.unit} au {last.measured_on:%d/%m/%Y} (cible "
                                    f"{'≥' if indicator.direction == 'higher' else '≤'} "
                                    f"{indicator.target.normalize():f})"})
    inserted = notify_many(db, rows, now) if rows else 0
    return f"{len(rows)} indicateur(s) hors cible, {inserted} alerte(s) envoyée(s)"


def as_json(indicator: QseIndicator, last: Measurement | None = None) -> dict:
    return {"id": indicator.id, "name": indicator.name, "unit": indicator.unit, "target": float(indicator.target),
            "direction": indicator.direction, "frequency": indicator.frequency, "owner": indicator.owner.username,
            "objective_id": indicator.objective_id,
            "last": None if last is None else {"measured_on": last.measured_on.isoformat(), "value": float(last.value),
                                               "on_target": indicator.on_target(last.value)}}


# -- follow-ups (activity qse_indicator_followup) ---------------------------------------------------

def create_followup(db: Session, actor: User, indicator: QseIndicator, values: FollowupInput,
                    now: datetime) -> IndicatorFollowup:
    """A review of an indicator over a period (inputs.followup): the latest measure in it is frozen
    with the analysis."""
    start, end = values.period_start, values.period_end
    if end > clock.paris_day(now):
        raise ValidationError("La période suivie ne peut pas finir dans le futur.", "period_end")
    last = db.scalar(select(Measurement).where(Measurement.indicator_id == indicator.id,
                                               Measurement.measured_on.between(start, end))
                     .order_by(Measurement.measured_on.desc()).limit(1))
    if last is None:
        raise ValidationError("Aucune mesure de cet indicateur dans la période : saisissez-la d'abord.",
                              "period_start")
    followup = new_activity(
        IndicatorFollowup, actor, now,
        title=values.title or f"Suivi {indicator.name} – {start:%m/%Y}"[:200],
        indicator=indicator, period_start=start, period_end=end, last_value=last.value,
        on_target=indicator.on_target(last.value), analysis=values.analysis, decision=values.decision)
    db.add(followup)
    db.flush()
    return followup


def get_followup(db: Session, actor: User, followup_id: int) -> IndicatorFollowup:
    return access.visible(db, IndicatorFollowup, actor, followup_id, label="Le suivi d'indicateur")


def followups(db: Session, actor: User, indicator_id: int) -> list[IndicatorFollowup]:
    return list(db.scalars(select(IndicatorFollowup).options(joinedload(IndicatorFollowup.author))
                           .where(IndicatorFollowup.indicator_id == indicator_id,
                                  access.visible_filter(IndicatorFollowup, actor))
                           .order_by(IndicatorFollowup.period_end.desc()).limit(50)))


def month_bounds(day: date) -> tuple[date, date]:
    """The first and last Paris days of the month of `day`: a follow-up's default period."""
    return clock.month_start(day), clock.next_month_start(day) - timedelta(days=1)

