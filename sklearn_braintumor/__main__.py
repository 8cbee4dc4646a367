"""Allow ``python -m sklearn_braintumor``, the same as the ``braintumor`` script."""

import sys

from ._cli import main

sys.exit(main())
