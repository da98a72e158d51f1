"""The cache of verified API tokens: a cached token keeps working in one statement, revocation and
deactivation take effect on the very next request, the cache stays bounded."""
from datetime import timedelta

from sqlalchemy import select

from shopfloor import clock
from shopfloor.auth import services
from shopfloor.auth.models import ApiToken
from tests.conftest import fresh, statements_sent


def _queries(seen: list[str]) -> list[str]:
    """The statements that read or write rows (not SQLite's BEGIN)."""
    return [s for s in seen if s.upper().startswith(("SELECT", "UPDATE", "INSERT", "DELETE"))]


def _digest(token: str) -> str:
    return services._hash_token(token)


def test_a_cached_token_still_works_with_one_statement(app, client, people):
    headers = people.headers(people.apprentice)
    assert client.get("/api/v1/me", headers=headers).get_json()["username"] == "appr"
    assert services.VERIFIED_TOKENS.get(_digest(people.token(people.apprentice))) is not None
    db = app.extensions["shopfloor_sessions"].open(write=False)
    try:
        with statements_sent(app.extensions["shopfloor_sessions"].engine) as seen:
            user = services.user_for_token(db, people.token(people.apprentice), clock.now())
        assert user.username == "appr"
        assert len(_queries(seen)) == 1, seen
    finally:
        db.close()


def test_revocation_takes_effect_on_the_next_request(client, people, db, now):
    headers = people.headers(people.apprentice)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    services.revoke_tokens(db, people.apprentice, now, people.token(people.apprentice)[:10])
    db.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401
    assert services.VERIFIED_TOKENS.get(_digest(people.token(people.apprentice))) is None


def test_deactivation_takes_effect_on_the_next_request(client, people, db, now):
    headers = people.headers(people.apprentice)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    services.set_active(db, people.admin, people.apprentice, False, now=now)
    db.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_a_revocation_written_by_hand_is_seen_too(client, people, db, now):
    headers = people.headers(people.apprentice)
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    token = db.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(people.token(people.apprentice))))
    token.revoked_at = now
    db.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_last_use_is_written_at_most_every_five_minutes(app, people, db, now):
    token = people.token(people.apprentice)
    sessions = app.extensions["shopfloor_sessions"]
    for at in (now, now + timedelta(minutes=1), now + timedelta(minutes=6)):
        reader = sessions.open(write=False)
        with statements_sent(sessions.engine) as seen:
            assert services.user_for_token(reader, token, at) is not None
        reader.close()
        writes = [s for s in _queries(seen) if s.startswith("UPDATE")]
        assert len(writes) == (0 if at == now + timedelta(minutes=1) else 1), (at, seen)
        fresh(db)
        stored = db.scalar(select(ApiToken.last_used_at).where(ApiToken.token_hash == _digest(token)))
        assert stored == (now if at != now + timedelta(minutes=6) else at)


def test_the_cache_is_bounded():
    cache = services._VerifiedTokens(size=3)
    for n in range(10):
        cache.put(f"digest-{n}", n)
    assert len(cache) == 3
    assert cache.get("digest-0") is None and cache.get("digest-9") == 9
    cache.get("digest-7")               # the most recently used stays
    cache.put("digest-10", 10)
    assert cache.get("digest-7") == 7 and cache.get("digest-8") is None
