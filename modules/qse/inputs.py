"""What the QSE pages and API accept, parsed in the handlers: raw form or JSON values become typed
values (each error names its field) before a service is called. Services check the rules that need
the database or the time (a review date not in the past, a reference not yet in the register)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from modules.qse.models import OBJECTIVE_STATUSES, REG_COMPLIANCE, REG_DOMAINS, RISK_CATEGORIES, RISK_KINDS
from shopfloor import validation as v
from shopfloor.errors import ValidationError


# -- risks -------------------------------------------------------------------------------

@dataclass(frozen=True)
class RiskInput:
    likelihood: int
    severity: int
    description: str
    title: str
    process: str
    category: str
    kind: str
    work_unit: str = ""
    hazard: str = ""
    existing_measures: str = ""
    treatment: str = ""
    residual_likelihood: int | None = None
    residual_severity: int | None = None
    review_on: date | None = None


def _rating(data: dict, field: str, required: bool = True) -> int | None:
    return v.integer(data, field, required=required, minimum=1, maximum=4)


def risk(data: dict) -> RiskInput:
    """A risk or an opportunity: likelihood × severity on 1..4, its process, DUERP details."""
    likelihood, severity = _rating(data, "likelihood"), _rating(data, "severity")
    description = v.text(data, "description", max_length=3000)
    title = v.text(data, "title", required=False, max_length=200, default=description[:120])
    process = v.text(data, "process", max_length=120)
    category = v.choice(data, "category", tuple(RISK_CATEGORIES), default="quality")
    kind = v.choice(data, "kind", tuple(RISK_KINDS), default="risk")
    texts = {name: v.text(data, name, required=False, max_length=limit)
             for name, limit in (("work_unit", 120), ("hazard", 200), ("existing_measures", 3000), ("treatment", 3000))}
    residual = _rating(data, "residual_likelihood", required=False), _rating(data, "residual_severity", required=False)
    if (residual[0] is None) != (residual[1] is None):
        raise ValidationError("Le risque résiduel se cote en probabilité ET gravité.", "residual_severity")
    return RiskInput(likelihood, severity, description, title, process, category, kind, **texts,
                     residual_likelihood=residual[0], residual_severity=residual[1],
                     review_on=v.date_field(data, "review_on", required=False))


# -- regulatory watch ---------------------------------------------------------------------

REGULATORY_FIELDS = ("reference", "title", "domain", "source", "published_on", "applicability", "requirements",
                     "compliance", "action_planned", "next_review")


@dataclass(frozen=True)
class RegulatoryTextInput:
    reference: str
    title: str
    domain: str
    source: str
    published_on: date | None
    applicability: str
    requirements: str
    action_planned: str
    compliance: str
    next_review: date | None


def regulatory_text(data: dict) -> RegulatoryTextInput:
    """A text of the regulatory watch: reference, title, domain, compliance and the next review."""
    return RegulatoryTextInput(
        reference=v.text(data, "reference", max_length=120), title=v.text(data, "title", max_length=300),
        domain=v.choice(data, "domain", tuple(REG_DOMAINS)),
        source=v.text(data, "source", required=False, max_length=120),
        published_on=v.date_field(data, "published_on", required=False),
        **{name: v.text(data, name, required=False, max_length=5000)
           for name in ("applicability", "requirements", "action_planned")},
        compliance=v.choice(data, "compliance", tuple(REG_COMPLIANCE), default="to_assess"),
        next_review=v.date_field(data, "next_review", required=False))


# -- objectives and indicators -------------------------------------------------------------

def objective_status(data: dict) -> str:
    return v.choice(data, "status", tuple(OBJECTIVE_STATUSES))


@dataclass(frozen=True)
class MeasurementInput:
    measured_on: date
    value: Decimal
    comment: str = ""


def measurement(data: dict) -> MeasurementInput:
    """One measure of an indicator: its day and value."""
    return MeasurementInput(v.date_field(data, "measured_on"), v.decimal(data, "value"),
                            v.text(data, "comment", required=False, max_length=1000))


@dataclass(frozen=True)
class FollowupInput:
    period_start: date
    period_end: date
    analysis: str
    title: str = ""       # "": the service names it after the indicator and the period
    decision: str = ""


def followup(data: dict) -> FollowupInput:
    """A review of an indicator over a period (start ≤ end), with its analysis and decision."""
    start, end = v.date_field(data, "period_start"), v.date_field(data, "period_end")
    if end < start:
        raise ValidationError("La fin de la période précède son début.", "period_end")
    return FollowupInput(start, end, v.text(data, "analysis", max_length=5000),
                         v.text(data, "title", required=False, max_length=200),
                         v.text(data, "decision", required=False, max_length=5000))
