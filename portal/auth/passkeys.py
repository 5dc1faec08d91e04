"""Passkeys' pages: making one, renaming and removing them from one's two-factor page,
and signing in with one, after the password or instead of it. The browser's side is
``static/passkeys.js``: it runs the ceremony with the options the page carries, puts the
answer in the form's hidden field and sends the form."""

from flask import abort, flash, redirect, render_template, request, session, url_for

from portal.auth import ceremonies
from portal.auth.forms import (
    LoginForm,
    PasskeyAnswerForm,
    PasskeyForm,
    PasskeyNameForm,
    PasskeyRemoveForm,
)
from portal.auth.two_factor import pending_account, pending_user, second_factor_page
from portal.auth.views import PENDING, bp, failed_attempt, safe_next
from portal.extensions import limiter
from portal.i18n import gettext as _
from portal.models import Passkey
from portal.permissions import SIGNED_IN, permission, public, sensitive
from portal.services import auth, passkeys
from portal.web.gate import current_actor
from portal.web.sessions import sign_in


@bp.route("/two-factor/passkeys/new", methods=["GET", "POST"])
@permission(SIGNED_IN)
@sensitive
def passkey_new():
    actor = current_actor()
    form = PasskeyForm()
    error = None
    if form.validate_on_submit():
        try:
            codes = passkeys.register(
                actor.user,
                form.response.data,
                ceremonies.taken("register"),
                form.name.data,
                ceremonies.relying_party(),
                actor=actor,
            )
        except passkeys.PasskeyRefused as refusal:
            error = str(refusal.message)
        else:
            flash(_("Passkey “%(name)s” added.", name=form.name.data.strip()), "success")
            if codes:
                return render_template("auth/recovery_codes.html", codes=codes)
            return redirect(url_for("auth.two_factor_status"))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "auth/passkey_new.html",
        form=form,
        error=error,
        options=ceremonies.offer("register", actor.user),
    ), status


def own_passkey(passkey_id: int) -> Passkey:
    """The signed-in user's passkey ``passkey_id``; 404 for anyone else's."""
    passkey = passkeys.owned(current_actor().user, passkey_id)
    if passkey is None:
        abort(404)
    return passkey


@bp.route("/two-factor/passkeys/<id:passkey_id>", methods=["GET", "POST"])
@permission(SIGNED_IN)
def passkey_edit(passkey_id: int):
    passkey = own_passkey(passkey_id)
    form = PasskeyNameForm(obj=passkey)
    if form.validate_on_submit():
        try:
            passkeys.rename(passkey, form.name.data, actor=current_actor())
        except passkeys.PasskeyRefused as refusal:
            form.name.errors = [*form.name.errors, str(refusal.message)]
        else:
            flash(_("Passkey renamed."), "success")
            return redirect(url_for("auth.two_factor_status"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/passkey_edit.html", passkey=passkey, form=form), status


@bp.route("/two-factor/passkeys/<id:passkey_id>/remove", methods=["GET", "POST"])
@permission(SIGNED_IN)
@sensitive
def passkey_remove(passkey_id: int):
    actor = current_actor()
    passkey = own_passkey(passkey_id)
    form = PasskeyRemoveForm()
    if form.validate_on_submit():
        name = passkey.name
        passkeys.remove(passkey, actor=actor)
        flash(_("Passkey “%(name)s” removed.", name=name), "success")
        return redirect(url_for("auth.two_factor_status"))
    last = len(actor.user.passkeys) == 1 and not actor.user.has_authenticator_app
    return render_template("auth/passkey_remove.html", passkey=passkey, form=form, last=last)


@bp.route("/login/passkey", methods=["POST"])
@public
@limiter.limit("10/minute", deduct_when=failed_attempt)
def passkey_sign_in():
    """A sign-in with a passkey alone, which checked its user on the device."""
    form = PasskeyAnswerForm()
    error = _("The browser sent no passkey. Try again.")
    if form.validate_on_submit():
        try:
            user = auth.passkey_sign_in(
                form.response.data,
                ceremonies.taken("sign_in"),
                ceremonies.relying_party(),
                actor=current_actor(),
            )
        except auth.SignInRefused as refusal:
            error = str(refusal)
        else:
            sign_in(user, request.user_agent.string, method="passkey")
            return redirect(safe_next(request.args.get("next")) or url_for("main.home"))
    return render_template(
        "auth/login.html",
        form=LoginForm(formdata=None),
        error=error,
        passkey_answer=PasskeyAnswerForm(formdata=None),
        passkey_options=ceremonies.offer("sign_in"),
    ), 400


@bp.route("/login/code/passkey", methods=["POST"])
@public
@limiter.limit("10/minute", deduct_when=failed_attempt)
@limiter.limit("10/minute", key_func=pending_account, deduct_when=failed_attempt)
def second_factor_passkey():
    """The second factor given with a passkey, after the password."""
    user = pending_user()
    if user is None:
        session.pop(PENDING, None)
        flash(_("Please sign in again."), "info")
        return redirect(url_for("auth.login"))
    form = PasskeyAnswerForm(prefix="passkey")
    error = _("The browser sent no passkey. Try again.")
    if form.validate_on_submit():
        try:
            method = auth.second_factor_passkey(
                user,
                form.response.data,
                ceremonies.taken("second_factor"),
                ceremonies.relying_party(),
                actor=current_actor(),
            )
        except auth.SignInRefused as refusal:
            error = str(refusal)
        else:
            next_page = session.pop(PENDING)["next"]
            sign_in(user, request.user_agent.string, method=method)
            return redirect(safe_next(next_page) or url_for("main.home"))
    return second_factor_page(user, error=error, status=400)
