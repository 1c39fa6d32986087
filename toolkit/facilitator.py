"""Facilitator accounts: creating one, checking a password, logins, and the first-run setup link."""
import datetime
import hashlib
import hmac
import secrets
import threading
from functools import lru_cache

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlite_utils import Database
from werkzeug.security import check_password_hash

from toolkit import throttle
from toolkit.db import writing
from toolkit.i18n import N_
from toolkit.validation import Invalid, text
from toolkit.workshop import MAX_SHORT, now

MIN_PASSWORD = 10
SETUP_KEY = "setup_token_sha256"

# Argon2id with RFC 9106's second recommended setting (64 MiB, 3 passes), above OWASP's minimum.
HASHER = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
# Each hash takes 64 MiB: a flood of logins queues here instead of exhausting memory.
_hashing = threading.BoundedSemaphore(2)

# Login attempts per address typed (known or not, so the answer never tells which) from one
# client, per address from everywhere, and per client. The per-client count for an address
# keeps someone else's guesses from locking the facilitator out; the address's overall count
# still stops guessing spread over many clients.
LOGIN_FAILURES_PER_EMAIL = 5
LOGIN_FAILURES_PER_ACCOUNT = 50
LOGIN_FAILURES_PER_CLIENT = 30
LOGIN_WINDOW = 15 * 60
# A login lasts a working day of use, and ends sooner when left alone.
LOGIN_HOURS = 12
LOGIN_IDLE_MINUTES = 120
# Writing seen_at on every poll would be a write per second per facilitator screen.
SEEN_EVERY_SECONDS = 60


Throttled = throttle.TooMany


def hash_password(password: str) -> str:
    """The password's Argon2id hash."""
    with _hashing:
        return HASHER.hash(password)


def _verify(stored: str, password: str) -> bool:
    with _hashing:
        if stored.startswith("$argon2"):
            try:
                return HASHER.verify(stored, password)
            except (VerificationError, InvalidHashError):
                return False
        # Accounts made before Argon2 carry werkzeug's scrypt or pbkdf2 hashes.
        return check_password_hash(stored, password)


def check_email(value) -> str:
    """An e-mail address as typed, checked for a plausible shape."""
    email = text(value, "email", 254)
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email:
        raise Invalid(N_("Please enter a valid e-mail address."), "email")
    return email


def check_password(password) -> None:
    """Refuse a password that is too short to be safe or too long to hash sensibly."""
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(N_("Please choose a password of at least %(min)d characters."),
                      "password", min=MIN_PASSWORD)
    if len(password) > 1000:
        raise Invalid(N_("Please use at most %(max)d characters."), "password", max=1000)


def create(db: Database, email, name, password) -> dict:
    """Create a facilitator account with a hashed password."""
    email = check_email(email)
    name = text(name, "name", MAX_SHORT)
    check_password(password)
    with writing(db):
        if db.execute("SELECT 1 FROM facilitators WHERE email = ?", [email]).fetchone():
            raise Invalid(N_("There is already an account with this e-mail address."), "email")
        facilitator_id = db["facilitators"].insert(
            {"email": email, "name": name, "password_hash": hash_password(password),
             "created_at": now()}
        ).last_pk
        # The first account ends the setup link's life.
        db.execute("DELETE FROM settings WHERE key = ?", [SETUP_KEY])
    return get(db, facilitator_id)


def set_password(db: Database, email, password) -> None:
    """Give an existing account a new password; every login it had ends."""
    check_password(password)
    hashed = hash_password(password)
    with writing(db):
        db.execute("UPDATE facilitators SET password_hash = ? WHERE email = ?", [hashed, email])
        db.execute("DELETE FROM logins WHERE facilitator_id IN "
                   "(SELECT id FROM facilitators WHERE email = ?)", [email])


def get(db: Database, facilitator_id) -> dict | None:
    """The facilitator with this id, or None."""
    rows = list(db.query("SELECT * FROM facilitators WHERE id = ?", [facilitator_id]))
    return rows[0] if rows else None


def by_email(db: Database, email) -> dict | None:
    """The facilitator with this e-mail address, or None."""
    rows = list(db.query("SELECT * FROM facilitators WHERE email = ?", [str(email or "").strip()]))
    return rows[0] if rows else None


def authenticate(db: Database, email, password, client: str = "", secret: str = "") -> dict | None:
    """The facilitator whose e-mail and password these are, or None; Throttled after many failures.

    Unknown addresses and wrong passwords are counted, timed and answered alike.
    """
    email = str(email or "").strip()[:254]
    password = str(password or "")[:1000]
    by_pair = throttle.key("login-email-client", f"{email}\0{client}", secret)
    by_address = throttle.key("login-email", email, secret)
    by_client = throttle.key("login-client", client, secret)
    # Counted before the password is checked, in one write: parallel guesses cannot slip through.
    throttle.take(db, {by_pair: LOGIN_FAILURES_PER_EMAIL, by_address: LOGIN_FAILURES_PER_ACCOUNT,
                       by_client: LOGIN_FAILURES_PER_CLIENT}, LOGIN_WINDOW)
    found = by_email(db, email)
    # Hash anyway for an unknown address, so it takes as long as a wrong password.
    matches = _verify(found["password_hash"] if found else _dummy_hash(), password)
    if found is None or not matches:
        return None
    # A success is not a failure: the address's count starts again.
    throttle.forget(db, by_pair)
    throttle.forget(db, by_address)
    if not found["password_hash"].startswith("$argon2") or HASHER.check_needs_rehash(found["password_hash"]):
        # Bring an older hash up to today's parameters while the password is at hand.
        rehashed = hash_password(password)
        with writing(db):
            db.execute("UPDATE facilitators SET password_hash = ? WHERE id = ?", [rehashed, found["id"]])
    return found


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hash_password(secrets.token_hex(8))


def start_login(db: Database, facilitator: dict) -> str:
    """A new login for the facilitator; returns the token the browser keeps (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    stamp = now()
    with writing(db):
        db.execute("INSERT INTO logins (token_hash, facilitator_id, created_at, seen_at) VALUES (?, ?, ?, ?)",
                   [_digest(token), facilitator["id"], stamp, stamp])
        # Ended logins are of no use to anyone.
        db.execute("DELETE FROM logins WHERE created_at < ?", [_ago(hours=LOGIN_HOURS)])
    return token


def logged_in(db: Database, token) -> dict | None:
    """The facilitator whose current login this token is, or None once it ended or never was."""
    if not isinstance(token, str) or not token:
        return None
    row = db.execute(
        "SELECT facilitator_id, created_at, seen_at FROM logins WHERE token_hash = ?", [_digest(token)]
    ).fetchone()
    if row is None or row[1] < _ago(hours=LOGIN_HOURS) or row[2] < _ago(minutes=LOGIN_IDLE_MINUTES):
        return None
    if row[2] < _ago(seconds=SEEN_EVERY_SECONDS):
        with writing(db):
            db.execute("UPDATE logins SET seen_at = ? WHERE token_hash = ?", [now(), _digest(token)])
    return get(db, row[0])


def end_login(db: Database, token) -> None:
    """End this login, so its cookie no longer lets anyone in."""
    if isinstance(token, str) and token:
        with writing(db):
            db.execute("DELETE FROM logins WHERE token_hash = ?", [_digest(token)])


def _ago(**delta) -> str:
    moment = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(**delta)
    return moment.isoformat(timespec="seconds")


def any_exist(db: Database) -> bool:
    """Whether any facilitator account exists yet."""
    return db.execute("SELECT 1 FROM facilitators LIMIT 1").fetchone() is not None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_setup_token(db: Database) -> str:
    """A one-time token for the setup link; only its hash is stored."""
    token = secrets.token_urlsafe(24)
    with writing(db):
        db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [SETUP_KEY, _digest(token)],
        )
    return token


def setup_token_valid(db: Database, token) -> bool:
    """Whether token is the current setup token and no account exists yet."""
    row = db.execute("SELECT value FROM settings WHERE key = ?", [SETUP_KEY]).fetchone()
    if row is None or any_exist(db):
        return False
    return hmac.compare_digest(row[0], _digest(str(token or "")))
