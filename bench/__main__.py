"""``python -m bench [--quick] [--subscribers N] [--days D] ...``"""

import sys

from bench.cli import main

sys.exit(main())
