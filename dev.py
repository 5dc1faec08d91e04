"""Local bootstrap for Portal; needs only Python 3.11+ and its standard library.

    python3 dev.py demo [--password P]   venv, install, migrate, load the demo, serve it
    python3 dev.py test [--postgres] [pytest args...]   venv, install, run the test suite
    python3 dev.py install               venv, install, and npm ci (the others do it themselves)
    python3 dev.py translations          re-extract, update and compile the message catalogues
    python3 dev.py bench [args...]       venv, install, run the load benchmark (bench/run.py)

The virtual environment is ``.venv`` beside this file. The project is installed
into it with ``pip install -e '.[dev]'`` on the first run and again whenever
pyproject.toml changes (a hash of it is kept in ``.venv/portal-install.stamp``).
``install`` and ``test`` also run ``npm ci`` for the accessibility checkers of the
browser tests (``package.json``), again whenever package-lock.json changes.
"""

import argparse
import hashlib
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PYTHON = VENV / "bin" / "python"
STAMP = VENV / "portal-install.stamp"
NPM_STAMP = ROOT / "node_modules" / ".portal-install.stamp"
HOST, PORT = "127.0.0.1", "5000"
TEST_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
TEST_REDIS_URL = "redis://127.0.0.1:6379/0"
CHROMIUM = "/usr/bin/chromium"  # Debian's package, which the browser stories drive

if sys.version_info < (3, 11):  # noqa: UP036 - say so plainly to an older Python
    sys.exit(f"Portal needs Python 3.11 or newer; this is {sys.version.split()[0]}.")


def run(command: list, env: dict | None = None) -> None:
    """Print and run a command in the project folder; a failure raises CalledProcessError."""
    print("$", shlex.join(str(part) for part in command), flush=True)
    subprocess.run(command, cwd=ROOT, env=env, check=True)  # noqa: S603 - our own commands


def install() -> None:
    """Create .venv if missing; install the project when pyproject.toml changed."""
    if not PYTHON.exists():
        run([sys.executable, "-m", "venv", VENV])
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    wanted = f"{digest} {VENV}\n"  # a venv copied elsewhere has stale scripts: reinstall
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("Installing Portal and its dependencies into .venv ...", flush=True)
    run([PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-e", ".[dev]"])
    STAMP.write_text(wanted)


def install_checkers() -> None:
    """Install the accessibility checkers the browser tests run (package.json: axe-core
    and the Nu Html Checker's vnu.jar) into node_modules, again whenever
    package-lock.json changed. Without npm the tests that need them say they are
    skipped, and how to get them (CI fails on any skip)."""
    digest = hashlib.sha256((ROOT / "package-lock.json").read_bytes()).hexdigest()
    if NPM_STAMP.exists() and NPM_STAMP.read_text() == digest:
        return
    npm = shutil.which("npm")
    if not npm:
        print("npm is missing: the accessibility sweeps will be skipped.", flush=True)
        return
    print("Installing the accessibility checkers into node_modules (npm ci) ...", flush=True)
    # --ignore-scripts: vnu-jar's install script would download a Java runtime when
    # none is on the PATH; the tests use the machine's Java (Debian's default-jre-headless).
    run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"])
    NPM_STAMP.write_text(digest)


def flask(*arguments: str) -> list:
    return [PYTHON, "-m", "flask", "--app", "portal", *arguments]


def demo(password: str | None) -> None:
    """Upgrade the database, load the demo data and serve it on 127.0.0.1:5000."""
    env = dict(os.environ)
    env.setdefault("PORTAL_ENV", "development")
    (ROOT / "instance").mkdir(exist_ok=True)
    run(flask("db", "upgrade"), env)
    run(flask("demo", *(["--password", password] if password else [])), env)
    # localhost, not the address: browsers make passkeys only for a host name.
    print(f"\nOpen http://localhost:{PORT}/demo/login  (Ctrl-C stops the server)\n", flush=True)
    run(flask("run", "--host", HOST, "--port", PORT), env)


def answers(host: str, port: int) -> bool:
    """Whether a server listens at host:port (the local PostgreSQL or Redis)."""
    try:
        socket.create_connection((host, port), timeout=2).close()
    except OSError:
        return False
    return True


def ensure_chromium() -> None:
    """Install Debian's Chromium for the browser stories when it is missing and this is
    root on a Debian-like machine; otherwise the stories say they are skipped, and how."""
    if os.environ.get("PORTAL_TEST_CHROMIUM") or Path(CHROMIUM).exists():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return
    print("Installing Debian's chromium for the browser stories (apt-get) ...", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        run(["apt-get", "update", "-qq"], env)
        run(["apt-get", "install", "-y", "-qq", "chromium"], env)
    except subprocess.CalledProcessError:
        print("Could not install chromium: the browser stories will be skipped.", flush=True)


def test(postgres: bool, pytest_args: list[str]) -> None:
    """Run pytest; --postgres uses the local PostgreSQL server for a throwaway database.
    The production-storage test uses the local Redis whenever it answers."""
    ensure_chromium()
    env = dict(os.environ)
    if postgres:
        env.setdefault("PORTAL_TEST_DATABASE_URL", TEST_POSTGRES_URL)
    if postgres or answers("127.0.0.1", 6379):
        env.setdefault("PORTAL_TEST_REDIS_URL", TEST_REDIS_URL)
    if env.get("PORTAL_TEST_DATABASE_URL"):
        print(f"Test database server: {env['PORTAL_TEST_DATABASE_URL']}", flush=True)
    run([PYTHON, "-m", "pytest", *pytest_args], env)


def bench(bench_args: list[str]) -> None:
    """The load benchmark of issue 10 on the local PostgreSQL (bench/README.md)."""
    run([PYTHON, ROOT / "bench" / "run.py", *bench_args])


def translations() -> None:
    """Refresh the catalogues after changing user-facing strings (tests/test_i18n.py checks)."""
    pybabel = VENV / "bin" / "pybabel"
    catalogue = "portal/translations"
    run(
        [
            pybabel,
            "extract",
            "-F",
            "babel.cfg",
            "--sort-by-file",
            "--no-wrap",
            "--project",
            "Portal",
            "--version",
            "0.1.0",
            "-o",
            f"{catalogue}/messages.pot",
            ".",
        ]
    )
    run(
        [
            pybabel,
            "update",
            "-i",
            f"{catalogue}/messages.pot",
            "-d",
            catalogue,
            "--no-wrap",
            "--no-fuzzy-matching",
            "--ignore-obsolete",
        ]
    )
    run([PYTHON, "-c", "import dev; dev.keep_only_regional_differences()"])
    run([pybabel, "compile", "-d", catalogue])


def keep_only_regional_differences() -> None:
    """A regional catalogue (fr_CA) holds only what the region says differently: the
    update adds every message to it, untranslated; drop those again, or they would be
    compiled as English (a plural's empty forms are) instead of falling back to fr."""
    from babel.messages.pofile import read_po, write_po

    for path in (ROOT / "portal" / "translations").glob("*_*/LC_MESSAGES/messages.po"):
        with path.open("rb") as po:
            catalogue = read_po(po)
        for message in list(catalogue):
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            if message.id and not all(strings):
                catalogue.delete(message.id, context=message.context)
        with path.open("wb") as po:
            write_po(po, catalogue, width=0)


def stop(signum: int, frame: object) -> None:
    """On SIGTERM, exit through subprocess.run, which then stops the child too."""
    raise SystemExit(128 + signum)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("install", help="create .venv and install the project")
    commands.add_parser("translations", help="refresh the message catalogues")
    demo_parser = commands.add_parser("demo", help="load the demo and serve it")
    demo_parser.add_argument("--password", help="the one password of every demo user")
    test_parser = commands.add_parser(
        "test", add_help=False, allow_abbrev=False, help="run the test suite (args go to pytest)"
    )
    commands.add_parser(
        "bench", add_help=False, help="run the load benchmark (args go to bench/run.py)"
    )
    test_parser.add_argument(
        "--postgres",
        action="store_true",
        help=f"test on the local servers: {TEST_POSTGRES_URL} and {TEST_REDIS_URL}",
    )
    args, extra = parser.parse_known_args()
    if extra and args.command not in ("test", "bench"):
        parser.error(f"unrecognized arguments: {shlex.join(extra)}")

    signal.signal(signal.SIGTERM, stop)
    try:
        install()
        if args.command in ("install", "test"):
            install_checkers()
        if args.command == "demo":
            demo(args.password)
        elif args.command == "test":
            test(args.postgres, extra)
        elif args.command == "bench":
            bench(extra)
        elif args.command == "translations":
            translations()
    except subprocess.CalledProcessError as error:  # exit as the child did
        return error.returncode if error.returncode >= 0 else 128 - error.returncode
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
