"""Two-factor sign-in's pages: the code asked after the password, and one's own
authenticator app and recovery codes (turn on with a first code, new codes, turn off)."""

import time

from flask import flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user

from portal.auth import ceremonies
from portal.auth.forms import (
    PasskeyAnswerForm,
    PasswordCheckForm,
    SecondFactorForm,
    TotpSetupForm,
)
from portal.auth.views import PENDING, bp, failed_attempt, safe_next
from portal.extensions import db, limiter
from portal.i18n import gettext as _
from portal.models import User
from portal.permissions import SIGNED_IN, permission, public, sensitive
from portal.services import auth, two_factor
from portal.web.forms.reauthenticate import ReauthenticateForm
from portal.web.gate import current_actor
from portal.web.sessions import sign_in

#: How long the code may wait after the password.
PENDING_SECONDS = 300
#: The secret shown while the user sets up their app, until a first code confirms it.
SETUP = "totp_setup"


def pending_user() -> User | None:
    pending = session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("since", 0) > PENDING_SECONDS:
        return None
    user = db.session.get(User, pending.get("user"))
    return user if user is not None and user.has_second_factor else None


def pending_account() -> str:
    """The attempt limits' key: wrong codes count against the account, as wrong
    passwords do."""
    pending = session.get(PENDING)
    return f"account:{pending.get('user')}" if isinstance(pending, dict) else "account:-"


@bp.route("/login/code", methods=["GET", "POST"])
@public
@limiter.limit("10/minute", methods=["POST"], deduct_when=failed_attempt)
@limiter.limit("10/minute", methods=["POST"], key_func=pending_account, deduct_when=failed_attempt)
def second_factor():
    user = pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    error = None
    if form.validate_on_submit():
        try:
            method = auth.second_factor(user, form.code.data, actor=current_actor())
        except auth.SignInRefused as refusal:
            error = str(refusal)
        else:
            next_page = session.pop(PENDING)["next"]
            sign_in(user, request.user_agent.string, method=method)
            if method == "password+recovery":
                flash(
                    _(
                        "You signed in with a recovery code, which will not work again. "
                        "%(left)d remain.",
                        left=two_factor.remaining(user),
                    ),
                    "info",
                )
            return redirect(safe_next(next_page) or url_for("main.home"))
    return second_factor_page(user, form, error, 400 if request.method == "POST" else 200)


def second_factor_page(user: User, form=None, error=None, status: int = 200):
    """The page asking for the second factor: a code, or one of the user's passkeys."""
    return render_template(
        "auth/second_factor.html",
        user=user,
        form=form or SecondFactorForm(formdata=None),
        error=error,
        passkey_answer=PasskeyAnswerForm(prefix="passkey", formdata=None),
        passkey_options=ceremonies.offer("second_factor", user),
    ), status


@bp.route("/two-factor")
@permission(SIGNED_IN)
def two_factor_status():
    user = current_actor().user
    return status_page(user)


def status_page(user: User, form=None, off_form=None, status: int = 200):
    return render_template(
        "auth/two_factor.html",
        user=user,
        passkeys_available=ceremonies.relying_party() is not None,
        left=two_factor.remaining(user) if user.has_second_factor else 0,
        form=form or PasswordCheckForm(),
        off_form=off_form or PasswordCheckForm(prefix="off"),
    ), status


@bp.route("/two-factor/setup", methods=["GET", "POST"])
@permission(SIGNED_IN)
@sensitive
def two_factor_setup():
    actor = current_actor()
    user = actor.user
    if user.has_authenticator_app:
        return redirect(url_for("auth.two_factor_status"))
    if request.method == "GET" or not isinstance(session.get(SETUP), str):
        session[SETUP] = two_factor.new_secret()
    secret = session[SETUP]
    form = TotpSetupForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.enable(user, secret, form.code.data, actor=actor)
        except two_factor.TwoFactorRefused as refusal:
            form.code.errors = [*form.code.errors, str(refusal.message)]
        else:
            session.pop(SETUP, None)
            flash(_("Your authenticator app is set up."), "success")
            if codes:
                return render_template("auth/recovery_codes.html", codes=codes)
            return redirect(url_for("auth.two_factor_status"))
    uri = two_factor.provisioning_uri(user, secret, g.tenant.name)
    return render_template(
        "auth/two_factor_setup.html",
        form=form,
        qr=two_factor.qr_code(uri),
        secret=two_factor.grouped(secret),
    )


def password_checked(form: PasswordCheckForm) -> bool:
    if not form.validate_on_submit():
        return False
    if not current_user.check_password(form.password.data):
        form.password.errors = [*form.password.errors, _("This is not your current password.")]
        return False
    return True


@bp.route("/two-factor/codes", methods=["POST"])
@permission(SIGNED_IN)
def recovery_codes():
    actor = current_actor()
    form = PasswordCheckForm()
    if not actor.user.has_second_factor:
        return redirect(url_for("auth.two_factor_status"))
    if not password_checked(form):
        return status_page(actor.user, form=form, status=400)
    codes = two_factor.regenerate(actor.user, actor=actor)
    flash(_("New recovery codes: the old ones no longer work."), "success")
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.route("/two-factor/disable", methods=["POST"])
@permission(SIGNED_IN)
def two_factor_disable():
    actor = current_actor()
    form = PasswordCheckForm(prefix="off")
    if not actor.user.has_authenticator_app:
        return redirect(url_for("auth.two_factor_status"))
    if not password_checked(form):
        return status_page(actor.user, off_form=form, status=400)
    two_factor.disable(actor.user, actor=actor)
    flash(_("Your authenticator app is turned off."), "success")
    return redirect(url_for("auth.two_factor_status"))


#: Where the re-authentication page keeps the fields of the form it stopped.
KEPT = "kept:"


@bp.route("/reauthenticate", methods=["POST"])
@permission(SIGNED_IN)
@limiter.limit("10/minute", key_func=lambda: f"reauth:{current_user.id}")
def reauthenticate():
    """The password (or a code) given again: then the form that was stopped is offered
    to send on, as it was filled."""
    form = ReauthenticateForm()
    kept = [
        (name.removeprefix(KEPT), value)
        for name, value in request.form.items(multi=True)
        if name.startswith(KEPT)
    ]
    action = safe_next(form.action.data) or url_for("main.home")
    if form.validate_on_submit():
        try:
            auth.reauthenticate(form.secret.data, actor=current_actor())
        except auth.SignInRefused as refusal:
            form.secret.errors = [*form.secret.errors, str(refusal)]
        else:
            return render_template("auth/continue.html", action=action, kept=kept)
    return render_template(
        "auth/reauthenticate.html", action=action, kept=kept, had_files=False, form=form
    ), 401
