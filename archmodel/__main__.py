"""``python -m archmodel``: the same command line as ``archmodel``."""

import sys

from .cli import main

sys.exit(main())
