"""Activities, attachments, evidence, reviews and opinions: the rules of the spine."""
from __future__ import annotations

import hashlib
import io
import uuid
import warnings
from datetime import date, datetime
from pathlib import Path

import filetype
from PIL import Image, ImageOps, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from shopfloor.auth.models import User
from shopfloor.db import lock
from shopfloor.errors import Conflict, Forbidden, PayloadTooLarge, ValidationError
from shopfloor.evidence.cancellation import ensure_not_cancelled, registered_effects, standing_effects
from shopfloor.evidence.activities import new_activity
from shopfloor.evidence.models import (
    OPINION_LEVELS, Activity, Attachment, Evidence, EvidenceEvent, Opinion, Review)
from shopfloor.referential.models import Competence

ALLOWED_TYPES = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif",
                 "application/pdf": "pdf"}
THUMB_SIZE = (480, 480)
# An image is refused from its header, before a pixel is decoded, above these sizes: a phone
# photo is 12 to 24 megapixels; a 12000×12000 PNG of a few hundred KB would take 430 MB decoded.
MAX_IMAGE_PIXELS = 40_000_000
MAX_IMAGE_FRAMES = 300                  # an animated GIF/WebP: frames…
MAX_ANIMATION_PIXELS = 200_000_000      # …and pixels over all its frames


# -- The freeze guard -------------------------------------------------------------
# One guard, in shopfloor/evidence/freeze.py (its flush and bulk-statement listeners are installed
# on the app's session factories by shopfloor.guards); modules call it through these services.
from shopfloor.evidence.freeze import ensure_editable, exclude_frozen, frozen_reason  # noqa: E402,F401


# -- Activities ---------------------------------------------------------------------

# What an activity's page and JSON show with it: load them in the same query.
WITH_FILES = (selectinload(Activity.evidence), selectinload(Activity.attachments))


def _own(actor: User, activity: Activity) -> None:
    if activity.author_id != actor.id:
        raise Forbidden("Seul l'auteur de l'activité peut la modifier.", "activity_id")


def create_activity(db: Session, actor: User, *, title: str, performed_at: datetime, now: datetime,
                    description: str = "", site_id: int | None = None, team_id: int | None = None) -> Activity:
    """A generic activity: work no module covers (a specification written, a training led…)."""
    _check_title_and_time(title, performed_at, now)
    activity = new_activity(Activity, actor, now, performed_at=performed_at, site_id=site_id, team_id=team_id,
                            title=title.strip(), description=description or "")
    db.add(activity)
    db.flush()
    return activity


def _check_title_and_time(title: str, performed_at: datetime, now: datetime) -> None:
    if not (title or "").strip():
        raise ValidationError("Le titre est obligatoire.", "title")
    if len(title) > 200:
        raise ValidationError("Le titre dépasse 200 caractères.", "title")
    if performed_at > now:
        raise ValidationError("La date de réalisation ne peut pas être dans le futur.", "performed_at")


def update_activity(db: Session, actor: User, activity: Activity, now: datetime, **changes) -> Activity:
    _own(actor, activity)
    ensure_not_cancelled(activity)
    ensure_editable(activity)
    title = changes.get("title", activity.title)
    performed_at = changes.get("performed_at", activity.performed_at)
    _check_title_and_time(title, performed_at, now)
    activity.title, activity.performed_at = title.strip(), performed_at
    if "description" in changes:
        activity.description = changes["description"] or ""
    db.flush()
    return activity


def delete_activity(db: Session, actor: User, activity: Activity, effects=None) -> None:
    """Delete an activity that changed nothing outside itself (a draft); one with effects (stock
    moves, reservations, spare parts, actions…) or already cancelled is cancelled instead: 409."""
    _own(actor, activity)
    lock(db, activity)
    ensure_editable(activity)
    ensure_not_cancelled(activity)
    if effects is None:  # what the installed modules declared (the app's registry)
        effects = registered_effects()
    if standing := standing_effects(db, activity, effects):
        raise Conflict(f"Activité {activity.id} non supprimable : elle a des effets hors d'elle-même "
                       f"({'; '.join(standing)}). Annulez-la (« Annuler l'activité ») avec une raison : "
                       f"ses effets seront inversés et son historique gardé.", "activity_id")
    db.delete(activity)
    db.flush()


# -- Attachments --------------------------------------------------------------------

def add_attachment(db: Session, actor: User, activity: Activity, filename: str, data: bytes,
                   storage: Path, max_bytes: int) -> Attachment:
    """Store a photo or PDF; its type is read from its content, never trusted from its name."""
    _own(actor, activity)
    ensure_not_cancelled(activity)
    ensure_editable(activity)
    if not data:
        raise ValidationError("Le fichier est vide.", "file")
    if len(data) > max_bytes:
        raise ValidationError(f"Fichier trop volumineux : {len(data) // 1024} Ko, maximum "
                              f"{max_bytes // (1024 * 1024)} Mo.", "file")
    kind = filetype.guess(data)
    if kind is None or kind.mime not in ALLOWED_TYPES:
        raise ValidationError("Type de fichier refusé : photos (JPEG, PNG, WebP, GIF) ou PDF uniquement.", "file")
    stored_name = f"{uuid.uuid4().hex}.{ALLOWED_TYPES[kind.mime]}"
    thumbnail = _thumbnail(data) if kind.mime.startswith("image/") else None
    storage.mkdir(parents=True, exist_ok=True)
    (storage / stored_name).write_bytes(data)
    if thumbnail:
        (storage / f"thumb_{stored_name}.jpg").write_bytes(thumbnail)
    attachment = Attachment(activity=activity, filename=Path(filename or "fichier").name[:255],
                            content_type=kind.mime, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            stored_name=stored_name, uploaded_by_id=actor.id)
    db.add(attachment)
    db.flush()
    return attachment


def check_image_size(image, field: str = "file") -> None:
    """Refuse (413 naming the field) an image too large to decode, from its header alone.
    `image` is a lazily opened PIL image; only the frames a bounded budget allows are read."""
    width, height = image.size
    pixels = width * height
    if pixels > MAX_IMAGE_PIXELS:
        raise PayloadTooLarge(f"Image trop grande : {width} × {height} pixels, au plus "
                              f"{MAX_IMAGE_PIXELS // 1_000_000} mégapixels.", field)
    if getattr(image, "is_animated", False):
        allowed = max(1, min(MAX_IMAGE_FRAMES, MAX_ANIMATION_PIXELS // max(pixels, 1)))
        try:
            image.seek(allowed)  # a frame past the budget exists: too many frames
        except EOFError:
            image.seek(0)
        else:
            raise PayloadTooLarge(f"Animation trop lourde : plus de {allowed} images de {width} × {height} "
                                  f"pixels.", field)


def _open_image(data: bytes):
    """The image, opened lazily (header only). Pillow's own bomb warning is ours to raise: a 413."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        return Image.open(io.BytesIO(data))


def _thumbnail(data: bytes) -> bytes:
    try:
        with _open_image(data) as image:
            check_image_size(image)
            image.draft("RGB", THUMB_SIZE)  # JPEG: decode at 1/2 … 1/8 scale, never every pixel
            image.thumbnail(THUMB_SIZE)
            image = ImageOps.exif_transpose(image).convert("RGB")
            out = io.BytesIO()
            image.save(out, "JPEG", quality=80)
            return out.getvalue()
    except Image.DecompressionBombError:
        raise PayloadTooLarge(f"Image trop grande : au plus {MAX_IMAGE_PIXELS // 1_000_000} mégapixels.",
                              "file") from None
    except (UnidentifiedImageError, OSError, ValueError, EOFError):
        raise ValidationError("L'image est illisible ou endommagée.", "file") from None


def delete_attachment(db: Session, actor: User, attachment: Attachment) -> None:
    _own(actor, attachment.activity)
    ensure_editable(attachment.activity)
    db.delete(attachment)
    db.flush()


# -- Evidence -----------------------------------------------------------------------

def _record(db: Session, evidence: Evidence, to_state: str, actor: User, now: datetime, comment: str = "") -> None:
    evidence.events.append(EvidenceEvent(from_state=evidence.state if evidence.id else None, to_state=to_state,
                                         actor_id=actor.id, at=now, comment=comment))
    evidence.state = to_state


def competence_for(db: Session, apprentice: User, code: str) -> Competence:
    comp = db.scalar(select(Competence).where(Competence.code == (code or "").strip().upper()))
    if comp is None:
        raise ValidationError(f"Compétence inconnue : {code!r}.", "competence")
    if comp.block.certification_id not in {c.id for c in apprentice.certifications}:
        raise ValidationError(f"{comp.code} appartient au CQPM {comp.block.certification.code}, "
                              f"que vous ne préparez pas.", "competence")
    return comp


def link_competence(db: Session, actor: User, activity: Activity, code: str, statement: str,
                    now: datetime) -> Evidence:
    """Put an activity forward as evidence of a competence (a draft)."""
    if actor.role != "apprentice":
        raise Forbidden("Seul un apprenti relie ses activités à des compétences.", "activity_id")
    _own(actor, activity)
    ensure_not_cancelled(activity)
    comp = competence_for(db, actor, code)
    if any(e.competence_id == comp.id for e in activity.evidence):
        raise Conflict(f"Cette activité est déjà reliée à {comp.code}.", "competence")
    evidence = Evidence(activity=activity, competence=comp, apprentice_id=actor.id,
                        statement=(statement or "").strip(), created_at=now)
    db.add(evidence)
    _record(db, evidence, "draft", actor, now)
    db.flush()
    return evidence


def _lock_evidence(db: Session, evidence: Evidence) -> Evidence:
    """Lock the evidence's activity, then the evidence, and re-read both before deciding: an edit of the
    activity (whose guard locks the activity) and a review of its evidence queue up, and of two reviews
    sent together the second finds the state the first left."""
    lock(db, evidence.activity)
    return lock(db, evidence)


def _own_evidence(actor: User, evidence: Evidence, action: str) -> None:
    if evidence.apprentice_id != actor.id:
        raise Forbidden(f"Seul l'apprenti auteur peut {action} cette preuve.", "evidence_id")


def update_statement(db: Session, actor: User, evidence: Evidence, statement: str) -> Evidence:
    _own_evidence(actor, evidence, "modifier")
    _lock_evidence(db, evidence)
    if evidence.state not in ("draft", "returned"):
        raise Conflict(f"Preuve {_state_label(evidence.state)} : elle n'est plus modifiable.", "statement")
    evidence.statement = (statement or "").strip()
    db.flush()
    return evidence


def submit(db: Session, actor: User, evidence: Evidence, now: datetime) -> Evidence:
    _own_evidence(actor, evidence, "soumettre")
    _lock_evidence(db, evidence)
    if evidence.state not in ("draft", "returned"):
        raise Conflict(f"Preuve {_state_label(evidence.state)} : seule une preuve en brouillon ou renvoyée "
                       f"peut être soumise.", "evidence_id")
    ensure_not_cancelled(evidence.activity, "evidence_id")
    if len(evidence.statement.strip()) < 10:
        raise ValidationError("Décrivez avec vos mots ce que vous avez fait et comment (10 caractères au moins) "
                              "avant de soumettre.", "statement")
    if evidence.apprentice.tutor_id is None:
        raise Conflict("Aucun tuteur ne vous est attribué : demandez à l'administrateur.", "tutor")
    _record(db, evidence, "submitted", actor, now)
    evidence.submitted_at = now
    db.flush()
    return evidence


def withdraw(db: Session, actor: User, evidence: Evidence) -> None:
    """Remove a link that is still a draft or was returned."""
    _own_evidence(actor, evidence, "retirer")
    _lock_evidence(db, evidence)
    if evidence.state not in ("draft", "returned"):
        raise Conflict(f"Preuve {_state_label(evidence.state)} : elle ne peut plus être retirée.", "evidence_id")
    evidence.activity.evidence.remove(evidence)  # delete-orphan: the row goes at flush
    db.flush()


def can_review(actor: User, evidence: Evidence) -> bool:
    return actor.role == "tutor" and evidence.apprentice.tutor_id == actor.id and evidence.apprentice_id != actor.id


def review(db: Session, actor: User, evidence: Evidence, decision: str, comment: str,
           criterion_ids: list[int], now: datetime) -> Review:
    """The tutor validates (with the criteria observed) or returns (with a comment)."""
    if not can_review(actor, evidence):
        raise Forbidden("Seul le tuteur de l'apprenti peut évaluer cette preuve.", "evidence_id")
    _lock_evidence(db, evidence)
    if evidence.state != "submitted":
        raise Conflict(f"Preuve {_state_label(evidence.state)} : seule une preuve soumise s'évalue.", "evidence_id")
    if decision not in ("validate", "return"):
        raise ValidationError("Décision attendue : validate ou return.", "decision")
    comment = (comment or "").strip()
    if decision == "return" and not comment:
        raise ValidationError("Un commentaire est obligatoire pour renvoyer une preuve.", "comment")
    allowed = {c.id: c for c in evidence.competence.criteria}
    unknown = [cid for cid in criterion_ids if cid not in allowed]
    if unknown:
        raise ValidationError(f"Critères qui n'appartiennent pas à {evidence.competence.code} : {unknown}.", "criteria")
    if decision == "validate":
        ensure_not_cancelled(evidence.activity, "evidence_id")
    if decision == "validate" and not criterion_ids:
        raise ValidationError("Cochez au moins un critère observé pour valider.", "criteria")
    record = Review(reviewer_id=actor.id, at=now, decision=decision, comment=comment,
                    criteria=[allowed[cid] for cid in dict.fromkeys(criterion_ids)])
    evidence.reviews.append(record)
    _record(db, evidence, "validated" if decision == "validate" else "returned", actor, now, comment)
    db.flush()
    return record


def criterion_ids_from(values, field: str = "criteria") -> list[int]:
    """Criteria given as ids (or {"id": …}); anything else is a clear 4xx."""
    if values is None:
        return []
    if not isinstance(values, list):
        raise ValidationError("« criteria » doit être une liste d'identifiants de critères.", field)
    ids = []
    for value in values:
        value = value.get("id") if isinstance(value, dict) else value
        try:
            ids.append(int(value))
        except (TypeError, ValueError):
            raise ValidationError(f"Critère invalide : {value!r}.", field) from None
    return ids


# -- Company opinion ----------------------------------------------------------------

def record_opinion(db: Session, actor: User, apprentice: User, competence: Competence, level: str,
                   comment: str, observed_on: date, now: datetime) -> Opinion:
    if actor.role != "tutor" or apprentice.tutor_id != actor.id:
        raise Forbidden("Seul le tuteur de l'apprenti donne l'avis de l'entreprise.", "apprentice")
    if level not in OPINION_LEVELS:
        raise ValidationError(f"Niveau attendu : {', '.join(OPINION_LEVELS)}.", "level")
    if competence.block.certification_id not in {c.id for c in apprentice.certifications}:
        raise ValidationError(f"{competence.code} n'est pas une compétence du CQPM préparé.", "competence")
    if observed_on > now.date():
        raise ValidationError("La date de l'avis ne peut pas être dans le futur.", "observed_on")
    opinion = Opinion(apprentice_id=apprentice.id, competence_id=competence.id, level=level,
                      comment=(comment or "").strip(), observed_on=observed_on, author_id=actor.id, created_at=now)
    db.add(opinion)
    db.flush()
    return opinion


def N_(message: str) -> str:
    """Marks a label for the translation catalogue; templates translate it where shown."""
    return message


STATE_LABELS = {"draft": N_("brouillon"), "submitted": N_("soumise"), "validated": N_("validée"),
                "returned": N_("renvoyée")}
OPINION_LABELS = {"not_seen": N_("Non vu"), "beginner": N_("Débutant"), "in_progress": N_("En cours d'acquisition"),
                  "acquired": N_("Acquis (autonome)")}


def _state_label(state: str) -> str:
    return STATE_LABELS.get(state, state)


