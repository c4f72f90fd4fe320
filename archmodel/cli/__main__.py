"""``python -m archmodel.cli``: the same as the ``archmodel`` command."""

import sys

from . import main

sys.exit(main())
