"""The chat's emoji picker: the Unicode emoji listed in ``portal/data/chat_emoji.txt``,
each named in the page's language from the ``emoji`` library's data (no image, no CDN:
the browser draws them like any other character).

The library is imported when the picker is first drawn: its tables of every emoji cost
each web worker some 3 MB, and only the chat's pages show the picker."""

from functools import cache
from pathlib import Path

from flask_babel import get_locale

LIST = Path(__file__).resolve().parent.parent / "data" / "chat_emoji.txt"
#: The languages whose names the library holds that Portal speaks.
LANGUAGES = ("en", "fr")


@cache
def _characters() -> tuple[str, ...]:
    lines = LIST.read_text(encoding="utf-8").splitlines()
    return tuple(
        character for line in lines if not line.startswith("#") for character in line.split()
    )


@cache
def _named(language: str) -> tuple[tuple[str, str], ...]:
    import emoji

    if language != "en":
        emoji.config.load_language(language)
    named = []
    for character in _characters():
        data = emoji.EMOJI_DATA[character]
        name = data.get(language) or data["en"]
        named.append((character, name.strip(":").replace("_", " ")))
    return tuple(named)


def emoji_choices() -> tuple[tuple[str, str], ...]:
    """The picker's emoji and their names in the page's language."""
    language = get_locale().language if get_locale() else "en"
    return _named(language if language in LANGUAGES else "en")
