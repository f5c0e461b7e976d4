"""``python -m keras_segen.cli``: the ``keras-segen`` command."""

import sys

from keras_segen.cli import main

sys.exit(main())
