"""The tenant's logo and the style sheet of its accent colour: public, since the sign-in
page shows them, and cached for good, since a new logo or colour has a new address.

The logo is served as an image that can do nothing but be shown: its own type with
``nosniff``, inline under a plain file name, and a policy that sandboxes it and loads
nothing (an SVG opened on its own runs no script and fetches no resource). A name that
is not the tenant's current logo's answers 404.
"""

from flask import Blueprint, Response, abort, g, request

from portal.permissions import SIGNED_IN, guard, public
from portal.services import brand

bp = Blueprint("brand", __name__, url_prefix="/<tenant>/brand")
guard(bp, SIGNED_IN)  # what a view added here would need, unless it says it is public

#: A year: the address changes with the content.
FOREVER = "public, max-age=31536000, immutable"
#: What the logo may do when opened on its own: be shown, with its inline styles.
LOGO_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@bp.route("/logo/<name>")
@public
def logo(name: str):
    found = brand.stored_logo(g.tenant, name)
    if found is None:
        abort(404)
    data, mimetype = found
    response = Response(data, mimetype=mimetype)
    extension = name.rsplit(".", 1)[-1]
    response.headers["Content-Disposition"] = f'inline; filename="logo.{extension}"'
    response.headers["Content-Security-Policy"] = LOGO_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = FOREVER
    return response


@bp.route("/theme.css")
@public
def theme():
    """The accent colour as the custom property that static/portal.css paints with. The
    page links it with the colour in its query string (``brand.theme_url``): kept for
    good at that address, checked again at any other."""
    color = brand.accent_color(g.tenant)
    response = Response(f":root {{ --accent: {color}; }}\n", mimetype="text/css")
    current = request.args.get("v") == color.removeprefix("#")
    response.headers["Cache-Control"] = FOREVER if current else "no-cache"
    return response
