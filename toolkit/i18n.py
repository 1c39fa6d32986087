"""The gettext catalogues shared by the web pages, the CLI and the Word document."""
from functools import lru_cache
from pathlib import Path

from babel.support import Translations

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
LANGUAGES = ("nl", "en")
DEFAULT_LANGUAGE = "nl"


@lru_cache(maxsize=None)
def translations(lang: str) -> Translations:
    """The compiled catalogue for lang (nl or en)."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}")
    return Translations.load(str(TRANSLATIONS_DIR), [lang], domain="messages")


def gettext_for(lang: str):
    """A gettext function bound to lang, for code that runs outside a request."""
    return translations(lang).gettext


def N_(message: str) -> str:
    """Mark message for extraction; it is translated where it is shown."""
    return message
