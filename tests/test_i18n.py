"""Dutch and English everywhere: complete catalogues, in step with the code, chosen per workshop."""
import re
from io import BytesIO
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from conftest import WORKSHOP_FORM, join

from toolkit import workshop as workshops
from toolkit.i18n import LANGUAGES, po_path

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")


def _source_messages():
    """Every msgid the code and templates use, extracted as pybabel would."""
    method_map = [("toolkit/**.py", "python"), ("templates/**.html", "jinja2")]
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, keywords={"_": None, "N_": None, "gettext": None,
                                          "ngettext": (1, 2), "lazy_gettext": None}
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def _catalogue(lang):
    with po_path(lang).open("rb") as po:
        return read_po(po, locale=lang)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogue_holds_exactly_the_messages_in_use(lang):
    in_use = _source_messages()
    listed = {m.id if isinstance(m.id, str) else m.id[0] for m in _catalogue(lang) if m.id}
    assert sorted(in_use - listed) == [], "run pybabel extract/update and translate"
    assert sorted(listed - in_use) == [], "stale messages: run pybabel update"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_is_translated_with_its_placeholders(lang):
    for message in _catalogue(lang):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert all(strings), f"untranslated: {ids[0]!r}"
        assert "fuzzy" not in message.flags, ids[0]
        wanted = set(PLACEHOLDER.findall(ids[-1])) | set(PLACEHOLDER.findall(ids[0]))
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) <= wanted, ids[0]


def test_dutch_is_really_dutch():
    catalogue = _catalogue("nl")
    different = [m for m in catalogue if m.id and m.string and m.string != m.id]
    assert len(different) > 0.9 * len([m for m in catalogue if m.id])


def test_the_workshop_language_is_the_default(app, db, facilitator):
    english = workshops.create(db, facilitator.account["id"], {**WORKSHOP_FORM, "language": "en"})
    workshops.set_step(db, english["id"], "drivers")
    person = join(app, english)
    page = person.get(f"/w/{english['code']}").get_data(as_text=True)
    assert '<html lang="en">' in page and "Staying competitive" in page and "dots left" in page


def test_a_person_can_switch_language(app, db, workshop):
    workshops.set_step(db, workshop["id"], "drivers")
    person = join(app, workshop)
    url = f"/w/{workshop['code']}"
    assert "Concurrerend blijven" in person.get(url).get_data(as_text=True)
    response = person.post("/language", {"lang": "en", "next": url})
    assert response.status_code == 303 and response.location == url
    page = person.get(url).get_data(as_text=True)
    assert '<html lang="en">' in page and "Staying competitive" in page
    # An address elsewhere is never followed.
    assert person.post("/language", {"lang": "nl", "next": "//evil.example"}).location == "/"


def test_the_start_page_follows_the_browser(visitor):
    english = visitor.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(as_text=True)
    dutch = visitor.get("/", headers={"Accept-Language": "nl"}).get_data(as_text=True)
    assert "Join a workshop" in english
    assert '<html lang="nl">' in dutch and "Join a workshop" not in dutch


def test_documents_follow_the_workshop_language(db, facilitator):
    from docx import Document

    from toolkit import agenda

    for lang, heading in (("nl", "Actieplan"), ("en", "Action plan")):
        made = workshops.create(db, facilitator.account["id"], {**WORKSHOP_FORM, "language": lang})
        document = Document(BytesIO(agenda.export_draft(db, made)["docx"]))
        assert heading in [p.text for p in document.paragraphs]


TEMPLATE_TEXT = st.text(alphabet=st.sampled_from(list("ab <>&\"'%é")), max_size=8)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(value="<b>", number=2, lang="nl", autoescape=False, message="%(num)d action")  # num given twice
@given(value=TEMPLATE_TEXT, number=st.integers(0, 3), lang=st.sampled_from(LANGUAGES), autoescape=st.booleans(),
       message=st.sampled_from(sorted(_source_messages())))
def test_the_templates_gettext_gives_what_jinja_s_own_gives(app, value, number, lang, autoescape, message):
    from toolkit.web import template_text

    # Jinja's own newstyle gettext, as installed on the app, against ours, on every string we
    # have, with a value to put in (escaped only where the template escapes) and a count.
    names = dict.fromkeys(PLACEHOLDER.findall(message))
    values = {name[2:-2]: number if name.endswith("d") else value for name in names}
    source = ("{% autoescape " + str(autoescape).lower() + " %}{{ _(m, **v) }}|"
              "{{ ngettext(m, m + 's', n, **v) }}{% endautoescape %}")
    with app.test_request_context("/", headers={"Accept-Language": lang}):
        jinja_s = app.jinja_env.from_string(source).render(m=message, v=values, n=number)
        ours = app.jinja_env.from_string(source).render(m=message, v=values, n=number,
                                                        **template_text.for_language(lang))
    assert ours == jinja_s
