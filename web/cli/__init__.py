"""The ``panelslot`` command line. Each area registers its commands here.

The commands of the web app and of sync are imported when one of them runs (or
the help lists them): ``slots`` and ``busy`` do not pay for Alembic, SQLAlchemy
and the web settings at start-up.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType

import click

from web.cli import engine_cmds

# command name -> the module whose ``register`` adds it (with its neighbours)
LAZY = MappingProxyType(
    {
        **dict.fromkeys(
            ("db", "import", "export", "create-user", "settings", "worker", "serve", "demo"),
            "web.cli.web_cmds",
        ),
        "sync": "web.cli.sync_cmd",
    }
)


class LazyGroup(click.Group):
    """A group whose commands in ``LAZY`` are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in LAZY:
            importlib.import_module(LAZY[cmd_name]).register(self)
        return super().get_command(ctx, cmd_name)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="panelslot")
def main() -> None:
    """panelslot: interview loops across time zones."""


engine_cmds.register(main)
