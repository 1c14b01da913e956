"""Run the command line: python -m facerec."""

import sys

from facerec.cli import main

sys.exit(main())
