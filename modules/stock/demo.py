def load(db, now):
    pass
