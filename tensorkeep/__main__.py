"""`python -m tensorkeep ...` is the `tensorkeep` command."""

import sys

from tensorkeep.tools.cli import main

sys.exit(main())
