"""A chat message's text as HTML: a small Markdown subset (bold, italic, code, lists,
links), ``@nickname`` mentions, nothing else.

markdown-it-py renders with raw HTML off, then nh3 keeps only the allow-list below,
so what a page prints is safe whatever was typed: a tag typed in a message shows as
text, a ``javascript:`` link is no link. Links open apart, with
``rel="noopener nofollow"``.

Both are imported when a message is first written, not when the pages that only show
stored messages load this module: they would cost every web worker some 3 MB.
"""

import re
from dataclasses import dataclass, field
from functools import cache

#: What a nickname is made of: letters (any script), digits, ``.``, ``_`` and ``-``,
#: starting with a letter or a digit.
HANDLE = r"[^\W_][\w.-]*"
#: A mention as typed: ``@`` then a nickname, ending before a final dot or dash
#: ("see @zoe." names zoe).
MENTION = re.compile(r"@([^\W_](?:[\w.-]*[^\W_])?)")

TAGS = {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "a", "span"}
ATTRIBUTES = {"a": {"href", "title"}, "span": {"data-user"}, "ol": {"start"}}


@dataclass
class Rendered:
    """A message ready to store: its HTML and the users it mentions."""

    html: str
    mentioned: set[int] = field(default_factory=set)


def _mention_rule(state, silent: bool) -> bool:
    """markdown-it's inline rule for a mention, ``state`` its ``StateInline``."""
    source, start = state.src, state.pos
    before = source[start - 1] if start else " "
    if source[start] != "@" or before.isalnum() or before in "_.-@":
        return False
    found = MENTION.match(source, start)
    member = found and state.env.get("handles", {}).get(found.group(1).casefold())
    if not member:
        return False
    if not silent:
        token = state.push("mention", "", 0)
        token.meta = {"user_id": member[0], "handle": member[1]}
        state.env.setdefault("mentioned", set()).add(member[0])
    state.pos = found.end()
    return True


def _render_mention(self, tokens, index, options, env) -> str:
    from markdown_it.common.utils import escapeHtml

    meta = tokens[index].meta
    return (
        f'<span class="mention" data-user="{int(meta["user_id"])}">'
        f"@{escapeHtml(meta['handle'])}</span>"
    )


@cache
def _parser():
    from markdown_it import MarkdownIt

    parser = MarkdownIt("zero", {"breaks": True, "html": False, "linkify": True})
    parser.enable(
        ["newline", "escape", "backticks", "emphasis", "link", "autolink", "linkify"]
        + ["list", "fence", "entity"]
    )
    parser.inline.ruler.before("emphasis", "mention", _mention_rule)
    parser.add_render_rule("mention", _render_mention)
    return parser


def _only_digits(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("data-user", "start"):
        return value if value.isdigit() else None
    return value


def render(body: str, handles: dict[str, tuple[int, str]]) -> Rendered:
    """``body`` as sanitised HTML; ``handles`` maps each casefolded nickname that may be
    mentioned to its user's id and nickname as written."""
    import nh3

    env: dict = {"handles": handles}
    html = _parser().render(body, env)
    clean = nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        attribute_filter=_only_digits,
        allowed_classes={"span": {"mention"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
    )
    return Rendered(clean.strip(), env.get("mentioned", set()))
