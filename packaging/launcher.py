"""The frozen program's entry point: the same as the ``griddesk`` command (no arguments opens
the app)."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
