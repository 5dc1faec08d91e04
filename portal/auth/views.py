"""Signing in and out, and one's own password, sessions and sign-in address: the HTTP side
(forms, attempt limits, the session cookie); the rules are in portal.services.auth and its
neighbours."""

import time
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import get_locale
from flask_login import current_user

from portal.auth import ceremonies
from portal.auth.forms import (
    ChangeEmailForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    LogoutForm,
    PasskeyAnswerForm,
    RenewLinkForm,
    SetPasswordForm,
)
from portal.extensions import db, limiter
from portal.i18n import gettext as _
from portal.models import InvitationState, UserSession, UserStatus
from portal.models.user import hash_session_token
from portal.permissions import SIGNED_IN, permission, public, sensitive
from portal.services import auth, email_change, invitations, password_reset, sessions, users
from portal.validation import normalise_email
from portal.web.gate import current_actor
from portal.web.languages import remember_choice
from portal.web.sessions import SESSION_TOKEN, sign_in, sign_out

bp = Blueprint("auth", __name__, url_prefix="/<tenant>")

#: Who typed the right password and has yet to give their second factor's code, since
#: when, and where they were going (``portal.auth.two_factor`` asks for the code).
PENDING = "second_factor"


def safe_next(target: str | None) -> str | None:
    """Only a path of this site; never another host, scheme or protocol-relative URL."""
    if not target or "\\" in target or any(ord(ch) < 32 for ch in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def submitted_login() -> str:
    """The login as typed (in any case), in this tenant: one key of the attempt limits."""
    typed = request.form.get("login", "").strip().lower()[:254] or "-"
    return f"login:{g.tenant.id}:{typed}"


def attempted_account() -> str:
    """The account the login names, however it is typed (email in any case, or user
    code), so that the attempts on one account add up; a login that names no account
    is counted as typed, with the same work."""
    typed = request.form.get("login", "")
    # The limits are checked before the gate answers 400 to a NUL, which no database takes.
    user = auth.find_user(typed) if "\x00" not in typed else None
    return f"account:{user.id}" if user is not None else f"no-account:{submitted_login()}"


def into_session(user, next_page: str | None, welcome: str | None = None):
    """Sign ``user`` in, whose password is right, or, when they have a second factor, ask
    for it first: no way into a session skips it, a password reset link included. The
    ``welcome`` message is flashed once the session is rotated, which would erase it."""
    if user.has_second_factor:
        session[PENDING] = {"user": user.id, "since": time.time(), "next": next_page}
        target = url_for("auth.second_factor")
    else:
        sign_in(user, request.user_agent.string)
        target = next_page or url_for("main.home")
    if welcome:
        flash(welcome, "success")
    return redirect(target)


def failed_attempt(response) -> bool:
    """Only failed sign-ins use up the allowance; a successful one redirects."""
    return response.status_code != 302


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit("10/minute", methods=["POST"], deduct_when=failed_attempt)
@limiter.limit("10/minute", methods=["POST"], key_func=submitted_login, deduct_when=failed_attempt)
@limiter.limit(
    "10/minute", methods=["POST"], key_func=attempted_account, deduct_when=failed_attempt
)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("main.home"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        try:
            user = auth.sign_in(form.login.data, form.password.data, actor=current_actor())
        except auth.SignInRefused as refusal:
            error = str(refusal)
        else:
            return into_session(user, safe_next(request.args.get("next")))
    return render_template(
        "auth/login.html",
        form=form,
        error=error,
        passkey_answer=PasskeyAnswerForm(formdata=None),
        passkey_options=ceremonies.offer("sign_in"),
    )


@bp.route("/logout", methods=["GET", "POST"])
@permission(SIGNED_IN)
def logout():
    form = LogoutForm()
    if form.validate_on_submit():
        auth.sign_out(actor=current_actor())
        sign_out()
        flash(_("You are signed out."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/logout.html", form=form)


@bp.route("/password/change", methods=["GET", "POST"])
@permission(SIGNED_IN)
def change_password():
    actor = current_actor()
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not actor.user.check_password(form.current_password.data):
            form.current_password.errors.append(_("This is not your current password."))
            return render_template("auth/change_password.html", form=form)
        try:
            users.change_password(actor.user, form.new_password.data, actor=actor)
        except users.WeakPassword as problem:
            form.new_password.errors.append(str(problem))
        else:
            sign_in(actor.user, request.user_agent.string)
            flash(
                _("Your password was changed. Every other session of yours has been ended."),
                "success",
            )
            return redirect(url_for("main.home"))
    return render_template("auth/change_password.html", form=form)


#: Where the set-password token waits once it has been taken out of the URL.
PENDING_TOKEN = "set_password_token"  # noqa: S105 - a session key, not a secret


def private(response):
    """No cache may keep the page, and no link on it may leak its address."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.route("/password/set/<token>")
@public
def set_password(token: str):
    """Move the token from the URL into the session before anything is shown, so that
    it cannot leak through the Referer header or the browser history."""
    session[PENDING_TOKEN] = token[:500]
    return private(redirect(url_for("auth.choose_password")))


@bp.route("/password/set", methods=["GET", "POST"])
@public
def choose_password():
    invitation = invitations.invitation_for(session.get(PENDING_TOKEN, ""))
    state = invitation.current_state() if invitation else None
    if state is not InvitationState.PENDING:
        return private(
            make_response(
                render_template(
                    "auth/link_invalid.html",
                    state=state,
                    # With another of their links, or one asked for with "Forgot your password?"
                    password_chosen=invitation is not None
                    and invitation.user.status is UserStatus.ACTIVE,
                    form=RenewLinkForm(),
                ),
                404 if invitation is None else 410,
            )
        )
    form = SetPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            user = invitations.accept(invitation, form.password.data, actor=current_actor())
        except auth.NetworkRefused as refusal:
            error = str(refusal)
        except users.WeakPassword as problem:
            form.password.errors.append(str(problem))
        else:
            session.pop(PENDING_TOKEN, None)
            return into_session(user, None, _("Your password is saved. Welcome!"))
    return private(
        make_response(
            render_template("auth/set_password.html", form=form, user=invitation.user, error=error)
        )
    )


@bp.route("/password/set/renew", methods=["POST"])
@public
@limiter.limit("5/hour", key_func=lambda: session.get(PENDING_TOKEN, "-")[:100])
def renew_link():
    """Send a fresh link to the address on file (never to one typed here)."""
    invitation = invitations.invitation_for(session.get(PENDING_TOKEN, ""))
    if RenewLinkForm().validate_on_submit() and invitation is not None:
        invitations.renew(invitation, actor=current_actor())
    session.pop(PENDING_TOKEN, None)
    flash(
        _("If this link was yours, a new one is on its way to the address we have on file."),
        "info",
    )
    return redirect(url_for("auth.login"))


#: Where the reset token waits once it has been taken out of the URL.
PENDING_RESET = "reset_password_token"  # noqa: S105 - a session key, not a secret


@bp.route("/password/forgot", methods=["GET", "POST"])
@public
@limiter.limit("5/hour", methods=["POST"])
@limiter.limit("5/hour", methods=["POST"], key_func=submitted_login)
@limiter.limit("5/hour", methods=["POST"], key_func=attempted_account)
def forgot_password():
    """The same answer whether or not the account exists; a link, never a password."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        password_reset.send_password_link(form.login.data, actor=current_actor())
        flash(
            _(
                "If an account matches, a link to choose a new password is on its way to its "
                "email address. It works for one hour."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>")
@public
def reset_password(token: str):
    session[PENDING_RESET] = token[:500]
    return private(redirect(url_for("auth.choose_new_password")))


@bp.route("/password/reset", methods=["GET", "POST"])
@public
def choose_new_password():
    user = password_reset.user_for_reset(session.get(PENDING_RESET, ""))
    if user is None:
        return private(make_response(render_template("auth/reset_invalid.html"), 410))
    form = SetPasswordForm()
    error = None
    if form.validate_on_submit():
        try:
            password_reset.use_reset_link(user, form.password.data, actor=current_actor())
        except auth.NetworkRefused as refusal:
            error = str(refusal)
        except users.WeakPassword as problem:
            form.password.errors.append(str(problem))
        else:
            session.pop(PENDING_RESET, None)
            return into_session(user, None, _("Your new password is saved."))
    return private(
        make_response(render_template("auth/set_password.html", form=form, user=user, error=error))
    )


@bp.route("/sessions")
@permission(SIGNED_IN)
def sessions_list():
    """The user's signed-in browsers (seed 000's "other machines"), to end any of them."""
    config = current_app.config
    return render_template(
        "auth/sessions.html",
        sessions=sessions.open_sessions(
            current_actor().user, config["SESSION_IDLE_TIMEOUT"], config["SESSION_ABSOLUTE_TIMEOUT"]
        ),
        current_hash=hash_session_token(session.get(SESSION_TOKEN, "")),
        form=LogoutForm(),
    )


@bp.route("/sessions/<id:session_id>/end", methods=["POST"])
@permission(SIGNED_IN)
@sensitive
def end_session(session_id: int):
    actor = current_actor()
    target = db.session.get(UserSession, session_id)
    if target is None or target.user_id != actor.user.id:
        abort(404)  # another user's session does not exist for this one
    if LogoutForm().validate_on_submit() and sessions.end_one(session_id, actor=actor):
        flash(_("That session has been ended."), "success")
    return redirect(url_for("auth.sessions_list"))


@bp.route("/sessions/end-others", methods=["POST"])
@permission(SIGNED_IN)
@sensitive
def end_other_sessions():
    if LogoutForm().validate_on_submit():
        sessions.end_others(actor=current_actor())
        flash(_("Every other session has been ended."), "success")
    return redirect(url_for("auth.sessions_list"))


@bp.route("/email/change", methods=["GET", "POST"])
@permission(SIGNED_IN)
def change_email():
    """A new sign-in address: the password first, then a link sent to the new address."""
    actor = current_actor()
    form = ChangeEmailForm()
    if form.validate_on_submit():
        try:
            new_email = normalise_email(form.email.data).lower()
        except ValueError as error:
            form.email.errors.append(str(error))
            return render_template("auth/change_email.html", form=form)
        if not actor.user.check_password(form.current_password.data):
            form.current_password.errors.append(_("This is not your current password."))
            return render_template("auth/change_email.html", form=form)
        try:
            email_change.request_email_change(new_email, actor=actor)
        except email_change.AddressRefused as refusal:
            form.email.errors.append(str(refusal))
        else:
            flash(
                _(
                    "A link has been sent to %(email)s. Your address changes when you open it.",
                    email=new_email,
                ),
                "success",
            )
            return redirect(url_for("main.home"))
    return render_template("auth/change_email.html", form=form)


@bp.route("/email/confirm/<token>")
@public
def confirm_email(token: str):
    change = email_change.email_change_for(token)
    if change is None:
        return private(make_response(render_template("auth/email_invalid.html"), 410))
    user, new_email = change
    email_change.change_email(user, new_email, actor=current_actor())
    flash(_("Your address is now %(email)s.", email=new_email), "success")
    return private(redirect(url_for("main.home")))


@bp.route("/language", methods=["GET", "POST"])
@public
def choose_language():
    """Signed in, the language is the user's preference; otherwise the visitor's choice
    lasts for the browser session. The header's switch sends back to the page it was on."""
    signed_in = current_user.is_authenticated
    form = LanguageForm(
        signed_in=signed_in,
        data={"locale": (current_user.locale or "") if signed_in else str(get_locale())},
    )
    if form.validate_on_submit():
        if signed_in:
            users.set_locale(current_actor().user, form.locale.data or None)
        else:
            remember_choice(form.locale.data)
        return redirect(safe_next(form.next.data) or url_for("main.home"))
    return render_template("auth/language.html", form=form)
