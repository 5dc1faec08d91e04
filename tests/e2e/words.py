"""The words a user sees, in their language: the stories look for each label, button and
text by its English msgid, read through the compiled catalogues as the app reads them
(``fr_CA`` falling back to ``fr`` string by string, then to the msgid; ``en`` as written)."""

from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.support import NullTranslations, Translations

CATALOGUES = Path(__file__).resolve().parents[2] / "portal" / "translations"

#: ``say("Save")`` → "Enregistrer"; ``say("… %(balance)s.", balance="49 min")`` fills the
#: translated string with ``%``, as the app's gettext does.
Words = Callable[..., str]


def _catalogue(name: str) -> Translations:
    """One compiled catalogue; a missing one fails rather than reading English."""
    with open(CATALOGUES / name / "LC_MESSAGES" / "messages.mo", "rb") as mo:
        return Translations(mo)


@lru_cache
def _translations(locale: str) -> NullTranslations:
    locale = locale.replace("-", "_")
    if locale == "en":
        return NullTranslations()
    language, _, territory = locale.partition("_")
    translations = _catalogue(locale)
    if territory:
        translations.add_fallback(_catalogue(language))
    return translations


def words(locale: str) -> Words:
    """What the app says for an English msgid in ``locale`` (``en``, ``fr``, ``fr_CA``)."""
    translations = _translations(locale)

    def say(msgid: str, **variables) -> str:
        text = translations.ugettext(msgid)
        return text % variables if variables else text

    return say
