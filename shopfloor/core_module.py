"""The core's own registration: its pages, its API and the generic activity type."""
from shopfloor import access
from shopfloor.forms import error_text
from shopfloor.auth.permissions import current_actor
from shopfloor.db import session
from shopfloor.api import core_api
from shopfloor.auth.views import bp as auth_bp
from shopfloor.evidence.api import bp as evidence_api
from shopfloor.evidence.context import activity_url
from shopfloor.evidence.models import OPINION_LEVELS
from shopfloor.evidence.services import OPINION_LABELS, STATE_LABELS
from shopfloor.evidence.views import bp as evidence_bp
from shopfloor.notifications.views import api as notifications_api
from shopfloor.notifications.views import bp as notifications_bp
from shopfloor.referential.models import CRITERION_HEADING_LABELS
from shopfloor.registry import ActivityType, Module
from shopfloor.web import bp as web_bp

core_module = Module(
    name="core",
    label="Shopfloor",
    blueprints=[web_bp, auth_bp, evidence_bp, core_api, evidence_api, notifications_bp, notifications_api],
    activity_types=[ActivityType("generic", "Activité libre")],
    nav=[
        ("Accueil", "web.home", ("admin", "tutor", "apprentice")),
        ("Mes activités", "evidence.activities", ("apprentice",)),
        ("À valider", "evidence.review_queue", ("tutor",)),
        ("Couverture", "evidence.coverage_page", ("apprentice", "tutor")),
        ("Référentiels", "web.referential_index", ("admin", "tutor", "apprentice")),
        ("Utilisateurs", "auth.users", ("admin",)),
    ],
    # reachable in templates as {{ core.state_labels }}, {{ core.activity_url(a) }}…
    template_globals={"state_labels": STATE_LABELS, "opinion_labels": OPINION_LABELS,
                      "opinion_levels": OPINION_LEVELS, "activity_url": activity_url,
                      "criterion_heading": CRITERION_HEADING_LABELS.get, "error_text": error_text,
                      # {% if core.may_open(record) %}<a …>{% endif %}: no link to a page that would answer 404
                      "may_open": lambda record: access.may_open(session(), current_actor(), record)},
    public_endpoints=("auth.login", "auth.logout", "web.healthz", "web.openapi", "web.plotly_js"),
)
