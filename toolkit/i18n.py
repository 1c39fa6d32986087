"""The gettext catalogues shared by the web pages, the CLI and the Word document.

The .po files are the only source: they are compiled in memory when first used, so there
is no compiled .mo file to forget to rebuild.
"""
import io
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"


def po_path(lang: str) -> Path:
    """Where the catalogue of lang lives."""
    return TRANSLATIONS_DIR / lang / "LC_MESSAGES" / "messages.po"


@lru_cache(maxsize=None)
def translations(lang: str) -> Translations:
    """The catalogue for lang (nl or en), compiled from its .po file."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    with po_path(lang).open("rb") as po:
        catalogue = read_po(po, locale=lang)
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain="messages")


def gettext_for(lang: str):
    """A gettext function bound to lang, for code that runs outside a request."""
    return translations(lang).gettext


def N_(message: str) -> str:
    """Mark message for extraction; it is translated where it is shown."""
    return message
