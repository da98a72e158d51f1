"""A validated record never changes, by any path: every write route of every module (API and
pages), the scheduled jobs and ORM bulk statements.

The demo is loaded, a few rows are added so that every kind of child exists (actions of a
non-conformity, of an audit finding and of a work order, a work order with its intervention, an
attachment), then every activity is made validated evidence. Every POST/PATCH/PUT/DELETE rule of
`app.url_map` is then called with the ids of those records (and of their children) as the author
and as an admin, with a body that would change them. Each answer must be < 500, and the rows of the
frozen records — found both by the foreign keys that lead to an activity and by the `owning_activity`
the models declare — must be exactly as before. A new write route that lets a change through fails
here, whatever it is called."""
from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func, inspect, or_, select, update

from dashboards.models import Escalation, Meeting, Problem
from modules.improvement.jobs import mark_late_actions
from modules.improvement.models import Action, ActionPlan, Cause, ProblemSheet, Standard, StandardStep
from modules.maintenance.models import Equipment, Intervention, WorkOrder
from modules.maintenance.schedule import run as maintenance_pass
from modules.qse.models import Audit, Finding, NonConformity
from shopfloor import clock
from shopfloor.auth.models import User
from shopfloor.auth.services import create_token
from shopfloor.db import Base
from shopfloor.demo import load_demo
from shopfloor.evidence import services as evidence_services
from shopfloor.evidence.freeze import FrozenBulkWrite, activity_ids_of, exclude_frozen
from shopfloor.evidence.models import Activity, Attachment, Evidence
from shopfloor.notifications.models import Notification
from shopfloor.referential.models import Competence
from tests.conftest import NOW, DatabaseTemplate, filled_with_app, fresh

FROZEN = re.compile(r"Activité figée : elle est une preuve validée par le tuteur \([A-Z]+-\d+(, [A-Z]+-\d+)*\)")

# Rows that point at an activity without being part of it: the evidence and its reviews (a new
# competence link stays allowed), the stock ledger, the audit programme, QSE indicators and their
# measures, the programme and line calls a pick served, purchase proposals, notifications.
NOT_OWNED = {"core_evidence", "core_evidence_event", "core_review", "stock_move", "qse_audit_programme",
             "qse_indicator", "qse_measurement", "stock_programme_line", "stock_line_call",
             "stock_purchase_proposal", "core_notification"}
NOT_OWNING_LINKS = {("maint_work_order", "parent_id")}       # a curative order proposed from a palliative one
# What may still change on a frozen record: the next level's answer to an escalation.
EXEMPT = {("aic_escalation", "answer"), ("aic_escalation", "answered_by_id"), ("aic_escalation", "answered_at")}
# Routes about accounts and sessions, not records (they would log the walker out).
SKIP_ENDPOINTS = {"auth.login", "auth.logout", "auth.language", "auth.edit_user", "auth.new_user",
                  "auth.password", "auth.change_password"}


# -- What the frozen records are -------------------------------------------------------

def _activity_tables():
    tables = {"core_activity"}
    for table in Base.metadata.sorted_tables:
        for column in table.primary_key.columns:
            if any(fk.column.table.name == "core_activity" for fk in column.foreign_keys):
                tables.add(table.name)
    return tables


def snapshot(db, frozen: set[int]) -> dict:
    """Every row of the frozen records: their activity rows, every row that leads to them by foreign
    keys (lines, steps, causes, votes, problems, escalations, attachments…), and every row whose
    `owning_activity` is one of them (actions by their origin)."""
    fresh(db)
    tables = {t.name: t for t in Base.metadata.sorted_tables}
    activity_tables = _activity_tables()
    keys: dict[str, set] = {name: set(frozen) for name in activity_tables}
    rows: dict[str, dict] = {}
    grew = True
    while grew:
        grew = False
        for name, table in tables.items():
            if name in NOT_OWNED or len(table.primary_key.columns) != 1:
                continue
            pk = list(table.primary_key.columns)[0]
            conditions = [pk.in_(frozen)] if name in activity_tables else []
            for column in table.columns:
                if (name, column.name) in NOT_OWNING_LINKS:
                    continue
                for fk in column.foreign_keys:
                    parent = fk.column.table.name
                    if keys.get(parent) and fk.column.primary_key and parent != name or (
                            parent == name and keys.get(parent) and (name, column.name) not in NOT_OWNING_LINKS
                            and name not in activity_tables):
                        conditions.append(column.in_(keys[parent]))
            if not conditions:
                continue
            found = {row._mapping[pk.name]: row for row in db.execute(select(table).where(or_(*conditions)))}
            if set(found) - keys.get(name, set()):
                keys.setdefault(name, set()).update(found)
                grew = True
            rows[name] = {ident: tuple(value for key, value in row._mapping.items() if (name, key) not in EXEMPT)
                          for ident, row in found.items()}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if not hasattr(cls, "owning_activity") or issubclass(cls, Activity):
            continue
        name = mapper.local_table.name
        for obj in db.scalars(select(cls)):
            if activity_ids_of(obj.owning_activity) & frozen:
                state = inspect(obj)
                rows.setdefault(name, {})[state.identity[0]] = tuple(
                    getattr(obj, attr.key) for attr in mapper.column_attrs if (name, attr.key) not in EXEMPT)
    fresh(db)
    return rows


def diff(before: dict, after: dict) -> list[str]:
    out = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, {}), after.get(name, {})
        for ident in sorted(set(old) | set(new), key=str):
            if old.get(ident) != new.get(ident):
                out.append(f"{name} #{ident}: {old.get(ident)} → {new.get(ident)}")
    return out


# -- The world: the demo, a child of every kind, everything validated ------------------

class World:
    pass


def _make_world(app, db, now) -> dict:
    """The demo, a child of every kind it lacks, and every activity validated evidence: the ids the tests use."""
    load_demo(app, db, now)
    db.commit()
    w = World()
    apprentice = db.scalar(select(User).where(User.role == "apprentice").order_by(User.id))
    w.admin = db.scalar(select(User).where(User.role == "admin").order_by(User.id))
    # a child of every kind the demo lacks
    nc = db.scalar(select(NonConformity).where(NonConformity.status == "open").order_by(NonConformity.id))
    finding = db.scalar(select(Finding).order_by(Finding.id))
    wo = db.scalar(select(WorkOrder).where(WorkOrder.status == "planned").order_by(WorkOrder.id))
    wo.intervention = Intervention(author=apprentice, performed_at=now, title=f"OT-{wo.id} {wo.title}"[:200])
    wo.due, wo.late = now - timedelta(days=2), False
    w.open_wo = db.scalar(select(WorkOrder).where(WorkOrder.status == "planned", WorkOrder.id != wo.id,
                                                  WorkOrder.intervention_id.is_(None)).order_by(WorkOrder.id))
    w.open_wo.due, w.open_wo.late = now - timedelta(days=2), False
    db.flush()
    for origin_type, origin_id in (("qse_nonconformity", nc.id), ("qse_finding", finding.id),
                                   ("maintenance_work_order", wo.id)):
        db.add(Action(title=f"Action {origin_type}", deliverable="Preuve", owner_id=apprentice.id,
                      created_by_id=apprentice.id, origin_type=origin_type, origin_id=origin_id,
                      planned_start=date(2026, 11, 1), due=date(2026, 11, 10)))
    sheet = db.scalar(select(ProblemSheet).join(Cause, Cause.sheet_id == ProblemSheet.id).order_by(ProblemSheet.id))
    attachment = Attachment(activity_id=sheet.id, filename="photo.png", content_type="image/png", size=3,
                            sha256="0" * 64, stored_name=uuid.uuid4().hex, uploaded_by_id=sheet.author_id)
    db.add(attachment)
    db.flush()
    # every activity becomes validated evidence
    competences = db.scalars(select(Competence.id).order_by(Competence.id)).all()
    for activity in db.scalars(select(Activity)):
        linked = {e.competence_id for e in activity.evidence}
        if any(e.state == "validated" for e in activity.evidence):
            continue
        competence_id = next(c for c in competences if c not in linked)
        db.add(Evidence(activity_id=activity.id, competence_id=competence_id, apprentice_id=activity.author_id,
                        statement="Preuve validée pour le test du gel.", state="validated",
                        created_at=now, submitted_at=now))
    db.commit()
    w.frozen = set(db.scalars(select(Activity.id)))
    w.nc, w.finding, w.wo, w.sheet, w.attachment = nc.id, finding.id, wo.id, sheet.id, attachment.id
    w.audit = finding.audit_id
    w.plan = db.scalar(select(ActionPlan.id).order_by(ActionPlan.id))
    w.meeting_problem = db.scalar(select(Problem).join(Meeting).where(Problem.board.has()).order_by(Problem.id))
    return {name: getattr(value, "id", value) for name, value in vars(w).items()}


def _build_world(url: str) -> dict:
    """Once per process and backend (the demo takes seconds to load): each test gets a copy."""
    with clock.frozen(NOW):
        return filled_with_app(url, lambda app, db: _make_world(app, db, NOW))


DATABASE_TEMPLATE = DatabaseTemplate("frozen_world", _build_world)


@pytest.fixture
def world(db, frozen_clock, template_info) -> World:
    w = World()
    vars(w).update(template_info)
    w.admin, w.open_wo = db.get(User, w.admin), db.get(WorkOrder, w.open_wo)
    w.meeting_problem = db.get(Problem, w.meeting_problem)
    return w


def _actions_by_owner(db, w: World) -> dict[str, int]:
    """One frozen action per kind of owner."""
    out = {}
    for action in db.scalars(select(Action).order_by(Action.id)):
        key = "plan" if action.plan_id else action.origin_type
        out.setdefault(key, action.id)
    return out


# -- Contexts: the ids a route's arguments take ------------------------------------------

def contexts(db, w: World) -> list[dict]:
    """Sets of route arguments, each about one frozen record."""
    out: list[dict] = []
    for activity in db.scalars(select(Activity).order_by(Activity.id)):
        out.append({"activity_id": activity.id})
    actions = _actions_by_owner(db, w)
    out += [{"action_id": ident} for ident in actions.values()]
    for sheet in db.scalars(select(ProblemSheet).order_by(ProblemSheet.id)):
        for cause in sheet.causes[:1] or [None]:
            out.append({"problem_id": sheet.id, "cause_id": cause.id if cause else 0, "activity_id": sheet.id})
    for nc_id in {w.nc, *db.scalars(select(NonConformity.id).order_by(NonConformity.id).limit(2))}:
        out.append({"nc_id": nc_id})
    for audit in db.scalars(select(Audit).order_by(Audit.id)):
        finding_id = db.scalar(select(Finding.id).where(Finding.audit_id == audit.id).order_by(Finding.id)) or 0
        out.append({"audit_id": audit.id, "finding_id": finding_id})
    out.append({"wo_id": w.wo})
    from modules.maintenance.models import Analysis
    from modules.qse.models import Objective
    from modules.stock.models import PickList, Reception, ReceptionLine
    from modules.stock.models import CollectionRound, Count, PurchaseRequest, Shipment, SlottingStudy
    from modules.improvement.models import DecisionStudy
    simple = [("count_id", Count), ("pick_id", PickList), ("round_id", CollectionRound),
              ("shipment_id", Shipment), ("analysis_id", Analysis), ("objective_id", Objective),
              ("request_id", PurchaseRequest), ("meeting_id", Meeting)]
    for arg, model in simple:
        for ident in db.scalars(select(model.id).order_by(model.id)):
            out.append({arg: ident})
    for reception in db.scalars(select(Reception).order_by(Reception.id)):
        line = db.scalar(select(ReceptionLine.id).where(ReceptionLine.reception_id == reception.id)) or 0
        out.append({"reception_id": reception.id, "line_id": line})
    for ident in db.scalars(select(SlottingStudy.id)):
        out.append({"study_id": ident, "_prefix": "/stock"})
    for ident in db.scalars(select(DecisionStudy.id)):
        out.append({"study_id": ident, "_prefix": "/improvement"})
    for standard in db.scalars(select(Standard).order_by(Standard.id)):
        step = db.scalar(select(StandardStep.id).where(StandardStep.standard_id == standard.id)) or 0
        out.append({"standard_id": standard.id, "step_id": step})
    for problem in db.scalars(select(Problem).order_by(Problem.id)):
        out.append({"problem_id": problem.id, "_prefix": "/boards"})
    for escalation in db.scalars(select(Escalation.id)):
        out.append({"escalation_id": escalation})
    for evidence_id in db.scalars(select(Evidence.id).order_by(Evidence.id).limit(40)):
        out.append({"evidence_id": evidence_id})
    out.append({"attachment_id": w.attachment})
    return out


def defaults(db) -> dict:
    """Arguments that are not about a frozen record (a board, an item…): the first existing one."""
    from dashboards.models import Board, Screen
    from modules.improvement.models import Idea
    from modules.qse.models import QseIndicator, RegulatoryText
    from modules.stock.models import Balance, Item, LineCall
    from modules.stock.models import PurchaseProposal
    values = {}
    for arg, model in (("board_id", Board), ("screen_id", Screen), ("idea_id", Idea), ("indicator_id", QseIndicator),
                       ("text_id", RegulatoryText), ("item_id", Item), ("call_id", LineCall),
                       ("balance_id", Balance), ("proposal_id", PurchaseProposal)):
        values[arg] = db.scalar(select(func.min(model.id))) or 1
    values["code"] = db.scalar(select(Equipment.code).order_by(Equipment.id)) or "X"
    return values


STRING_CHOICES = {"section": ["team", "problem", "whys", "standard", "effectiveness"],
                  "move": ["up", "down", "delete"],
                  "step": ["prepare", "check", "load", "depart"]}


def _body(w: World, today: date) -> dict:
    """A body that would change a record: plausible values for the fields the routes read."""
    day, later = today.isoformat(), (today + timedelta(days=10)).isoformat()
    return {
        "title": "Changé", "text": "Changé", "name": "Changé", "description": "Changé", "comment": "Changé",
        "reason": "Changé", "answer": "Changé", "statement": "Changé", "note": "Changé", "label": "Changé",
        "deliverable": "Changé", "question": "Changé ?", "report": "Changé", "symptom": "Changé",
        "root_cause": "Changé", "effectiveness": "Changé", "conclusions": "Changé", "decision": "Changé",
        "qui": "Changé", "quoi": "Changé", "team_members": "Changé", "standardisation": "Changé",
        "status": "done", "state": "validated", "effective": "yes", "pdca": "check", "kind": "corrective",
        "category": "methodes", "method": "QRQC", "level": "3", "step": "electrique:consignation", "energy": "electrique",
        "due": later, "planned_start": day, "performed_at": f"{day}T08:00", "date": day, "at": f"{day}T08:00",
        "done_on": day, "checked_on": day, "deadline": later, "audit_date": day, "detected_at": f"{day}T08:00",
        "qty": "1", "quantity": "1", "step_unused": "", "counted_qty": "1", "value": "1", "weight": "1", "cost": "10",
        "time_spent_min": "30", "eff_after": "1", "eff_before": "2", "eff_target": "1", "measured": "1",
        "sku": "", "lot": "", "location": "", "owner": "", "clause": "7.1", "severity": "major",
        "competence": "LOG-1", "origin_type": "qse_nonconformity", "origin_id": str(w.nc),
        "plan_id": str(w.plan), "chosen_cause_id": "", "voter_label": "Collègue",
    }


def _json_body(w: World, today: date) -> dict:
    body = _body(w, today)
    body.update(origin={"type": "qse_nonconformity", "id": w.nc}, plan_id=w.plan, qty=1, quantity=1,
                counted_qty=1, value=1, effective=True, time_spent_min=30, level=3)
    return body


def _rules(app):
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        methods = sorted(rule.methods & {"POST", "PUT", "PATCH", "DELETE"})
        if methods and rule.endpoint not in SKIP_ENDPOINTS and not rule.endpoint.startswith("auth."):
            yield rule, methods


def _urls(rule, ctxs: list[dict], base: dict, users: dict) -> list[str]:
    """Every URL of the rule: one per context that gives its frozen-record arguments, else one with
    the default arguments; [] when an argument is unknown (the walk then fails: say what it takes)."""
    args = list(rule.arguments)
    choices = [_any_choices(rule, a) or STRING_CHOICES.get(a) for a in args]
    urls = list(_context_urls(rule, args, choices, ctxs, base, users))
    if urls or not args:
        return urls or [rule.rule]
    values = dict(base, username=users["username"])
    if not all(a in values or choices[i] for i, a in enumerate(args)):
        return []
    return [_fill(rule.rule, combo) for combo in _combos(args, choices, values)]


def _fill(url: str, combo: dict) -> str:
    for a, value in combo.items():
        url = re.sub(r"<(?:[^:<>]+:)?" + a + r"(?:\([^)]*\))?>", str(value), url)
    return re.sub(r"<any\([^)]*\):(\w+)>", lambda m: str(combo[m.group(1)]), url)


def _context_urls(rule, args, choices, ctxs, base, users):
    seen = set()
    for ctx in ctxs:
        prefix = ctx.get("_prefix")
        if prefix and not rule.rule.startswith(prefix) and not rule.rule.startswith("/api/v1" + prefix.replace(
                "/boards", "/boards")):
            continue
        if "problem_id" in ctx and not prefix and rule.rule.startswith("/boards"):
            continue
        if not any(a in ctx for a in args):
            continue
        values = dict(base, username=users["username"], **{k: v for k, v in ctx.items() if not k.startswith("_")})
        if not all(a in values or choices[i] for i, a in enumerate(args)):
            continue
        for combo in _combos(args, choices, values):
            url = _fill(rule.rule, combo)
            if url not in seen:
                seen.add(url)
                yield url


def _any_choices(rule, arg):
    match = re.search(r"<any\(([^)]*)\):" + arg + ">", rule.rule)
    return [c.strip() for c in match.group(1).split(",")] if match else None


def _combos(args, choices, values):
    combos = [{}]
    for a, options in zip(args, choices):
        if a in values and not options:
            combos = [dict(c, **{a: values[a]}) for c in combos]
        elif options:
            combos = [dict(c, **{a: o}) for c in combos for o in options]
        else:
            combos = [dict(c, **{a: values[a]}) for c in combos]
    return combos


def walk(app, db, w: World, now, actors) -> tuple[list[str], dict]:
    """Call every write route; return the problems found and {url: status} of the calls."""
    before = snapshot(db, w.frozen)
    ctxs, base = contexts(db, w), defaults(db)
    fresh(db)
    problems, statuses, refused = [], {}, {}
    today = now.date()
    for actor in actors:
        token = create_token(db, actor)
        db.commit()
        api = {"Authorization": f"Bearer {token}"}
        for rule, methods in _rules(app):
            urls = _urls(rule, ctxs, base, {"username": actor.username})
            if not urls:
                problems.append(f"{rule.rule} was not walked: give its arguments {sorted(rule.arguments)} "
                                f"in contexts() or defaults()")
            for url in urls:
                for method in methods:
                    if url.startswith("/api/"):
                        response = app.test_client().open(url, method=method, headers=api,
                                                          json=dict(_json_body(w, today), owner=actor.username))
                    else:
                        response = _web_open(app, actor, url, method, dict(_body(w, today), owner=actor.username))
                    statuses[(actor.username, method, url)] = response.status_code
                    if response.status_code >= 500:
                        problems.append(f"{actor.username} {method} {url}: {response.status_code}")
                    if response.status_code == 409 and FROZEN.search(response.get_data(as_text=True)):
                        refused[(method, rule.rule)] = True
                    if response.status_code < 400:
                        changes = diff(before, snapshot(db, w.frozen))
                        if changes:
                            problems.append(f"{actor.username} {method} {url} ({response.status_code}) "
                                            f"changed a frozen record: {changes[:3]}")
                            before = snapshot(db, w.frozen)
    return problems, {"statuses": statuses, "refused": refused}


_web_clients: dict = {}


def _web_open(app, actor, url, method, form):
    client = _web_clients.get((id(app), actor.id))
    if client is None:
        client = app.test_client()
        from tests.conftest import login
        assert login(client, actor.username, PASSWORDS.get(actor.role, "")).status_code in (200, 302)
        _web_clients[(id(app), actor.id)] = client
    return client.open(url, method=method, data=form)


PASSWORDS = {}


@pytest.fixture
def passwords(monkeypatch):
    from shopfloor import demo
    PASSWORDS.clear()
    PASSWORDS.update(demo.PASSWORDS)
    _web_clients.clear()
    yield PASSWORDS
    _web_clients.clear()


# -- The tests -------------------------------------------------------------------------

def test_every_write_route_refuses_to_change_a_validated_record(app, db, world, now, passwords, backend):
    w = world
    authors = [db.get(User, ident) for ident in db.scalars(
        select(Activity.author_id).where(Activity.author.has(User.role == "apprentice")).distinct()
        .order_by(Activity.author_id))]
    problems, seen = walk(app, db, w, now, authors[:1] + [w.admin])
    assert not problems, "\n".join(problems)
    refused = {rule for _, rule in seen["refused"]}
    # the back doors found before: each is now a 409 naming the validated evidence
    # (the API refuses the walker's body for its unknown fields first: its back doors are tested
    # with exact bodies in test_the_back_doors_answer_409_naming_the_evidence)
    expected = {"/improvement/actions/<int:action_id>", "/activities/<int:activity_id>/edit",
                "/boards/problems/<int:problem_id>/escalate",
                "/qse/nonconformities/<int:nc_id>/<any(contain, effectiveness, action, close, cost):step>",
                "/maintenance/work-orders/<int:wo_id>/lockout", "/improvement/problems/<int:problem_id>/causes"}
    assert not expected - refused, f"not refused with the frozen message: {sorted(expected - refused)}"
    assert len(refused) >= 30, (len(refused), sorted(refused))   # 36 rules when this was written


def _api(app, db, user):
    token = create_token(db, user)
    db.commit()
    return app.test_client(), {"Authorization": f"Bearer {token}"}


def test_the_back_doors_answer_409_naming_the_evidence(app, db, world, now):
    w = world
    actions = _actions_by_owner(db, w)
    assert {"plan", "problem", "qse_nonconformity", "aic_problem", "qse_finding", "maintenance_work_order"} <= set(actions)
    for key, action_id in actions.items():
        action = db.get(Action, action_id)
        client, headers = _api(app, db, action.owner)
        for body in ({"status": "in_progress"}, {"due": "2026-12-24"}):
            response = client.patch(f"/api/v1/improvement/actions/{action_id}", headers=headers, json=body)
            assert response.status_code == 409, (key, body, response.get_json())
            assert FROZEN.search(response.get_json()["error"]["message"]), response.get_json()
    sheet = db.get(ProblemSheet, w.sheet)
    client, headers = _api(app, db, sheet.author)
    for method, body in (("PATCH", {"title": "Changé"}), ("DELETE", None)):
        response = client.open(f"/api/v1/activities/{sheet.id}", method=method, headers=headers, json=body)
        assert response.status_code == 409 and FROZEN.search(response.get_json()["error"]["message"]), \
            response.get_json()
    nc = db.get(NonConformity, w.nc)
    sheets_before = db.scalar(select(func.count()).select_from(ProblemSheet).where(
        ProblemSheet.origin_type == "qse_nonconformity", ProblemSheet.origin_id == nc.id))
    client, headers = _api(app, db, nc.author)
    new_action = {"title": "Nouvelle action", "deliverable": "Preuve", "owner": nc.author.username,
                  "planned_start": "2026-11-20", "due": "2026-12-20"}
    response = client.post(f"/api/v1/qse/nonconformities/{nc.id}/actions", headers=headers, json=new_action)
    assert response.status_code == 409 and FROZEN.search(response.get_json()["error"]["message"]), response.get_json()
    response = client.post("/api/v1/improvement/actions", headers=headers,
                           json=dict(new_action, origin={"type": "qse_nonconformity", "id": nc.id}))
    assert response.status_code == 409 and FROZEN.search(response.get_json()["error"]["message"])
    response = client.post("/api/v1/improvement/problems", headers=headers,
                           json={"title": "Fiche", "method": "QRQC", "origin": {"type": "qse_nonconformity", "id": nc.id}})
    assert response.status_code == 409 and FROZEN.search(response.get_json()["error"]["message"])
    fresh(db)
    assert db.scalar(select(func.count()).select_from(Action).where(
        Action.origin_type == "qse_nonconformity", Action.origin_id == nc.id)) == 1
    assert db.scalar(select(func.count()).select_from(ProblemSheet).where(
        ProblemSheet.origin_type == "qse_nonconformity", ProblemSheet.origin_id == nc.id)) == sheets_before


def test_escalating_a_frozen_meetings_problem_is_refused_but_its_answer_is_not(app, db, world, now):
    from dashboards import meetings
    fresh(db)
    problem = db.scalar(select(Problem).where(~Problem.escalations.any(Escalation.answered_at.is_(None)))
                        .where(Problem.board.has()).order_by(Problem.id))
    board = problem.board
    if board.parent is None:
        pytest.fail("the demo's meetings are on a board with a parent")
    from shopfloor.errors import Conflict
    with pytest.raises(Conflict, match=FROZEN.pattern):
        meetings.escalate(db, world.admin, problem, reason="Besoin d'aide", now=now)
    db.rollback()
    escalation = db.scalar(select(Escalation).where(Escalation.answered_at.is_(None)).order_by(Escalation.id))
    assert escalation is not None
    meetings.answer_escalation(db, world.admin, escalation, answer="Pièce commandée", now=now)
    db.commit()
    fresh(db)
    assert db.get(Escalation, escalation.id).answer == "Pièce commandée"
    escalation = db.get(Escalation, escalation.id)
    escalation.reason = "Réécrit"
    with pytest.raises(Conflict, match=FROZEN.pattern):
        db.flush()
    db.rollback()


def test_a_new_competence_link_to_a_frozen_activity_stays_allowed(app, db, world, now):
    fresh(db)
    activity = db.get(Activity, world.sheet)
    linked = {e.competence_id for e in activity.evidence}
    author = activity.author
    code = next(c.code for c in db.scalars(select(Competence).order_by(Competence.id)) if c.id not in linked)
    evidence = evidence_services.link_competence(db, author, activity, code, "Aussi cette compétence.", now)
    db.commit()
    assert evidence.id and evidence.state == "draft"
    activity.title = "Changé"
    from shopfloor.errors import Conflict
    with pytest.raises(Conflict, match=FROZEN.pattern):
        db.flush()
    db.rollback()


def test_bulk_statements_must_exclude_frozen_rows(app, db, world, now):
    with pytest.raises(FrozenBulkWrite):
        db.execute(update(Action).values(title="En masse"))
    db.rollback()
    with pytest.raises(FrozenBulkWrite):
        db.query(WorkOrder).filter(WorkOrder.id == world.wo).update({"late": True})
    db.rollback()
    result = db.execute(exclude_frozen(update(WorkOrder), WorkOrder.intervention_id).values(title="En masse")
                        .execution_options(synchronize_session=False))
    db.commit()
    fresh(db)
    assert result.rowcount > 0
    assert db.get(WorkOrder, world.wo).title != "En masse"
    assert db.get(WorkOrder, world.open_wo.id).title == "En masse"


def test_the_jobs_leave_frozen_records_alone(app, db, world, now):
    w = world
    before = snapshot(db, w.frozen)
    maintenance_pass(db, now)
    db.commit()
    fresh(db)
    assert db.get(WorkOrder, w.wo).late is False          # frozen: never written
    assert db.get(WorkOrder, w.open_wo.id).late is True   # not frozen: flagged
    # a late action outside any frozen record, and the frozen ones that are late
    owner = db.scalar(select(User).where(User.role == "apprentice").order_by(User.id))
    free = Action(title="Action libre", deliverable="Preuve", owner_id=owner.id, created_by_id=owner.id,
                  planned_start=date(2026, 11, 1), due=date(2026, 11, 10))
    db.add(free)
    db.commit()
    late_frozen = [a.id for a in db.scalars(select(Action).where(Action.id != free.id, Action.status.in_(
        ("todo", "in_progress")), Action.due < now.date(), Action.late_since.is_(None)))]
    assert late_frozen
    with app.app_context():   # as the scheduler runs every job
        mark_late_actions(db, now)
        db.commit()
        mark_late_actions(db, now + timedelta(hours=1))
        db.commit()
    fresh(db)
    assert db.get(Action, free.id).late_since == now.date()
    keys = db.scalars(select(Notification.key).where(Notification.key.like("improvement.action_late.%"))).all()
    assert len(keys) == len(set(keys))
    for action_id in late_frozen:
        assert db.get(Action, action_id).late_since is None
        assert sum(1 for k in keys if k.startswith(f"improvement.action_late.{action_id}.")) == 1
    assert not diff(before, snapshot(db, w.frozen))


def test_rows_added_or_moved_by_their_foreign_key_alone_are_refused(app, db, world, now):
    """The guard reads the owner from the foreign keys too: a pending row whose relationship is not
    loaded, or a row moved out of a frozen record by changing an id."""
    from modules.improvement.models import CauseVote
    from shopfloor.errors import Conflict
    fresh(db)
    cause = db.scalar(select(Cause).where(Cause.sheet_id == world.sheet).order_by(Cause.id))
    cause_id, voter_id = cause.id, cause.created_by_id
    db.expunge_all()
    db.add(CauseVote(cause_id=cause_id, voter_id=voter_id, voter_label="Un collègue"))
    with pytest.raises(Conflict, match=FROZEN.pattern):
        db.flush()
    db.rollback()
    action = db.scalar(select(Action).where(Action.plan_id == world.plan).order_by(Action.id))
    action.plan_id = None
    with pytest.raises(Conflict, match=FROZEN.pattern):
        db.flush()
    db.rollback()
