"""Web basics: security headers, CSRF, error pages, hostile input."""

import pytest

from portal import create_app
from portal.config import ConfigError
from tests.conftest import csrf_token, login, make_config


def test_security_headers_on_every_page(client, world):
    for url in (f"/{world.a.slug}/login", "/health", "/no-such-tenant/login"):
        headers = client.get(url).headers
        policy = headers["Content-Security-Policy"]
        for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
            assert directive in policy
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "script-src 'self'" in policy
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers


@pytest.mark.parametrize("app_config", [{"PORTAL_BASE_URL": "https://portal.example"}])
def test_https_base_url_turns_on_hsts_and_secure_cookies(app, app_config, world):
    client = app.test_client()
    client.environ_base["wsgi.url_scheme"] = "https"  # Secure cookies only travel over https
    response = login(
        client,
        world.a.slug,
        world.a.admin_email,
        headers={"Referer": f"https://localhost/{world.a.slug}/login"},
    )
    assert response.status_code == 302
    assert "max-age=" in response.headers["Strict-Transport-Security"]
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_signed_in_pages_are_not_cached(client, world):
    login(client, world.a.slug, world.a.admin_email)
    assert client.get(f"/{world.a.slug}/clients/").headers["Cache-Control"] == "no-store"


def test_unknown_tenant_gets_the_404_page(client):
    response = client.get("/no-such-business/login")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Page not found" in body and "portal.css" in body


def test_form_without_csrf_token_gets_the_400_page_and_changes_nothing(client, world):
    response = client.post(
        f"/{world.a.slug}/login", data={"login": world.a.admin_email, "password": "x"}
    )
    assert response.status_code == 400
    assert "Reload the page" in response.get_data(as_text=True)
    assert client.get(f"/{world.a.slug}/clients/").status_code == 302


def test_csrf_token_of_another_session_is_refused(app, world):
    stranger, victim = app.test_client(), app.test_client()
    token = csrf_token(stranger.get(f"/{world.a.slug}/login"))
    login(victim, world.a.slug, world.a.admin_email)
    response = victim.post(f"/{world.a.slug}/logout", data={"csrf_token": token})
    assert response.status_code == 400
    assert victim.get(f"/{world.a.slug}/clients/").status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/alpha/clients/abc",
        "/alpha/clients/0",
        "/alpha/clients/-1",
        "/alpha/clients/99999999999999999999999999",
        "/alpha/clients/2147483648",
        "/alpha/contacts/1.5",
        "/alpha/clients/%00",
    ],
)
def test_malformed_ids_answer_404(client, world, path):
    login(client, world.a.slug, world.a.admin_email)
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_oversized_fields_are_refused_at_the_field_not_with_a_500(client, world):
    page = client.get(f"/{world.a.slug}/login")
    response = client.post(
        f"/{world.a.slug}/login",
        data={"csrf_token": csrf_token(page), "login": "x" * 5000, "password": "y" * 5000},
    )
    assert response.status_code == 200
    assert "Field cannot be longer than" in response.get_data(as_text=True)


def test_oversized_search_and_page_numbers_are_harmless(client, world):
    login(client, world.a.slug, world.a.admin_email)
    for query in ({"q": "%" * 10_000}, {"page": "9" * 50}, {"page": "-3"}, {"q": "'--"}):
        assert client.get(f"/{world.a.slug}/clients/", query_string=query).status_code == 200


@pytest.mark.parametrize("path", ["/alpha/clients/?q=a%00b", "/%00/login", "/al%00pha/login"])
def test_nul_characters_get_a_clear_400_or_404(client, world, path):
    login(client, world.a.slug, world.a.admin_email)
    response = client.get(path)
    assert response.status_code in (400, 404)
    assert "Something went wrong" not in response.get_data(as_text=True)


def test_nul_character_in_a_form_field_is_refused_and_saves_nothing(client, world):
    page = client.get(f"/{world.a.slug}/login")
    response = client.post(
        f"/{world.a.slug}/login",
        data={"csrf_token": csrf_token(page), "login": "admin\x00@alpha.test", "password": "x"},
    )
    assert response.status_code == 400
    assert "not allowed (NUL)" in response.get_data(as_text=True)


def test_oversized_request_body_gets_the_413_page(client, world):
    response = client.post(f"/{world.a.slug}/login", data={"login": "x" * (2 * 1024 * 1024)})
    assert response.status_code == 413
    assert "larger than this site accepts" in response.get_data(as_text=True)


def test_wrong_method_gets_the_405_page(client, world):
    response = client.delete(f"/{world.a.slug}/login")
    assert response.status_code == 405
    assert "cannot be used that way" in response.get_data(as_text=True)


def test_unexpected_error_gets_the_500_page_without_a_trace(app, world):
    def explode():
        raise RuntimeError("internal detail that must not leak")

    explode.is_public = True
    app.add_url_rule("/<tenant>/explode", "explode", explode)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    response = app.test_client().get(f"/{world.a.slug}/explode")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    assert "internal detail" not in body and "Traceback" not in body


def test_anonymous_visitor_of_a_staff_page_is_sent_to_sign_in(client, world):
    response = client.get(f"/{world.a.slug}/clients/{world.a.client_id}")
    assert response.status_code == 302
    assert response.location.startswith(f"/{world.a.slug}/login?next=")


@pytest.mark.parametrize(
    ("who", "path", "expected"),
    [
        ("client user", "/alpha/clients/", 403),
        ("client user", "/alpha/account", 200),
        ("staff", "/alpha/account", 403),
        ("staff", "/alpha/clients/", 200),
        ("tech", "/alpha/clients/", 200),
    ],
)
def test_pages_follow_the_roles_permissions(client, world, who, path, expected):
    login_name = {
        "client user": world.a.client_user_email,
        "staff": world.a.admin_email,
        "tech": world.a.tech_email,
    }[who]
    login(client, world.a.slug, login_name)
    assert client.get(path).status_code == expected


def test_navigation_shows_only_what_the_role_allows(client, world):
    login(client, world.a.slug, world.a.client_user_email)
    body = client.get(f"/{world.a.slug}/account").get_data(as_text=True)
    assert f'href="/{world.a.slug}/account"' in body
    assert f'href="/{world.a.slug}/clients/"' not in body


def test_error_pages_keep_a_signed_in_users_navigation_and_name_no_other_tenant(app, world):
    """A mistyped address is not a reason to lose one's way back: the 404 of a page that
    does not exist keeps the tenant's navigation, like the 404 of a record that does not."""
    browser = app.test_client()
    assert login(browser, world.a.slug, world.a.admin_email).status_code == 302
    for path in ("no-such-page", "clients/no/such/page", "contacts/999999"):
        response = browser.get(f"/{world.a.slug}/{path}")
        body = response.get_data(as_text=True)
        assert response.status_code == 404 and "Page not found" in body, path
        assert f'href="/{world.a.slug}/clients/"' in body, (path, "the navigation")
        assert f'action="/{world.a.slug}/logout"' in body, (path, "the sign-out button")
        assert world.a.name in body, path

    for path in (f"/{world.b.slug}/no-such-page", "/no-such-tenant/no-such-page"):
        response = browser.get(path)
        body = response.get_data(as_text=True)
        assert response.status_code == 404 and "Page not found" in body
        assert world.b.name not in body and world.a.name not in body, path
        assert "/logout" not in body and "/clients/" not in body, path

    anonymous = app.test_client().get(f"/{world.a.slug}/no-such-page")
    assert anonymous.status_code == 404
    assert "/logout" not in anonymous.get_data(as_text=True)


def test_missing_secret_key_outside_development_stops_the_start(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PORTAL_ENV", "production")
    with pytest.raises(ConfigError, match="SECRET_KEY is not set"):
        create_app()


def test_development_runs_without_a_secret_key(monkeypatch, migrated_database):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("PORTAL_ENV", "development")
    config = make_config(migrated_database, SECRET_KEY=None, TESTING=False)
    config["PORTAL_ENV"] = "development"
    assert create_app(config).config["SECRET_KEY"]
