#!/usr/bin/env python3
"""Writes the fuzz target's seed corpus (fuzz/corpus/) from the protocol's own vectors.

Seeds: every message of protocol/examples/*.transcript.jsonl and protocol/conformance/*.transcript.jsonl
as one line; the connector's side of each transcript as one multi-line input (so schemas come
before the records that use them); every line of the ```json blocks of protocol/PROTOCOL.md; the
"examples" of protocol/schemas/*.schema.json; and the hand-written hostile seeds in fuzz/seeds/.
File names are content hashes, so rerunning only adds what is new.
"""
import glob
import hashlib
import json
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(ROOT, "fuzz", "corpus")


def add(data, seeds):
    seeds.add(data if isinstance(data, bytes) else data.encode())


def main():
    seeds = set()
    for path in sorted(glob.glob(os.path.join(ROOT, "protocol", "*", "*.transcript.jsonl"))):
        session = []
        for text in open(path, encoding="utf-8"):
            entry = json.loads(text)
            message = entry.get("message")
            if message is None:
                continue
            line = json.dumps(message, separators=(",", ":"), ensure_ascii=False) + "\n"
            add(line, seeds)
            if entry.get("dir") == "connector->host":
                session.append(line)
        if session:
            add("".join(session), seeds)
    spec = open(os.path.join(ROOT, "protocol", "PROTOCOL.md"), encoding="utf-8").read()
    for block in re.findall(r"```json\n(.*?)```", spec, re.S):
        for line in block.splitlines():
            if line.strip().startswith("{"):
                add(line.strip() + "\n", seeds)
    for path in sorted(glob.glob(os.path.join(ROOT, "protocol", "schemas", "*.schema.json"))):
        def walk(node):
            if isinstance(node, dict):
                for example in node.get("examples", []):
                    add(json.dumps(example, separators=(",", ":"), ensure_ascii=False) + "\n", seeds)
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)
        walk(json.load(open(path, encoding="utf-8")))
    for path in sorted(glob.glob(os.path.join(ROOT, "fuzz", "seeds", "*"))):
        add(open(path, "rb").read(), seeds)
    os.makedirs(CORPUS, exist_ok=True)
    written = 0
    for seed in seeds:
        name = os.path.join(CORPUS, hashlib.sha1(seed).hexdigest())
        if not os.path.exists(name):
            open(name, "wb").write(seed)
            written += 1
    print("fuzz corpus: %d seeds (%d new) in %s" % (len(seeds), written, os.path.relpath(CORPUS, ROOT)))


main()
