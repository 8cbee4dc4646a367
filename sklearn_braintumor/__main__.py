"""Allow ``python -m sklearn_braintumor``, the same as the ``braintumor`` script."""

import sys

from ._cli import main

# importing this module (as a crafted model file once asked) runs nothing
if __name__ == "__main__":
    sys.exit(main())
