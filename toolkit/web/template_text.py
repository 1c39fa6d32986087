"""The templates' gettext: bound to a language once, not looked up again for every string.

Jinja's own newstyle gettext finds the catalogue through the request for each of the hundreds
of strings on a page and formats each anew: 9 µs a string, a sixth of the server's time under
load (benchmarks/load.py, py-spy). These behave the same: a translation is marked safe and the
values put in it are escaped, where the template escapes.
"""
from functools import lru_cache

from jinja2 import pass_eval_context
from markupsafe import Markup

from toolkit.i18n import translations


@lru_cache(maxsize=None)
def for_language(lang: str) -> dict:
    """_, gettext and ngettext for templates in lang."""
    catalogue = translations(lang)
    alone = {}  # message -> its translation as a page shows it: most strings have no values

    @pass_eval_context
    def gettext(eval_ctx, message, /, **variables):
        if not eval_ctx.autoescape:
            return catalogue.gettext(message) % variables
        if variables:
            return Markup(catalogue.gettext(message)) % variables
        found = alone.get(message)
        if found is None:
            found = alone[message] = Markup(catalogue.gettext(message)) % {}
        return found

    @pass_eval_context
    def ngettext(eval_ctx, singular, plural, num, /, **variables):
        variables.setdefault("num", num)
        text = catalogue.ngettext(singular, plural, num)
        return (Markup(text) if eval_ctx.autoescape else text) % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}
