"""How much the toolkit takes: the largest request, and the most of everything a workshop holds.

Field lengths live beside the check of each field (MAX_* in workshop, comment, action, texts);
the counts here are checked inside the write transaction that would add one more.
"""
from sqlite_utils import Database

from toolkit.i18n import N_
from toolkit.validation import Invalid

# One request. Every form at its longest fits: the largest, a text of 5,000 characters settled
# against someone else's version (so sent twice), is about 10 KB in Dutch or English and up to
# 60 KB in a script such as Greek, percent-encoded at 6 bytes a character.
REQUEST_BYTES = 64 * 1024
# A workshop file to import (with its drafts), and the one request allowed to carry it.
IMPORT_FILE_BYTES = 16 * 1024 * 1024
IMPORT_FORM_BYTES = 64 * 1024  # the form around the file
LARGEST_REQUEST_BYTES = IMPORT_FILE_BYTES + IMPORT_FORM_BYTES

# Generous for a regional workshop of 60 to 1,000 people, and still a bound on what one
# person or script can pile up in one SQLite file.
PARTICIPANTS = 1_000  # per workshop
ROOM_ITEMS = 1_000  # the room's own drivers, barriers and recommendations, per workshop
COMMENTS = 10_000  # per workshop
COMMENTS_PER_ITEM = 20  # per participant per item
ACTIONS = 1_000  # per workshop
WORKSHOPS = 1_000  # per facilitator
DRAFTS = 200  # per workshop: each keeps its Word document (100 to 200 KB)

# What counts towards each limit, and what a person is told when it is reached.
_COUNTS = {
    "participants": ("participants", "PARTICIPANTS",
                     N_("This workshop is full: it takes at most %(max)d participants.")),
    "room_items": ("items", "ROOM_ITEMS",
                   N_("This workshop already holds the most items of its own it can take (%(max)d).")),
    "comments": ("comments", "COMMENTS",
                 N_("This workshop already holds the most comments it can take (%(max)d).")),
    "comments_per_item": ("comments", "COMMENTS_PER_ITEM",
                          N_("You can add at most %(max)d comments to one item.")),
    "actions": ("actions", "ACTIONS",
                N_("This workshop already holds the most actions it can take (%(max)d).")),
    "workshops": ("workshops", "WORKSHOPS",
                  N_("You have the most workshops one account can hold (%(max)d).")),
    "drafts": ("drafts", "DRAFTS",
               N_("This workshop already keeps the most drafts it can (%(max)d).")),
}


def room_for(db: Database, what: str, where: str, params, field: str | None = None) -> None:
    """Raise Invalid naming the limit when the rows of what matching where already reach it."""
    table, name, message = _COUNTS[what]
    limit = globals()[name]  # read now, so a test can lower it
    (count,) = db.execute(f"SELECT count(*) FROM [{table}] WHERE {where}", list(params)).fetchone()
    if count >= limit:
        raise Invalid(message, field, max=limit)


def participants(db: Database, workshop: dict) -> None:
    """Invalid when workshop has no room for another participant; call it inside join's write."""
    room_for(db, "participants", "workshop_id = ?", [workshop["id"]], "name")


def fits(what: str, count: int, field: str | None = None) -> None:
    """Raise Invalid naming the limit when count rows of what would be more than it allows."""
    _table, name, message = _COUNTS[what]
    limit = globals()[name]
    if count > limit:
        raise Invalid(message, field, max=limit)
