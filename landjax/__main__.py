"""`python -m landjax` runs the command line (`landjax.cli.main`)."""

from landjax.cli import main

raise SystemExit(main())
