"""The team chat (seed 003) through its pages: channels and their members, messages with
formatting and mentions, unread marks, presence, the live updates, profiles and
pictures, and what stays out of reach (another channel, a client user, hostile text)."""

import io
import json
import re
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image
from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError

from portal.extensions import db
from portal.models import (
    ChatChannel,
    ChatMember,
    ChatMessage,
    ChatProfile,
    Presence,
    User,
    UserStatus,
)
from portal.models.base import utcnow
from portal.services import chat
from portal.services.chat_markup import render
from portal.services.tenants import create_staff_user, create_tenant, role_named
from portal.tenancy import bound_to, cross_tenant
from tests.conftest import acting, browser_of, csrf_token, user_by_email


def messages_of(channel_id: int) -> list[ChatMessage]:
    db.session.expire_all()
    with cross_tenant(db.session):
        return list(
            db.session.scalars(
                select(ChatMessage).where(ChatMessage.channel_id == channel_id).order_by("id")
            )
        )


def send(browser, slug: str, channel_id: int, body: str, **headers):
    page = browser.get(f"/{slug}/chat/{channel_id}")
    return browser.post(
        f"/{slug}/chat/{channel_id}/messages",
        data={"csrf_token": csrf_token(page), "body": body},
        headers=headers,
    )


def updates(browser, slug: str, channel_id: int | None = None, after: int | None = None, **held):
    """What an open page asks for, holding ``held`` (marks, people digests; read)."""
    query = {"active": "1", **held}
    if channel_id is not None:
        query["channel"] = channel_id
    if after is not None:
        query["after"] = after
    return browser.get(f"/{slug}/chat/updates", query_string=query)


def marks_in(fragment: str, channel_id: int) -> str:
    """The sidebar entry of ``channel_id`` in a channels fragment, as text."""
    found = re.search(
        rf'<a class="chat-channel[^"]*"[^>]*data-channel="{channel_id}">(.*?)</a>', fragment, re.S
    )
    assert found, fragment
    return found.group(0)


def test_a_channel_with_a_colleague_a_mention_and_the_marks_that_follow(app, world):
    slug = world.a.slug
    admin = browser_of(app, slug, world.a.admin_email)
    tech = browser_of(app, slug, world.a.tech_email)
    form = admin.get(f"/{slug}/chat/new")
    tech_id = user_by_email(world.a.tech_email).id
    assert form.status_code == 200 and "Alpha Tech (@Alpha.Tech)" in form.get_data(True)
    created = admin.post(
        f"/{slug}/chat/new",
        data={
            "csrf_token": csrf_token(form),
            "name": "Machine à café",
            "color": "#a15c00",
            "custom_color": "",
            "description": "Coffee matters",
            "members": [str(tech_id)],
        },
    )
    assert created.status_code == 302
    channel_id = int(created.location.rsplit("/", 1)[1])

    before = updates(tech, slug).json["total"]
    sent = send(admin, slug, channel_id, "**Coffee** is here @Alpha.Tech ☕")
    assert sent.status_code == 302

    seen = updates(tech, slug)
    assert seen.status_code == 200
    entry = marks_in(seen.json["channels"], channel_id)
    assert "new messages" in entry and ">1<" in entry and "@1" in entry
    assert seen.json["total"] == before + 1
    home = tech.get(f"/{slug}/").get_data(as_text=True)
    assert f'data-chat-total>{before + 1}<span class="visually-hidden"> unread' in home

    page = tech.get(f"/{slug}/chat/{channel_id}").get_data(as_text=True)
    assert "<strong>Coffee</strong>" in page and "☕" in page
    assert f'<span class="mention" data-user="{tech_id}">@Alpha.Tech</span>' in page
    assert "mentions you" in page

    after = updates(tech, slug)
    assert "new messages" not in marks_in(after.json["channels"], channel_id)
    assert after.json["total"] == before


def test_a_message_fetched_in_the_background_of_another_channel_stays_unread(app, world):
    slug = world.a.slug
    tech = browser_of(app, slug, world.a.tech_email)
    admin = browser_of(app, slug, world.a.admin_email)
    everyone = chat_everyone(world.a.tenant_id)
    send(admin, slug, world.a.channel_id, "Are you there?")
    for _ in range(2):
        response = updates(tech, slug, everyone, after=0)
        assert "new messages" in marks_in(response.json["channels"], world.a.channel_id)


def chat_everyone(tenant_id: int) -> int:
    with bound_to(db.session, tenant_id):
        return db.session.scalar(select(ChatChannel.id).where(ChatChannel.unique_key == "everyone"))


def test_updates_send_only_what_changed_and_an_empty_204_when_nothing_did(app, world):
    slug, channel_id = world.a.slug, world.a.channel_id
    tech = browser_of(app, slug, world.a.tech_email)
    admin = browser_of(app, slug, world.a.admin_email)
    admin.get(f"/{slug}/chat/{channel_id}")  # the administrator is connected from now on
    first = updates(tech, slug, channel_id, after=0, marks="", people="")
    assert first.status_code == 200
    assert {"marks", "channels", "total", "people", "people_digest", "messages"} <= set(first.json)
    assert [m["id"] for m in first.json["messages"]] == [world.a.message_id]
    held = {"marks": first.json["marks"], "people": first.json["people_digest"]}
    cursor = first.json["after"]
    still = updates(tech, slug, channel_id, after=cursor, **held)
    assert still.status_code == 204 and still.get_data() == b""

    send(admin, slug, channel_id, "New *news*")
    news = updates(tech, slug, channel_id, after=cursor, **held)
    assert news.status_code == 200
    assert "channels" not in news.json and "people" not in news.json, "only the messages"
    [message] = news.json["messages"]
    assert "<em>news</em>" in message["html"] and news.json["after"] == cursor + 1

    private = browser_of(app, slug, world.a.tech_email)
    elsewhere = updates(private, slug, world.a.private_channel_id, after=0, **held)
    assert "channels" in elsewhere.json, "a message in another channel changes its marks"


def test_the_open_channel_is_read_as_far_as_the_page_says_it_was_seen(app, world):
    slug, channel_id = world.a.slug, world.a.channel_id
    tech = browser_of(app, slug, world.a.tech_email)
    admin = browser_of(app, slug, world.a.admin_email)
    first = updates(tech, slug, channel_id, after=0)
    assert "new messages" in marks_in(first.json["channels"], channel_id)
    unread = updates(tech, slug, world.a.private_channel_id, read=world.a.message_id)
    assert "new messages" in marks_in(unread.json["channels"], channel_id), "another channel's"
    read = updates(tech, slug, channel_id, after=first.json["after"], read=world.a.message_id)
    assert "new messages" not in marks_in(read.json["channels"], channel_id)
    other = browser_of(app, slug, world.a.admin_email)
    assert updates(other, slug, world.a.private_channel_id).status_code == 404
    send(admin, slug, channel_id, "one more")
    assert "new messages" in marks_in(updates(tech, slug).json["channels"], channel_id)


def test_an_edit_and_a_deletion_reach_open_pages_and_show_as_such(app, world):
    slug, channel_id = world.a.slug, world.a.channel_id
    admin = browser_of(app, slug, world.a.admin_email)
    tech = browser_of(app, slug, world.a.tech_email)
    cursor = updates(tech, slug, channel_id, after=0).json["after"]
    form = admin.get(f"/{slug}/chat/messages/{world.a.message_id}/edit")
    assert "Hello @Alpha.Tech" in form.get_data(True)
    edited = admin.post(
        f"/{slug}/chat/messages/{world.a.message_id}/edit",
        data={"csrf_token": csrf_token(form), "body": "Hello again"},
    )
    assert edited.status_code == 302
    changed = updates(tech, slug, channel_id, after=cursor).json
    assert [m["id"] for m in changed["messages"]] == [world.a.message_id]
    assert (
        "Hello again" in changed["messages"][0]["html"]
        and "edited" in changed["messages"][0]["html"]
    )

    confirm = admin.get(f"/{slug}/chat/messages/{world.a.message_id}/delete")
    assert "will be gone for everyone" in confirm.get_data(True)
    admin.post(
        f"/{slug}/chat/messages/{world.a.message_id}/delete",
        data={"csrf_token": csrf_token(confirm)},
    )
    gone = updates(tech, slug, channel_id, after=changed["after"]).json["messages"][0]["html"]
    assert "This message was deleted." in gone and "Hello again" not in gone
    [message] = messages_of(channel_id)
    assert message.body == "" and message.html == "" and message.deleted_at is not None


def test_only_the_author_changes_a_message_and_only_for_fifteen_minutes(app, world):
    slug = world.a.slug
    tech = browser_of(app, slug, world.a.tech_email)
    page = tech.get(f"/{slug}/chat/messages/{world.a.message_id}/edit")
    assert page.status_code == 200 and "can no longer be changed" in page.get_data(True)
    token = csrf_token(tech.get(f"/{slug}/chat/{world.a.channel_id}"))
    refused = tech.post(
        f"/{slug}/chat/messages/{world.a.message_id}/edit",
        data={"csrf_token": token, "body": "Hijacked"},
    )
    assert "Only its author may change a message." in refused.get_data(True)
    assert "Hijacked" not in messages_of(world.a.channel_id)[0].body

    with cross_tenant(db.session):
        db.session.execute(
            update(ChatMessage)
            .where(ChatMessage.id == world.a.message_id)
            .values(created_at=utcnow() - timedelta(minutes=16))
        )
        db.session.commit()
    admin = browser_of(app, slug, world.a.admin_email)
    late = admin.post(
        f"/{slug}/chat/messages/{world.a.message_id}/delete",
        data={"csrf_token": csrf_token(admin.get(f"/{slug}/chat/{world.a.channel_id}"))},
    )
    assert "15 minutes after it was posted" in late.get_data(True)
    assert messages_of(world.a.channel_id)[0].deleted_at is None


def test_an_archived_channel_is_read_only_until_reopened(app, world):
    slug, channel_id = world.a.slug, world.a.channel_id
    admin = browser_of(app, slug, world.a.admin_email)
    settings_page = admin.get(f"/{slug}/chat/{channel_id}/settings")
    admin.post(
        f"/{slug}/chat/{channel_id}/archive",
        data={"archive-csrf_token": csrf_token(settings_page)},
    )
    page = admin.get(f"/{slug}/chat/{channel_id}").get_data(as_text=True)
    assert "This channel is archived" in page and 'id="chat-form"' not in page
    refused = admin.post(
        f"/{slug}/chat/{channel_id}/messages",
        data={"csrf_token": csrf_token(settings_page), "body": "Anyone?"},
    )
    assert refused.status_code == 422 and "archived" in refused.get_data(True)
    assert len(messages_of(channel_id)) == 1
    admin.post(
        f"/{slug}/chat/{channel_id}/archive",
        data={"archive-csrf_token": csrf_token(settings_page)},
    )
    assert send(admin, slug, channel_id, "Back").status_code == 302


def test_a_message_too_long_or_empty_is_refused_and_nothing_is_saved(app, world):
    slug, channel_id = world.a.slug, world.a.channel_id
    admin = browser_of(app, slug, world.a.admin_email)
    for body, said in (("x" * (chat.MAX_BODY + 1), "4000"), ("   \n ", "Write a message first.")):
        response = send(admin, slug, channel_id, body)
        assert response.status_code == 422 and said in response.get_data(True)
    json_refusal = send(admin, slug, channel_id, "", Accept="application/json")
    assert json_refusal.status_code == 422 and json_refusal.json["errors"]
    assert len(messages_of(channel_id)) == 1


def test_posting_is_limited_per_user(app, world):
    slug, channel_id = world.a.slug, world.a.channel_id
    admin = browser_of(app, slug, world.a.admin_email)
    token = csrf_token(admin.get(f"/{slug}/chat/{channel_id}"))
    statuses = [
        admin.post(
            f"/{slug}/chat/{channel_id}/messages",
            data={"csrf_token": token, "body": f"flood {n}"},
            headers={"Accept": "application/json"},
        ).status_code
        for n in range(12)
    ]
    assert statuses[:10] == [201] * 10 and statuses[10:] == [429, 429]
    tech = browser_of(app, slug, world.a.tech_email)
    assert send(tech, slug, channel_id, "I may still speak").status_code == 302


def test_only_the_creator_or_a_chat_administrator_manages_a_channel(app, world):
    slug = world.a.slug
    tech = browser_of(app, slug, world.a.tech_email)
    admin = browser_of(app, slug, world.a.admin_email)
    assert tech.get(f"/{slug}/chat/{world.a.channel_id}/settings").status_code == 403
    page = admin.get(f"/{slug}/chat/{world.a.channel_id}/settings")
    tech_id = user_by_email(world.a.tech_email).id
    renamed = admin.post(
        f"/{slug}/chat/{world.a.channel_id}/settings",
        data={
            "csrf_token": csrf_token(page),
            "name": "Renamed",
            "color": "#1f5fbf",
            "custom_color": "#f0f0f0",
            "members": [str(tech_id)],
        },
    )
    assert renamed.status_code == 200 and "too pale" in renamed.get_data(True)
    renamed = admin.post(
        f"/{slug}/chat/{world.a.channel_id}/settings",
        data={
            "csrf_token": csrf_token(page),
            "name": "Renamed",
            "color": "#8e24aa",
            "custom_color": "",
            "members": [],
        },
    )
    assert renamed.status_code == 302
    db.session.expire_all()
    with cross_tenant(db.session):
        channel = db.session.get(ChatChannel, world.a.channel_id)
        assert (channel.name, channel.color) == ("Renamed", "#8e24aa")
        members = set(
            db.session.scalars(
                select(ChatMember.user_id).where(ChatMember.channel_id == channel.id)
            )
        )
    assert tech_id not in members, "unticked, the technician left the channel"
    assert tech.get(f"/{slug}/chat/{world.a.channel_id}").status_code == 404


def test_leaving_a_channel_and_everyone_stays_in_everyone(app, world):
    slug = world.a.slug
    tech = browser_of(app, slug, world.a.tech_email)
    page = tech.get(f"/{slug}/chat/{world.a.channel_id}/leave")
    assert "You will no longer read it" in page.get_data(True)
    tech.post(f"/{slug}/chat/{world.a.channel_id}/leave", data={"csrf_token": csrf_token(page)})
    assert tech.get(f"/{slug}/chat/{world.a.channel_id}").status_code == 404
    everyone = chat_everyone(world.a.tenant_id)
    refused = tech.post(f"/{slug}/chat/{everyone}/leave", data={"csrf_token": csrf_token(page)})
    assert "Everyone stays" in refused.get_data(True)
    assert tech.get(f"/{slug}/chat/{everyone}").status_code == 200


def test_a_direct_conversation_is_found_again_with_the_same_people(app, world):
    slug = world.a.slug
    admin = browser_of(app, slug, world.a.admin_email)
    tech_id = user_by_email(world.a.tech_email).id
    form = admin.get(f"/{slug}/chat/direct")
    first = admin.post(
        f"/{slug}/chat/direct", data={"csrf_token": csrf_token(form), "members": [str(tech_id)]}
    )
    again = admin.post(
        f"/{slug}/chat/direct", data={"csrf_token": csrf_token(form), "members": [str(tech_id)]}
    )
    assert first.status_code == again.status_code == 302 and first.location == again.location
    page = admin.get(first.location).get_data(as_text=True)
    assert "<h1" in page and "Alpha Tech" in page
    nobody = admin.post(f"/{slug}/chat/direct", data={"csrf_token": csrf_token(form)})
    assert "Choose at least one colleague" in nobody.get_data(True)
    client_user = user_by_email(world.a.client_user_email)
    only_client = admin.post(
        f"/{slug}/chat/direct",
        data={"csrf_token": csrf_token(form), "members": [str(client_user.id)]},
    )
    assert "Choose at least one colleague" in only_client.get_data(True)


def test_client_users_have_no_chat(app, world):
    slug = world.a.slug
    client_user = browser_of(app, slug, world.a.client_user_email)
    home = client_user.get(f"/{slug}/").get_data(as_text=True)
    assert "/chat/" not in home and "home-chat" not in home
    assert client_user.get(f"/{slug}/chat/").status_code == 403
    assert client_user.get(f"/{slug}/chat/updates").status_code == 403


def test_presence_from_heartbeats_connected_away_offline(app, world):
    now = utcnow()
    assert chat.presence_of(now, now - timedelta(seconds=30), now) is Presence.CONNECTED
    assert chat.presence_of(now, now - timedelta(minutes=3), now) is Presence.AWAY
    assert chat.presence_of(now - timedelta(minutes=3), None, now) is Presence.AWAY
    assert chat.presence_of(now - timedelta(minutes=6), None, now) is Presence.OFFLINE
    slug = world.a.slug
    admin = browser_of(app, slug, world.a.admin_email)
    tech = browser_of(app, slug, world.a.tech_email)
    updates(tech, slug)
    people = admin.get(f"/{slug}/chat/{world.a.channel_id}").get_data(as_text=True)
    rows = re.findall(r'<li class="presence-(\w+)">.*?data-handle="([^"]+)"', people, re.S)
    assert rows[0] == ("connected", "Alpha.Admin"), "yourself first, here since you look"
    assert ("connected", "Alpha.Tech") in rows
    logout_page = tech.get(f"/{slug}/logout")
    tech.post(f"/{slug}/logout", data={"csrf_token": csrf_token(logout_page)})
    people = admin.get(f"/{slug}/chat/{world.a.channel_id}").get_data(as_text=True)
    assert ("offline", "Alpha.Tech") in re.findall(
        r'<li class="presence-(\w+)">.*?data-handle="([^"]+)"', people, re.S
    )


def test_a_heartbeat_is_written_at_most_every_fifteen_seconds(app, world):
    tech = user_by_email(world.a.tech_email)
    now = utcnow()

    def stored():
        db.session.expire_all()
        profile = chat.profile_of(tech)
        return profile.seen_at, profile.active_at

    with bound_to(db.session, world.a.tenant_id):
        chat.beat(tech, True, now)
        assert stored() == (now, now)
        chat.beat(tech, True, now + timedelta(seconds=10))
        assert stored() == (now, now), "not yet: nothing written"
        later = now + timedelta(seconds=16)
        assert chat.beat(tech, False, later).presence == ((tech.id, "connected"),)
        assert stored() == (later, now), "the page is open; its user was active at first"
        db.session.rollback()


def test_nicknames_are_unique_and_mentions_follow_them(app, world):
    slug = world.a.slug
    tech = browser_of(app, slug, world.a.tech_email)
    form = tech.get(f"/{slug}/chat/profile")
    saved = tech.post(
        f"/{slug}/chat/profile",
        data={"csrf_token": csrf_token(form), "nickname": "Zoé", "order": "oldest"},
    )
    assert saved.status_code == 302
    admin = browser_of(app, slug, world.a.admin_email)
    page = admin.get(f"/{slug}/chat/profile")
    taken = admin.post(
        f"/{slug}/chat/profile",
        data={"csrf_token": csrf_token(page), "nickname": "zoÉ", "order": "newest"},
    )
    assert "already goes by this nickname" in taken.get_data(True)
    bad = admin.post(
        f"/{slug}/chat/profile",
        data={"csrf_token": csrf_token(page), "nickname": "no spaces please", "order": "oldest"},
    )
    assert "letters, digits" in bad.get_data(True)
    with cross_tenant(db.session):
        admin_user = user_by_email(world.a.admin_email)
        profile = db.session.scalar(select(ChatProfile).where(ChatProfile.user_id == admin_user.id))
        assert profile.nickname is None and profile.newest_first is False, "nothing half-saved"
    send(admin, slug, world.a.channel_id, "Thanks @zoé!")
    assert 'data-user="' in messages_of(world.a.channel_id)[-1].html


def test_the_reading_order_puts_the_newest_on_top_when_chosen(app, world):
    slug, channel_id = world.a.slug, world.a.channel_id
    admin = browser_of(app, slug, world.a.admin_email)
    send(admin, slug, channel_id, "second message")
    page = admin.get(f"/{slug}/chat/{channel_id}").get_data(as_text=True)
    assert page.index("welcome") < page.index("second message")
    form = admin.get(f"/{slug}/chat/profile")
    admin.post(
        f"/{slug}/chat/profile",
        data={"csrf_token": csrf_token(form), "nickname": "", "order": "newest"},
    )
    page = admin.get(f"/{slug}/chat/{channel_id}").get_data(as_text=True)
    assert page.index("second message") < page.index("welcome")
    assert 'data-newest-first="true"' in page


def picture_bytes(size=(300, 200), kind="PNG") -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, "green")
    info = {"pnginfo": None}
    if kind == "PNG":
        from PIL import PngImagePlugin

        meta = PngImagePlugin.PngInfo()
        meta.add_text("Comment", "secret location")
        info = {"pnginfo": meta}
    image.save(buffer, format=kind, **info)
    return buffer.getvalue()


def test_a_picture_is_checked_reencoded_square_and_served_as_an_image_only(app, world):
    slug = world.a.slug
    tech = browser_of(app, slug, world.a.tech_email)
    form = tech.get(f"/{slug}/chat/profile")
    refused = tech.post(
        f"/{slug}/chat/profile",
        data={
            "csrf_token": csrf_token(form),
            "nickname": "Zed",
            "order": "oldest",
            "picture": (io.BytesIO(b"<script>alert(1)</script>"), "me.png"),
        },
        content_type="multipart/form-data",
    )
    assert refused.status_code == 200 and "must be a PNG, JPEG, GIF or WebP" in refused.get_data(
        True
    )
    tech_user = user_by_email(world.a.tech_email)
    with cross_tenant(db.session):
        profile = db.session.scalar(select(ChatProfile).where(ChatProfile.user_id == tech_user.id))
        assert profile.nickname is None and profile.picture is None, "nothing half-saved"
    saved = tech.post(
        f"/{slug}/chat/profile",
        data={
            "csrf_token": csrf_token(form),
            "nickname": "",
            "order": "oldest",
            "picture": (io.BytesIO(picture_bytes()), "me.png"),
        },
        content_type="multipart/form-data",
    )
    assert saved.status_code == 302
    page = tech.get(f"/{slug}/chat/{world.a.channel_id}").get_data(as_text=True)
    link = re.search(r'src="(/[^"]+/chat/pictures/face-[^"]+\.png)"', page).group(1)
    admin = browser_of(app, slug, world.a.admin_email)
    served = admin.get(link)
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    with Image.open(io.BytesIO(served.get_data())) as stored:
        assert stored.size == (chat.PICTURE_STORED, chat.PICTURE_STORED)
        assert "Comment" not in stored.info
    assert b"secret location" not in served.get_data()
    other_tenant = browser_of(app, world.b.slug, world.b.admin_email)
    assert other_tenant.get(link.replace(f"/{slug}/", f"/{world.b.slug}/")).status_code == 404
    client_user = browser_of(app, slug, world.a.client_user_email)
    assert client_user.get(link).status_code == 403
    tiny = tech.post(
        f"/{slug}/chat/profile",
        data={
            "csrf_token": csrf_token(form),
            "nickname": "",
            "order": "oldest",
            "picture": (io.BytesIO(picture_bytes((10, 10))), "tiny.png"),
        },
        content_type="multipart/form-data",
    )
    assert "10 × 10 pixels" in tiny.get_data(True)


def test_a_disabled_user_keeps_their_messages_with_their_name(app, world):
    slug = world.a.slug
    admin_user = user_by_email(world.a.admin_email)
    with cross_tenant(db.session):
        db.session.execute(
            update(User).where(User.id == admin_user.id).values(status=UserStatus.DISABLED)
        )
        db.session.commit()
    tech = browser_of(app, slug, world.a.tech_email)
    page = tech.get(f"/{slug}/chat/{world.a.channel_id}").get_data(as_text=True)
    assert "Alpha Admin" in page and "welcome" in page
    with cross_tenant(db.session), pytest.raises(IntegrityError):
        db.session.execute(delete(User).where(User.id == admin_user.id))
        db.session.flush()
    db.session.rollback()


def test_the_home_page_shows_the_chat_panel_and_posts_from_it(app, world):
    slug = world.a.slug
    admin = browser_of(app, slug, world.a.admin_email)
    home = admin.get(f"/{slug}/?chat={world.a.channel_id}")
    text = home.get_data(as_text=True)
    assert 'id="home-chat"' in text and "Alpha Team" in text and "<strong>welcome</strong>" in text
    posted = admin.post(
        f"/{slug}/chat/{world.a.channel_id}/messages",
        data={"csrf_token": csrf_token(home), "body": "From home", "back": "home"},
    )
    assert posted.status_code == 302 and posted.location.endswith(
        f"/{slug}/?chat={world.a.channel_id}#home-chat"
    )
    assert "From home" in admin.get(posted.location).get_data(as_text=True)
    hidden = admin.get(f"/{slug}/?chat={world.a.private_channel_id}").get_data(as_text=True)
    assert world.a.private_channel_name not in hidden


def test_a_new_tenant_has_its_everyone_channel_and_new_staff_join_it(app):
    tenant = create_tenant("gamma", "Gamma")
    with bound_to(db.session, tenant.id):
        user = create_staff_user(
            email="new@gamma.test",
            name="New Hire",
            password="x" * 12,
            role=role_named("Staff"),
        )
        entries = chat.channel_list(user)
        assert [entry.title for entry in entries] == ["Everyone"]
        assert chat.profile_of(user).user_id == user.id
    db.session.rollback()


def test_a_channel_opens_with_its_latest_page_and_older_ones_by_link(app, world):
    slug, channel_id = world.a.slug, world.a.channel_id
    admin_user = user_by_email(world.a.admin_email)
    with bound_to(db.session, world.a.tenant_id):
        channel = db.session.get(ChatChannel, channel_id)
        for number in range(chat.PAGE + 5):
            chat.post(channel, f"note {number}", actor=acting(admin_user))
        db.session.commit()
    admin = browser_of(app, slug, world.a.admin_email)
    page = admin.get(f"/{slug}/chat/{channel_id}").get_data(as_text=True)
    assert f"note {chat.PAGE + 4}" in page and "note 4<" not in page and "welcome" not in page
    older = re.search(r'href="([^"]+\?before=\d+)"', page).group(1).replace("&amp;", "&")
    earlier = admin.get(older).get_data(as_text=True)
    assert "welcome" in earlier and "note 3<" in earlier and f"note {chat.PAGE + 4}" not in earlier


# --- Hostile text: escaped and sanitised, in the page and in the live updates ---------

ALLOWED_TAGS = {"p", "br", "strong", "em", "code", "pre", "ul", "ol", "li", "a", "span"}
ALLOWED_ATTRIBUTES = {"href", "title", "class", "data-user", "start", "target", "rel"}
HOSTILE = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
    '<a href="javascript:alert(1)">a</a>',
    "`<b>` **<i>bold</i>** _<u>it</u>_",
    '"><svg onload=alert(1)>',
    "<style>body{display:none}</style>",
    "<iframe src=//evil.test></iframe>",
    '[x](https://ok.test/" onmouseover="alert(1))',
    "@<script>x</script>",
]


class Markup(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.attributes, self.hrefs = set(), set(), []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            self.attributes.add(name)
            if name == "href":
                self.hrefs.append(value or "")


def assert_safe(html: str) -> None:
    parser = Markup()
    parser.feed(html)
    assert parser.tags <= ALLOWED_TAGS, (parser.tags, html)
    assert parser.attributes <= ALLOWED_ATTRIBUTES, (parser.attributes, html)
    for href in parser.hrefs:
        assert re.match(r"(https?:|mailto:)", href, re.I), href
    assert "<script" not in html.lower()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40)), min_size=1, max_size=6).map(
        "".join
    )
)
def test_any_text_renders_to_the_allow_list_only(body):
    assert_safe(render(body, {"zoé": (3, "Zoé")}).html)


def test_hostile_messages_reach_pages_and_updates_escaped_and_sanitised(app, world):
    slug, channel_id = world.a.slug, world.a.channel_id
    admin = browser_of(app, slug, world.a.admin_email)
    tech = browser_of(app, slug, world.a.tech_email)
    cursor = updates(tech, slug, channel_id, after=0).json["after"]
    token = csrf_token(admin.get(f"/{slug}/chat/{channel_id}"))
    # Two by two: ten posts in five seconds is the rate limit.
    batches = ["\n\n".join(HOSTILE[i : i + 2]) for i in range(0, len(HOSTILE), 2)]
    for body in batches:
        response = admin.post(
            f"/{slug}/chat/{channel_id}/messages",
            data={"csrf_token": token, "body": body},
            headers={"Accept": "application/json"},
        )
        assert response.status_code == 201
    page = tech.get(f"/{slug}/chat/{channel_id}").get_data(as_text=True)
    listing = page[page.index('id="chat-messages"') : page.index('id="chat-form"')]
    for text in re.findall(r'<div class="chat-text">(.*?)</div>\s*</div>\s*</li>', listing, re.S):
        assert_safe(text)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    raw = updates(tech, slug, channel_id, after=cursor)
    body = raw.get_data(as_text=True)
    assert raw.mimetype == "application/json" and "<script" not in body.lower().replace(
        "\\u003cscript", ""
    )
    for message in json.loads(body)["messages"]:
        inner = re.search(
            r'<div class="chat-text">(.*)</div>\s*</div>\s*</li>', message["html"], re.S
        )
        assert_safe(inner.group(1))
    with cross_tenant(db.session):
        count = db.session.scalar(
            select(func.count())
            .select_from(ChatMessage)
            .where(ChatMessage.channel_id == channel_id)
        )
    assert count == 1 + len(batches)


@pytest.mark.parametrize("value", ["-1", "²", "99999999999999999999", "1e3", "", "0x10", "١٢"])
def test_hostile_numbers_in_the_query_string_are_ignored_never_a_500(app, world, value):
    slug, channel_id = world.a.slug, world.a.channel_id
    admin = browser_of(app, slug, world.a.admin_email)
    for url in (
        f"/{slug}/chat/updates?channel={value}&after={value}",
        f"/{slug}/chat/updates?channel={channel_id}&after={value}",
        f"/{slug}/chat/{channel_id}?before={value}",
        f"/{slug}/?chat={value}",
    ):
        assert admin.get(url).status_code == 200, url
    assert updates(admin, slug, channel_id, read=value, marks=value).status_code == 200
