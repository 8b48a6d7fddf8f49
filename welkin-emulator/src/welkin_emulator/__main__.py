"""``python -m welkin_emulator`` = the ``welkin-emulator`` command."""

from .cli import main

raise SystemExit(main())
