"""The layers of ARCHITECTURE.md, checked on the code itself (its syntax tree).

- One transaction boundary: only the request's boundary, the command line and the
  outbox worker commit.
- Services own whole operations: only they write audit events.
- Who acts reaches a service as one value: no service reads ``flask.g``, ``request``,
  the Flask session or ``current_user``, and none unwraps a proxy.
- Blueprints do not import each other; nothing below the web layer imports it or a
  blueprint; the web layer imports no blueprint.
"""

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "portal"

#: The only modules that may commit: the request's boundary, and the two kinds of work
#: that serve no request.
MAY_COMMIT = ("portal.web.transaction", "portal.commands", "portal.mail.outbox")
#: What a service may not read: who acts comes as an argument.
REQUEST_STATE = {("flask", "g"), ("flask", "request"), ("flask", "session")}
REQUEST_STATE |= {("flask_login", "current_user")}


@cache
def modules() -> dict[str, ast.Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text(), filename=str(path))
    return found


def defines_blueprint(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Blueprint"
        for node in ast.walk(tree)
    )


@cache
def blueprint_modules() -> frozenset[str]:
    return frozenset(name for name, tree in modules().items() if defines_blueprint(tree))


#: Packages of the domain that also hold a page or two: there each page is a blueprint of
#: its own, and the other modules are services.
MIXED_PACKAGES = ("portal.mail",)


def component(name: str) -> str:
    """The unit a rule speaks of: ``portal.clients`` for every module of that blueprint's
    package (its views, forms, listings)."""
    if name.startswith(MIXED_PACKAGES):
        return name
    return ".".join(name.split(".")[:2])


@cache
def blueprint_components() -> frozenset[str]:
    return frozenset(component(name) for name in blueprint_modules())


def layer(name: str) -> str:
    if name == "portal" or name.startswith("portal.commands"):
        return "application"  # the factory and the command line see everything
    if name.startswith("portal.web"):
        return "web"
    if component(name) in blueprint_components():
        return "blueprint"
    return "domain"


def imported_modules(name: str, tree: ast.Module) -> set[str]:
    """Every portal module ``name`` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name.split(".")[: -node.level + (1 if is_package(name) else 0) or None]
                base = ".".join([*package, base] if base else package)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {module for module in found if module in modules()}


def is_package(name: str) -> bool:
    return (PACKAGE.parent / name.replace(".", "/") / "__init__.py").exists()


def calls(tree: ast.Module, attribute: str):
    for node in ast.walk(tree):
        func = getattr(node, "func", None)
        if isinstance(node, ast.Call) and getattr(func, "attr", None) == attribute:
            yield node


def where(name: str, node: ast.AST) -> str:
    return f"{name}:{node.lineno}"


def test_the_rules_see_the_whole_package():
    """The rules below would pass on nothing: they must see the blueprints and layers."""
    assert {"portal.clients", "portal.support", "portal.auth"} <= blueprint_components()
    assert layer("portal.services.credit") == "domain"
    assert layer("portal.web.gate") == "web"
    assert layer("portal.mail.unsubscribe") == "blueprint"
    assert layer("portal.mail.outbox") == "domain"


def test_only_the_boundary_the_command_line_and_the_outbox_worker_commit():
    offenders = [
        where(name, node)
        for name, tree in modules().items()
        if not name.startswith(MAY_COMMIT)
        for node in calls(tree, "commit")
    ]
    assert offenders == [], "commit outside the request boundary, the CLI or the worker"


def test_only_services_write_audit_events():
    offenders = [
        where(name, node)
        for name, tree in modules().items()
        if layer(name) != "domain"
        for attribute in ("record", "record_refusal")
        for node in calls(tree, attribute)
        if getattr(node.func.value, "id", None) == "audit"
    ]
    assert offenders == [], "audit events are written by services, not by views"


def test_no_service_reads_the_request_or_unwraps_a_proxy():
    offenders = []
    for name, tree in modules().items():
        if not name.startswith(("portal.services", "portal.mail", "portal.models")):
            continue
        if layer(name) != "domain":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module in ("flask", "flask_login"):
                read = {(node.module, alias.name) for alias in node.names} & REQUEST_STATE
                offenders += [f"{where(name, node)} imports {item[1]}" for item in read]
            if isinstance(node, ast.Attribute) and node.attr == "_get_current_object":
                offenders.append(f"{where(name, node)} unwraps a proxy")
            if isinstance(node, ast.Name) and node.id == "LocalProxy":
                offenders.append(f"{where(name, node)} knows LocalProxy")
    assert offenders == []


@pytest.mark.parametrize(
    "rule",
    [
        "a blueprint imports no other blueprint",
        "nothing below the web layer imports it or a blueprint",
        "the web layer imports no blueprint",
    ],
)
def test_imports_follow_the_layers(rule):
    offenders = []
    for name, tree in modules().items():
        for target in imported_modules(name, tree):
            source_layer, target_layer = layer(name), layer(target)
            if rule.startswith("a blueprint"):
                broken = source_layer == target_layer == "blueprint" and component(
                    name
                ) != component(target)
            elif rule.startswith("nothing below"):
                broken = source_layer == "domain" and target_layer in ("web", "blueprint")
            else:
                broken = source_layer == "web" and target_layer == "blueprint"
            if broken:
                offenders.append(f"{name} imports {target}")
    assert offenders == []
