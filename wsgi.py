"""What gunicorn serves: ``gunicorn wsgi:app``."""

import sys

from portal import create_app
from portal.config import ConfigError

#: gunicorn stops, instead of booting workers again and again, when one exits with this.
GUNICORN_APP_LOAD_ERROR = 4

try:
    app = create_app(commands=False)
except ConfigError as error:
    print(error.code, file=sys.stderr)
    raise SystemExit(GUNICORN_APP_LOAD_ERROR) from None
