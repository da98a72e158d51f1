from flask import Blueprint

bp = Blueprint("stock", __name__, url_prefix="/stock", template_folder="templates")
ACTIVITY_TYPES = []
NAV = []
