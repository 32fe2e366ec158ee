"""``python -m simulators.confluence``: see :func:`simulators.confluence.simulator.main`."""

import sys

from .simulator import main

sys.exit(main())
