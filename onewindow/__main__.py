"""`python -m onewindow …` runs the same command line as the `onewindow` console script."""

import sys

from .cli import main

sys.exit(main())
