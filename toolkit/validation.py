"""Checking what people type: one error type that carries a translatable message."""
import re

from toolkit.i18n import N_

# Characters that no page, XML document or spreadsheet should ever carry.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


class Invalid(ValueError):
    """Input a person can correct; message is an untranslated msgid with %(name)s params."""

    def __init__(self, message: str, field: str | None = None, **params):
        super().__init__(message % params if params else message)
        self.message = message
        self.field = field
        self.params = params


class NotFound(LookupError):
    """Something that does not exist, or that this caller may not see."""


def row_id(value) -> int:
    """value as a database id, or NotFound: a made-up or oversized id looks like a missing one."""
    try:
        number = int(str(value))
    except (TypeError, ValueError):
        raise NotFound(value) from None
    if not 0 < number < 2**63:  # SQLite's integers end there
        raise NotFound(value)
    return number


def text(value, field: str, max_length: int, required: bool = True) -> str:
    """value as clean single-paragraph-safe text, or Invalid naming field."""
    value = _FORBIDDEN.sub("", str(value or "")).strip()
    if required and not value:
        raise Invalid(N_("Please fill in this field."), field)
    if len(value) > max_length:
        raise Invalid(
            N_("Please use at most %(max)d characters."), field, max=max_length
        )
    return value


def integer(value, field: str, lowest: int, highest: int) -> int:
    """value as a whole number between lowest and highest, or Invalid naming field."""
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        raise Invalid(N_("Please enter a whole number."), field) from None
    if not lowest <= number <= highest:
        raise Invalid(
            N_("Please enter a number from %(lowest)d to %(highest)d."),
            field,
            lowest=lowest,
            highest=highest,
        )
    return number


def choice(value, field: str, allowed) -> str:
    """value if it is one of allowed, or Invalid naming field."""
    value = str(value or "").strip()
    if value not in allowed:
        raise Invalid(N_("Please choose one of the options."), field)
    return value
