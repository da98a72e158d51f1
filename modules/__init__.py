"""Trade modules (stock, maintenance, improvement, QSE): each hands the core one registration object."""
