"""``python -m sae_keras`` runs the ``sae-keras`` command."""

import sys

from .cli._command import main

sys.exit(main())
