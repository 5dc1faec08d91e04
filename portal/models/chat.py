"""The team chat (seed 003, "Clavardage"): channels and direct conversations, their
members and messages, and each user's chat profile (nickname, picture, presence).

Who may read a channel is its membership, nothing else: a channel and its messages
are reached only through ``portal.services.chat.channel_for`` and ``message_for``, which
join the reader's membership row. Members are users, whatever their kind: today only
staff hold the chat's permission, and a later support channel with a client's contacts
needs no new table, only members of that kind and a permission for them.
"""

import enum
from datetime import datetime

from sqlalchemy import ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db
from portal.i18n import lazy_gettext as _l
from portal.models.base import UTCDateTime, db_enum, utcnow
from portal.tenancy import TenantScoped


class ChannelKind(enum.StrEnum):
    #: A named channel whose members were chosen.
    CHANNEL = "channel"
    #: A conversation between the same two or more people, without a name.
    DIRECT = "direct"
    #: The tenant's channel of all its staff, created with the tenant.
    EVERYONE = "everyone"


class Presence(enum.StrEnum):
    CONNECTED = "connected"
    AWAY = "away"
    OFFLINE = "offline"

    @property
    def label(self) -> str:
        return {
            Presence.CONNECTED: _l("Connected"),
            Presence.AWAY: _l("Away"),
            Presence.OFFLINE: _l("Offline"),
        }[self]


class ChatChannel(TenantScoped, db.Model):
    """A channel, a direct conversation, or the tenant's "Everyone" channel."""

    __tablename__ = "chat_channel"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        # One "Everyone" channel per tenant, one conversation per set of people.
        UniqueConstraint("tenant_id", "unique_key"),
        ForeignKeyConstraint(
            ["tenant_id", "created_by_id"], ["user_account.tenant_id", "user_account.id"]
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Channel, direct conversation or "Everyone".
    kind: Mapped[ChannelKind] = mapped_column(db_enum(ChannelKind, "chat_channel_kind"))
    #: What members call it; a direct conversation and "Everyone" have none of their own.
    name: Mapped[str | None] = mapped_column(String(80))
    #: Its colour in the list (#rrggbb), to find it at a glance as the seed does.
    color: Mapped[str] = mapped_column(String(7), default="#1f5fbf")
    #: What it is for, in a line.
    description: Mapped[str | None] = mapped_column(String(300))
    #: "everyone", or a direct conversation's member ids in order ("3-7-12"); None for
    #: a channel, which may share a name with another.
    unique_key: Mapped[str | None] = mapped_column(String(200))
    #: Who created it (None for "Everyone").
    created_by_id: Mapped[int | None]
    #: When it was created.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When it was archived: readable still, closed to new messages.
    archived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Its newest message's id (0 before the first), so that a member's unread marks
    #: cost nothing while they are up to date.
    last_message_id: Mapped[int] = mapped_column(default=0)
    #: Grows by one at every change a member's open page must show (a message posted,
    #: edited or deleted; a rename, recolour, archive or change of members): open pages
    #: ask only for what came after the number they hold.
    sequence: Mapped[int] = mapped_column(default=0)


class ChatMember(TenantScoped, db.Model):
    """One user's membership of a channel, and how far they have read it."""

    __tablename__ = "chat_member"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "channel_id"],
            ["chat_channel.tenant_id", "chat_channel.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["user_account.tenant_id", "user_account.id"],
            ondelete="CASCADE",
        ),
        # A user's channels, read at every page and live update.
        Index("ix_chat_member_user", "tenant_id", "user_id", "channel_id"),
    )

    #: The channel.
    channel_id: Mapped[int] = mapped_column(primary_key=True)
    #: The member.
    user_id: Mapped[int] = mapped_column(primary_key=True)
    #: When they joined.
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The last message they have seen in the channel (0: none).
    last_read_id: Mapped[int] = mapped_column(default=0)


class ChatMessage(TenantScoped, db.Model):
    """One message of a channel."""

    __tablename__ = "chat_message"
    __table_args__ = (
        UniqueConstraint("tenant_id", "id"),
        ForeignKeyConstraint(
            ["tenant_id", "channel_id"],
            ["chat_channel.tenant_id", "chat_channel.id"],
            ondelete="CASCADE",
        ),
        # No cascade: Portal disables users, never deletes them, and the database
        # refuses to delete one who wrote here, so a message always keeps its author.
        ForeignKeyConstraint(
            ["tenant_id", "author_id"], ["user_account.tenant_id", "user_account.id"]
        ),
        # A channel's latest page, and the unread count after a member's mark.
        Index("ix_chat_message_channel", "tenant_id", "channel_id", "id"),
        # What an open page has not seen yet: posted, edited or deleted after its number.
        Index("ix_chat_message_sequence", "tenant_id", "channel_id", "sequence"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The channel it was posted in.
    channel_id: Mapped[int]
    #: Who wrote it.
    author_id: Mapped[int]
    #: What the author typed (the Markdown subset); empty once deleted.
    body: Mapped[str] = mapped_column(Text)
    #: ``body`` rendered and sanitised when written, so that a page only prints it.
    html: Mapped[str] = mapped_column(Text)
    #: The channel's ``sequence`` when this message was last written.
    sequence: Mapped[int]
    #: When it was posted.
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When its author last changed it.
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When its author deleted it (its text is gone; the place in the thread stays).
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ChatMention(TenantScoped, db.Model):
    """A member named in a message (the seed's recipients): it counts in their marks."""

    __tablename__ = "chat_mention"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "message_id"],
            ["chat_message.tenant_id", "chat_message.id"],
            ondelete="CASCADE",
        ),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["user_account.tenant_id", "user_account.id"],
            ondelete="CASCADE",
        ),
        # A user's mentions in a channel after their mark.
        Index("ix_chat_mention_user", "tenant_id", "user_id", "channel_id", "message_id"),
    )

    #: The message.
    message_id: Mapped[int] = mapped_column(primary_key=True)
    #: Who it names.
    user_id: Mapped[int] = mapped_column(primary_key=True)
    #: The message's channel, so that a mark counts mentions without the messages.
    channel_id: Mapped[int]


class ChatProfile(TenantScoped, db.Model):
    """A user's face in the chat, their presence, and how they read it."""

    __tablename__ = "chat_profile"
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id"),
        # Nicknames are how mentions name people: one per person in a tenant.
        UniqueConstraint("tenant_id", "nickname_key"),
        ForeignKeyConstraint(
            ["tenant_id", "user_id"],
            ["user_account.tenant_id", "user_account.id"],
            ondelete="CASCADE",
        ),
        # Who has had a page open lately: the presence list.
        Index("ix_chat_profile_seen", "tenant_id", "seen_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: The user.
    user_id: Mapped[int]
    #: The name colleagues mention them by (``@nickname``); None: from their name.
    nickname: Mapped[str | None] = mapped_column(String(30))
    #: ``nickname`` casefolded, unique in the tenant.
    nickname_key: Mapped[str | None] = mapped_column(String(30))
    #: The stored picture's file name (``portal.storage``), None without one.
    picture: Mapped[str | None] = mapped_column(String(100))
    #: Read with the newest message on top (the seed's version 3.15.01.1B).
    newest_first: Mapped[bool] = mapped_column(default=False)
    #: The last heartbeat of one of their open pages.
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The last heartbeat that reported them typing, clicking or scrolling.
    active_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
