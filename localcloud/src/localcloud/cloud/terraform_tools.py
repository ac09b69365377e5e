"""Where Terraform and its providers come from: the ``terraform`` binary on PATH, and a provider
filesystem mirror when the machine has one (``TF_PLUGIN_MIRROR``, else ``/opt/tf-plugins``),
installed through a CLI configuration file
(https://developer.hashicorp.com/terraform/cli/config/config-file#provider-installation).
Without a mirror Terraform downloads providers as usual."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

PLUGIN_MIRROR_ENV = "TF_PLUGIN_MIRROR"
"""Environment variable naming a provider filesystem mirror (the folder holding
registry.terraform.io/)."""

DEFAULT_PLUGIN_MIRRORS = (Path("/opt/tf-plugins"),)
"""Where a mirror is looked for when ``TF_PLUGIN_MIRROR`` is unset."""


class TerraformError(Exception):
    """Base of every error this module raises."""


class TerraformNotFoundError(TerraformError):
    """The terraform binary is not on PATH."""


def find_terraform(environ: Mapping[str, str] | None = None) -> str:
    """Path of the terraform binary on PATH; raises :class:`TerraformNotFoundError`."""
    env = os.environ if environ is None else environ
    found = shutil.which("terraform", path=env.get("PATH"))
    if found is None:
        raise TerraformNotFoundError(
            "terraform is not on PATH (https://developer.hashicorp.com/terraform/install)"
        )
    return found


def find_plugin_mirror(environ: Mapping[str, str] | None = None) -> Path | None:
    """The provider mirror to install from: ``TF_PLUGIN_MIRROR`` if set, else a default that exists.

    A mirror is a folder holding ``registry.terraform.io/``. ``TF_PLUGIN_MIRROR`` set to a folder
    without it is an error (a typo must not silently fall back to downloading).
    """
    env = os.environ if environ is None else environ
    configured = env.get(PLUGIN_MIRROR_ENV)
    if configured:
        mirror = Path(configured)
        if not (mirror / "registry.terraform.io").is_dir():
            raise TerraformError(
                f"{PLUGIN_MIRROR_ENV}={configured} holds no registry.terraform.io/ folder"
            )
        return mirror
    for candidate in DEFAULT_PLUGIN_MIRRORS:
        if (candidate / "registry.terraform.io").is_dir():
            return candidate
    return None


def cli_config(mirror: Path) -> str:
    """CLI configuration installing every registry.terraform.io provider from ``mirror``."""
    return (
        "provider_installation {\n"
        "  filesystem_mirror {\n"
        f"    path    = {json.dumps(str(mirror))}\n"
        '    include = ["registry.terraform.io/*/*"]\n'
        "  }\n"
        "  direct {\n"
        '    exclude = ["registry.terraform.io/*/*"]\n'
        "  }\n"
        "}\n"
    )


def write_cli_config(path: Path, mirror: Path) -> Path:
    """Write :func:`cli_config` to ``path`` (parents created) and return it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(cli_config(mirror), encoding="utf-8")
    return path
