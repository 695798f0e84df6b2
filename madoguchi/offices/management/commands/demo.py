"""`madoguchi demo [--addr HOST:PORT]`: one command to a working system.

Migrates, loads the demo office once (see `madoguchi.offices.demo`), prints the address
and the demo sign-in, and serves with gunicorn in the foreground, with the worker beside
it, until interrupted.
"""

import os
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from gunicorn.app.base import BaseApplication

from madoguchi.api.models import ApiToken
from madoguchi.offices.demo import Demo, demo_load
from madoguchi.offices.models import Staff

WILDCARD_HOSTS = {"0.0.0.0", "::"}  # noqa: S104 - only named to recognise them


def parse_addr(addr: str) -> tuple[str, int]:
    """`HOST:PORT` (IPv6 in brackets: `[::1]:8000`) into its host and port."""
    host, sep, port = addr.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"--addr must look like 127.0.0.1:8000, not {addr!r}.")
    return host, int(port)


class DemoServer(BaseApplication):
    """gunicorn with its options given here instead of on its command line."""

    def __init__(self, options: dict) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from madoguchi.wsgi import application

        return application


class Command(BaseCommand):
    help = "Set up a demo office with staff and job seekers, then serve it in the foreground."

    def add_arguments(self, parser):
        parser.add_argument(
            "--addr", default="127.0.0.1:8000", help="HOST:PORT to serve on (127.0.0.1:8000)"
        )

    def handle(self, *args, addr: str, **options) -> None:
        host, _ = parse_addr(addr)
        self.stdout.write("Preparing the database…")
        call_command("migrate", interactive=False, verbosity=0)
        demo = demo_load()
        self.stdout.write("Demo data created." if demo.created else "Demo data found; reusing it.")
        coordinator = demo.of_role(Staff.Role.COORDINATOR)[0]
        _, token = ApiToken.issue(coordinator.user)
        call_command("collectstatic", interactive=False, verbosity=0)
        self.settings_for_plain_http(host, addr)
        self.stdout.write(self.banner(demo, addr, token))
        self.stdout.flush()
        # Workers are forked from this process; they must not share its connections.
        connections.close_all()
        worker = subprocess.Popen([sys.executable, "-m", "madoguchi", "worker"])
        try:
            # No control socket: it would live in the home folder, shared by every demo.
            DemoServer(
                {"bind": addr, "workers": 2, "threads": 4, "control_socket_disable": True}
            ).run()
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()

    def settings_for_plain_http(self, host: str, addr: str) -> None:
        """The demo serves plain HTTP itself: cookies cannot be HTTPS-only, and the host
        it was asked to serve on must be allowed. Changed in this process only, before
        the workers fork, so it never reaches a production configuration."""
        settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
        if "MADOGUCHI_BASE_URL" not in os.environ:
            # Links in mail and fake meetings point at this server (the worker reads it too).
            shown = "127.0.0.1" if host in WILDCARD_HOSTS else host
            os.environ["MADOGUCHI_BASE_URL"] = f"http://{shown}:{parse_addr(addr)[1]}"
            settings.MADOGUCHI_BASE_URL = os.environ["MADOGUCHI_BASE_URL"]
        allowed = settings.ALLOWED_HOSTS
        if host not in WILDCARD_HOSTS and host not in allowed and "*" not in allowed:
            settings.ALLOWED_HOSTS = [*allowed, host]

    def banner(self, demo: Demo, addr: str, token: str) -> str:
        base = f"http://{addr}"
        names = {role: ", ".join(s.username for s in demo.of_role(role)) for role in Staff.Role}
        lines = [
            "",
            f"Madoguchi demo: {demo.office.name} ({demo.office.code}), "
            f"{len(demo.of_role(Staff.Role.COUNSELOR))} counselors, "
            f"{len(demo.seekers)} job seekers",
            "",
            f"  Seekers    {base}/offices/{demo.office.code}/  (request form, terms, device check;"
            f" try {demo.seekers[0].number})",
            f"  Staff      {base}/staff/  (first sign-in sets up the authenticator app)",
            f"  Admin      {base}/admin/",
            f"  API        {base}/api/v1/openapi.json",
            *(
                [f"  Mail       {mail_dir}  (and in the admin, under Notifications)"]
                if (mail_dir := settings.MAILERS["default"].get("OPTIONS", {}).get("file_path"))
                else []
            ),
            "",
            "Sign in (the same password for every demo user):",
            *(f"  {role.value:<12} {names[role]}" for role in Staff.Role),
            f"  {'password':<12} {demo.password}   (kept in {demo.password_file})",
            "",
            f"API token for {demo.of_role(Staff.Role.COORDINATOR)[0].username} (coordinator):",
            f"  {token}",
            f'  curl -H "Authorization: Bearer {token}" {base}/api/v1/openapi.json',
            "",
        ]
        host, _ = parse_addr(addr)
        if host in WILDCARD_HOSTS:
            lines += [
                "Serving on every interface: set ALLOWED_HOSTS to the names clients use.",
                "",
            ]
        lines.append("Press Ctrl+C to stop.")
        return "\n".join(lines)
