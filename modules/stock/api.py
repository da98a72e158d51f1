from shopfloor.api import api_blueprint

bp = api_blueprint("stock_api", "/stock")
