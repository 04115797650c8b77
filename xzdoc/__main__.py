"""``python -m xzdoc``: the same entry point as the console script."""

from xzdoc.cli import main

raise SystemExit(main())
