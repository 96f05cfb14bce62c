"""``python -m sae_keras`` runs the ``sae-keras`` command."""

import sys

from .cli import main

sys.exit(main())
