"""``python -m siting.cli``: the ``siting`` command."""

from __future__ import annotations

import sys

from siting.cli import main

sys.exit(main())
