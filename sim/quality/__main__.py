"""``python -m sim.quality [PART ...]`` (``make quality``): every claim, its figure, its bound."""

from __future__ import annotations

import sys
import time

from sim.quality.claims import PARTS


def main(argv: list[str]) -> int:
    parts = argv or list(PARTS)
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        print(f"unknown part(s) {', '.join(unknown)}; parts: {', '.join(PARTS)}",
              file=sys.stderr)
        return 2
    failed = 0
    print(f"{'claim':<62} {'figure':<26} {'bound':<16} holds")
    for part in parts:
        began = time.perf_counter()
        for claim in PARTS[part](True):
            failed += not claim.holds
            print(f"{claim.name:<62} {claim.figure:<26} {claim.bound:<16} "
                  f"{'yes' if claim.holds else 'NO'}", flush=True)
        print(f"  ({part}: {time.perf_counter() - began:.0f} s)", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
