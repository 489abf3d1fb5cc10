"""``python -m constellation``: the same command line as the ``constellation`` script."""

import sys

from .cli import main

sys.exit(main())
