"""``python -m cjo.adapters.bench [--quick] [--subscribers N] [--days D] ...``"""

import sys

from cjo.adapters.bench.cli import main

sys.exit(main())
