"""What the facilitator's and a participant's step pages share: gathering a step's contents."""
import hashlib
import threading
from collections import OrderedDict

from flask import current_app, render_template, request
from flask_babel import gettext
from jinja2 import pass_context
from markupsafe import Markup

from toolkit import action as actions
from toolkit import agenda, catalogue, chart, comment, consensus, participant, texts, vote
from toolkit import step as steps
from toolkit import workshop as workshops
from toolkit.web import csrf_token_once, error_fragment, htmx, language, render, request_token


def step_page(db, workshop, step, facilitating=False, me=None, error=None, fragment=None, **extra):
    """The page for step, as the facilitator or as participant me sees it (or one fragment of it)."""
    lang = language()
    kinds = workshops.STEP_KINDS.get(step)
    seen = None
    if kinds and me is not None and not facilitating:
        # Read again: after one's own vote or comment the page shows it, and the room's view is kept
        # per revision, so it must be the revision as it is now.
        workshop = workshops.get(db, workshop["id"])
        seen = room(db, workshop, step)
    context = {
        **extra,
        "workshop": workshop,
        "step": step,
        "facilitating": facilitating,
        "me": me,
        "before_after": workshops.neighbour_steps(step),
        "counts": seen.context["counts"] if seen else participant.count_by_group(db, workshop),
        "rules": seen.context["rules"] if seen else steps.settings(db, workshop, step),
        "done": seen.context["done"] if seen else steps.done(db, workshop, step),
        "form": {},
    }
    context["seconds_left"] = steps.seconds_left(context["rules"])
    if error is not None:
        message = gettext(error.message, **error.params)
        if htmx:
            return error_fragment(message, 422)
        context.update(error=message, error_field=error.field, form=request.form)
    if step == "welcome":
        context["study"] = catalogue.study(lang)
        for kind in ("research_question", "driver", "finding", "recommendation", "case"):
            context[kind] = catalogue.items(db, lang, kind)
    if seen is not None:
        # What the room shares comes read and rendered once per revision; one's own part is drawn here.
        listed = seen.listed
        context.update({key: value for key, value in seen.context.items()
                        if key in ("kinds", "empty_tally", "comments", "tallies", "support", "voter_names")})
        context.update(pieces=seen.pieces(), shape=seen.shape, upto=seen.context["upto"])
    elif kinds:
        context["kinds"] = kinds
        listed = workshops.items(db, workshop, kinds=kinds, include_hidden=True, lang=lang)
        context["empty_tally"] = vote.empty_tally()
        context["comments"] = comment.for_items(db, workshop, include_hidden=facilitating)
        # Results stay hidden from the room until the facilitator reveals them: nobody follows the crowd.
        if facilitating or context["rules"]["revealed"]:
            context["tallies"] = vote.tallies(db, workshop)
            context["support"] = consensus.support(db, workshop, step)
            if context["rules"]["named_votes"] and not workshop["anonymous"]:
                context["voter_names"] = vote.voter_names(db, workshop)
    if kinds:
        context["items"] = listed
        if me is not None:
            mine = context["mine"] = vote.my_dots(db, me["id"])
            # A participant sees hidden items only while they still have dots on them to take back.
            context["items"] = [i for i in listed if not i["hidden"] or mine.get(i["id"])]
            context["left"] = context["rules"]["budget"] - vote.dots_used(db, workshop, me["id"], step)
            # How many comments one made on each item: one's comment form is new after each.
            context["my_comments"] = {item_id: sum(c["participant_id"] == me["id"] for c in said)
                                      for item_id, said in context["comments"].items()}
    if step in ("actions", "review"):
        context.update(action_plan(db, workshop, facilitating, me))
    if step == "review":
        context["agenda"] = agenda.upcoming(db, workshop)
        context["drafts"] = agenda.drafts(db, workshop) if facilitating else []
    template = "facilitator/workshop.html" if facilitating else "participant/step.html"
    response = render(template, fragment, status=422 if error is not None else 200, **context)
    if seen is not None and fragment and not fragment.startswith("participant/_live") and htmx \
            and not htmx.history_restore_request:
        # This fragment shows the room at this revision: the page's poller moves there with it, so an
        # update from before it (the poll shortcut may give one a second old) never follows it.
        response.set_data(response.get_data() + render_template("shared/_poller.html", poller_oob=True,
                                                                **context).encode())
    return response


def voted(db, workshop, me, result):
    """The answer to a vote: the controls it changed and the budget line, not the whole step."""
    step = workshop["step"]
    if result["item"]["hidden"]:
        # Taking the last dot off a hidden item takes the item off one's list: the whole area then.
        return step_page(db, workshop, step, me=me, fragment="participant/_voted.html", voted=result, whole=True)
    lang = language()
    rules = steps.settings(db, workshop, step)
    mine = vote.my_dots(db, me["id"])
    left, was_left = result["left"], result["left"] + result["dots"] - result["before"]
    kinds = workshops.STEP_KINDS[step]
    if rules["method"] == "dots" and (left <= 0) != (was_left <= 0):
        # Running out of dots, or getting one back, changes the "+" of every item.
        listed = workshops.items(db, workshop, kinds=kinds, include_hidden=True, lang=lang)
        changed = [i for i in listed if not i["hidden"] or mine.get(i["id"])]
    else:
        changed = workshops.items(db, workshop, kinds=kinds, include_hidden=True, lang=lang,
                                  item_id=result["item"]["id"])
    # The confirmation names the item as the page does, in the participant's language.
    named = next((i for i in changed if i["id"] == result["item"]["id"]), result["item"])
    return render("participant/step.html", "participant/_voted.html", workshop=workshop, rules=rules,
                  items=changed, mine=mine, left=left, voted={**result, "item": named})


def shape(workshop, rules, listed, lang) -> str:
    """What a participant's controls in a voting step are drawn from, as a short digest.

    While it stays the same, a change in the room (a vote, a comment, someone done) leaves
    everyone's own controls as they are, and their pages need only the shared update.
    """
    drawn = (lang, workshop["anonymous"], sorted(rules.items()),
             [(i["id"], i["hidden"], i["title"], i["explanation"], i["origin"]) for i in listed])
    return hashlib.sha256(repr(drawn).encode()).hexdigest()[:16]


class Kept:
    """At most `most` values by key, shared by the server's threads; the least recently used go first."""

    def __init__(self, most: int):
        self.most = most
        self._values: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key, make):
        """The value kept for key, or make() kept for it."""
        with self._lock:
            found = self._values.get(key)
            if found is not None:
                self._values.move_to_end(key)
                return found
        # Made outside the lock: two threads may both make it; the second one kept wins, both are right.
        found = make()
        with self._lock:
            self._values[key] = found
            while len(self._values) > self.most:
                self._values.popitem(last=False)
        return found

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


# What the room sees of a voting step, by (database, workshop, revision, anonymity, language, step):
# read and rendered once per revision, then shared by every participant's page at that revision.
_rooms = Kept(256)
# Each item's parts as the room sees them, by everything they are drawn from (Room._drawn): a few
# KB each, enough for every item of a busy day's rooms in both languages.
_drawings = Kept(10_000)


class Room:
    """A voting step as the whole room sees it at one revision: its reads, its shape, its rendered parts."""

    def __init__(self, db, workshop, step, lang):
        self.lang = lang
        rules = steps.settings(db, workshop, step)
        self.listed = workshops.items(db, workshop, kinds=workshops.STEP_KINDS[step], include_hidden=True,
                                      lang=lang)
        self.shape = shape(workshop, rules, self.listed, lang)
        self.context = {"workshop": workshop, "step": step, "rules": rules, "facilitating": False, "me": None,
                        "shape": self.shape, "kinds": workshops.STEP_KINDS[step],
                        # The last item the page was drawn with: items added later come after it.
                        "upto": max((i["id"] for i in self.listed), default=0),
                        "comments": comment.for_items(db, workshop, include_hidden=False),
                        "done": steps.done(db, workshop, step), "counts": participant.count_by_group(db, workshop),
                        "empty_tally": vote.empty_tally()}
        if rules["revealed"]:
            self.context["tallies"] = vote.tallies(db, workshop)
            self.context["support"] = consensus.support(db, workshop, step)
            if rules["named_votes"] and not workshop["anonymous"]:
                self.context["voter_names"] = vote.voter_names(db, workshop)
        self._lock = threading.Lock()
        self._update = self._pieces = None

    def update(self) -> str:
        """The live update for pages whose controls still match: results, comments, the done count."""
        with self._lock:
            if self._update is None:
                context = self._template_context()
                tails = "".join(self._drawn("participant/_item_tail.html", context, item, oob=True, list_only=True)
                                for item in self.listed if not item["hidden"])
                self._update = current_app.jinja_env.get_template("participant/_live_shared.html").render(
                    context, tails=tails)
            return self._update

    def pieces(self) -> dict:
        """Per item id, its head (text) and tail (result, comments) as everyone sees them."""
        with self._lock:
            if self._pieces is None:
                context = self._template_context()
                self._pieces = {
                    item["id"]: {"head": self._drawn("participant/_item_head.html", context, item),
                                 "tail": self._drawn("participant/_item_tail.html", context, item)}
                    for item in self.listed
                }
            return self._pieces

    def _template_context(self) -> dict:
        context = dict(self.context)
        current_app.update_template_context(context)
        return context

    def _drawn(self, name: str, context: dict, item: dict, **flags) -> str:
        """name drawn for item, or the same drawing kept from an earlier revision if nothing it shows changed."""
        # A vote changes one item's result: the room's other items are drawn as they were. The key
        # holds everything these templates read, so a change to any of it draws the item anew.
        if name == "participant/_item_head.html":
            drawn_from = (sorted(item.items()), len(self.context["kinds"]) > 1)
        else:
            drawn_from = (item["id"], item["title"], item["hidden"], sorted(flags.items()),
                          sorted(self.context["rules"].items()), self.context["workshop"]["anonymous"],
                          self.context["comments"].get(item["id"]),
                          *(self.context[part].get(item["id"]) if part in self.context else "-"
                            for part in ("tallies", "support", "voter_names")))
        key = (current_app.config["DATABASE"], name, self.lang, repr(drawn_from))
        return _drawings.get(key, lambda: current_app.jinja_env.get_template(name).render(context, item=item, **flags))


# Where a kept drawing of one's own part takes this page's tokens. Autoescaping writes any "<" that
# people type as "&lt;", so only a template can put these in a drawing.
CSRF_HOLE = Markup("<csrf-token>")
REQUEST_HOLE = Markup("<request-token>")


def _own_controls(context, item) -> tuple:
    rules = context["rules"]
    return (item["id"], item["title"], item["hidden"], context["mine"].get(item["id"], 0), context["left"] <= 0,
            rules["locked"], rules["method"], rules["cap"])


def _own_comment_form(context, item) -> tuple | None:
    if context.get("error"):
        return None  # shown again with what was typed: drawn for this page alone
    return (item["id"], item["title"], item["hidden"], bool(context.get("me")), context["rules"]["locked"],
            context.get("list_only"), context["my_comments"].get(item["id"], 0) if context.get("me") else 0)


# Everything each of these templates reads besides the item's workshop, the language and flags: one
# person's controls and comment form look like anyone's with as many dots and comments on the item.
OWN_PARTS = {"participant/_dot_controls.html": _own_controls, "shared/_comment_form.html": _own_comment_form}
# About 1 KB each: both parts of every item in the steps 50 rooms vote in, for each number of dots
# and comments people have on them.
_own_drawings = Kept(10_000)


@pass_context
def own(context, name: str, item: dict, **flags) -> Markup:
    """One of OWN_PARTS for item as this participant has it: kept for everyone in the same state, with this page's tokens."""
    def draw(**tokens):
        return context.environment.get_template(name).render(context.get_all(), item=item, **flags, **tokens)

    drawn_from = OWN_PARTS[name](context, item)
    if drawn_from is None:
        drawn = draw()
    else:
        # The forms' addresses hold the path the app is served under (item_url).
        key = (current_app.config["DATABASE"], request.script_root, name, context["lang"],
               context["workshop"]["code"], drawn_from, tuple(sorted(flags.items())))
        drawn = _own_drawings.get(key, lambda: draw(csrf_token=lambda: CSRF_HOLE, request_token=lambda: REQUEST_HOLE))
        drawn = drawn.replace(CSRF_HOLE, csrf_token_once())
        if REQUEST_HOLE in drawn:
            first, *rest = drawn.split(REQUEST_HOLE)
            drawn = first + "".join(request_token() + part for part in rest)
    return Markup(drawn)  # the template escaped what it holds; the tokens are ours


def room(db, workshop, step) -> Room:
    """The room's view of a voting step at the workshop's revision, read once and kept."""
    lang = language()
    key = (current_app.config["DATABASE"], workshop["id"], workshop["revision"], workshop["anonymous"], lang, step)
    return _rooms.get(key, lambda: Room(db, workshop, step, lang))


def shared_update(db, workshop, step, page_shape: str) -> str | None:
    """The update all participants at the same shape get, rendered once per revision; None if the shape moved."""
    seen = room(db, workshop, step)
    return seen.update() if seen.shape == page_shape else None


def items_added(db, workshop, step, page_shape: str, upto: str) -> list | None:
    """The items a page lacks, when new items after its last one are all that changed for it; else None."""
    if not upto.isdigit():
        return None
    seen = room(db, workshop, step)
    earlier = [i for i in seen.listed if i["id"] <= int(upto)]
    # Room items come last, in the order they were added (workshop.items): new ones follow the page's.
    if not earlier or seen.listed[:len(earlier)] != earlier:
        return None
    if shape(workshop, seen.context["rules"], earlier, seen.lang) != page_shape:
        return None
    return seen.listed[len(earlier):]


def matrix(db, workshop, listed, facilitating=False) -> dict:
    """The impact and effort matrix as the page shows it: whether shown, the drawing, the quadrants."""
    rules = steps.settings(db, workshop, "actions")
    shown = facilitating or rules["revealed"] or workshop["step"] == "review"
    rated = actions.ratings(db, workshop) if shown else {}
    in_agenda = [row for row in listed if row["in_agenda"]]
    numbers = {row["id"]: number for number, row in enumerate(in_agenda, 1)}
    points = [
        {"number": numbers[row["id"]], "title": row["what"], **rated[row["id"]]}
        for row in in_agenda if row["id"] in rated
    ]
    labels = {key: gettext(label) for key, label, _description in actions.QUADRANTS}
    labels.update(impact=gettext("Impact"), effort=gettext("Effort"))
    return {
        "numbers": numbers,
        "ratings": rated,
        "ratings_shown": shown,
        "matrix": chart.matrix_svg(gettext("Impact and effort of the actions"), points, labels,
                                   actions.SCALE, actions.THRESHOLD) if points else None,
        "quadrants": [
            {"key": key, "label": gettext(label), "description": gettext(description),
             "points": [p for p in points if p["quadrant"] == key]}
            for key, label, description in actions.QUADRANTS
        ],
    }


def action_plan(db, workshop, facilitating=False, me=None) -> dict:
    """What the actions and review steps show: actions with volunteers, ratings, matrix and texts."""
    lang = language()
    listed = actions.for_workshop(db, workshop)
    answerable = actions.answerable(db, workshop, lang=lang)
    return {
        **matrix(db, workshop, listed, facilitating),
        "recommendations": actions.adopted_recommendations(db, workshop, lang=lang),
        "actions": listed,
        "answerable_items": answerable,
        "answer_titles": {item["id"]: item["title"] for item in answerable},
        "volunteers": actions.volunteers(db, workshop),
        "my_ratings": actions.my_ratings(db, me["id"]) if me else {},
        "room_may_work": actions.room_may_work(db, workshop),
        "statuses": dict(actions.STATUSES),
        "texts": texts.all_texts(db, workshop),
        "text_labels": texts.TEXTS,
        "timing": lambda starts, ends: agenda.timing(starts, ends, lang),
    }
