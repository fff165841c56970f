#!/usr/bin/env python3
"""Writes a connector package (protocol/PACKAGE.md) from a list of files, with the standard library only.

Usage: git ls-files -co --exclude-standard | python3 make_package.py DIR OUT.zip [SDK_VERSION]

The paths on stdin (one per line, relative to DIR) are the candidates; the rules of PACKAGE.md
section 3 that do not need .gitignore (never-packaged names, virtual environments, the default
exclusions) are applied to them. The archive follows section 5, so for the same files it has the
same bytes, and the same SHA-256, as `connector-host package`.
"""
import hashlib
import json
import os
import sys
import zipfile

NEVER_FILES = {"configuration.json", "destination.json"}
NEVER_FOLDERS = {"files", "__pycache__", ".git"}


def excluded(directory, path):
    parts = path.split("/")
    if parts[-1] in NEVER_FILES or (len(parts) == 1 and parts[0] == "connector-package.json"):
        return True
    for depth, part in enumerate(parts[:-1]):
        folder = os.path.join(directory, *parts[: depth + 1])
        if part in NEVER_FOLDERS or os.path.exists(os.path.join(folder, "pyvenv.cfg")):
            return True
        if part.startswith(".") or (part == "crash-reports"):
            return True
    name = parts[-1]
    if name == ".gitignore":
        return False
    return name.startswith(".") or name == "options.toml"


def metadata(directory, sdk_version):
    manifest_path = os.path.join(directory, "connector.json")
    if os.path.isfile(manifest_path):
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
        command = manifest["command"]
        program = command[0].rsplit("/", 1)[-1]
        build = manifest.get("build") or []
        if program.startswith("python"):
            language = "python"
        elif program in ("node", "nodejs"):
            language = "node"
        elif program == "swift" or (build and build[0] == "swift"):
            language = "swift"
        else:
            language = "executable"
        entry = {"command": command, "formatVersion": 1, "language": language, "protocolVersion": 1, "sdkVersion": sdk_version}
        if isinstance(manifest.get("name"), str):
            entry["name"] = manifest["name"]
    elif os.path.isfile(os.path.join(directory, "connector.py")):
        entry = {
            "command": ["python3", "-m", "connector_host_sdk.run", "connector.py"],
            "formatVersion": 1, "language": "python", "protocolVersion": 1, "sdkVersion": sdk_version,
        }
    else:
        sys.exit(f"{directory} has neither connector.json nor connector.py")
    return (json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n").encode("utf-8")


def main():
    directory, output = sys.argv[1], sys.argv[2]
    sdk_version = sys.argv[3] if len(sys.argv) > 3 else "0.1.0"
    paths = {line.strip("\n") for line in sys.stdin if line.strip("\n")}
    entries = {path: None for path in paths if not excluded(directory, path)}
    entries["connector-package.json"] = metadata(directory, sdk_version)
    with zipfile.ZipFile(output, "w") as archive:
        for path in sorted(entries, key=lambda p: p.encode("utf-8")):
            data = entries[path]
            executable = False
            if data is None:
                full = os.path.join(directory, path)
                executable = bool(os.stat(full).st_mode & 0o100)
                with open(full, "rb") as handle:
                    data = handle.read()
            info = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.create_version = 20
            info.external_attr = (0o100755 if executable else 0o100644) << 16
            if data:
                info.compress_type = zipfile.ZIP_DEFLATED
            else:
                info.compress_type = zipfile.ZIP_STORED
                info.extract_version = 10
            archive.writestr(info, data, compresslevel=6)
    with open(output, "rb") as handle:
        print(hashlib.sha256(handle.read()).hexdigest(), output)


if __name__ == "__main__":
    main()
