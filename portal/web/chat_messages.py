"""A chat message as pages show it, drawn once: the channel's page, the home page's chat
panel and the live updates all print the same fragment (templates/chat/_message.html)."""

from flask import g, render_template
from flask_babel import get_locale, get_timezone

from portal import readcache
from portal.services import chat

#: Messages drawn at once (portal/readcache.py): in a busy channel every open page asks
#: for the same new messages, and every visit of a page shows the same ones, each drawn
#: once per worker.
MESSAGES_KEPT = 2000


def message_html(item: chat.ShownMessage) -> str:
    """A message's fragment (chat/_message.html), drawn once for all it depends on."""
    message = item.message
    key = (
        message.id,
        message.sequence,
        str(get_locale()),
        str(get_timezone()),
        item.author,
        item.handle,
        item.picture,
        item.mine,
        item.mentions_me,
        item.changeable,
        g.tenant.slug,
    )
    return readcache.remember(
        "chat messages",
        key,
        lambda: render_template("chat/_message.html", item=item),
        most=MESSAGES_KEPT,
    )
