from shopfloor.api import api_blueprint

bp = api_blueprint("stock_ops_api", "/stock")
