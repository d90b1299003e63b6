"""``python -m landjax`` runs the command line (:func:`landjax.cli.main`)."""

from landjax.cli import main

raise SystemExit(main())
