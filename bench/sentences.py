#!/usr/bin/env python3
"""bench/sentences.py — what each zoneproof binary answers in each scenario of
the DNS lab (tests/lib/dnslab.py; needs root): Present, or check before any
write, one line per binary. For comparing releases: the sentence a user sees
before and after a change. Asserts nothing.

    python3 bench/sentences.py [--old /path/to/old/zoneproof] [--new build/cmd/zoneproof]
"""
import argparse
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))
import dnslab  # noqa: E402
import zptest  # noqa: E402

# (title, zone, fqdn, command and extra flags)
CASES = [
    ("stale server only in the parent", "stale.test", "_acme-challenge.stale.test.", ["present"]),
    ("DS matches no DNSKEY", "dsbad.test", "_acme-challenge.dsbad.test.", ["present"]),
    ("public suffix co.uk", "co.uk", "_acme-challenge.co.uk.", ["present"]),
    ("directly under github.io", "github.io", "_acme-challenge.x.github.io.", ["present"]),
    ("split horizon (views)", "views.test", "_acme-challenge.views.test.", ["present"]),
    ("CNAME at the name", "cname.test", "_acme-challenge.www.cname.test.", ["present"]),
    ("name in a delegated child zone", "example.test", "_acme-challenge.x.sub.example.test.",
     ["present", "--zone", "example.test"]),
    ("CAA refuses the CA", "caa.test", "_acme-challenge.caa.test.", ["present"]),
    ("single server, check before any present", "single.test", "_acme-challenge.single.test.",
     ["check"]),
]


def last_line(binary, args):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
    r = subprocess.run([binary] + args, capture_output=True, text=True, timeout=90, env=env)
    lines = r.stderr.strip().splitlines() or [r.stdout.strip()]
    return r.returncode, lines[-1]


def config(lab, zone, new):
    """The old binary knows no dnssec/caaIssuers/verifyResolvers settings."""
    prop = {"resolvers": [lab.resolver], "timeout": "4s"}
    top = {"dnssec": None}
    if new:
        prop["verifyResolvers"] = [lab.ca_resolver]
        top = {"dnssec": {"trustAnchorFile": lab.trust_anchor_file},
               "caaIssuers": ["letsencrypt.org"]}
    path = os.path.join(lab.dir, "%s-%s.yaml" % (zone, "new" if new else "old"))
    return lab.config(zone, path=path, propagation=prop, **top)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--old", help="an older zoneproof binary (its configuration has no new settings)")
    ap.add_argument("--new", default=os.path.join(ROOT, "build", "cmd", "zoneproof"))
    args = ap.parse_args()
    bins = ([("before", args.old, False)] if args.old else []) + [("after", args.new, True)]
    with dnslab.Lab() as lab:
        for title, zone, fqdn, verb in CASES:
            key = zptest.acme_key(title)
            print("### " + title, flush=True)
            for label, binary, new in bins:
                cfg = config(lab, zone, new)
                rc, line = last_line(binary, [verb[0], "--config", cfg, "--fqdn", fqdn,
                                              "--key", key] + verb[1:])
                print("%s (exit %d): %s" % (label, rc, line), flush=True)
                if verb[0] == "present":
                    last_line(binary, ["cleanup", "--config", cfg, "--fqdn", fqdn, "--key", key]
                              + verb[1:])


if __name__ == "__main__":
    main()
