"""The ``panelslot`` command line. Each area registers its commands here."""

from __future__ import annotations

import click

from web.cli import engine_cmds, sync_cmd, web_cmds


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="panelslot")
def main() -> None:
    """panelslot: interview loops across time zones."""


engine_cmds.register(main)
web_cmds.register(main)
sync_cmd.register(main)
