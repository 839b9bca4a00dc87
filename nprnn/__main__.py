"""`python -m nprnn` is the `nprnn` command."""
import sys

from .cli import main

sys.exit(main())
