"""Allow ``python -m kit``."""

from kit.cli.main import main

raise SystemExit(main())
