"""`make docs-assets`: vendor Swagger UI and ReDoc from npm, checked against pinned hashes.

Reads service/docs-assets.toml (package -> version, sha512 integrity, files to copy), runs
`npm pack <name>@<version>` for each, refuses a tarball whose sha512 differs from the pinned
integrity (the npm registry's `dist.integrity`, the same hash package-lock.json records), copies
the listed files into service/src/app/docs_assets/ and writes SHA256SUMS there (each file's
sha256, package@version and name, the `sha256sum` layout plus the package). The service's tests
check the vendored files against it, so a file changed by hand fails them.

`--check` only verifies the vendored files against SHA256SUMS and docs-assets.toml (no
network). Exit codes: 0 done, 1 a hash or file does not match, 2 npm failed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess  # nosec B404 - runs npm with a fixed argument list
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

SERVICE = Path(__file__).resolve().parents[1]
PINS = SERVICE / "docs-assets.toml"
TARGET = SERVICE / "src" / "app" / "docs_assets"
MANIFEST = TARGET / "SHA256SUMS"


def pins() -> dict[str, dict[str, object]]:
    packages: dict[str, dict[str, object]] = tomllib.loads(PINS.read_text())["packages"]
    return packages


def read_manifest() -> dict[str, dict[str, str]]:
    entries = {}
    for line in MANIFEST.read_text().splitlines():
        digest, spec, name = line.split()
        package, _, version = spec.rpartition("@")
        entries[name] = {"sha256": digest, "package": package, "version": version}
    return entries


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def integrity(path: Path) -> str:
    """The npm (Subresource Integrity) form of the tarball's sha512."""
    return "sha512-" + base64.b64encode(hashlib.sha512(path.read_bytes()).digest()).decode()


def fetch(name: str, pin: dict[str, object], workdir: Path) -> dict[str, dict[str, str]]:
    spec = f"{name}@{pin['version']}"
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("docs-assets: npm is not installed (Debian: apt-get install npm)")
    done = subprocess.run(  # noqa: S603 - npm with a fixed argument list  # nosec B603
        [npm, "pack", spec, "--json", "--pack-destination", str(workdir)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"docs-assets: npm pack {spec} failed:\n{done.stderr}", file=sys.stderr)
        sys.exit(2)
    (packed,) = json.loads(done.stdout)
    tarball = workdir / packed["filename"]
    got = integrity(tarball)
    if got != pin["integrity"]:
        print(
            f"docs-assets: {spec}: the tarball's hash is {got}, not the pinned {pin['integrity']}",
            file=sys.stderr,
        )
        sys.exit(1)
    files = pin["files"]
    assert isinstance(files, dict)  # noqa: S101 - the pin file's shape
    written: dict[str, dict[str, str]] = {}
    with tarfile.open(tarball) as archive:
        for member, target in files.items():
            source = archive.extractfile(member)  # only the named members: no path from the tar
            if source is None:
                raise SystemExit(f"docs-assets: {spec} has no file {member}")
            (TARGET / target).write_bytes(source.read())
            written[target] = {
                "package": name,
                "version": str(pin["version"]),
                "sha256": sha256(TARGET / target),
            }
    print(f"docs-assets: {spec} ({got[:20]}...): {', '.join(files.values())}", file=sys.stderr)
    return written


def check() -> list[str]:
    """What does not match: every pinned file present with its recorded hash, nothing else."""
    manifest = read_manifest()
    problems = []
    expected = {
        target: (name, str(pin["version"]))
        for name, pin in pins().items()
        for target in pin["files"].values()  # type: ignore[attr-defined]
    }
    for target, (name, version) in expected.items():
        entry = manifest.get(target)
        if entry is None or (entry["package"], entry["version"]) != (name, version):
            problems.append(f"{target}: not vendored from {name}@{version} (run make docs-assets)")
        elif not (TARGET / target).is_file() or sha256(TARGET / target) != entry["sha256"]:
            problems.append(f"{target}: differs from what make docs-assets wrote")
    present = {p.name for p in TARGET.iterdir()} - {MANIFEST.name}
    problems += [f"{extra}: not a pinned file" for extra in sorted(present - set(expected))]
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="verify only (no network)")
    args = parser.parse_args()
    if not args.check:
        TARGET.mkdir(parents=True, exist_ok=True)
        for stale in TARGET.iterdir():
            stale.unlink()
        manifest: dict[str, dict[str, str]] = {}
        with tempfile.TemporaryDirectory() as workdir:
            for name, pin in pins().items():
                manifest.update(fetch(name, pin, Path(workdir)))
        MANIFEST.write_text(
            "".join(
                f"{entry['sha256']}  {entry['package']}@{entry['version']}  {name}\n"
                for name, entry in sorted(manifest.items())
            )
        )
    problems = check()
    for problem in problems:
        print(f"docs-assets: {problem}", file=sys.stderr)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
