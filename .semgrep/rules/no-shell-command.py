import asyncio
import os
import subprocess
from subprocess import run as run_process


def positives(name: str) -> None:
    # ruleid: no-shell-command
    subprocess.run(f"ls {name}", shell=True, check=True)
    # ruleid: no-shell-command
    subprocess.check_output("uname -a", shell=True)
    # ruleid: no-shell-command
    run_process("true", shell=True)
    # ruleid: no-shell-command
    os.system("true")
    # ruleid: no-shell-command
    os.popen("true")


async def async_positive() -> None:
    # ruleid: no-shell-command
    await asyncio.create_subprocess_shell("true")


def negatives(name: str) -> None:
    # ok: no-shell-command
    subprocess.run(["ls", name], check=True)
    # ok: no-shell-command
    subprocess.run(["ls", name], shell=False, check=True)
    # ok: no-shell-command
    os.getcwd()
