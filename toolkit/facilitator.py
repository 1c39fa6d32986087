"""Facilitator accounts: creating one, checking a password, and the first-run setup link."""
import hashlib
import hmac
import secrets
from functools import lru_cache

from sqlite_utils import Database
from werkzeug.security import check_password_hash, generate_password_hash

from toolkit.db import writing
from toolkit.i18n import N_
from toolkit.validation import Invalid, text
from toolkit.workshop import MAX_SHORT, now

MIN_PASSWORD = 10
SETUP_KEY = "setup_token_sha256"


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
            {"email": email, "name": name, "password_hash": generate_password_hash(password),
             "created_at": now()}
        ).last_pk
        # The first account ends the setup link's life.
        db.execute("DELETE FROM settings WHERE key = ?", [SETUP_KEY])
    return get(db, facilitator_id)


def set_password(db: Database, email, password) -> None:
    """Give an existing account a new password."""
    check_password(password)
    with writing(db):
        db.execute("UPDATE facilitators SET password_hash = ? WHERE email = ?",
                   [generate_password_hash(password), email])


def get(db: Database, facilitator_id) -> dict | None:
    """The facilitator with this id, or None."""
    rows = list(db.query("SELECT * FROM facilitators WHERE id = ?", [facilitator_id]))
    return rows[0] if rows else None


def by_email(db: Database, email) -> dict | None:
    """The facilitator with this e-mail address, or None."""
    rows = list(db.query("SELECT * FROM facilitators WHERE email = ?", [str(email or "").strip()]))
    return rows[0] if rows else None


def authenticate(db: Database, email, password) -> dict | None:
    """The facilitator whose e-mail and password these are, or None."""
    found = by_email(db, email)
    if found is None:
        # Hash anyway so an unknown address takes as long as a wrong password.
        check_password_hash(_dummy_hash(), str(password or ""))
        return None
    if check_password_hash(found["password_hash"], str(password or "")):
        return found
    return None


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return generate_password_hash(secrets.token_hex(8))


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
