"""``python -m sae_keras`` runs the ``sae-keras`` command."""

import sys

from .cli._command import main

if __name__ == "__main__":  # not when a documentation tool imports the module
    sys.exit(main())
