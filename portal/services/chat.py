"""The team chat (seed 003) as whole operations: channels and direct conversations,
messages with mentions, unread marks, presence, and each user's chat profile.

Membership is the one rule of reading: ``channel_for`` and ``message_for`` load a
channel or a message only through the reader's own membership row, and every list
below starts from that row. A view that loads through them cannot show a channel to
someone outside it.
"""

import hashlib
import io
import re
import secrets
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

from sqlalchemy import Integer, Select, and_, bindparam, case, delete, func, select, update

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models import (
    ChannelKind,
    ChatChannel,
    ChatMember,
    ChatMention,
    ChatMessage,
    ChatProfile,
    Presence,
    User,
    UserKind,
    UserStatus,
)
from portal.models.base import utcnow
from portal.services import audit, brand, unique
from portal.services.actor import Actor
from portal.services.chat_markup import render
from portal.services.refusal import Refusal
from portal.storage import delete_after_commit, save_in

#: Longest message, in characters.
MAX_BODY = 4000
#: How long after posting its author may still edit or delete a message.
EDIT_WINDOW = timedelta(minutes=15)
#: Messages on a channel's page.
PAGE = 50
#: Changes in one live update at most; a page further behind reloads. A page asks every
#: 1.5 s: this covers a busy channel's minute of delay, when a loaded server answers late.
CHANGES = 200
#: Unread counts stop here ("99+"): each costs at most this many index entries.
UNREAD_CAP = 100
#: Active this recently: connected.
CONNECTED_WITHIN = timedelta(seconds=90)
#: A page open (or active) this recently, but not the above: away.
AWAY_WITHIN = timedelta(minutes=5)
#: A heartbeat is written at most this often per user: presence needs no finer grain,
#: and 200 open pages then cost about 13 writes a second, not one per update.
HEARTBEAT_GRAIN = timedelta(seconds=15)
#: The palette offered for a channel's colour (any other must read on white).
PALETTE = (
    ("#1f5fbf", _l("Blue")),
    ("#2e7d32", _l("Green")),
    ("#b3261e", _l("Red")),
    ("#8e24aa", _l("Purple")),
    ("#a15c00", _l("Orange")),
    ("#00796b", _l("Teal")),
    ("#6d4c41", _l("Brown")),
    ("#455a64", _l("Slate")),
)
#: A channel's colour is a mark beside its name: WCAG's 3:1 for what is not text.
MIN_COLOR_CONTRAST = 3.0
#: A nickname: letters, digits, ".", "_" and "-", starting and ending with a letter or
#: a digit, so that ``@nickname`` reads the same in a sentence.
NICKNAME = re.compile(r"[^\W_](?:[\w.-]{0,28}[^\W_])?")
#: Pictures: the largest upload, the sides accepted, and the square they are stored in.
MAX_PICTURE_BYTES = 2 * 1024 * 1024
PICTURE_SIDES = (32, 4000)
PICTURE_STORED = 256
PICTURE_NAME = re.compile(r"face-[A-Za-z0-9_-]{16,40}\.png")


class ChatRefused(Refusal):
    """The chat will not do this; the message says why, and ``field`` which form field
    it is about, when one is."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- Reading: one mechanism, the reader's membership ---------------------------------


def _membership(user_id):
    """The join of a channel to the membership of ``user_id`` (an id, or a bound
    parameter in a statement built once)."""
    return and_(ChatMember.channel_id == ChatChannel.id, ChatMember.user_id == user_id)


def channel_for(user: User, channel_id: int) -> ChatChannel | None:
    """The channel if ``user`` is one of its members, else None (a 404 for the view)."""
    return db.session.scalar(
        select(ChatChannel)
        .join(ChatMember, _membership(user.id))
        .where(ChatChannel.id == channel_id)
    )


def message_for(user: User, message_id: int) -> ChatMessage | None:
    """The message if ``user`` is a member of its channel, else None."""
    return db.session.scalar(
        select(ChatMessage)
        .join(
            ChatMember,
            and_(ChatMember.channel_id == ChatMessage.channel_id, ChatMember.user_id == user.id),
        )
        .where(ChatMessage.id == message_id)
    )


@dataclass
class Person:
    """A colleague as the chat shows them."""

    id: int
    name: str
    handle: str
    picture: str | None
    presence: Presence


def default_handle(name: str) -> str:
    """A nickname from a full name, for whoever has not chosen one: "Hervé David" is
    ``@Hervé.David``."""
    words = re.findall(r"[^\W_]+", name)
    return ".".join(words)[:30].strip(".") or "user"


def presence_of(seen_at: datetime | None, active_at: datetime | None, now: datetime) -> Presence:
    if active_at is not None and now - active_at <= CONNECTED_WITHIN:
        return Presence.CONNECTED
    if seen_at is not None and now - seen_at <= AWAY_WITHIN:
        return Presence.AWAY
    return Presence.OFFLINE


PRESENCE_ORDER = {Presence.CONNECTED: 0, Presence.AWAY: 1, Presence.OFFLINE: 2}


def _persons(now: datetime, channel: ChatChannel | None = None) -> list[Person]:
    """The active members of ``channel``, or without one the active staff."""
    statement = (
        select(User.id, User.name, ChatProfile.nickname, ChatProfile.picture)
        .add_columns(ChatProfile.seen_at, ChatProfile.active_at)
        .outerjoin(ChatProfile, ChatProfile.user_id == User.id)
        .where(User.status == UserStatus.ACTIVE)
    )
    if channel is None:
        statement = statement.where(User.kind == UserKind.STAFF)
    else:
        statement = statement.join(
            ChatMember, and_(ChatMember.user_id == User.id, ChatMember.channel_id == channel.id)
        )
    return [
        Person(
            id=row.id,
            name=row.name,
            handle=row.nickname or default_handle(row.name),
            picture=row.picture,
            presence=presence_of(row.seen_at, row.active_at, now),
        )
        for row in db.session.execute(statement)
    ]


def people(user: User, now: datetime, channel: ChatChannel | None = None) -> list[Person]:
    """The active staff (a channel's members only, given one), sorted as the seed does:
    yourself first, then connected, away, offline, each by name."""
    return sorted(
        _persons(now, channel),
        key=lambda p: (p.id != user.id, PRESENCE_ORDER[p.presence], p.name.casefold(), p.id),
    )


@dataclass
class ChannelEntry:
    """A channel in a member's list, with their marks."""

    channel: ChatChannel
    title: str
    unread: int
    mentions: int

    @property
    def starred(self) -> bool:
        return self.unread > 0


def _capped_count(column, *criteria):
    """How many rows meet ``criteria``, at most ``UNREAD_CAP``: a correlated count that
    reads no further than the cap's row of the index (is there a 100th?)."""
    beyond = (
        select(column)
        .where(*criteria)
        .order_by(column)
        .offset(UNREAD_CAP - 1)
        .limit(1)
        .scalar_subquery()
    )
    counted = select(func.count(column)).where(*criteria).scalar_subquery()
    return case((beyond.is_not(None), UNREAD_CAP), else_=counted)


def unread_marks(user: User) -> dict[int, tuple[int, int]]:
    """Unread messages and mentions per channel, at most ``UNREAD_CAP`` each, for the
    channels with something unread (one statement; a channel read up to its last
    message costs no count)."""
    rows = db.session.execute(_unread_statement(), {"reader_id": user.id})
    return {channel_id: (count, named) for channel_id, count, named in rows if count or named}


@cache
def _unread_statement() -> Select:
    """``unread_marks``'s statement, built once for any reader (``reader_id``): every
    staff page counts for its navigation, and building its correlated counts cost more
    than running them. The scoping hook still limits it at each execution."""
    reader = bindparam("reader_id", type_=Integer)
    unread = _capped_count(
        ChatMessage.id,
        ChatMessage.channel_id == ChatMember.channel_id,
        ChatMessage.id > ChatMember.last_read_id,
        ChatMessage.author_id != reader,
        ChatMessage.deleted_at.is_(None),
    )
    mentions = _capped_count(
        ChatMention.message_id,
        ChatMention.user_id == reader,
        ChatMention.channel_id == ChatMember.channel_id,
        ChatMention.message_id > ChatMember.last_read_id,
    )
    return (
        select(ChatMember.channel_id, unread, mentions)
        .join(ChatChannel, _membership(reader))
        .where(ChatChannel.last_message_id > ChatMember.last_read_id)
    )


def channel_titles(user: User, channels: Iterable[ChatChannel]) -> dict[int, str]:
    """What each channel is called for ``user``: its name, "Everyone", or for a direct
    conversation the other members' names."""
    titles, direct = {}, []
    for channel in channels:
        if channel.kind is ChannelKind.EVERYONE:
            titles[channel.id] = str(_l("Everyone"))
        elif channel.kind is ChannelKind.DIRECT:
            direct.append(channel.id)
        else:
            titles[channel.id] = channel.name or ""
    if direct:
        others: dict[int, list[str]] = {}
        for channel_id, name in db.session.execute(
            select(ChatMember.channel_id, User.name)
            .join(User, User.id == ChatMember.user_id)
            .where(ChatMember.channel_id.in_(direct), ChatMember.user_id != user.id)
            .order_by(User.name)
        ):
            others.setdefault(channel_id, []).append(name)
        for channel_id in direct:
            titles[channel_id] = ", ".join(others.get(channel_id, [])) or str(_l("Only you"))
    return titles


def channel_list(user: User) -> list[ChannelEntry]:
    """``user``'s channels with their marks: "Everyone" first, then channels, then
    direct conversations, each by title; archived ones last."""
    channels = list(db.session.scalars(select(ChatChannel).join(ChatMember, _membership(user.id))))
    marks = unread_marks(user)
    titles = channel_titles(user, channels)
    kinds = {ChannelKind.EVERYONE: 0, ChannelKind.CHANNEL: 1, ChannelKind.DIRECT: 2}
    entries = [
        ChannelEntry(channel, titles[channel.id], *marks.get(channel.id, (0, 0)))
        for channel in channels
    ]
    entries.sort(
        key=lambda e: (
            e.channel.archived_at is not None,
            kinds[e.channel.kind],
            e.title.casefold(),
            e.channel.id,
        )
    )
    return entries


def unread_total(user: User) -> int:
    """The navigation's count: unread messages in all of ``user``'s channels."""
    return sum(count for count, _named in unread_marks(user).values())


@dataclass
class ShownMessage:
    """A message as a reader sees it."""

    message: ChatMessage
    author: str
    handle: str
    picture: str | None
    mine: bool
    mentions_me: bool
    changeable: bool


def shown(
    user: User,
    messages: Sequence[ChatMessage],
    now: datetime,
    known: Sequence[Person] = (),
) -> list[ShownMessage]:
    """``messages`` as ``user`` reads them; the authors among ``known`` (the channel's
    members, already listed) cost no statement, the others (who left) one together."""
    authors = {person.id: (person.name, person.handle, person.picture) for person in known}
    missing = {m.author_id for m in messages} - authors.keys()
    if missing:
        for row in db.session.execute(
            select(User.id, User.name, ChatProfile.nickname, ChatProfile.picture)
            .outerjoin(ChatProfile, ChatProfile.user_id == User.id)
            .where(User.id.in_(missing))
        ):
            authors[row.id] = (row.name, row.nickname or default_handle(row.name), row.picture)
    mark = f'data-user="{user.id}"'
    result = []
    for message in messages:
        name, handle, picture = authors[message.author_id]
        mine = message.author_id == user.id
        result.append(
            ShownMessage(
                message=message,
                author=name,
                handle=handle,
                picture=picture,
                mine=mine,
                mentions_me=mark in message.html,
                changeable=mine and changeable(message, now),
            )
        )
    return result


def changeable(message: ChatMessage, now: datetime) -> bool:
    return message.deleted_at is None and now - message.created_at <= EDIT_WINDOW


@dataclass
class Page:
    """A channel's messages around a point, oldest first."""

    messages: list[ChatMessage]
    #: The id to ask for older messages with, when there are some.
    older: int | None


def page(channel: ChatChannel, before: int | None = None) -> Page:
    """The channel's latest ``PAGE`` messages, or those before ``before``: one index
    range, whatever the channel's length."""
    statement = (
        select(ChatMessage)
        .where(ChatMessage.channel_id == channel.id)
        .order_by(ChatMessage.id.desc())
        .limit(PAGE + 1)
    )
    if before is not None:
        statement = statement.where(ChatMessage.id < before)
    rows = list(db.session.scalars(statement))
    older = rows[PAGE - 1].id if len(rows) > PAGE else None
    return Page(list(reversed(rows[:PAGE])), older)


def changes_after(channel: ChatChannel, sequence: int) -> list[ChatMessage]:
    """What an open page holding ``sequence`` has not seen: messages posted, edited or
    deleted since, in the order it happened (at most ``CHANGES``; more means reload)."""
    return list(
        db.session.scalars(
            select(ChatMessage)
            .where(ChatMessage.channel_id == channel.id, ChatMessage.sequence > sequence)
            .order_by(ChatMessage.sequence)
            .limit(CHANGES + 1)
        )
    )


# --- Live updates: what changed for a user, and their heartbeat ----------------------


def digest(value) -> str:
    return hashlib.blake2b(repr(value).encode(), digest_size=9).hexdigest()


@dataclass
class Pulse:
    """What an open page's state depends on, read from the indexes only: the user's
    channels' sequences and marks, and everyone's presence. A page holds a digest of
    each part; a part whose digest it already holds is not sent again."""

    #: (channel id, sequence, last message id, last read id) of each of the user's.
    channels: tuple[tuple[int, int, int, int], ...]
    #: (user id, presence) of whoever has had a page open lately.
    presence: tuple[tuple[int, str], ...]
    #: The user's own heartbeat as stored: (seen_at, active_at).
    own: tuple[datetime | None, datetime | None] | None

    @property
    def channel_ids(self) -> set[int]:
        """The user's channels: those they are a member of."""
        return {row[0] for row in self.channels}

    def sequence_of(self, channel_id: int) -> int | None:
        return next((row[1] for row in self.channels if row[0] == channel_id), None)

    def marks(self, open_channel_id: int | None) -> str:
        """The digest of the channel list's marks. The open channel counts only by
        whether something in it is unread: its messages reach the page on their own, and
        a storm in it must not redraw the list at every turn."""
        return digest(
            tuple(
                (row[0], row[2] > row[3]) if row[0] == open_channel_id else row
                for row in self.channels
            )
        )

    def people(self) -> str:
        return digest(self.presence)


def pulse(user: User, now: datetime) -> Pulse:
    channels = tuple(
        tuple(row)
        for row in db.session.execute(
            select(
                ChatChannel.id,
                ChatChannel.sequence,
                ChatChannel.last_message_id,
                ChatMember.last_read_id,
            )
            .join(ChatMember, _membership(user.id))
            .order_by(ChatChannel.id)
        )
    )
    recent = db.session.execute(
        select(ChatProfile.user_id, ChatProfile.seen_at, ChatProfile.active_at)
        .where(ChatProfile.seen_at > now - AWAY_WITHIN)
        .order_by(ChatProfile.user_id)
    ).all()
    own = next(((row.seen_at, row.active_at) for row in recent if row.user_id == user.id), None)
    presence = tuple(
        (row.user_id, presence_of(row.seen_at, row.active_at, now).value) for row in recent
    )
    return Pulse(channels, presence, own)


def heartbeat(
    user: User,
    active: bool,
    now: datetime,
    stored: tuple[datetime | None, datetime | None] | None = None,
) -> tuple[datetime | None, datetime | None]:
    """Note that ``user`` has a page open (and was active in it, if ``active``), given
    the ``(seen_at, active_at)`` stored when known (from a pulse or the profile): written
    at most once per ``HEARTBEAT_GRAIN``. Returns what is stored now."""
    seen_at, active_at = stored or (None, None)
    values = {}
    if seen_at is None or now - seen_at >= HEARTBEAT_GRAIN:
        values["seen_at"] = now
    if active and (active_at is None or now - active_at >= HEARTBEAT_GRAIN):
        values["seen_at"] = values["active_at"] = now
    if not values:
        return seen_at, active_at
    written = db.session.execute(
        update(ChatProfile).where(ChatProfile.user_id == user.id).values(**values)
    ).rowcount
    if not written:
        profile_of(user)
        db.session.execute(
            update(ChatProfile).where(ChatProfile.user_id == user.id).values(**values)
        )
    return values.get("seen_at", seen_at), values.get("active_at", active_at)


def beat(user: User, active: bool, now: datetime) -> Pulse:
    """An open page's turn: its user's heartbeat, and the pulse it is answered from
    (with that heartbeat in it, so that the page's next turn finds it unchanged)."""
    known = pulse(user, now)
    seen_at, active_at = heartbeat(user, active, now, known.own)
    presence = {user_id: state for user_id, state in known.presence}
    presence[user.id] = presence_of(seen_at, active_at, now).value
    return Pulse(known.channels, tuple(sorted(presence.items())), (seen_at, active_at))


def went_away(user: User) -> None:
    """``user`` signed out: offline at once, not after the heartbeat fades."""
    db.session.execute(
        update(ChatProfile)
        .where(ChatProfile.user_id == user.id)
        .values(seen_at=None, active_at=None)
    )


# --- Messages -------------------------------------------------------------------------


def _checked_body(body: str) -> str:
    body = (body or "").strip()
    if not body:
        raise ChatRefused(_l("Write a message first."), field="body")
    if len(body) > MAX_BODY:
        raise ChatRefused(
            _l(
                "A message may be %(max)d characters long at most; this one has %(length)d.",
                max=MAX_BODY,
                length=len(body),
            ),
            field="body",
        )
    return body


def _refuse_archived(channel: ChatChannel) -> None:
    if channel.archived_at is not None:
        raise ChatRefused(_l("This channel is archived: it can be read, no longer written in."))


def mentionable(channel: ChatChannel, now: datetime) -> dict[str, tuple[int, str]]:
    """Who may be mentioned in ``channel`` (its active members), by casefolded nickname."""
    handles = {}
    for person in sorted(_persons(now, channel), key=lambda p: (p.name.casefold(), p.id)):
        handles.setdefault(person.handle.casefold(), (person.id, person.handle))
    return handles


def _next_sequence(channel: ChatChannel) -> int:
    """Take the channel's next sequence number, the channel's row locked until the
    transaction ends: two posts in one channel are numbered in the order they commit,
    so an open page that holds a number never misses one below it."""
    db.session.flush()
    db.session.refresh(channel, with_for_update=True)
    channel.sequence += 1
    return channel.sequence


def _mention(message: ChatMessage, mentioned: set[int]) -> None:
    for user_id in sorted(mentioned - {message.author_id}):
        db.session.add(
            ChatMention(message_id=message.id, user_id=user_id, channel_id=message.channel_id)
        )


def post(channel: ChatChannel, body: str, *, actor: Actor, now: datetime | None = None):
    """Post ``body`` in ``channel`` as the actor, mentions marked for those it names."""
    now = now or utcnow()
    body = _checked_body(body)
    _refuse_archived(channel)
    rendered = render(body, mentionable(channel, now) if "@" in body else {})
    message = ChatMessage(
        channel_id=channel.id,
        author_id=actor.user.id,
        body=body,
        html=rendered.html,
        sequence=_next_sequence(channel),
        created_at=now,
    )
    db.session.add(message)
    db.session.flush()
    channel.last_message_id = message.id
    _mention(message, rendered.mentioned)
    mark_read(actor.user, channel.id, message.id)
    return message


def _refuse_unchangeable(message: ChatMessage, actor: Actor, now: datetime) -> None:
    if message.author_id != actor.user.id:
        raise ChatRefused(_l("Only its author may change a message."))
    if message.deleted_at is not None:
        raise ChatRefused(_l("This message was deleted."))
    if not changeable(message, now):
        raise ChatRefused(
            _l(
                "A message may be changed for %(minutes)d minutes after it was posted.",
                minutes=EDIT_WINDOW.seconds // 60,
            )
        )


def edit(message: ChatMessage, channel: ChatChannel, body: str, *, actor: Actor, now=None):
    now = now or utcnow()
    _refuse_unchangeable(message, actor, now)
    _refuse_archived(channel)
    body = _checked_body(body)
    rendered = render(body, mentionable(channel, now))
    db.session.execute(delete(ChatMention).where(ChatMention.message_id == message.id))
    message.body, message.html, message.edited_at = body, rendered.html, now
    message.sequence = _next_sequence(channel)
    _mention(message, rendered.mentioned)


def remove(message: ChatMessage, channel: ChatChannel, *, actor: Actor, now=None) -> None:
    """Delete the actor's message: its text goes, "deleted" shows in its place."""
    now = now or utcnow()
    _refuse_unchangeable(message, actor, now)
    _refuse_archived(channel)
    db.session.execute(delete(ChatMention).where(ChatMention.message_id == message.id))
    message.body = message.html = ""
    message.deleted_at = now
    message.sequence = _next_sequence(channel)


def mark_read(user: User, channel_id: int, up_to: int) -> None:
    """``user`` has seen the channel up to message ``up_to`` (never backwards, never past
    its last message). Their own membership row only: nobody else's, and nothing for a
    channel they are not in."""
    last = select(ChatChannel.last_message_id).where(ChatChannel.id == channel_id).scalar_subquery()
    db.session.execute(
        update(ChatMember)
        .where(
            ChatMember.channel_id == channel_id,
            ChatMember.user_id == user.id,
            ChatMember.last_read_id < up_to,
            ChatMember.last_read_id < last,
        )
        .values(last_read_id=case((last < up_to, last), else_=up_to))
    )


# --- Channels -------------------------------------------------------------------------


def check_color(value: str | None) -> str:
    try:
        color = brand.normalise_color(value)
    except brand.BrandRefused:
        color = None
    if color is None:
        raise ChatRefused(_l("Choose a colour of the palette, or give one as #RRGGBB."))
    ratio = brand.contrast_ratio(color, brand.WHITE)
    if ratio < MIN_COLOR_CONTRAST:
        raise ChatRefused(
            _l(
                "This colour is too pale to see on white (%(ratio)s:1; 3:1 at least).",
                ratio=f"{ratio:.1f}",
            )
        )
    return color


def _checked_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise ChatRefused(_l("Give the channel a name."))
    if len(name) > 80:
        raise ChatRefused(_l("A channel's name may be 80 characters long at most."))
    return name


def colleagues(ids: Iterable[int]) -> list[User]:
    """The active staff among ``ids`` who may use the chat (others are ignored)."""
    users = db.session.scalars(
        select(User).where(
            User.id.in_(set(ids)), User.kind == UserKind.STAFF, User.status == UserStatus.ACTIVE
        )
    )
    return [user for user in users if user.can("chat.use")]


def _add_members(channel: ChatChannel, users: Iterable[User], now: datetime) -> None:
    for user in users:
        db.session.add(
            ChatMember(
                channel_id=channel.id,
                user_id=user.id,
                joined_at=now,
                last_read_id=0,
            )
        )


def create_everyone() -> ChatChannel:
    """The bound tenant's "Everyone" channel (with the tenant, and for its staff)."""
    channel = ChatChannel(kind=ChannelKind.EVERYONE, unique_key="everyone")
    db.session.add(channel)
    db.session.flush()
    return channel


def welcome(user: User) -> None:
    """A new staff member joins "Everyone" and gets a chat profile."""
    everyone = db.session.scalar(select(ChatChannel).where(ChatChannel.unique_key == "everyone"))
    if everyone is not None:
        db.session.add(
            ChatMember(
                channel_id=everyone.id, user_id=user.id, last_read_id=everyone.last_message_id
            )
        )
    db.session.add(ChatProfile(user_id=user.id))


def create_channel(
    name: str,
    color: str,
    description: str | None,
    member_ids: Iterable[int],
    *,
    actor: Actor,
    now: datetime | None = None,
) -> ChatChannel:
    now = now or utcnow()
    channel = ChatChannel(
        kind=ChannelKind.CHANNEL,
        name=_checked_name(name),
        color=check_color(color),
        description=(description or "").strip()[:300] or None,
        created_by_id=actor.user.id,
        created_at=now,
    )
    db.session.add(channel)
    db.session.flush()
    members = [actor.user] + [u for u in colleagues(member_ids) if u.id != actor.user.id]
    _add_members(channel, members, now)
    audit.record(
        "chat.channel_created",
        actor=actor,
        channel=channel.id,
        name=channel.name,
        members=len(members),
    )
    return channel


def may_manage(user: User, channel: ChatChannel) -> bool:
    """The creator of a channel, or a holder of the chat's administration, may rename,
    recolour, archive it and choose its members; nobody does so to a direct
    conversation, and "Everyone" may only be recoloured."""
    if channel.kind is ChannelKind.DIRECT:
        return False
    return channel.created_by_id == user.id or user.can("chat.admin")


def _refuse_unmanaged(channel: ChatChannel, actor: Actor) -> None:
    if not may_manage(actor.user, channel):
        raise ChatRefused(_l("Only the channel's creator or a chat administrator may change it."))


def change_channel(
    channel: ChatChannel,
    name: str,
    color: str,
    description: str | None,
    member_ids: Iterable[int] | None,
    *,
    actor: Actor,
    now: datetime | None = None,
) -> bool:
    """Rename, recolour, describe the channel and choose its members; False when
    nothing changed."""
    now = now or utcnow()
    _refuse_unmanaged(channel, actor)
    color = check_color(color)
    changes: dict[str, list] = {}
    if channel.kind is ChannelKind.CHANNEL:
        name = _checked_name(name)
        description = (description or "").strip()[:300] or None
        for field, value in (("name", name), ("description", description)):
            if getattr(channel, field) != value:
                changes[field] = [getattr(channel, field), value]
                setattr(channel, field, value)
    if channel.color != color:
        changes["color"] = [channel.color, color]
        channel.color = color
    if member_ids is not None and channel.kind is ChannelKind.CHANNEL:
        current = set(
            db.session.scalars(
                select(ChatMember.user_id).where(ChatMember.channel_id == channel.id)
            )
        )
        wanted = {u.id for u in colleagues(member_ids)} | {actor.user.id}
        added = [u for u in colleagues(wanted - current)]
        removed = current - wanted
        if added:
            _add_members(channel, added, now)
            changes["members_added"] = [None, len(added)]
        if removed:
            db.session.execute(
                delete(ChatMember).where(
                    ChatMember.channel_id == channel.id, ChatMember.user_id.in_(removed)
                )
            )
            changes["members_removed"] = [None, len(removed)]
    if not changes:
        return False
    _next_sequence(channel)
    audit.record("chat.channel_changed", actor=actor, channel=channel.id, changes=changes)
    return True


def archive(channel: ChatChannel, archived: bool, *, actor: Actor, now=None) -> None:
    """Archive the channel (read-only from now on), or open it again."""
    _refuse_unmanaged(channel, actor)
    if channel.kind is ChannelKind.EVERYONE:
        raise ChatRefused(_l("The channel of everyone cannot be archived."))
    if (channel.archived_at is not None) == archived:
        return
    channel.archived_at = (now or utcnow()) if archived else None
    _next_sequence(channel)
    audit.record(
        "chat.channel_archived" if archived else "chat.channel_reopened",
        actor=actor,
        channel=channel.id,
        name=channel.name,
    )


def leave(channel: ChatChannel, *, actor: Actor) -> None:
    if channel.kind is ChannelKind.EVERYONE:
        raise ChatRefused(_l("Everyone stays in the channel of everyone."))
    db.session.execute(
        delete(ChatMember).where(
            ChatMember.channel_id == channel.id, ChatMember.user_id == actor.user.id
        )
    )
    _next_sequence(channel)
    audit.record("chat.channel_left", actor=actor, channel=channel.id)


def open_direct(member_ids: Iterable[int], *, actor: Actor, now=None) -> ChatChannel:
    """The conversation between the actor and ``member_ids``: the one they already
    have (the actor back in it if they had left), else a new one."""
    now = now or utcnow()
    others = [u for u in colleagues(member_ids) if u.id != actor.user.id]
    if not others:
        raise ChatRefused(_l("Choose at least one colleague to talk with."))
    members = sorted({actor.user.id, *(u.id for u in others)})
    key = "-".join(str(i) for i in members)
    channel = db.session.scalar(select(ChatChannel).where(ChatChannel.unique_key == key))
    if channel is None:
        channel = ChatChannel(
            kind=ChannelKind.DIRECT, unique_key=key, created_by_id=actor.user.id, created_at=now
        )
        try:
            with unique.claimed():
                db.session.add(channel)
        except unique.Taken:
            channel = db.session.scalar(select(ChatChannel).where(ChatChannel.unique_key == key))
        else:
            _add_members(channel, [actor.user, *others], now)
            return channel
    if channel_for(actor.user, channel.id) is None:
        _add_members(channel, [actor.user], now)
    return channel


# --- Profiles -------------------------------------------------------------------------


def profile_of(user: User) -> ChatProfile:
    """``user``'s chat profile, made on first need."""
    profile = db.session.scalar(select(ChatProfile).where(ChatProfile.user_id == user.id))
    if profile is None:
        profile = ChatProfile(user_id=user.id)
        try:
            with unique.claimed():
                db.session.add(profile)
        except unique.Taken:
            profile = db.session.scalar(select(ChatProfile).where(ChatProfile.user_id == user.id))
    return profile


def check_nickname(value: str | None) -> str | None:
    value = (value or "").strip().lstrip("@")
    if not value:
        return None
    if not NICKNAME.fullmatch(value):
        raise ChatRefused(
            _l(
                "Use 1 to 30 letters, digits, dots, dashes or underscores, starting and "
                "ending with a letter or a digit."
            ),
            field="nickname",
        )
    return value


def change_profile(
    user: User,
    *,
    nickname: str | None,
    newest_first: bool,
    picture: bytes | None = None,
    remove_picture: bool = False,
    actor: Actor,
) -> None:
    """Change ``user``'s nickname, reading order and picture (a new one from an upload's
    bytes, or none): all checked before anything is written."""
    nickname = check_nickname(nickname)
    key = nickname.casefold() if nickname else None
    profile = profile_of(user)
    if key and key != profile.nickname_key:
        taken = db.session.scalar(
            select(ChatProfile.id).where(
                ChatProfile.nickname_key == key, ChatProfile.user_id != user.id
            )
        )
        if taken is not None:
            raise ChatRefused(_l("A colleague already goes by this nickname."), field="nickname")
    stored = check_picture(picture) if picture is not None else None
    profile.newest_first = newest_first
    profile.nickname, profile.nickname_key = nickname, key
    if stored is not None or remove_picture:
        if profile.picture:
            delete_after_commit(db.session, picture_key(user.tenant_id, profile.picture))
        profile.picture = None
    if stored is not None:
        profile.picture = f"face-{secrets.token_urlsafe(18)}.png"
        save_in(db.session, picture_key(user.tenant_id, profile.picture), stored)


def picture_named(name: str) -> bool:
    """Whether ``name`` is a staff member's current picture in the bound tenant."""
    return db.session.scalar(select(ChatProfile.id).where(ChatProfile.picture == name)) is not None


def picture_key(tenant_id: int, name: str) -> str:
    return f"tenants/{tenant_id}/chat/{name}"


def check_picture(data: bytes) -> bytes:
    """The picture to store from an upload: a PNG of at most 256 px a side, cropped
    square, re-encoded without metadata; or ChatRefused saying what is wrong."""
    if not data:
        raise ChatRefused(_l("The file is empty."), field="picture")
    if len(data) > MAX_PICTURE_BYTES:
        raise ChatRefused(_l("A picture may be 2 MB at most."), field="picture")
    refused = ChatRefused(
        _l("The picture must be a PNG, JPEG, GIF or WebP image."), field="picture"
    )
    smallest, largest = PICTURE_SIDES
    # Pillow costs each web worker some 3 MB: imported when a picture is uploaded.
    from PIL import Image, ImageOps, UnidentifiedImageError

    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as probe:
                kind, (width, height) = probe.format, probe.size
                if kind not in ("PNG", "JPEG", "MPO", "GIF", "WEBP"):
                    raise refused
                if not (smallest <= width <= largest and smallest <= height <= largest):
                    raise ChatRefused(
                        _l(
                            "The picture is %(width)d × %(height)d pixels; it must be "
                            "%(min)d to %(max)d pixels a side.",
                            width=width,
                            height=height,
                            min=smallest,
                            max=largest,
                        ),
                        field="picture",
                    )
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                image = ImageOps.exif_transpose(image).convert("RGB")
        except ChatRefused:
            raise
        except (
            UnidentifiedImageError,
            Image.DecompressionBombWarning,
            Image.DecompressionBombError,
            OSError,
            SyntaxError,
            ValueError,
        ):
            raise refused from None
    image = ImageOps.fit(image, (PICTURE_STORED, PICTURE_STORED), Image.Resampling.LANCZOS)
    output = io.BytesIO()
    image.info = {}
    image.save(output, format="PNG", optimize=True)
    return output.getvalue()


#: Messages the home page's chat panel shows.
PANEL_MESSAGES = 5


@dataclass
class Panel:
    """The home page's chat (the seed's desktop widget): the user's channels with their
    marks, and the latest messages of one of them."""

    entries: list[ChannelEntry]
    current: ChannelEntry | None
    messages: list[ShownMessage]


def panel(user: User, channel_id: int | None, now: datetime | None = None) -> Panel:
    """The panel on ``channel_id`` if the user is a member of it, else on their first
    channel with something unread, else on "Everyone"."""
    now = now or utcnow()
    entries = channel_list(user)
    current = next((e for e in entries if e.channel.id == channel_id), None)
    current = current or next((e for e in entries if e.starred), None)
    current = current or (entries[0] if entries else None)
    messages: list[ShownMessage] = []
    if current is not None:
        latest = page(current.channel).messages[-PANEL_MESSAGES:]
        messages = shown(user, latest, now)
    return Panel(entries, current, messages)
