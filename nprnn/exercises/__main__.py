"""`python -m nprnn.exercises list|start|check`: the `nprnn exercise` command on its own."""
import sys

from .cli import main

sys.exit(main())
