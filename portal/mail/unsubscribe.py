"""Unsubscribing from the recap mails and the credit alerts: the link of every recap
and of every alert leads here.

GET only shows a page with a button (link scanners follow links, they do not press
buttons); a POST, from that button or from a mail client's one-click
``List-Unsubscribe-Post`` (RFC 8058), makes the change. The signed token in the URL
is what authenticates the request, so this view needs no CSRF token: a mail
client's one-click POST cannot carry one. The link belongs to the address it was
mailed to: after the client's or contact's address changed, it shows no address and
changes nothing (410 Gone).
"""

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for

from portal.extensions import csrf
from portal.i18n import gettext as _
from portal.mail import recaps
from portal.permissions import public
from portal.web.gate import current_actor

bp = Blueprint("mailing", __name__, url_prefix="/<tenant>")


def is_one_click() -> bool:
    """The POST of a mail client's unsubscribe button (RFC 8058), not of our page."""
    return request.form.get("List-Unsubscribe") == "One-Click"


@bp.route("/unsubscribe/<token>", methods=["GET", "POST"])
@public
@csrf.exempt
def unsubscribe(token: str):
    link = recaps.link_for(token, g.tenant) or abort(404)
    recipient = link.recipient
    if recipient is None:
        if is_one_click():
            return (
                _("This link no longer manages an address: nothing was changed."),
                410,
                {"Content-Type": "text/plain; charset=utf-8"},
            )
        return render_template("mailing/unsubscribe.html", recipient=None), 410
    if request.method == "POST":
        wanted = request.form.get("subscribe") == "1"
        recaps.set_recap_mails(recipient, wanted, actor=current_actor(), one_click=is_one_click())
        if is_one_click():
            return _("You are unsubscribed."), 200, {"Content-Type": "text/plain; charset=utf-8"}
        flash(
            _("You will receive the recap mails again.")
            if wanted
            else _(
                "You are unsubscribed: no more recap mails or credit alerts will be sent"
                " to this address."
            ),
            "success",
        )
        return redirect(url_for("mailing.unsubscribe", token=token))
    return render_template("mailing/unsubscribe.html", recipient=recipient)
