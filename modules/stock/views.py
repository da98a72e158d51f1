"""Stock pages: tablet-first, scanner-friendly (a scan field with autofocus, Enter submits)."""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from shopfloor import validation as v
from shopfloor.auth.permissions import requires
from shopfloor.db import session
from shopfloor import clock
from shopfloor.errors import DomainError, NotFound, ValidationError
from shopfloor.registry import ActivityType
from modules.stock import ledger, masterdata, picking, reception as receiving
from modules.stock.lookup import item_by_sku, location_by_code, supplier_by_name
from modules.stock.models import (ANOMALY_KINDS, CATEGORIES, DECISIONS, LOCATION_KINDS, MOVE_REASONS, PICK_STATES,
                                  STRATEGIES, Balance, Carrier, ExpectedReceipt, Item, LineCall, Location, Move,
                                  PickList, ProgrammeLine, Reception, Supplier)
from modules.stock.quantities import parse_qty

bp = Blueprint("stock", __name__, url_prefix="/stock", template_folder="templates")
PAGE = 50
EVERYONE = ("admin", "tutor", "apprentice")
ACTIVITY_TYPES = [
    ActivityType("stock_reception", "Réception", ("LOG-1", "LOG-2"),
                 url=lambda a: url_for("stock.reception", reception_id=a.id)),
    ActivityType("stock_pick", "Prélèvement bord de ligne", ("LOG-4", "LOG-5"),
                 url=lambda a: url_for("stock.pick", pick_id=a.id)),
]
NAV = [("Magasin", "stock.index", EVERYONE)]  # one entry per module; the module's own bar leads on


@bp.record_once
def _globals(state):
    state.app.jinja_env.globals.update(
        stock_labels={"kinds": LOCATION_KINDS, "categories": CATEGORIES, "strategies": STRATEGIES,
                      "reasons": MOVE_REASONS, "anomalies": ANOMALY_KINDS, "decisions": DECISIONS,
                      "pick_states": PICK_STATES},
        qty=picking.fmt)


def _user():
    return current_user._get_current_object()


def _page() -> int:
    return v.page_number(request.args)


def _fail(db, exc: DomainError):
    db.rollback()
    return exc


# -- Stock by item --------------------------------------------------------------------------

@bp.get("/")
@requires()
def index():
    db, page, q = session(), _page(), (request.args.get("q") or "").strip()
    query = select(Item).where(Item.active.is_(True))
    if q:
        query = query.where(or_(Item.sku.contains(q.upper()), Item.name.ilike(f"%{q}%")))
    items = list(db.scalars(query.order_by(Item.sku).limit(PAGE + 1).offset((page - 1) * PAGE)))
    more, items = len(items) > PAGE, items[:PAGE]
    totals = dict(db.execute(select(Balance.item_id, func.sum(Balance.qty)).join(Balance.location)
                             .where(Balance.item_id.in_([i.id for i in items]), Location.kind == "storage")
                             .group_by(Balance.item_id)).all()) if items else {}
    return render_template("stock/index.html", items=items, totals=totals, q=q, page=page, more=more)


@bp.get("/items/<int:item_id>")
@requires()
def item(item_id: int):
    db, page = session(), _page()
    found = db.get(Item, item_id) or _missing("Article", item_id)
    moves = list(db.scalars(select(Move).options(joinedload(Move.lot), joinedload(Move.from_location),
                                                 joinedload(Move.to_location), joinedload(Move.user))
                            .where(Move.item_id == item_id).order_by(Move.at.desc(), Move.id.desc())
                            .limit(PAGE + 1).offset((page - 1) * PAGE)))
    return render_template("stock/item.html", item=found, rows=ledger.balance_rows(db, item_id=item_id),
                           moves=moves[:PAGE], more=len(moves) > PAGE, page=page,
                           flagged=picking.flagged_lots(db, found, clock.now()))


def _missing(what: str, ident):
    raise NotFound(f"{what} {ident} introuvable.", "id")


@bp.route("/items/new", methods=["GET", "POST"])
@requires("tutor", "admin")
def new_item():
    return _item_form(None)


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@requires("tutor", "admin")
def edit_item(item_id: int):
    return _item_form(session().get(Item, item_id) or _missing("Article", item_id))


def _item_form(found: Item | None):
    db, error = session(), None
    if request.method == "POST":
        try:
            found = masterdata.update_item(db, found, request.form) if found else masterdata.create_item(db, request.form)
        except DomainError as exc:
            error = _fail(db, exc)
        else:
            flash(f"Article {found.sku} enregistré.", "success")
            return redirect(url_for("stock.item", item_id=found.id))
    suppliers = list(db.scalars(select(Supplier).order_by(Supplier.name)))
    return render_template("stock/item_form.html", item=found, form=request.form, error=error,
                           suppliers=suppliers), (error.status if error else 200)


# -- Locations, partners, import ----------------------------------------------------------------

@bp.get("/locations")
@requires()
def locations():
    db, page = session(), _page()
    kind, q = request.args.get("kind") or "", (request.args.get("q") or "").strip().upper()
    query = select(Location)
    if kind:
        query = query.where(Location.kind == kind)
    if q:
        query = query.where(Location.code.startswith(q))
    rows = list(db.scalars(query.order_by(Location.code).limit(PAGE + 1).offset((page - 1) * PAGE)))
    used = dict(db.execute(select(Balance.location_id, func.count()).where(
        Balance.location_id.in_([r.id for r in rows]), Balance.qty > 0).group_by(Balance.location_id)).all()) if rows else {}
    return render_template("stock/locations.html", locations=rows[:PAGE], used=used, kind=kind, q=q, page=page,
                           more=len(rows) > PAGE)


@bp.get("/locations/<int:location_id>")
@requires()
def location(location_id: int):
    db = session()
    found = db.get(Location, location_id) or _missing("Emplacement", location_id)
    return render_template("stock/location.html", location=found, rows=ledger.balance_rows(db, location_id=found.id))


@bp.route("/locations/new", methods=["GET", "POST"])
@requires("tutor", "admin")
def new_location():
    db, error = session(), None
    if request.method == "POST":
        try:
            created = masterdata.create_location(db, request.form)
        except DomainError as exc:
            error = _fail(db, exc)
        else:
            flash(f"Emplacement {created.code} créé.", "success")
            return redirect(url_for("stock.location", location_id=created.id))
    return render_template("stock/location_form.html", form=request.form, error=error), (error.status if error else 200)


@bp.get("/partners")
@requires()
def partners():
    return _partners(None)


def _partners(error, status: int = 200):
    db = session()
    return render_template("stock/partners.html", suppliers=list(db.scalars(select(Supplier).order_by(Supplier.name))),
                           carriers=list(db.scalars(select(Carrier).order_by(Carrier.name))), error=error,
                           form=request.form), status


@bp.post("/suppliers")
@requires("tutor", "admin")
def create_supplier():
    return _create_partner(masterdata.create_supplier, "Fournisseur")


@bp.post("/carriers")
@requires("tutor", "admin")
def create_carrier():
    return _create_partner(masterdata.create_carrier, "Transporteur")


def _create_partner(create, label: str):
    db = session()
    try:
        created = create(db, request.form)
    except DomainError as exc:
        return _partners(_fail(db, exc), exc.status)
    flash(f"{label} {created.name} ajouté.", "success")
    return redirect(url_for("stock.partners"))


@bp.route("/import", methods=["GET", "POST"])
@requires("tutor", "admin")
def import_data():
    db, report, error = session(), None, None
    if request.method == "POST":
        upload = request.files.get("file")
        try:
            kind = v.choice(request.form, "kind", ["items", "locations"])
            if upload is None or not upload.filename:
                raise ValidationError("Choisissez un fichier CSV ou XLSX.", "file")
            report = masterdata.import_rows(db, kind, masterdata.read_table(upload.filename, upload.read()))
        except DomainError as exc:
            error = _fail(db, exc)
        else:
            if report.ok:
                flash(f"Import réussi : {report.created} créé(s), {report.updated} mis à jour.", "success")
                return redirect(url_for("stock.index" if report.kind == "items" else "stock.locations"))
            db.rollback()
    status = error.status if error else (422 if report and not report.ok else 200)
    return render_template("stock/import.html", report=report, error=error,
                           columns={"items": masterdata.ITEM_COLUMNS, "locations": masterdata.LOCATION_COLUMNS}), status


# -- Receptions -----------------------------------------------------------------------------

@bp.get("/receptions")
@requires()
def receptions():
    db, page = session(), _page()
    rows = list(db.scalars(select(Reception).options(joinedload(Reception.supplier), joinedload(Reception.author))
                           .where(picking.visible_activities(_user()))
                           .order_by(Reception.performed_at.desc(), Reception.id.desc())
                           .limit(PAGE + 1).offset((page - 1) * PAGE)))
    expected = list(db.scalars(select(ExpectedReceipt).options(joinedload(ExpectedReceipt.supplier))
                               .where(ExpectedReceipt.status == "open").order_by(ExpectedReceipt.expected_on).limit(50)))
    return render_template("stock/receptions.html", receptions=rows[:PAGE], more=len(rows) > PAGE, page=page,
                           expected=expected)


@bp.route("/receptions/new", methods=["GET", "POST"])
@requires()
def new_reception():
    db, error = session(), None
    if request.method == "POST":
        try:
            form, now = request.form, clock.now()
            expected = None
            if form.get("expected"):
                expected = db.get(ExpectedReceipt, v.identifier(form, "expected")) or _missing("Commande", form["expected"])
            rec = receiving.open_reception(
                db, _user(), supplier=supplier_by_name(db, form.get("supplier", "")), now=now,
                delivery_note=form.get("delivery_note", ""),
                carrier=masterdata.carrier_by_name(db, form["carrier"]) if form.get("carrier") else None,
                expected=expected, documents_ok=v.boolean(form, "documents_ok", default=False),
                truck_arrived_at=v.datetime_field(form, "truck_arrived_at", required=False))
        except DomainError as exc:
            error = _fail(db, exc)
        else:
            flash("Réception ouverte : scannez maintenant les articles.", "success")
            return redirect(url_for("stock.reception", reception_id=rec.id))
    return render_template("stock/reception_new.html", form=request.form, error=error,
                           suppliers=list(db.scalars(select(Supplier).order_by(Supplier.name))),
                           carriers=list(db.scalars(select(Carrier).order_by(Carrier.name))),
                           expected=list(db.scalars(select(ExpectedReceipt).where(ExpectedReceipt.status == "open")
                                                    .order_by(ExpectedReceipt.reference).limit(100)))
                           ), (error.status if error else 200)


@bp.get("/receptions/<int:reception_id>")
@requires()
def reception(reception_id: int):
    return _reception_page(reception_id, None)


def _reception_page(reception_id: int, error, status: int = 200):
    db = session()
    rec = receiving.get_reception(db, _user(), reception_id)
    suggestions = {line.id: receiving.suggest_location(db, line.item, line.qty) for line in rec.lines
                   if line.conforming and line.put_away_at is None and line.location.kind == "reception"
                   and line.qty > 0}
    return render_template("stock/reception.html", rec=rec, error=error, form=request.form, suggestions=suggestions,
                           mine=rec.author_id == _user().id, problem_url=_problem_url(rec),
                           nc_url=_nonconformity_url(rec)), status


def _problem_url(rec: Reception) -> str | None:
    """The improvement module's new problem sheet, pre-filled from the reception's anomalies (when installed)."""
    if not rec.anomalies or "improvement.new_problem" not in current_app.view_functions:
        return None
    what = "\n".join(f"{ANOMALY_KINDS.get(a.kind, a.kind)}{f' ({a.item.sku})' if a.item else ''} : {a.note} → "
                     f"{DECISIONS.get(a.decision, a.decision)}" for a in rec.anomalies)
    return url_for("improvement.new_problem", origin_type="stock_reception", origin_id=rec.id,
                   title=f"Anomalies à la réception {rec.delivery_note} ({rec.supplier.name})"[:200], what=what)


def _nonconformity_url(rec: Reception) -> str | None:
    """The QSE module's supplier non-conformity, opened from this reception (when installed)."""
    if not rec.anomalies or "qse.new_nonconformity" not in current_app.view_functions:
        return None
    return url_for("qse.new_nonconformity", reception=rec.id)


@bp.post("/receptions/<int:reception_id>/lines")
@requires()
def add_reception_line(reception_id: int):
    db = session()
    rec = receiving.get_reception(db, _user(), reception_id)
    try:
        line = receiving.add_line(db, _user(), rec, receiving.line_input(request.form), clock.now())
    except DomainError as exc:
        _fail(db, exc)
        return _reception_page(reception_id, exc, exc.status)
    flash(f"Ligne {line.item.sku} × {picking.fmt(line.qty)} reçue en {line.location.code}.", "success")
    return redirect(url_for("stock.reception", reception_id=reception_id))


@bp.post("/receptions/<int:reception_id>/close")
@requires()
def close_reception(reception_id: int):
    db = session()
    rec = receiving.get_reception(db, _user(), reception_id)
    try:
        receiving.close_reception(db, _user(), rec, clock.now(),
                                  v.datetime_field(request.form, "truck_departed_at", required=False))
    except DomainError as exc:
        _fail(db, exc)
        return _reception_page(reception_id, exc, exc.status)
    flash("Réception clôturée : départ du camion enregistré.", "success")
    return redirect(url_for("stock.reception", reception_id=reception_id))


@bp.post("/receptions/<int:reception_id>/lines/<int:line_id>/putaway")
@requires()
def put_away(reception_id: int, line_id: int):
    db = session()
    rec = receiving.get_reception(db, _user(), reception_id)
    line = next((line for line in rec.lines if line.id == line_id), None) or _missing("Ligne", line_id)
    try:
        receiving.put_away(db, _user(), line, request.form.get("location", ""), clock.now())
    except DomainError as exc:
        _fail(db, exc)
        return _reception_page(reception_id, exc, exc.status)
    flash(f"{line.item.sku} rangé en {line.put_away_location.code}.", "success")
    return redirect(url_for("stock.reception", reception_id=reception_id))


@bp.post("/receptions/<int:reception_id>/lines/<int:line_id>/correct")
@requires()
def correct_reception_line(reception_id: int, line_id: int):
    db = session()
    line = receiving.get_line(db, _user(), reception_id, line_id)
    try:
        receiving.correct_line(db, _user(), line, request.form.get("qty", ""), request.form.get("reason"), clock.now())
    except DomainError as exc:
        _fail(db, exc)
        return _reception_page(reception_id, exc, exc.status)
    flash(f"Ligne {line.item.sku} corrigée à {picking.fmt(line.qty)} : l'écart est sorti du stock.", "success")
    return redirect(url_for("stock.reception", reception_id=reception_id))


@bp.route("/expected", methods=["GET", "POST"])
@requires()
def expected_receipts():
    db, error = session(), None
    if request.method == "POST":
        try:
            form = request.form
            receipt = receiving.create_expected(
                db, supplier=supplier_by_name(db, form.get("supplier", "")), reference=form.get("reference", ""),
                kind=form.get("kind", "order"), expected_on=v.date_field(form, "expected_on", required=False),
                lines=receiving.parse_expected_lines(form.get("lines", "")))
        except DomainError as exc:
            error = _fail(db, exc)
        else:
            flash(f"Réception attendue {receipt.reference} enregistrée.", "success")
            return redirect(url_for("stock.expected_receipts"))
    rows = list(db.scalars(select(ExpectedReceipt).options(joinedload(ExpectedReceipt.supplier))
                           .order_by(ExpectedReceipt.status, ExpectedReceipt.expected_on.desc()).limit(100)))
    return render_template("stock/expected.html", receipts=rows, error=error, form=request.form,
                           suppliers=list(db.scalars(select(Supplier).order_by(Supplier.name)))), \
        (error.status if error else 200)


# -- Quarantine -----------------------------------------------------------------------------

@bp.get("/quarantine")
@requires()
def quarantine():
    return _quarantine_page(None)


def _quarantine_page(error, status: int = 200):
    return render_template("stock/quarantine.html", rows=receiving.quarantine_stock(session()), error=error,
                           form=request.form), status


@bp.post("/quarantine/<int:balance_id>/release")
@requires("tutor", "admin")
def release(balance_id: int):
    db, form = session(), request.form
    try:
        receiving.release_quarantine(db, _user(), balance_id=balance_id, decision=form.get("decision", ""),
                                     qty=parse_qty(form, "qty"), now=clock.now(),
                                     location_code=form.get("location", ""), note=form.get("note", ""))
    except DomainError as exc:
        return _quarantine_page(_fail(db, exc), exc.status)
    flash("Décision enregistrée.", "success")
    return redirect(url_for("stock.quarantine"))


# -- Programme and picks -----------------------------------------------------------------------

@bp.route("/programme", methods=["GET", "POST"])
@requires()
def programme():
    db, error, now = session(), None, clock.now()
    if request.method == "POST":
        form = request.form
        try:
            picking.add_programme_line(db, _user(), line_code=form.get("line", ""), sku=form.get("sku", ""),
                                       qty=parse_qty(form, "qty"),
                                       needed_at=v.datetime_field(form, "needed_at"),
                                       workshop=v.text(form, "workshop", required=False, max_length=80))
        except DomainError as exc:
            error = _fail(db, exc)
        else:
            flash("Besoin ajouté au programme.", "success")
            return redirect(url_for("stock.programme"))
    return _programme_page(error, now)


def _programme_page(error, now, status=None):
    db = session()
    rows = list(db.scalars(select(ProgrammeLine).options(joinedload(ProgrammeLine.item),
                                                         joinedload(ProgrammeLine.line_location),
                                                         joinedload(ProgrammeLine.pick_list))
                           .where(ProgrammeLine.needed_at >= now - timedelta(days=2),
                                  ProgrammeLine.needed_at < now + timedelta(days=8))
                           .order_by(ProgrammeLine.needed_at, ProgrammeLine.id).limit(300)))
    lines = list(db.scalars(select(Location).where(Location.kind == "line").order_by(Location.code)))
    return render_template("stock/programme.html", rows=rows, lines=lines, error=error, form=request.form,
                           now=v.to_paris(now)), status or (error.status if error else 200)


@bp.post("/programme/pick")
@requires()
def pick_programme():
    db = session()
    try:
        ids = [int(x) for x in request.form.getlist("lines") if x.isdigit()]
        pick = picking.pick_programme(db, _user(), ids, clock.now())
    except DomainError as exc:
        return _programme_page(_fail(db, exc), clock.now(), exc.status)
    flash("Liste de prélèvement réservée : suivez la tournée.", "success")
    return redirect(url_for("stock.pick", pick_id=pick.id))


@bp.get("/picks")
@requires()
def picks():
    db, page = session(), _page()
    status = request.args.get("status") or ""
    query = select(PickList).options(joinedload(PickList.destination), joinedload(PickList.author)).where(
        picking.visible_activities(_user()))
    if status:
        query = query.where(PickList.status == status)
    rows = list(db.scalars(query.order_by(PickList.performed_at.desc(), PickList.id.desc())
                           .limit(PAGE + 1).offset((page - 1) * PAGE)))
    return render_template("stock/picks.html", picks=rows[:PAGE], more=len(rows) > PAGE, page=page, status=status)


@bp.route("/picks/new", methods=["GET", "POST"])
@requires()
def new_pick():
    db, error = session(), None
    if request.method == "POST":
        form = request.form
        try:
            pick = picking.allocate(db, _user(), requests=[(item_by_sku(db, form.get("sku", "")),
                                                            parse_qty(form, "qty"))],
                                    destination=location_by_code(db, form.get("destination", ""), "destination"),
                                    now=clock.now())
        except DomainError as exc:
            error = _fail(db, exc)
        else:
            flash("Stock réservé : suivez la tournée et scannez chaque prélèvement.", "success")
            return redirect(url_for("stock.pick", pick_id=pick.id))
    lines = list(db.scalars(select(Location).where(Location.kind == "line").order_by(Location.code)))
    return render_template("stock/pick_new.html", form=request.form, error=error, lines=lines), \
        (error.status if error else 200)


@bp.get("/picks/<int:pick_id>")
@requires()
def pick(pick_id: int):
    return _pick_page(pick_id, None)


def _pick_page(pick_id: int, error, status: int = 200):
    db = session()
    found = picking.get_pick(db, _user(), pick_id)
    return render_template("stock/pick.html", pick=found, lines=picking.round_order(found),
                           next_line=picking.next_line(found), error=error), status


@bp.post("/picks/<int:pick_id>/scan")
@requires()
def scan_pick(pick_id: int):
    db = session()
    found = picking.get_pick(db, _user(), pick_id)
    try:
        line = picking.confirm_scan(db, _user(), found, request.form.get("location", ""), request.form.get("code", ""),
                                    clock.now())
    except DomainError as exc:
        _fail(db, exc)
        return _pick_page(pick_id, exc, exc.status)
    flash(f"{line.item.sku} lot {line.lot.number} × {picking.fmt(line.qty)} prélevé en {line.location.code}.",
          "success")
    return redirect(url_for("stock.pick", pick_id=pick_id))


@bp.post("/picks/<int:pick_id>/cancel")
@requires()
def cancel_pick(pick_id: int):
    db = session()
    try:
        picking.cancel(db, _user(), picking.get_pick(db, _user(), pick_id), clock.now())
    except DomainError as exc:
        _fail(db, exc)
        return _pick_page(pick_id, exc, exc.status)
    flash("Liste annulée : les réservations sont libérées.", "success")
    return redirect(url_for("stock.pick", pick_id=pick_id))


# -- Line calls ---------------------------------------------------------------------------------

@bp.get("/line-calls")
@requires()
def line_calls():
    return _calls_page(None)


def _calls_page(error, status: int = 200):
    return render_template("stock/line_calls.html", calls=picking.call_queue(session()), now=clock.now(),
                           error=error), status


@bp.route("/line-calls/new", methods=["GET", "POST"])
@requires()
def new_line_call():
    db, error = session(), None
    line_code = (request.values.get("line") or "").upper()
    if request.method == "POST":
        try:
            call = picking.raise_call(db, _user(), line_code=line_code, sku=request.form.get("sku", ""),
                                      qty=parse_qty(request.form, "qty"), now=clock.now())
        except DomainError as exc:
            error = _fail(db, exc)
        else:
            flash(f"Appel envoyé au magasin : {call.item.sku} × {picking.fmt(call.qty)}.", "success")
            return redirect(url_for("stock.new_line_call", line=line_code))
    lines = list(db.scalars(select(Location).where(Location.kind == "line").order_by(Location.code)))
    items = []
    if line_code:
        # the line's usual material: what the programme brings it
        items = list(db.scalars(select(Item).where(Item.id.in_(
            select(ProgrammeLine.item_id).join(ProgrammeLine.line_location).where(Location.code == line_code))
        ).order_by(Item.sku).limit(24)))
    mine = list(db.scalars(select(LineCall).join(LineCall.line_location).where(
        Location.code == line_code, LineCall.status.in_(("open", "picking"))).order_by(LineCall.raised_at)))
    return render_template("stock/line_call_new.html", lines=lines, line_code=line_code, items=items, calls=mine,
                           now=clock.now(), error=error), (error.status if error else 200)


@bp.post("/line-calls/<int:call_id>/serve")
@requires()
def serve_call(call_id: int):
    db = session()
    try:
        pick = picking.serve_call(db, _user(), call_id, clock.now())
    except DomainError as exc:
        return _calls_page(_fail(db, exc), exc.status)
    return redirect(url_for("stock.pick", pick_id=pick.id))


@bp.post("/line-calls/<int:call_id>/cancel")
@requires()
def cancel_call(call_id: int):
    db = session()
    try:
        picking.cancel_call(db, _user(), call_id)
    except DomainError as exc:
        return _calls_page(_fail(db, exc), exc.status)
    flash("Appel annulé.", "success")
    return redirect(url_for("stock.line_calls"))


def elapsed(since, now) -> str:
    minutes = int((now - since).total_seconds() // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h {minutes % 60:02d}"


bp.add_app_template_filter(elapsed, "elapsed")
