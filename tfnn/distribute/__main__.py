"""One multi-worker training process: ``python -m tfnn.distribute train ...``.

``tfnn launch`` starts one per worker; each is the ``tfnn`` command line with the
given arguments, and ends when its launcher does (no orphan keeps a port or the cores).
"""

import sys

from tfnn.cli import main
from tfnn.distribute.launch import exit_with_parent

if __name__ == "__main__":
    exit_with_parent()
    sys.exit(main(sys.argv[1:]))
