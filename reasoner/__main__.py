"""`python -m reasoner` is the `axspa` command."""

import sys

from .cli import main

sys.exit(main())
