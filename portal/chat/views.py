"""The team chat's pages (seed 003): a channel with its list of channels on one side
and its members on the other, the forms that create and change channels and
conversations, one's chat profile, and the live updates an open page asks for.

Every channel and message is loaded through the reader's membership
(``chat.channel_for`` / ``chat.message_for``): anything else answers 404.
"""

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_login import current_user

from portal.chat.forms import (
    ChannelForm,
    DirectForm,
    EditMessageForm,
    EveryoneForm,
    ProfileForm,
)
from portal.extensions import limiter
from portal.i18n import gettext as _
from portal.models import ChannelKind, ChatChannel
from portal.models.base import utcnow
from portal.permissions import guard
from portal.services import chat
from portal.storage import NotStored, storage
from portal.web.chat_messages import message_html
from portal.web.forms import ConfirmForm
from portal.web.forms.chat import ChatMessageForm
from portal.web.gate import current_actor
from portal.web.querystring import id_value
from portal.web.uploads import accepts_upload

bp = Blueprint("chat", __name__, url_prefix="/<tenant>/chat")
guard(bp, "chat.use")

#: How often an open page asks for news, in milliseconds (docs/SCALING.md says why).
POLL_INTERVAL_MS = 1500
#: A picture form may carry a file somewhat over the limit, to say so at the field.
PICTURE_UPLOAD_LIMIT = chat.MAX_PICTURE_BYTES + 512 * 1024


def per_user() -> str:
    return f"user:{current_user.id}"


def load_channel(channel_id: int) -> ChatChannel:
    channel = chat.channel_for(current_user, channel_id)
    if channel is None:
        abort(404)
    return channel


def load_message(message_id: int):
    message = chat.message_for(current_user, message_id)
    if message is None:
        abort(404)
    return message, load_channel(message.channel_id)


def wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


@bp.route("/")
def index():
    entries = chat.channel_list(current_user)
    starred = next((entry for entry in entries if entry.starred), None)
    first = starred or (entries[0] if entries else None)
    if first is None:
        return render_template("chat/empty.html")
    return redirect(url_for("chat.show", channel_id=first.channel.id))


def render_channel(channel: ChatChannel, form: ChatMessageForm | None = None, status: int = 200):
    now = utcnow()
    before = id_value(request.args.get("before"))
    shown_page = chat.page(channel, before)
    profile = chat.profile_of(current_user)
    # Opening a page is being here.
    chat.heartbeat(current_user, True, now, (profile.seen_at, profile.active_at))
    entries = chat.channel_list(current_user)
    current = next(entry for entry in entries if entry.channel.id == channel.id)
    if before is None and current.starred:
        chat.mark_read(current_user, channel.id, channel.last_message_id)
        current.unread = current.mentions = 0
    g.chat_unread_total = sum(entry.unread for entry in entries)
    people = chat.people(current_user, now, channel)
    messages = chat.shown(current_user, shown_page.messages, now, people)
    if profile.newest_first:
        messages.reverse()
    return (
        render_template(
            "chat/channel.html",
            channel=channel,
            current=current,
            entries=entries,
            messages=messages,
            older=shown_page.older,
            before=before,
            people=people,
            form=form or ChatMessageForm(),
            newest_first=profile.newest_first,
            manage=chat.may_manage(current_user, channel),
            poll_interval=POLL_INTERVAL_MS,
            unread_total=g.chat_unread_total,
        ),
        status,
    )


@bp.route("/<id:channel_id>")
def show(channel_id: int):
    return render_channel(load_channel(channel_id))


@bp.post("/<id:channel_id>/messages")
@limiter.limit("60/minute;10/5second", key_func=per_user)
def post(channel_id: int):
    channel = load_channel(channel_id)
    form = ChatMessageForm()
    if form.validate_on_submit():
        try:
            message = chat.post(channel, form.body.data, actor=current_actor())
        except chat.ChatRefused as refusal:
            form.body.errors = [*form.body.errors, str(refusal.message)]
        else:
            if wants_json():
                return jsonify(id=message.id, sequence=message.sequence), 201
            if form.back.data == "home":
                return redirect(url_for("main.home", chat=channel.id) + "#home-chat")
            return redirect(url_for("chat.show", channel_id=channel.id) + "#chat-form")
    if wants_json():
        return jsonify(errors=[str(e) for e in form.body.errors] or [_("Try again.")]), 422
    return render_channel(channel, form, 422)


@bp.route("/messages/<id:message_id>/edit", methods=["GET", "POST"])
def edit(message_id: int):
    message, channel = load_message(message_id)
    form = EditMessageForm(data={"body": message.body} if request.method == "GET" else None)
    refusal = None
    if form.validate_on_submit():
        try:
            chat.edit(message, channel, form.body.data, actor=current_actor())
        except chat.ChatRefused as error:
            if error.field == "body":
                form.body.errors = [*form.body.errors, str(error.message)]
            else:
                refusal = error.message
        else:
            flash(_("Message changed."), "success")
            return redirect(url_for("chat.show", channel_id=channel.id) + f"#message-{message.id}")
    elif message.author_id != current_user.id or not chat.changeable(message, utcnow()):
        refusal = _("This message can no longer be changed.")
    return render_template(
        "chat/edit.html", message=message, channel=channel, form=form, refusal=refusal
    )


@bp.route("/messages/<id:message_id>/delete", methods=["GET", "POST"])
def delete(message_id: int):
    message, channel = load_message(message_id)
    form = ConfirmForm()
    refusal = None
    if form.validate_on_submit():
        try:
            chat.remove(message, channel, actor=current_actor())
        except chat.ChatRefused as error:
            refusal = error.message
        else:
            flash(_("Message deleted."), "success")
            return redirect(url_for("chat.show", channel_id=channel.id))
    elif message.author_id != current_user.id or not chat.changeable(message, utcnow()):
        refusal = _("This message can no longer be deleted.")
    return render_template(
        "chat/delete.html", message=message, channel=channel, form=form, refusal=refusal
    )


@bp.route("/new", methods=["GET", "POST"])
def new_channel():
    people = chat.people(current_user, utcnow())
    form = ChannelForm(people, current_user.id)
    if form.validate_on_submit():
        try:
            channel = chat.create_channel(
                form.name.data,
                form.wanted_color(),
                form.description.data,
                form.members.data or [],
                actor=current_actor(),
            )
        except chat.ChatRefused as refusal:
            form.color_refused(refusal.message)
        else:
            flash(_("Channel %(name)s created.", name=channel.name), "success")
            return redirect(url_for("chat.show", channel_id=channel.id))
    return render_template("chat/channel_form.html", form=form, channel=None)


@bp.route("/<id:channel_id>/settings", methods=["GET", "POST"])
def settings(channel_id: int):
    channel = load_channel(channel_id)
    if not chat.may_manage(current_user, channel):
        abort(403)
    if channel.kind is ChannelKind.EVERYONE:
        form = EveryoneForm(obj=channel)
    else:
        members = [person.id for person in chat.people(current_user, utcnow(), channel)]
        form = ChannelForm(
            chat.people(current_user, utcnow()),
            current_user.id,
            obj=channel,
            data={"members": members} if request.method == "GET" else None,
        )
    archive_form = ConfirmForm(prefix="archive")
    if form.validate_on_submit():
        is_channel = channel.kind is ChannelKind.CHANNEL
        try:
            changed = chat.change_channel(
                channel,
                form.name.data if is_channel else None,
                form.wanted_color(),
                form.description.data if is_channel else None,
                (form.members.data or []) if is_channel else None,
                actor=current_actor(),
            )
        except chat.ChatRefused as refusal:
            form.color_refused(refusal.message)
        else:
            flash(_("Channel saved.") if changed else _("Nothing changed."), "success")
            return redirect(url_for("chat.show", channel_id=channel.id))
    title = chat.channel_titles(current_user, [channel])[channel.id]
    return render_template(
        "chat/channel_form.html",
        form=form,
        channel=channel,
        title=title,
        archive_form=archive_form,
    )


@bp.post("/<id:channel_id>/archive")
def archive(channel_id: int):
    channel = load_channel(channel_id)
    form = ConfirmForm(prefix="archive")
    if not form.validate_on_submit():
        abort(400)
    try:
        chat.archive(channel, channel.archived_at is None, actor=current_actor())
    except chat.ChatRefused as refusal:
        flash(str(refusal.message), "error")
    else:
        flash(
            _("Channel archived: it can be read, no longer written in.")
            if channel.archived_at
            else _("Channel reopened."),
            "success",
        )
    return redirect(url_for("chat.show", channel_id=channel.id))


@bp.route("/<id:channel_id>/leave", methods=["GET", "POST"])
def leave(channel_id: int):
    channel = load_channel(channel_id)
    form = ConfirmForm()
    refusal = None
    if channel.kind is ChannelKind.EVERYONE:
        refusal = _("Everyone stays in the channel of everyone.")
    elif form.validate_on_submit():
        chat.leave(channel, actor=current_actor())
        flash(_("You left the conversation."), "success")
        return redirect(url_for("chat.index"))
    title = chat.channel_titles(current_user, [channel])[channel.id]
    return render_template(
        "chat/leave.html", channel=channel, title=title, form=form, refusal=refusal
    )


@bp.route("/direct", methods=["GET", "POST"])
def direct():
    form = DirectForm(chat.people(current_user, utcnow()), current_user.id)
    if form.validate_on_submit():
        try:
            channel = chat.open_direct(form.members.data, actor=current_actor())
        except chat.ChatRefused as refusal:
            form.members.errors = [*form.members.errors, str(refusal.message)]
        else:
            return redirect(url_for("chat.show", channel_id=channel.id))
    return render_template("chat/direct.html", form=form)


@bp.route("/profile", methods=["GET", "POST"])
@accepts_upload(PICTURE_UPLOAD_LIMIT)
def profile():
    own = chat.profile_of(current_user)
    form = ProfileForm(
        data={"nickname": own.nickname, "order": "newest" if own.newest_first else "oldest"}
        if request.method == "GET"
        else None
    )
    if form.validate_on_submit():
        try:
            chat.change_profile(
                current_user,
                nickname=form.nickname.data,
                newest_first=form.order.data == "newest",
                picture=form.picture.data.read() if form.picture.data else None,
                remove_picture=bool(form.remove_picture.data),
                actor=current_actor(),
            )
        except chat.ChatRefused as refusal:
            field = form.picture if refusal.field == "picture" else form.nickname
            field.errors = [*field.errors, str(refusal.message)]
        else:
            flash(_("Your chat profile is saved."), "success")
            return redirect(url_for("chat.profile"))
    return render_template(
        "chat/profile.html",
        form=form,
        own=own,
        handle=own.nickname or chat.default_handle(current_user.name),
    )


@bp.route("/pictures/<name>")
def picture(name: str):
    if not chat.PICTURE_NAME.fullmatch(name) or not chat.picture_named(name):
        abort(404)
    try:
        data = storage().read(chat.picture_key(g.tenant.id, name))
    except NotStored:
        abort(404)
    response = Response(data, mimetype="image/png")
    response.headers["Content-Disposition"] = 'inline; filename="picture.png"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A new picture has a new name: this one never changes.
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    return response


@bp.route("/updates")
@limiter.limit("240/minute", key_func=per_user)
def updates():
    """What changed for an open page since it last asked, part by part: the open
    channel's messages after the sequence number it holds (``after``), the channel list
    with its marks and the members' presence unless it holds their digests already
    (``marks``, ``people``; the home page's panel asks for no members). An empty 204
    when nothing did, read from the indexes. The page says how far it has shown the open
    channel while in view (``read``) and whether its user is active (``active``): the
    heartbeat of presence."""
    now = utcnow()
    args = request.args
    channel_id = id_value(args.get("channel"))
    after = 0 if args.get("after") == "0" else id_value(args.get("after"))
    read = id_value(args.get("read"))
    if channel_id is not None and read is not None:
        chat.mark_read(current_user, channel_id, read)
    known = chat.beat(current_user, args.get("active") == "1", now)
    if channel_id is not None and channel_id not in known.channel_ids:
        abort(404)
    marks, people_digest = known.marks(channel_id), known.people()
    send_marks = args.get("marks") != marks
    send_people = "people" in args and args["people"] != people_digest and channel_id is not None
    sequence = known.sequence_of(channel_id) if channel_id is not None else None
    send_messages = after is not None and sequence is not None and sequence > after
    if not (send_marks or send_people or send_messages):
        return Response(status=204)
    channel = load_channel(channel_id) if channel_id is not None else None
    payload: dict = {}
    if send_marks:
        entries = chat.channel_list(current_user)
        payload["marks"] = marks
        payload["total"] = sum(entry.unread for entry in entries)
        payload["channels"] = render_template(
            "chat/_channels.html", entries=entries, channel=channel
        )
    people = chat.people(current_user, now, channel) if send_people else []
    if send_people:
        payload["people_digest"] = people_digest
        payload["people"] = render_template("chat/_people.html", people=people)
    if send_messages:
        changes = chat.changes_after(channel, after)
        payload["reload"] = len(changes) > chat.CHANGES
        payload["messages"] = [
            {"id": item.message.id, "html": message_html(item)}
            for item in chat.shown(current_user, changes[: chat.CHANGES], now, people)
        ]
        payload["after"] = channel.sequence
        payload["archived"] = channel.archived_at is not None
    return jsonify(payload)
