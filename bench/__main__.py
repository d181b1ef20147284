"""``python -m bench [--quick] [--subscribers N] [--days D] ...``"""

import os
import sys

from bench.cli import main

# the bench's workers are development runs: the public default models key and log salt do
os.environ.setdefault("CJO_DEVELOPMENT", "true")

sys.exit(main())
