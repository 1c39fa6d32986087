"""Comments: what the room says about an item, and the facilitator hiding what should not show."""
from sqlite_utils import Database

from toolkit import audit, limits
from toolkit import workshop as workshops
from toolkit.db import insert_new, writing
from toolkit.i18n import N_
from toolkit.validation import Invalid, NotFound, row_id, text

MAX_BODY = 1000

# The author as the room sees them. The name is read against the workshop's current
# setting, not the participant's row, so a workshop made anonymous later hides names too;
# a comment the facilitator wrote (or whose participant was removed) has no author fields.
_SELECT = """
    SELECT c.*,
           CASE WHEN w.anonymous THEN NULL ELSE p.name END AS name,
           p.organisation, p.stakeholder_group
    FROM comments c
    JOIN workshops w ON w.id = c.workshop_id
    LEFT JOIN participants p ON p.id = c.participant_id
"""


def _comment(row: dict) -> dict:
    return {**row, "hidden": bool(row["hidden"])}


def add(db: Database, workshop: dict, item_id, form: dict, participant_id=None) -> dict:
    """Comment on an item the room can see; a retried form with the same token adds nothing."""
    body = text(form.get("body"), "body", MAX_BODY)
    token = text(form.get("request_token"), "request_token", 64, required=False) or None
    with writing(db):
        # Checked inside the write, so an item hidden or merged a moment ago takes no comment.
        target = workshops.item(db, workshop, item_id)
        if participant_id is not None:
            current = workshops.get(db, workshop["id"])
            step = current["step"]
            if workshops.KIND_STEP[target["kind"]] != step:
                raise Invalid(N_("Commenting on this item is not open now."), "body")
            if workshops.is_locked(db, current, step):
                raise Invalid(N_("The facilitator has locked this step."), "body")
            limits.room_for(db, "comments_per_item", "item_id = ? AND participant_id = ?",
                            [target["id"], participant_id], "body")
        limits.room_for(db, "comments", "workshop_id = ?", [workshop["id"]], "body")
        comment_id, new = insert_new(
            db, "comments",
            {"workshop_id": workshop["id"], "item_id": target["id"], "participant_id": participant_id,
             "body": body, "created_at": workshops.now()},
            token,
        )
        if new:
            audit.record(db, workshop["id"], "comment_added", target["title"], item=target["id"],
                         comment=comment_id)
    return get(db, workshop, comment_id)


def get(db: Database, workshop: dict, comment_id) -> dict:
    """One comment of this workshop with its author, or NotFound."""
    rows = list(db.query(_SELECT + "WHERE c.id = ? AND c.workshop_id = ?",
                         [row_id(comment_id), workshop["id"]]))
    if not rows:
        raise NotFound(comment_id)
    return _comment(rows[0])


def for_items(db: Database, workshop: dict, include_hidden=False) -> dict[int, list[dict]]:
    """The workshop's comments per item id, oldest first; items without comments are absent."""
    hidden = "" if include_hidden else "AND c.hidden = 0"
    grouped = {}
    for row in db.query(_SELECT + f"WHERE c.workshop_id = ? {hidden} ORDER BY c.id",
                        [workshop["id"]]):
        grouped.setdefault(row["item_id"], []).append(_comment(row))
    return grouped


def set_hidden(db: Database, workshop: dict, comment_id, hidden: bool) -> dict:
    """Hide a comment of this workshop from everyone but the facilitator, or show it again."""
    with writing(db):
        target = get(db, workshop, comment_id)
        db.execute("UPDATE comments SET hidden = ? WHERE id = ?", [int(hidden), target["id"]])
        audit.record(db, workshop["id"], "comment_hidden" if hidden else "comment_shown",
                     target["body"][:80], comment=target["id"])
    return get(db, workshop, target["id"])


def for_workshop(db: Database, workshop: dict) -> list[dict]:
    """The visible comments for the document's annex, in the items' order, with each item's title.

    Comments on an item the facilitator hid are kept with item_hidden set, so the
    document decides whether to show them, as it does for actions.
    """
    items = workshops.items(db, workshop, include_hidden=True)
    order = {item["id"]: position for position, item in enumerate(items)}
    by_id = {item["id"]: item for item in items}
    comments = [
        comment
        for item_comments in for_items(db, workshop).values()
        for comment in item_comments
        if comment["item_id"] in by_id
    ]
    comments.sort(key=lambda comment: (order[comment["item_id"]], comment["id"]))
    return [
        {**comment,
         "item_title": by_id[comment["item_id"]]["title"],
         "item_kind": by_id[comment["item_id"]]["kind"],
         "item_hidden": by_id[comment["item_id"]]["hidden"]}
        for comment in comments
    ]
