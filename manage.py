#!/usr/bin/env python
import os
import sys

# Commands that need neither the database nor graphviz.
OFFLINE_COMMANDS = {
    "help",
    "--help",
    "-h",
    "version",
    "--version",
    "makemigrations",
    "collectstatic",
    "check",
}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import execute_from_command_line

    django.setup()
    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    if command not in OFFLINE_COMMANDS:
        from config.preflight import check_environment

        check_environment()
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
