from flask import Blueprint

bp = Blueprint("stock_ops", __name__, url_prefix="/stock", template_folder="templates")
ACTIVITY_TYPES = []
NAV = []
