"""Duplicate items: the facilitator merges one into another, and rewords the room's own items."""
from sqlite_utils import Database

from toolkit import audit
from toolkit import workshop as workshops
from toolkit.db import writing
from toolkit.i18n import N_
from toolkit.validation import Invalid, NotFound, row_id, text


def _row(db: Database, workshop: dict, item_id: int, field: str) -> dict:
    rows = list(db.query("SELECT id, kind, merged_into, hidden, adopted FROM items WHERE id = ? AND workshop_id = ?",
                         [item_id, workshop["id"]]))
    if not rows:
        raise NotFound(item_id)
    if rows[0]["merged_into"] is not None:
        # A merged item is hidden and empty: merging it again, or into it, would strand votes.
        raise Invalid(N_("This item has already been merged into another."), field)
    return rows[0]


def merge(db: Database, workshop: dict, source_id, target_id) -> dict:
    """Merge item source into target: its supporters, their dots and its comments; returns target."""
    source_id, target_id = row_id(source_id), row_id(target_id)
    with writing(db):
        source = _row(db, workshop, source_id, "source_id")
        target = _row(db, workshop, target_id, "target_id")
        if source_id == target_id:
            raise Invalid(N_("An item cannot be merged into itself."), "target_id")
        if target["hidden"]:
            raise Invalid(N_("This item is hidden from the room; show it before merging into it."), "target_id")
        step = workshops.KIND_STEP.get(source["kind"])
        if step is None or step != workshops.KIND_STEP.get(target["kind"]):
            raise Invalid(N_("Only items of the same step can be merged."), "target_id")
        now = workshops.now()
        # A participant who voted on both keeps one row, on target, with both their dots:
        # they count once as a voter and their total for the step, so their budget, is
        # unchanged. That row may now exceed the step's per-item cap; acceptable, since the
        # cap limits what one places, and these were placed on two items the room now
        # sees as one. Done in SQL so no count passes through Python.
        db.execute(
            """UPDATE votes SET updated_at = ?, dots = dots + (
                   SELECT s.dots FROM votes s
                   WHERE s.item_id = ? AND s.participant_id = votes.participant_id)
               WHERE item_id = ? AND participant_id IN (SELECT participant_id FROM votes WHERE item_id = ?)""",
            [now, source_id, target_id, source_id],
        )
        db.execute(
            """DELETE FROM votes WHERE item_id = ?
               AND participant_id IN (SELECT participant_id FROM votes WHERE item_id = ?)""",
            [source_id, target_id],
        )
        db.execute("UPDATE votes SET item_id = ?, updated_at = ? WHERE item_id = ?",
                   [target_id, now, source_id])
        db.execute("UPDATE comments SET item_id = ? WHERE item_id = ? AND workshop_id = ?",
                   [target_id, source_id, workshop["id"]])
        # An adopted duplicate hands its place in the agenda, and its actions, to the target;
        # an action answering the duplicate answers the target (the duplicate is emptied).
        db.execute("UPDATE actions SET recommendation_id = ? WHERE recommendation_id = ? AND workshop_id = ?",
                   [target_id, source_id, workshop["id"]])
        db.execute("UPDATE actions SET answers_item_id = ? WHERE answers_item_id = ? AND workshop_id = ?",
                   [target_id, source_id, workshop["id"]])
        db.execute("UPDATE items SET adopted = max(adopted, ?) WHERE id = ?", [source["adopted"], target_id])
        db.execute("UPDATE items SET merged_into = ?, hidden = 1, adopted = 0 WHERE id = ?",
                   [target_id, source_id])
        titles = {row[0]: row[1] for row in db.execute(
            "SELECT i.id, coalesce(i.title, c.title_" + workshop["language"] + ") FROM items i "
            "LEFT JOIN catalogue_items c ON c.id = i.catalogue_id WHERE i.id IN (?, ?)", [source_id, target_id])}
        audit.record(db, workshop["id"], "items_merged", f"{titles[source_id]} → {titles[target_id]}",
                     source=source_id, target=target_id)
    return workshops.item(db, workshop, target_id, include_hidden=True)


def edit(db: Database, workshop: dict, item_id, form: dict) -> dict:
    """Reword an item the room added; the study's items keep their wording."""
    target = workshops.item(db, workshop, item_id, include_hidden=True)
    if target["catalogue_id"] is not None:
        raise Invalid(N_("Study items keep the study's wording."), "title")
    title = text(form.get("title"), "title", workshops.MAX_TITLE)
    explanation = text(form.get("explanation"), "explanation", workshops.MAX_EXPLANATION, required=False)
    with writing(db):
        db.execute("UPDATE items SET title = ?, explanation = ? WHERE id = ? AND workshop_id = ?",
                   [title, explanation, target["id"], workshop["id"]])
        audit.record(db, workshop["id"], "item_edited", title, item=target["id"], before=target["title"])
    return workshops.item(db, workshop, target["id"], include_hidden=True)
