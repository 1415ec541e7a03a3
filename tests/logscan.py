#!/usr/bin/env python3
"""logscan — no secret the tests use may reach a log.

Usage: tests/logscan.py --reset DIR          (empties the archive: the suite's first step)
       tests/logscan.py DIR [FILE...]        (the search: the suite's last step)

Every zoneproof process the suite starts writes a copy of its log lines into DIR
(ZP_TEST_LOG_ARCHIVE, set by tests/CMakeLists.txt; base/log.c). The search reads every file
there, and each further FILE (ctest's own record of the tests' output), and fails naming the
file, line and constant for each secret it finds.

The secrets are the tests' own constants: every module of tests/lib, tests/fakes and
tests/integration is imported, and each module-level or class-level value whose name says
TOKEN, SECRET, KEY, PASS or CRED (a string, or a tuple or list of strings) counts, so a secret
a new test adds is searched for without a list to keep.
"""

import importlib.util
import inspect
import os
import re
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FOLDERS = ("lib", "fakes", "integration")
NAME = re.compile(r"TOKEN|SECRET|KEY|PASS|CRED", re.I)
# Names of things that are not secrets: patterns, paths, setting and Secret names; TXT values
# (KEY1: an ACME key authorization, published in DNS); identifiers that zoneproof names in
# messages by design (an AWS access key id, OVH's application key, both plain settings).
NOT_SECRET = re.compile(r"(_RE|_PATH|_FILE|_NAME|_REF|_KEYS|_ENV)$|^KEY\d+$|^ACCESS_KEY$|^APP_KEY$",
                        re.I)
MIN_LEN = 8  # shorter values would match ordinary text


def values(v):
    if isinstance(v, str):
        return [v]
    if isinstance(v, (tuple, list, set, frozenset)):
        return [x for x in v if isinstance(x, str)]
    return []


def scoped(obj, where, found):
    for name, v in vars(obj).items():
        if inspect.isclass(v) and v.__module__ == where and v is not obj:
            scoped(v, where, found)
        elif NAME.search(name) and not NOT_SECRET.search(name):
            for s in values(v):
                if len(s) >= MIN_LEN and not s.isspace():
                    found.setdefault(s, "%s.%s" % (getattr(obj, "__qualname__", where), name))


def secrets():
    found = {}
    for folder in FOLDERS:
        sys.path.insert(0, os.path.join(HERE, folder))
    for folder in FOLDERS:
        d = os.path.join(HERE, folder)
        for f in sorted(os.listdir(d)):
            if not f.endswith(".py"):
                continue
            name = "logscan_" + folder + "_" + f[:-3]
            spec = importlib.util.spec_from_file_location(name, os.path.join(d, f))
            mod = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(mod)  # an import that fails fails the search: loud, not blind
            scoped(mod, name, found)
    return found


def scan(paths, found):
    hits = 0
    for path in paths:
        with open(path, "rb") as f:
            for n, raw in enumerate(f, 1):
                line = raw.decode("utf-8", "replace")
                for s, const in found.items():
                    if s in line:
                        hits += 1
                        print("%s:%d: the secret %s appears" % (path, n, const))
    return hits


def main(argv):
    if len(argv) == 3 and argv[1] == "--reset":
        shutil.rmtree(argv[2], ignore_errors=True)
        os.makedirs(argv[2])
        return 0
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    found = secrets()
    logs = [os.path.join(argv[1], f) for f in sorted(os.listdir(argv[1]))]
    extra = [p for p in argv[2:] if os.path.isfile(p)]
    hits = scan(logs + extra, found)
    print("logscan: %d secrets, %d log files, %d other files, %d hits"
          % (len(found), len(logs), len(extra), hits))
    return 1 if hits else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
