"""``python -m skelssl`` (and ``torchrun -m skelssl``) runs the command line."""

from skelssl.cli import main

main()
