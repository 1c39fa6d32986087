"""Where the stakeholder groups agree: each group's support for an item, and how far apart they are."""
from sqlite_utils import Database

from toolkit import workshop as workshops
from toolkit.i18n import N_
from toolkit.participant import GROUP_KEYS

VERDICTS = {
    "agree": N_("The groups agree"),
    "differ": N_("The groups differ somewhat"),
    "diverge": N_("The groups differ strongly"),
    "too_few": N_("Too few groups voted to compare"),
}
# Support is the share of a group's voters who put anything on the item; groups whose
# shares lie within AGREE of each other agree, beyond DIVERGE they diverge.
AGREE = 0.25
DIVERGE = 0.5


def verdict(shares: dict) -> tuple[str, float | None]:
    """The verdict and spread for one item's support per group (None for groups that did not vote)."""
    present = [share for share in shares.values() if share is not None]
    if len(present) < 2:
        return "too_few", None
    spread = max(present) - min(present)
    if spread < AGREE:
        return "agree", spread
    return ("differ" if spread < DIVERGE else "diverge"), spread


def support(db: Database, workshop: dict, step: str) -> dict:
    """Per item id of step: each group's share of voters behind it, the spread and the verdict."""
    kinds = workshops.STEP_KINDS.get(step)
    if not kinds:
        return {}
    placeholders = ",".join("?" for _ in kinds)
    voters = dict.fromkeys(GROUP_KEYS, 0)
    for group, count in db.execute(
        f"""SELECT p.stakeholder_group, count(DISTINCT p.id) FROM votes v
            JOIN participants p ON p.id = v.participant_id JOIN items i ON i.id = v.item_id
            WHERE i.workshop_id = ? AND i.kind IN ({placeholders}) GROUP BY p.stakeholder_group""",
        [workshop["id"], *kinds],
    ):
        voters[group] = count
    backers = {}
    for item_id, group, count in db.execute(
        f"""SELECT v.item_id, p.stakeholder_group, count(*) FROM votes v
            JOIN participants p ON p.id = v.participant_id JOIN items i ON i.id = v.item_id
            WHERE i.workshop_id = ? AND i.kind IN ({placeholders})
            GROUP BY v.item_id, p.stakeholder_group""",
        [workshop["id"], *kinds],
    ):
        backers.setdefault(item_id, {})[group] = count
    result = {}
    for item in workshops.items(db, workshop, kinds=kinds, include_hidden=True):
        shares = {
            group: (backers.get(item["id"], {}).get(group, 0) / voters[group]) if voters[group] else None
            for group in GROUP_KEYS
        }
        key, spread = verdict(shares)
        result[item["id"]] = {"by_group": shares, "spread": spread, "verdict": key}
    return result
