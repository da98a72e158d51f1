"""The freeze guard: an activity whose evidence is validated never changes again, nor does anything it owns.

One guard, enforced where it cannot be skipped:
- `ensure_editable(activity)` — services call it before changing an activity; it locks the
  activity row (SELECT … FOR UPDATE on PostgreSQL; SQLite writers hold the write lock since
  BEGIN IMMEDIATE) and reads the validated evidence from the database, not from the identity
  map, so an edit racing a validation is either committed before it or refused;
- `refuse_frozen`, run at every flush by shopfloor.guards, refuses any flush that inserts, changes or deletes an activity, or a
  row that declares `owning_activity` (lines, steps, causes, actions, problems…), when one of the
  activities it belongs to is frozen;
- a `do_orm_execute` listener refuses ORM bulk UPDATE/DELETE statements on those tables unless
  the statement excludes frozen rows itself (`exclude_frozen`), since bulk statements skip the flush.

What a model declares:
- `owning_activity`: the activity (or its id), or a tuple of them, that the row belongs to;
- `previous_owning_activity` (optional): the owner(s) before an unflushed change, so that moving
  a row out of a frozen record is refused too;
- `origin_activity` (optional, on an activity): the record(s) it is opened from; a new activity whose
  origin is frozen is refused (a problem sheet opened from a validated non-conformity), and so is
  pointing it at a frozen one (`origin_keys`: the attributes naming the origin);
- `freeze_exempt` (optional): column attributes that may still change on a frozen owner (the answer
  to an escalation written by the next level's board).

Adding a competence link (a new Evidence row) to a frozen activity stays allowed: the work does not
change, and Evidence is not an owned row."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import event, exists, inspect, select
from sqlalchemy.orm import ORMExecuteState, Session, object_session, sessionmaker

from shopfloor.db import Base
from shopfloor.errors import Conflict
from shopfloor.evidence.models import Activity, Attachment, Evidence
from shopfloor.referential.models import Competence


def frozen_message(codes: Iterable[str]) -> str:
    return (f"Activité figée : elle est une preuve validée par le tuteur ({', '.join(codes)}). "
            f"Elle ne peut plus être modifiée ni supprimée.")


def activity_ids_of(owner) -> set[int]:
    """Activity ids out of an `owning_activity` value: an Activity, an id, None or a tuple of them."""
    if owner is None:
        return set()
    if isinstance(owner, (tuple, list, set, frozenset)):
        return set().union(*(activity_ids_of(o) for o in owner)) if owner else set()
    ident = owner if isinstance(owner, int) else getattr(owner, "id", None)
    return {ident} if ident is not None else set()


def validated_codes(db: Session, activity_ids: Iterable[int], lock: bool = False) -> dict[int, list[str]]:
    """{activity id: codes of its validated evidence} for the frozen ones among `activity_ids`, read
    from the database. With `lock`, the activity rows are locked first (in id order, so two writers
    cannot deadlock), so no validation can commit on them before this transaction ends."""
    ids = sorted({i for i in activity_ids if i is not None})
    if not ids:
        return {}
    with db.no_autoflush:
        if lock:
            db.execute(select(Activity.__table__.c.id).where(Activity.__table__.c.id.in_(ids))
                       .order_by(Activity.__table__.c.id).with_for_update())
        rows = db.execute(select(Evidence.activity_id, Competence.code)
                          .join(Competence, Competence.id == Evidence.competence_id)
                          .where(Evidence.activity_id.in_(ids), Evidence.state == "validated")
                          .order_by(Evidence.activity_id, Competence.code))
        found: dict[int, list[str]] = {}
        for activity_id, code in rows:
            found.setdefault(activity_id, []).append(code)
    return found


def frozen_ids(db: Session, activity_ids: Iterable[int], lock: bool = True) -> set[int]:
    """The frozen ones among these activities (locked by default: for a job deciding what it may write)."""
    return set(validated_codes(db, activity_ids, lock=lock))


def frozen_reason(activity: Activity) -> str | None:
    """Why the activity can no longer change, or None while it can (for display: no lock)."""
    db = object_session(activity)
    if db is None or activity.id is None:
        codes = sorted(e.competence.code for e in activity.evidence if e.state == "validated")
    else:
        codes = validated_codes(db, [activity.id]).get(activity.id, [])
    return frozen_message(codes) if codes else None


def _refuse(found: dict[int, list[str]]) -> None:
    if found:
        codes = sorted({code for codes in found.values() for code in codes})
        raise Conflict(frozen_message(codes))


def ensure_editable(activity: Activity | int, db: Session | None = None) -> None:
    """The one guard every module calls before changing or deleting an activity: locks its row and
    reads its validated evidence from the database; a 409 naming that evidence when it is frozen."""
    activity_id = activity if isinstance(activity, int) else activity.id
    db = db or (None if isinstance(activity, int) else object_session(activity))
    if activity_id is None or db is None:
        if not isinstance(activity, int):
            codes = sorted(e.competence.code for e in activity.evidence if e.state == "validated")
            if codes:
                raise Conflict(frozen_message(codes))
        return
    _refuse(validated_codes(db, [activity_id], lock=True))


# -- What a flush touches ------------------------------------------------------------

def _changed_keys(obj) -> set[str]:
    """Columns and many-to-one references changed on this row since it was loaded (collections aside)."""
    state = inspect(obj)
    return {attr.key for attr in state.mapper.attrs
            if not getattr(attr, "uselist", False) and state.attrs[attr.key].history.has_changes()}


def activities_touched(db: Session) -> set[int]:
    """The activities a flush would change: changed activities, the owners of changed owned rows,
    and the origin of a new activity. The one walk the flush guards share (shopfloor.guards)."""
    touched: set[int] = set()
    for obj in list(db.new) + list(db.dirty) + list(db.deleted):
        cls = type(obj)
        is_new, is_deleted = obj in db.new, obj in db.deleted
        changed: set[str] = set()
        if not is_new and not is_deleted:
            changed = _changed_keys(obj)
            changed -= set(getattr(cls, "freeze_exempt", ()))
            if not changed:
                continue
        if isinstance(obj, Activity):
            if not is_new:
                touched |= activity_ids_of(obj.id)
            origin = getattr(cls, "origin_activity", None)
            if origin is not None and (is_new or set(getattr(cls, "origin_keys", ("origin_type", "origin_id"))) & changed):
                touched |= activity_ids_of(obj.origin_activity)
            continue
        if isinstance(obj, Attachment):
            touched |= activity_ids_of(obj.activity_id if obj.activity_id is not None else obj.activity)
            continue
        if hasattr(cls, "owning_activity"):
            touched |= activity_ids_of(obj.owning_activity) | _owners_by_foreign_key(db, obj)
            if hasattr(cls, "previous_owning_activity") and not is_new:
                touched |= activity_ids_of(obj.previous_owning_activity)
    return touched


def _owners_by_foreign_key(db: Session, obj) -> set[int]:
    """The owners named by the row's foreign keys as they are now: a row added with only
    `count_id=…` (its relationship not loaded while pending), or moved by changing the id."""
    state = inspect(obj)
    owners: set[int] = set()
    for rel in state.mapper.relationships:
        if rel.direction.name != "MANYTOONE":
            continue
        parent_cls = rel.mapper.class_
        if not (issubclass(parent_cls, Activity) or hasattr(parent_cls, "owning_activity")):
            continue
        values = [getattr(obj, state.mapper.get_property_by_column(col).key) for col in rel.local_columns]
        if any(value is None for value in values):
            continue
        with db.no_autoflush:
            parent = db.get(parent_cls, values[0] if len(values) == 1 else tuple(values))
        if parent is None:
            continue
        owners |= activity_ids_of(parent.id if isinstance(parent, Activity) else parent.owning_activity)
    return owners


def refuse_frozen(db: Session, touched: set[int]) -> None:
    """No flush may change a frozen activity or a row it owns, whoever calls it: `touched` is
    what the flush would change (activities_touched); locks those activities, then reads."""
    if touched:
        _refuse(validated_codes(db, touched, lock=True))


# -- Bulk statements -------------------------------------------------------------------

_guarded_tables: set[str] | None = None


class FrozenBulkWrite(RuntimeError):
    """A programming error: a bulk statement that could change frozen rows (never user input)."""


def guarded_tables() -> set[str]:
    """Tables of activities and of the rows they own: bulk UPDATE/DELETE on them must exclude frozen rows."""
    global _guarded_tables
    if _guarded_tables is None:
        tables: set[str] = {Attachment.__table__.name}
        for mapper in Base.registry.mappers:
            cls = mapper.class_
            if issubclass(cls, Activity) or hasattr(cls, "owning_activity"):
                tables.update(t.name for t in mapper.tables)
        _guarded_tables = tables
    return _guarded_tables


def not_frozen(activity_id):
    """SQL condition: the activity whose id is this column has no validated evidence."""
    return ~exists().where(Evidence.activity_id == activity_id, Evidence.state == "validated")


def exclude_frozen(statement, *activity_ids):
    """An ORM UPDATE/DELETE restricted to rows whose owning activities (columns) are not frozen,
    marked so the bulk-statement guard lets it through."""
    return statement.where(*(not_frozen(col) for col in activity_ids)).execution_options(skip_frozen=True)


def _refuse_bulk_writes_to_frozen(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete) or state.execution_options.get("skip_frozen"):
        return
    table = getattr(state.statement, "table", None)
    names = {t.name for t in getattr(state.bind_mapper, "tables", ())} if state.bind_mapper else set()
    if table is not None and getattr(table, "name", None):
        names.add(table.name)
    if names & guarded_tables():
        raise FrozenBulkWrite(
            f"Mise à jour en masse de {', '.join(sorted(names))} sans exclure les activités figées : "
            "utilisez shopfloor.evidence.freeze.exclude_frozen (ou modifiez les lignes une à une).")


def install(factory: sessionmaker) -> None:
    """Guard the bulk statements of the sessions this factory opens (the flush: shopfloor.guards)."""
    event.listen(factory, "do_orm_execute", _refuse_bulk_writes_to_frozen)
