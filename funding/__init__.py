"""funding: a cost-sharing contribution ledger for programmes that many public bodies pay for together."""

import os

# Piccolo finds its engine through this module; set before any table is touched.
os.environ.setdefault("PICCOLO_CONF", "funding.piccolo_conf")
