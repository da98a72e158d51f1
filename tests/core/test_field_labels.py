"""A refused form names the field as the page labels it (shopfloor.forms.field_label)."""
from shopfloor.errors import ValidationError
from shopfloor.forms import error_text, field_label


def test_fields_are_named_by_their_form_labels(app):
    with app.test_request_context():
        assert field_label("qty") == "Quantité"
        assert field_label("observed_on") == "Date"          # an input labelled by aria-label only
        assert field_label("lots[2].qty") == "Quantité (ligne 3)"
        assert field_label("threshold_pct") == "Recomptage au-delà de (%)"
        assert field_label("no_form_has_this") == "no_form_has_this"


def test_english_pages_name_the_row_in_english(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert field_label("rows[0].qty").endswith("(row 1)")


def test_messages_name_the_field_by_its_label(app):
    with app.test_request_context():
        assert error_text(ValidationError("Le champ « qty » doit être un nombre.", "qty")) == \
            "Le champ « Quantité » doit être un nombre."
        assert error_text(ValidationError("Trop tard.", "observed_on")) == "Vérifiez le champ « Date » : Trop tard."
        assert error_text(ValidationError("Refusé.")) == "Refusé."
