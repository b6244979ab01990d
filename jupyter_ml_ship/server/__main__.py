"""``python -m jupyter_ml_ship.server --write-openapi``: regenerate ``openapi.json``."""

from __future__ import annotations

import sys

from ._routes import SPEC_FILE, render_spec

if "--write-openapi" in sys.argv:
    SPEC_FILE.write_text(render_spec())
    print(f"wrote {SPEC_FILE}")
else:
    sys.stdout.write(render_spec())
