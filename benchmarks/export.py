"""Export time and peak memory of the draft agenda at growing sizes.

Run: .venv/bin/python -m benchmarks.export  (add --quick for a smoke run)
"""
import argparse
import platform
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from toolkit import action, agenda, catalogue, comment, participant, texts, vote
from toolkit import facilitator as facilitators
from toolkit import workshop as workshops
from toolkit.db import connect, migrate


def _workshop(folder: Path, people: int, actions: int) -> tuple:
    """A workshop with people participants voting and actions actions."""
    db = connect(folder / f"bench-{people}-{actions}.db")
    migrate(db)
    catalogue.load(db)
    account = facilitators.create(db, f"b{people}-{actions}@example.org", "Bench", "benchmark password")
    made = workshops.create(db, account["id"], {"title": "Benchmark", "region": "Twente", "sector": "Industrie",
                                                "date": "2026-12-01", "language": "nl", "dots": "5"})
    groups = participant.GROUP_KEYS
    joined = [participant.join(db, made, {"name": f"P{i}", "organisation": f"Org {i % 40}",
                                          "stakeholder_group": groups[i % len(groups)]}) for i in range(people)]
    for step in ("drivers", "recommendations"):
        workshops.set_step(db, made["id"], step)
        made = workshops.get(db, made["id"])
        listed = workshops.items(db, made, kinds=workshops.STEP_KINDS[step])
        for i, person in enumerate(joined):
            vote.set_dots(db, made, person["id"], listed[i % len(listed)]["id"], 3)
            vote.set_dots(db, made, person["id"], listed[(i + 1) % len(listed)]["id"], 2)
    recommendations = workshops.items(db, made, kinds=("recommendation",))
    for item in recommendations:
        workshops.set_adopted(db, made, item["id"], True)
    workshops.set_step(db, made["id"], "actions")
    made = workshops.get(db, made["id"])
    drivers = workshops.items(db, made, kinds=("driver",))
    for i in range(actions):
        proposed = action.propose(db, made, {
            "recommendation_id": recommendations[i % 5]["id"], "what": f"Actie {i}: " + "x" * 80,
            "answers_item_id": drivers[i % len(drivers)]["id"], "lead": f"Org {i % 40}",
            "partners": "ROC, Saxion", "starts": "2027-Q1", "ends": "2028", "timeline": "jaarlijks",
            "resources": "Regio Deal", "indicator": "5 leerlijnen", "first_step": "Kwartiermaker"})
        # Up to ten ratings and two volunteers per action, as a busy room would leave.
        for j, person in enumerate(joined[:10]):
            action.rate(db, made, proposed["id"], person["id"], {"impact": 1 + (i + j) % 5, "effort": 1 + (i * j) % 5})
        for person, role in zip(joined[i % max(1, len(joined) - 2):][:2], ("lead", "partner")):
            action.volunteer(db, made, proposed["id"], person["id"], role)
    for i in range(min(people, 50)):
        comment.add(db, made, recommendations[i % 5]["id"], {"body": f"Opmerking {i}"})
    for key in texts.KEYS:
        texts.save(db, made, key, {"body": "Een alinea tekst. " * 20, "version": 0})
    return db, made


def measure(db, made, repeats: int) -> tuple[float, float, int]:
    """Median export seconds, peak traced memory in MB, and document size in bytes."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        draft = agenda.export_draft(db, made)
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    agenda.export_draft(db, made)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak / 1e6, len(draft["docx"])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one small size, one repeat")
    args = parser.parse_args()
    sizes = [(12, 6)] if args.quick else [
        (60, 10), (60, 100), (60, 1000),  # growing action plans
        (10, 30), (100, 30), (1000, 30),  # growing rooms
        (60, 30),                         # the target: a full room with a realistic plan
    ]
    print(f"python {platform.python_version()}, {platform.machine()}")
    print("| participants | actions | export (median) | Python heap peak | document |")
    print("| --- | --- | --- | --- | --- |")
    with tempfile.TemporaryDirectory() as folder:
        for people, actions in sizes:
            db, made = _workshop(Path(folder), people, actions)
            seconds, megabytes, size = measure(db, made, 1 if args.quick else 5)
            print(f"| {people} | {actions} | {seconds * 1000:.0f} ms | {megabytes:.1f} MB | {size / 1024:.0f} KB |")
            db.close()


if __name__ == "__main__":
    main()
