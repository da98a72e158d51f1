"""Stock pages: items and their stock, locations, suppliers and carriers, master-data import."""
from __future__ import annotations


from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload

from shopfloor import access
from shopfloor import clock
from shopfloor import validation as v
from shopfloor.auth.permissions import requires
from shopfloor.db import session
from shopfloor.errors import ValidationError
from shopfloor.forms import form_handler, on_error
from modules.stock import importer, inputs, ledger, masterdata, picking
from modules.stock.models import Balance, Carrier, Item, Location, Move, Supplier
from modules.stock.views.common import PAGE, bp, page_number


# -- Stock by item --------------------------------------------------------------------------

@bp.get("/")
@requires()
def index():
    db, page, q = session(), page_number(), (request.args.get("q") or "").strip()
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
    db, page = session(), page_number()
    found = access.get(db, Item, item_id, label="Article")
    moves = list(db.scalars(select(Move).options(joinedload(Move.lot), joinedload(Move.from_location),
                                                 joinedload(Move.to_location), joinedload(Move.user))
                            .where(Move.item_id == item_id).order_by(Move.at.desc(), Move.id.desc())
                            .limit(PAGE + 1).offset((page - 1) * PAGE)))
    return render_template("stock/item.html", item=found, rows=ledger.balance_rows(db, item_id=item_id),
                           moves=moves[:PAGE], more=len(moves) > PAGE, page=page,
                           flagged=picking.flagged_lots(db, found, clock.now()))


@bp.route("/items/new", methods=["GET", "POST"])
@requires("tutor", "admin")
def new_item():
    return _item_form(None)


@bp.route("/items/<int:item_id>/edit", methods=["GET", "POST"])
@requires("tutor", "admin")
def edit_item(item_id: int):
    return _item_form(access.get(session(), Item, item_id, label="Article"))


def _item_form(found: Item | None):
    db = session()

    def render(error=None):
        suppliers = list(db.scalars(select(Supplier).order_by(Supplier.name)))
        return render_template("stock/item_form.html", item=found, form=request.form, error=error,
                               suppliers=suppliers)

    def save():
        saved = (masterdata.update_item(db, found, inputs.item_change(request.form, found.sku)) if found
                 else masterdata.create_item(db, inputs.item(request.form)))
        flash(f"Article {saved.sku} enregistré.", "success")
        return redirect(url_for("stock.item", item_id=saved.id))
    return on_error(render, save) if request.method == "POST" else render()


# -- Locations, partners, import ----------------------------------------------------------------

@bp.get("/locations")
@requires()
def locations():
    db, page = session(), page_number()
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
    found = access.get(db, Location, location_id, label="Emplacement")
    return render_template("stock/location.html", location=found, rows=ledger.balance_rows(db, location_id=found.id))


@bp.route("/locations/new", methods=["GET", "POST"])
@requires("tutor", "admin")
def new_location():
    def render(error=None):
        return render_template("stock/location_form.html", form=request.form, error=error)

    def create():
        created = masterdata.create_location(session(), inputs.location(request.form))
        flash(f"Emplacement {created.code} créé.", "success")
        return redirect(url_for("stock.location", location_id=created.id))
    return on_error(render, create) if request.method == "POST" else render()


@bp.get("/partners")
@requires()
def partners():
    return _partners()


def _partners(error=None):
    db = session()
    return render_template("stock/partners.html", suppliers=list(db.scalars(select(Supplier).order_by(Supplier.name))),
                           carriers=list(db.scalars(select(Carrier).order_by(Carrier.name))), error=error,
                           form=request.form)


@bp.get("/suppliers")
@bp.get("/carriers")
@requires()
def partner_form_address():
    """The forms' address opened directly (a bookmark, a reload after an error): the page that holds them."""
    return redirect(url_for("stock.partners"))


@bp.post("/suppliers")
@requires("tutor", "admin")
@form_handler(_partners)
def create_supplier():
    return _create_partner(masterdata.create_supplier, inputs.supplier, "Fournisseur")


@bp.post("/carriers")
@requires("tutor", "admin")
@form_handler(_partners)
def create_carrier():
    return _create_partner(masterdata.create_carrier, inputs.carrier, "Transporteur")


def _create_partner(create, parse, label: str):
    created = create(session(), parse(request.form))
    flash(f"{label} {created.name} ajouté.", "success")
    return redirect(url_for("stock.partners"))


@bp.route("/import", methods=["GET", "POST"])
@requires("tutor", "admin")
def import_data():
    db = session()
    columns = {"items": inputs.ITEM_COLUMNS, "locations": inputs.LOCATION_COLUMNS}

    def render(error=None, report=None):
        return render_template("stock/import.html", report=report, error=error, columns=columns)

    def run():
        upload = request.files.get("file")
        kind = v.choice(request.form, "kind", ["items", "locations"])
        if upload is None or not upload.filename:
            raise ValidationError("Choisissez un fichier CSV ou XLSX.", "file")
        report = importer.import_rows(db, kind, inputs.read_table(upload.filename, upload.read()))
        if report.ok:
            flash(f"Import réussi : {report.created} créé(s), {report.updated} mis à jour.", "success")
            return redirect(url_for("stock.index" if report.kind == "items" else "stock.locations"))
        db.rollback()   # a refused file writes nothing: the report lists every faulty row
        return render(report=report), 422
    return on_error(render, run) if request.method == "POST" else render()
