"""The support pages' addresses from when they shared ``/<tenant>/admin`` with the
administration's pages: mailed and bookmarked links still lead to them."""

from urllib.parse import quote

from flask import Blueprint, g, redirect, request, url_for

from portal.permissions import guard

moved = Blueprint("support_moved", __name__, url_prefix="/<tenant>/admin")
guard(moved, "clients.view")


@moved.get("/")
@moved.route("/accounts/<path:rest>", methods=["GET", "POST"])
@moved.route("/clients/<path:rest>", methods=["GET", "POST"])
def moved_page(**_parts):
    """The same address under ``/<tenant>/support``, query string kept: 301 for a GET,
    308 for a POST, so that a form sent from a page opened before the move still lands.
    It only rewrites the address: the page there checks everything as usual."""
    below_prefix = request.path.removeprefix(f"/{g.tenant_slug}/admin/")
    location = url_for("support.index") + quote(below_prefix)
    if request.query_string:
        location += "?" + request.query_string.decode()
    return redirect(location, 308 if request.method == "POST" else 301)
