"""Schemathesis over every operation of /api/openapi.json, served by the app in-process (WSGI).

As admin, tutor and apprentice, on both databases, against a small seeded workshop (an item, a location,
a lot, a reception, a pick, a count, an activity with evidence, an equipment and a work order, an NC, an
audit with a finding, a board, an action, a problem sheet), so that half of the generated requests by
id hit real records. A test fails on any 5xx and on any answer its documented status codes, content
types or response schemas do not allow. Hypothesis is derandomised: the same cases on every run."""
from __future__ import annotations

import time
from datetime import timedelta

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings, strategies as st
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

from tests.dashboards.conftest import Org
from tests.maintenance.conftest import Workshop
from tests.stock.conftest import Store

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES = 20           # per operation and database, each sent as every role (positive and negative cases)
STATEFUL_EXAMPLES = 30  # create-then-use scenarios per role and database
ROLES = ("apprentice", "tutor", "admin")
# Operations fuzzed together, by the first segment of their path after /api/v1/: each group is a test of
# its own, so that the two test workers share the fuzzing.
GROUPS = {"stock": ("stock",), "qse": ("qse",), "improvement": ("improvement",), "maintenance": ("maintenance",),
          "boards": ("boards", "indicators", "notifications"),
          "evidence": ("activities", "evidence", "apprentices", "competences", "reviews", "me")}


def _group_of(path: str) -> str | None:
    segment = path.removeprefix("/api/v1/").split("/")[0]
    return next((group for group, segments in GROUPS.items() if segment in segments), None)


@pytest.fixture
def frozen_api_clock(frozen_clock):
    """The API reads the clock: frozen at tests.conftest.NOW, like every other test."""
    return frozen_clock


class Seed:
    """Records of every kind, created through the fixtures of the module tests and the API itself;
    `ids` maps a path parameter's name to the record it should name."""

    def __init__(self, client, db, people, now):
        self.client, self.people = client, people
        store = Store(db, people, now)
        self.reception = store.receive("COL-100", 12, lot="EPX-A", expiry=(now + timedelta(days=90)).date())
        store.receive("VIS-M8", 500, location="B-02-01-1")
        Workshop(db, people, now)
        org = Org(db, people)
        board = org.board(people.tutor)
        apprentice, tutor = people.headers(people.apprentice), people.headers(people.tutor)
        due = (now + timedelta(days=20)).date().isoformat()

        pick = self.post("/api/v1/stock/picks", {"sku": "VIS-M8", "qty": 3, "destination": "L1"}, apprentice)
        count = self.post("/api/v1/stock/counts", {"scope": "zone", "value": "A"}, apprentice)
        activity = self.post("/api/v1/activities", {"title": "Rangement du quai",
                                                    "performed_at": now.isoformat()}, apprentice)
        evidence = self.post("/api/v1/evidence", {"activity_id": activity["id"], "competence": "LOG-2",
                                                  "statement": "J'ai rangé le quai."}, apprentice)
        work_order = self.post("/api/v1/maintenance/work-orders", {"equipment": "TOUR-01",
                                                                   "symptom": "Bruit de roulement"}, apprentice)
        nc = self.post("/api/v1/qse/nonconformities", {
            "title": "Colle trop visqueuse", "source": "production", "severity": "major",
            "description": "Collage non conforme", "lots": ["COL-100:EPX-A"]}, apprentice)
        audit = self.post("/api/v1/qse/audits", {"process": "Réception", "standards": ["iso9001"],
                                                 "clauses": ["8.4"]}, apprentice)
        finding = self.post(f"/api/v1/qse/audits/{audit['id']}/findings",
                            {"clause": "8.4", "kind": "minor", "evidence": "BL non signé"}, apprentice)
        action = self.post("/api/v1/improvement/actions", {"title": "Étiqueter les bacs", "deliverable": "Bacs",
                                                           "owner": "appr", "due": due}, apprentice)
        problem = self.post("/api/v1/improvement/problems", {"title": "Ruptures en ligne", "method": "QRQC"},
                            apprentice)
        cause = self.post(f"/api/v1/improvement/problems/{problem['id']}/causes",
                          {"category": "methodes", "text": "Pas de kanban"}, apprentice)
        self.post("/api/v1/qse/risks", {"process": "Stockage", "description": "Chute de charge", "likelihood": 2,
                                        "severity": 3}, tutor)
        self.ids = {"reception_id": self.reception.id, "pick_id": pick["id"], "count_id": count["id"],
                    "activity_id": activity["id"], "evidence_id": evidence["id"], "wo_id": work_order["id"],
                    "nc_id": nc["id"], "audit_id": audit["id"], "finding_id": finding["id"],
                    "action_id": action["id"], "problem_id": problem["id"], "cause_id": cause["id"],
                    "board_id": board.id, "code": "TOUR-01", "username": "appr"}

    def post(self, url: str, payload: dict, headers: dict) -> dict:
        answer = self.client.post(url, json=payload, headers=headers)
        assert answer.status_code == 201, (url, answer.status_code, answer.get_json())
        return answer.get_json()


HYPOTHESIS = dict(derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck),
                  phases=[Phase.explicit, Phase.generate], print_blob=False, report_multiple_bugs=False)


def _cases(operation, ids: dict):
    """Cases of one operation: schema-valid and schema-violating ones, half of them on seeded records."""
    names = [p.name for p in operation.path_parameters]
    strategies = []
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        strategies.append(operation.as_strategy(generation_mode=mode))
        if names and all(name in ids for name in names):
            strategies.append(operation.as_strategy(generation_mode=mode,
                                                    path_parameters={name: ids[name] for name in names}))
    return st.one_of(strategies)


def _fuzz_operation(operation, ids: dict, tokens: dict) -> None:
    """Each generated case is sent once per role (generation is most of the cost, so it is shared)."""
    @settings(max_examples=EXAMPLES, **HYPOTHESIS)
    @given(case=_cases(operation, ids))
    def run(case):
        for role, headers in tokens.items():
            try:
                case.call_and_validate(headers=headers, checks=CHECKS)
            except (Exception, BaseExceptionGroup) as exc:
                raise AssertionError(f"as {role}: {_summary(exc)}") from None
    run()


def _summary(exc: BaseException) -> str:
    """The failure as schemathesis words it (its title, the check, the response), without Hypothesis' noise."""
    text = str(exc)
    return text if len(text) < 4000 else text[:4000] + " …"


def _documented(value, schema: dict):
    """`value` without the object keys its schema does not name (at every depth)."""
    if isinstance(value, dict) and "properties" in schema:
        return {key: _documented(item, schema["properties"][key]) for key, item in value.items()
                if key in schema["properties"]}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [_documented(item, schema["items"]) for item in value]
    return value


def _vocabulary(seed: Seed, now) -> dict:
    """Field name → a value naming a seeded record, or a date the module rules accept."""
    day, moment = (now + timedelta(days=20)).date().isoformat(), now.isoformat()
    return {"sku": "VIS-M8", "destination": "L1", "line": "L1", "location": "B-02-01-1", "owner": "appr",
            "equipment": "TOUR-01", "supplier": "Colles Durand", "competence": "LOG-2", "team": "Logistique",
            "activity_id": seed.ids["activity_id"], "indicator": "aic.mood", "clause": "8.4", "lots": ["EPX-A"],
            "due": day, "date": now.date().isoformat(), "audit_date": day, "planned_start": now.date().isoformat(),
            "review_on": day, "performed_at": moment, "at": moment, "detected_at": moment, "needed_at": moment,
            "qty": 2, "standards": ["iso9001"], "clauses": ["8.4"]}


def _realistic(value, vocabulary: dict):
    """`value` with the fields the vocabulary knows set to its values (at every depth)."""
    if isinstance(value, dict):
        return {key: vocabulary[key] if key in vocabulary else _realistic(item, vocabulary)
                for key, item in value.items()}
    if isinstance(value, list):
        return [_realistic(item, vocabulary) for item in value]
    return value


def _user(people, role: str):
    return {"admin": people.admin, "tutor": people.tutor, "apprentice": people.apprentice}[role]


def _schema(app, headers: dict | None = None, modes=(GenerationMode.POSITIVE, GenerationMode.NEGATIVE)):
    """The app's OpenAPI document; requests carry a role's token, never a generated Authorization header."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    schema.validate()   # a valid OpenAPI 3 document
    if headers:
        schema.config.update(headers=headers)
    schema.config.generation.update(modes=list(modes), with_security_parameters=False, deterministic=True)
    return schema


def test_every_operation_is_in_a_fuzzed_group(app):
    paths = [result.ok().path for result in _schema(app).get_all_operations()]
    assert len(paths) >= 80
    assert [path for path in paths if _group_of(path) is None] == []


@pytest.mark.parametrize("group", GROUPS)
def test_every_operation_answers_within_its_documented_responses(app, client, db, people, now, frozen_api_clock,
                                                                 backend, group):
    seed = Seed(client, db, people, now)
    tokens = {role: people.headers(_user(people, role)) for role in ROLES}
    schema = _schema(app)
    failures, operations, started = [], 0, time.perf_counter()
    timings = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        if _group_of(operation.path) != group:
            continue
        operations += 1
        start = time.perf_counter()
        try:
            _fuzz_operation(operation, seed.ids, tokens)
        except (Exception, BaseExceptionGroup) as exc:   # every failing operation is reported, not the first only
            failures.append(f"{operation.label}: {_summary(exc)}")
        timings[operation.label] = time.perf_counter() - start
    elapsed = time.perf_counter() - started
    slowest = ", ".join(f"{label} {seconds:.1f} s" for label, seconds in
                        sorted(timings.items(), key=lambda item: -item[1])[:5])
    print(f"\nschemathesis {backend} {group}: {operations} operations × {EXAMPLES} examples × {len(ROLES)} roles "
          f"in {elapsed:.1f} s "
          f"(slowest: {slowest})")
    assert operations >= 5
    assert not failures, "\n\n".join(failures)


@pytest.mark.parametrize("role", ROLES)
def test_created_records_can_be_followed_through_their_links(app, client, db, people, now, frozen_api_clock,
                                                             backend, role):
    seed = Seed(client, db, people, now)
    headers = people.headers(_user(people, role))
    schema = _schema(app, headers, modes=(GenerationMode.POSITIVE,))

    vocabulary = _vocabulary(seed, now)

    @schema.hook
    def map_body(context, body):
        """Scenarios send the documented fields only, naming records that exist (the other test sends
        anything), so that creations succeed often enough for their links to be followed."""
        definition = context.operation.definition.raw.get("requestBody", {})
        schema_ = definition.get("content", {}).get("application/json", {}).get("schema", {})
        return _realistic(_documented(body, schema_), vocabulary)

    links = sum(len(op.get("responses", {}).get("201", {}).get("links", {}))
                for ops in schema.raw_schema["paths"].values() for op in ops.values())
    assert links >= 20
    machine = schema.as_state_machine()
    calls = []

    class Workflow(machine):
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def after_call(self, response, case):
            calls.append((case.method.upper(), case.operation.path, response.status_code))

        def validate_response(self, response, case, additional_checks=(), **kwargs):
            case.validate_response(response, checks=CHECKS, headers=headers)

    started = time.perf_counter()
    hypothesis_settings = settings(settings(max_examples=STATEFUL_EXAMPLES, stateful_step_count=10, **HYPOTHESIS),
                                   phases=[Phase.generate])
    ended = "all scenarios run"
    try:
        Workflow.run(settings=hypothesis_settings)
    except FlakyStrategyDefinition:
        ended = "ended when a scenario could not be replayed"
        # The server keeps what earlier scenarios wrote, so when Hypothesis replays a scenario to vary it, a
        # creation may answer differently and the next step's choices change. Schemathesis' own runner takes
        # it as the end of the run, not as a failure; a failing check still fails the test (FlakyFailure).
    created = {(method, path) for method, path, status in calls if status == 201}
    followed = {(method, path) for method, path, status in calls
                if status < 300 and "{" in path and (method, path) not in created}
    print(f"\nschemathesis stateful {backend} {role}: {links} links, {STATEFUL_EXAMPLES} scenarios, {len(calls)} calls "
          f"({len(created)} operations created a record, {len(followed)} operations answered 2xx on one) "
          f"in {time.perf_counter() - started:.1f} s, {ended}")
    assert created and followed   # the links were followed to records the scenario created


BIG = 2**63
# The hostile inputs the issue found answered with a 500 (and two the fuzzing found), sent through the same
# checks: each must now be refused with a 4xx the document allows, for every role.
REGRESSIONS = [
    ("POST /api/v1/qse/audits", {}, {"process": "Réception", "standards": [{}]}),
    ("POST /api/v1/qse/audits", {}, {"process": "Réception", "questions": [{}], "audit_date": "0001-01-01"}),
    ("POST /api/v1/qse/nonconformities", {}, {"title": "T", "source": "production", "severity": "major",
                                              "description": "D", "quantity": BIG, "reception_id": BIG}),
    ("POST /api/v1/qse/nonconformities", {}, {"title": "T\x00", "source": "production", "severity": "major",
                                              "description": "D\ud800"}),
    ("POST /api/v1/indicators", {}, {"label": "Écarts", "letter": "Q", "higher_is_better": False, "team": BIG}),
    ("POST /api/v1/evidence", {}, {"activity_id": BIG, "competence": "LOG-2"}),
    ("GET /api/v1/improvement/actions", {"query": {"offset": BIG, "limit": BIG}}, None),
    ("GET /api/v1/maintenance/work-orders", {"query": {"offset": str(BIG * 4)}}, None),
    ("GET /api/v1/stock/picks/{pick_id}", {"path_parameters": {"pick_id": BIG - 1}}, None),
    ("POST /api/v1/stock/receptions", {}, {"supplier": "Colles Durand", "delivery_note": "BL-1", "lines": [
        {"sku": "COL-100", "qty": 1e9, "lot": "L1", "expiry": "0001-01-01"}]}),
    ("POST /api/v1/stock/picks", {}, {"sku": "VIS-M8", "qty": 0.000000001, "destination": "L1"}),
    ("POST /api/v1/maintenance/plans", {}, {"equipment": "²", "kind": "usage"}),
    ("POST /api/v1/boards/{board_id}/entries", {"path_parameters": {"board_id": 1}},
     {"indicator": "aic.mood", "date": "0001-01-01", "value": 1e308}),
]


def test_the_inputs_that_gave_500s_answer_within_the_document(app, client, db, people, now, frozen_api_clock,
                                                              backend):
    seed = Seed(client, db, people, now)
    tokens = {role: people.headers(_user(people, role)) for role in ROLES}
    schema = _schema(app)
    statuses = []
    for label, parts, payload in REGRESSIONS:
        operation = schema.find_operation_by_label(label)
        assert operation is not None, label
        path_parameters = parts.get("path_parameters")
        if path_parameters and "board_id" in path_parameters:
            path_parameters = {"board_id": seed.ids["board_id"]}
        extra = {} if payload is None else {"body": payload, "media_type": "application/json"}
        for role, headers in tokens.items():
            case = operation.Case(path_parameters=path_parameters, query=parts.get("query"), **extra)
            response = case.call_and_validate(headers=headers, checks=CHECKS)
            statuses.append((label, role, response.status_code))
    accepted = [(label, role, status) for label, role, status in statuses if not 400 <= status < 500]
    assert accepted == []   # each one is refused with a 4xx
