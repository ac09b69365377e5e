"""Global options before or after the command: ``opsctl -o json status`` and
``opsctl status -o json`` mean the same, as with ``aws``, ``kubectl`` and ``gh``.

click (under typer) parses a group's options only before the command name; after it, the
command's parser refuses them ("No such option"). :class:`OpsctlGroup` therefore gives every
command built with :class:`OpsctlCommand` a copy of each global option of the group. A copy
passes nothing to the command function (``expose_value=False``): when the option was given on
the command line after the command, its callback records the raw value in the context's
``meta`` (shared by the whole context tree, https://click.palletsprojects.com/en/stable/api/#click.Context.meta),
and :func:`overrides` hands those values to the CLI wiring, which lets them win over the ones
given before the command (the last one given wins, as it would for a repeated option).

Help stays accurate: a command's ``--help`` lists its own options, then the global ones under
their own heading. Bad values fail the same way in either position (click's usage error, exit 2).
"""

from __future__ import annotations

import copy
from typing import Any

# typer (0.29+) builds its commands from its own copy of click: extending them means using that
# copy's classes (the separately installed click's are different classes).
from typer import _click as click
from typer._click.core import ParameterSource
from typer.core import TyperCommand, TyperGroup, TyperOption

GLOBAL_OPTIONS = ("output", "cluster", "service", "tf_dir", "target_file", "quiet")
"""The group's options a command also accepts after its name (``--version`` and ``--help``
stay the group's: they act before any command runs)."""

_META_KEY = "opsctl.global-options"
_GLOBAL_ATTRIBUTE = "opsctl_global"


def _record(ctx: click.Context, param: click.Parameter, value: Any) -> Any:  # noqa: ANN401 - raw option value
    """Keep a value given after the command on the command line (defaults are not choices)."""
    source = ctx.get_parameter_source(param.name) if param.name else None
    if source is ParameterSource.COMMANDLINE:
        ctx.meta.setdefault(_META_KEY, {})[param.name] = value
    return value


def _copy(option: TyperOption) -> TyperOption:
    twin = copy.copy(option)
    twin.expose_value = False
    twin.callback = _record
    twin.required = False
    # The default is whatever was given before the command: showing the group's default here
    # would be wrong as soon as someone writes `opsctl -o json status --help`.
    twin.show_default = False
    twin.show_envvar = False
    setattr(twin, _GLOBAL_ATTRIBUTE, True)
    return twin


class OpsctlCommand(TyperCommand):
    """A command that accepts the global options after its name (added by the group)."""

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        own: list[tuple[str, str]] = []
        shared: list[tuple[str, str]] = []
        for param in self.get_params(ctx):
            record = param.get_help_record(ctx)
            if record is not None:
                (shared if getattr(param, _GLOBAL_ATTRIBUTE, False) else own).append(record)
        if own:
            with formatter.section("Options"):
                formatter.write_dl(own)
        if shared:
            with formatter.section("Global options (also accepted before the command)"):
                formatter.write_dl(shared)


class OpsctlGroup(TyperGroup):
    """The ``opsctl`` group: copies its global options into every :class:`OpsctlCommand`."""

    def __init__(self, **attrs: Any) -> None:  # noqa: ANN401 - click's keyword arguments
        super().__init__(**attrs)
        shared = [p for p in self.params if isinstance(p, TyperOption) and p.name in GLOBAL_OPTIONS]
        missing = set(GLOBAL_OPTIONS) - {p.name for p in shared}
        if missing:  # a renamed option must not silently stop working after the command
            raise TypeError(f"opsctl: global options {sorted(missing)} are not group options")
        for command in self.commands.values():
            if isinstance(command, OpsctlCommand):
                taken = {name for p in command.params for name in getattr(p, "opts", ())}
                clash = [o for p in shared for o in p.opts if o in taken]
                if clash:
                    raise TypeError(f"opsctl {command.name}: {clash} already global options")
                command.params.extend(_copy(p) for p in shared)


def overrides(ctx: click.Context) -> dict[str, Any]:
    """The global options given after the command, by parameter name, as click parsed them."""
    found: dict[str, Any] = ctx.meta.get(_META_KEY, {})
    return dict(found)
