"""The `madoguchi` console script: Django's manage.py for this project.

`madoguchi demo` makes and keeps its own SECRET_KEY (and the webhook secret its fake
meetings sign their events with) in the data folder, so the demo runs with no
configuration at all.
"""

import os
import secrets
import sys
from pathlib import Path


def _demo_secret(name: str) -> str:
    data_dir = Path(os.environ.get("MADOGUCHI_DATA_DIR", Path.cwd() / "var"))
    data_dir.mkdir(parents=True, exist_ok=True)
    key_file = data_dir / name
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "madoguchi.settings")
    if len(sys.argv) > 1 and sys.argv[1] == "demo":
        for variable, file_name in (
            ("SECRET_KEY", "secret_key"),
            ("ZOOM_WEBHOOK_SECRET", "webhook_secret"),
        ):
            if not os.environ.get(variable):
                os.environ[variable] = _demo_secret(file_name)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
