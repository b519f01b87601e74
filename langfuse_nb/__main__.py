"""``python -m langfuse_nb ...`` runs the command line."""

import sys

from langfuse_nb.cli import main

sys.exit(main())
