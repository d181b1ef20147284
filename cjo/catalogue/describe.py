"""A catalogue as a table for people (``cjo catalogue show`` and ``list``)."""

from __future__ import annotations

from cjo.catalogue.catalogue import Catalogue
from cjo.words import count


def describe(catalogue: Catalogue) -> str:
    rows = [("id", "kind", "enabled", "version", "priority", "offers")]
    rows += [(t.id, t.kind, "yes" if t.enabled else "no", f"v{t.version}", str(t.priority),
              ", ".join(offer.code for offer in t.offers)) for t in catalogue.triggers]
    widths = [max(len(row[col]) for row in rows) for col in range(len(rows[0]))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.append(f"{count(len(catalogue.venues), 'venue')}: {', '.join(catalogue.venues)}; "
                 f"digest {catalogue.digest}")
    return "\n".join(lines)
