"""Portal: a multi-tenant customer portal for service businesses."""

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal import config as settings

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None, *, commands: bool = True) -> Flask:
    """Build the application; ``config`` overrides the environment (tests use it).
    ``commands=False`` leaves out the command line, for the web workers: Flask-Migrate
    brings Alembic, 11 MB of memory in each worker for nothing it serves."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(settings.INSTANCE_DIR),
    )
    app.config.update(settings.from_environment())
    if config:
        app.config.update(config)
    settings.finalize(app.config)

    register_proxy_fix(app)
    register_request_ids(app)
    register_extensions(app)
    register_tenancy(app)
    register_blueprints(app)
    register_security(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_transaction(app)
    if commands:
        register_commands(app)
    return app


def register_proxy_fix(app: Flask) -> None:
    hops = app.config["TRUSTED_PROXY_HOPS"]
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)


def register_request_ids(app: Flask) -> None:
    from portal.web import requests_log

    requests_log.register(app)


def register_extensions(app: Flask) -> None:
    from portal import (
        i18n,
        models,  # noqa: F401 - every table must be known to Alembic
        storage,
    )
    from portal.extensions import babel, csrf, db, limiter, login_manager, mail
    from portal.web import languages
    from portal.web.gate import unauthorized
    from portal.web.sessions import load_user

    db.init_app(app)
    csrf.init_app(app)
    mail.init_app(app)
    babel.init_app(
        app,
        locale_selector=languages.select_locale,
        timezone_selector=languages.select_timezone,
    )
    i18n.register(app)
    storage.register(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.unauthorized_handler(unauthorized)
    login_manager.session_protection = None  # our server-side sessions do better


def register_tenancy(app: Flask) -> None:
    from portal.web import routing

    app.url_map.converters["id"] = routing.IdConverter
    app.url_value_preprocessor(routing.bind_tenant_from_url)
    app.url_defaults(routing.add_tenant_to_urls)


def register_blueprints(app: Flask) -> None:
    from portal.access.views import bp as access_bp
    from portal.account.views import bp as account_bp
    from portal.admin import bp as admin_bp
    from portal.auth import passkeys, two_factor  # noqa: F401 - pages of the auth blueprint
    from portal.auth.views import bp as auth_bp
    from portal.brand.views import bp as brand_bp
    from portal.chat.views import bp as chat_bp
    from portal.clients.views import bp as clients_bp
    from portal.contacts.views import bp as contacts_bp
    from portal.desk.views import bp as desk_bp
    from portal.mail.mailbox import bp as mailbox_bp
    from portal.mail.unsubscribe import bp as mailing_bp
    from portal.main.views import bp as main_bp
    from portal.proposals.views import bp as proposals_bp
    from portal.requests.views import bp as requests_bp
    from portal.statement.views import bp as statement_bp
    from portal.support.moved import moved as support_moved_bp
    from portal.support.views import bp as support_bp

    for blueprint in (
        main_bp,
        auth_bp,
        clients_bp,
        contacts_bp,
        proposals_bp,
        access_bp,
        account_bp,
        statement_bp,
        support_bp,
        support_moved_bp,  # the support pages' addresses before /support
        requests_bp,
        desk_bp,
        chat_bp,
        mailing_bp,
        brand_bp,
    ):
        app.register_blueprint(blueprint)
    app.register_blueprint(admin_bp)
    if app.config["PORTAL_ENV"] == "development":  # the mailbox never exists in production
        app.register_blueprint(mailbox_bp)


def register_security(app: Flask) -> None:
    from portal.web import gate, uploads

    app.request_class = uploads.PortalRequest  # the upload limit of the view, if larger
    app.before_request(gate.refuse_nul_characters)
    app.before_request(gate.check_access)
    app.after_request(gate.add_security_headers)


def register_errorhandlers(app: Flask) -> None:
    from portal.web import errors

    errors.register(app)


def register_template_helpers(app: Flask) -> None:
    from portal.web import templating

    templating.register(app)


def register_transaction(app: Flask) -> None:
    from portal.web import transaction

    transaction.register(app)


def register_commands(app: Flask) -> None:
    from flask_migrate import Migrate

    from portal import commands
    from portal.extensions import db
    from portal.models.base import render_migration_item

    Migrate(
        app,
        db,
        directory=str(ROOT / "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_item,
    )
    commands.register(app)
