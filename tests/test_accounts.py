"""Facilitator accounts: password hashing, throttled logins, server-side sessions and cookies."""
import re
from urllib.parse import urlencode
import subprocess
import sys

import pytest
from werkzeug.security import generate_password_hash

from conftest import PASSWORD, Visitor, make_facilitator
from toolkit import create_app
from toolkit import facilitator as facilitators


def _login(visitor, email, password, **kwargs):
    return visitor.post("/login", {"email": email, "password": password}, **kwargs)


def test_passwords_are_hashed_with_argon2id_at_recommended_cost():
    # A fresh interpreter: the hasher exactly as `toolkit serve` uses it, not the tests' quick one.
    stored = subprocess.run(
        [sys.executable, "-c", "from toolkit import facilitator as f; print(f.hash_password('x' * 12))"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    found = re.fullmatch(r"\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$.+", stored)
    assert found, stored
    memory, passes, lanes = map(int, found.groups())
    # OWASP's floor is 19 MiB and 2 passes; RFC 9106's second choice is 64 MiB and 3 passes.
    assert memory >= 64 * 1024 and passes >= 3 and lanes >= 1


def test_an_older_hash_still_logs_in_and_is_upgraded(app, db):
    account = make_facilitator(db)
    db.execute("UPDATE facilitators SET password_hash = ? WHERE id = ?",
               [generate_password_hash(PASSWORD), account["id"]])
    db.conn.commit()
    response = _login(Visitor(app.test_client()), account["email"], PASSWORD)
    assert response.status_code == 303
    assert facilitators.get(db, account["id"])["password_hash"].startswith("$argon2id$")


def _error(response) -> str:
    page = response.get_data(as_text=True)
    return re.search(r'class="message error">(.*?)<', page, re.S).group(1).strip()


def test_unknown_address_and_wrong_password_get_the_same_answer(app, db):
    account = make_facilitator(db)
    wrong = _login(Visitor(app.test_client()), account["email"], "not the password")
    unknown = _login(Visitor(app.test_client()), "nobody@example.org", "not the password")
    assert wrong.status_code == unknown.status_code == 401
    assert _error(wrong) == _error(unknown)


def test_logins_are_throttled_after_repeated_failures_alike_for_unknown_addresses(app, db):
    account = make_facilitator(db)
    answers = {}
    for email in (account["email"], "nobody@example.org"):
        visitor = Visitor(app.test_client())
        for _ in range(facilitators.LOGIN_FAILURES_PER_EMAIL):
            assert _login(visitor, email, "not the password").status_code == 401
        answers[email] = _login(visitor, email, PASSWORD if email == account["email"] else "x")
    known, unknown = answers.values()
    assert known.status_code == unknown.status_code == 429
    assert _error(known) == _error(unknown)
    assert int(known.headers["Retry-After"]) > 0
    assert "login" not in known.headers.get("Set-Cookie", "")


def test_throttling_is_shared_by_every_server_process(app, db, tmp_path):
    """A second app on the same database (another worker) sees the first one's failures."""
    account = make_facilitator(db)
    other = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE": app.config["DATABASE"]})
    for number in range(facilitators.LOGIN_FAILURES_PER_EMAIL):
        worker = app if number % 2 else other
        _login(Visitor(worker.test_client()), account["email"], "wrong password")
    assert _login(Visitor(other.test_client()), account["email"], PASSWORD).status_code == 429


def test_a_client_trying_many_addresses_is_throttled(app, db):
    visitor = Visitor(app.test_client())
    for number in range(facilitators.LOGIN_FAILURES_PER_CLIENT):
        assert _login(visitor, f"guess{number}@example.org", "wrong password").status_code == 401
    assert _login(visitor, "another@example.org", "wrong password").status_code == 429


def test_a_successful_login_clears_the_address_count(app, db):
    account = make_facilitator(db)
    visitor = Visitor(app.test_client())
    for _ in range(facilitators.LOGIN_FAILURES_PER_EMAIL - 1):
        _login(visitor, account["email"], "wrong password")
    assert _login(visitor, account["email"], PASSWORD).status_code == 303
    for _ in range(facilitators.LOGIN_FAILURES_PER_EMAIL - 1):
        _login(Visitor(app.test_client()), account["email"], "wrong password")
    assert _login(Visitor(app.test_client()), account["email"], PASSWORD).status_code == 303


def test_login_starts_a_fresh_session(app, db):
    account = make_facilitator(db)
    visitor = Visitor(app.test_client())
    with visitor.client.session_transaction() as session:
        session["planted"] = "by an attacker"
        session["participants"] = {"1": 1}
    before = visitor.token()
    assert _login(visitor, account["email"], PASSWORD).status_code == 303
    with visitor.client.session_transaction() as session:
        assert "planted" not in session and "participants" not in session
        assert session.get("csrf_token") != before


def test_logout_ends_the_login_on_the_server(app, db, facilitator):
    cookie = facilitator.client.get_cookie("session").value
    assert facilitator.get("/facilitator/").status_code == 200
    facilitator.post("/logout")
    replay = app.test_client()
    replay.set_cookie("session", cookie)
    response = replay.get("/facilitator/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_a_login_left_alone_ends(app, db, facilitator):
    db.execute("UPDATE logins SET seen_at = '2000-01-01T00:00:00+00:00'")
    db.conn.commit()
    assert facilitator.get("/facilitator/").status_code == 302


def test_a_login_ends_after_a_working_day_however_busy(app, db, facilitator):
    db.execute("UPDATE logins SET created_at = '2000-01-01T00:00:00+00:00'")
    db.conn.commit()
    assert facilitator.get("/facilitator/").status_code == 302


def test_a_new_password_ends_every_login(app, db, facilitator):
    facilitators.set_password(db, facilitator.account["email"], "another long password")
    assert facilitator.get("/facilitator/").status_code == 302


def test_session_cookie_is_httponly_and_samesite(app, db):
    account = make_facilitator(db)
    response = _login(Visitor(app.test_client()), account["email"], PASSWORD)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


@pytest.mark.parametrize("setting", [{"TOOLKIT_PROXIES": "1"}, {"TOOLKIT_SECURE_COOKIES": "1"}])
def test_cookies_are_secure_behind_https(tmp_path, monkeypatch, setting, db):
    for name, value in setting.items():
        monkeypatch.setenv(name, value)
    secure = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE": str(tmp_path / "t.db")})
    from toolkit.db import connect, migrate

    conn = connect(secure.config["DATABASE"])
    migrate(conn)
    account = make_facilitator(conn)
    client = secure.test_client()
    headers = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    page = client.get("/login", headers=headers, base_url="https://localhost")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": account["email"], "password": PASSWORD,
                                           "csrf_token": token},
                           headers={**headers, "Referer": "https://localhost/login"},
                           base_url="https://localhost")
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_behind_a_proxy_throttling_counts_the_real_client(tmp_path, monkeypatch):
    monkeypatch.setenv("TOOLKIT_PROXIES", "1")
    monkeypatch.setenv("TOOLKIT_SECURE_COOKIES", "0")
    proxied = create_app({"TESTING": True, "SECRET_KEY": "test", "DATABASE": str(tmp_path / "t.db")})
    from toolkit.db import connect, migrate

    conn = connect(proxied.config["DATABASE"])
    migrate(conn)
    guesser, bystander = ({"X-Forwarded-For": address} for address in ("203.0.113.9", "198.51.100.7"))
    visitor = Visitor(proxied.test_client())
    for number in range(facilitators.LOGIN_FAILURES_PER_CLIENT):
        _login(visitor, f"g{number}@example.org", "wrong password", headers=dict(guesser))
    assert _login(visitor, "x@example.org", "wrong password", headers=dict(guesser)).status_code == 429
    assert _login(Visitor(proxied.test_client()), "x@example.org", "wrong password",
                  headers=dict(bystander)).status_code == 401


@pytest.mark.parametrize("target", ["//evil.example", "/\t/evil.example", "/\n/evil.example", "/\\evil.example",
                                    "https://evil.example", "/\\\\evil.example", " /evil", "javascript:alert(1)"])
def test_login_and_language_never_send_anyone_to_another_site(app, db, target):
    account = make_facilitator(db)
    visitor = Visitor(app.test_client())
    response = visitor.post("/login?" + urlencode({"next": target}), {"email": account["email"], "password": PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/facilitator/"
    visitor._token = None  # the login's fresh session has a fresh CSRF token
    response = visitor.post("/language", {"lang": "en", "next": target})
    assert response.status_code == 303 and response.headers["Location"] == "/"


def test_login_returns_to_the_page_asked_for(app, db):
    account = make_facilitator(db)
    response = Visitor(app.test_client()).post("/login?next=/facilitator/workshops/new",
                                               {"email": account["email"], "password": PASSWORD})
    assert response.headers["Location"] == "/facilitator/workshops/new"


def _from(address):
    return {"environ_base": {"REMOTE_ADDR": address}}


def test_someone_elses_guesses_do_not_lock_the_facilitator_out(app, db):
    account = make_facilitator(db)
    for _ in range(facilitators.LOGIN_FAILURES_PER_EMAIL):
        _login(Visitor(app.test_client()), account["email"], "wrong password", **_from("203.0.113.9"))
    assert _login(Visitor(app.test_client()), account["email"], "x", **_from("203.0.113.9")).status_code == 429
    assert _login(Visitor(app.test_client()), account["email"], PASSWORD, **_from("198.51.100.7")).status_code == 303


def test_guesses_at_one_address_spread_over_many_clients_are_throttled(app, db, monkeypatch):
    monkeypatch.setattr(facilitators, "LOGIN_FAILURES_PER_ACCOUNT", 6)
    account = make_facilitator(db)
    for number in range(6):
        _login(Visitor(app.test_client()), account["email"], "wrong password", **_from(f"203.0.113.{number}"))
    assert _login(Visitor(app.test_client()), account["email"], PASSWORD, **_from("198.51.100.7")).status_code == 429


def test_a_burst_of_parallel_guesses_gets_no_more_than_the_limit(app, db):
    """Checking and counting are one write: eight threads at once still get five tries."""
    from concurrent.futures import ThreadPoolExecutor

    from toolkit.db import connect

    account = make_facilitator(db)

    def guess(_):
        conn = connect(app.config["DATABASE"])
        try:
            return facilitators.authenticate(conn, account["email"], "wrong password", client="203.0.113.9")
        except facilitators.Throttled:
            return "throttled"
        finally:
            conn.close()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(guess, range(16)))
    assert answers.count(None) == facilitators.LOGIN_FAILURES_PER_EMAIL
    assert answers.count("throttled") == 16 - facilitators.LOGIN_FAILURES_PER_EMAIL
