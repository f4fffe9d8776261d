"""``python -m siting``: the ``siting`` command, as ``python -m siting.cli``."""

from __future__ import annotations

import sys

from siting.cli import main

sys.exit(main())
