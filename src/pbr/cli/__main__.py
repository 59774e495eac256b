"""`python -m pbr.cli`: the `pbr` command."""

from pbr.cli import run

run()
