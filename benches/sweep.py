#!/usr/bin/env python3
"""Scope sweep from outside: generated incidents x guesses of --since, judged against the truth.

For each combination (story, emitter, sampling, sign-in layout, seed) it runs
`sample-data generate --truth`, `ingest` and then `scope --since <guess> --format json` for each
guess (a day early, six hours late, three days late, auto by default), and prints one line per run:
OK or BAD, then recall and precision overall and per tier (found in tier / in the truth's tier /
reported in tier), suspects missing, innocents named, the implant finding against the truth, and
exfiltration destinations missing and extra. A run is OK when every customer is found, precision is
at least 0.95, no compromised identity is missing, no innocent is named, the implant finding is
right and the destinations are exact.

  cargo build --release
  python3 benches/sweep.py --binary target/release/mcpforensics --workdir /tmp/sweep
"""
import argparse
import datetime
import json
import os
import subprocess

COMBOS = [
    ("password", "parent-child", 1, "la", 301),
    ("token", "via-apim", 1, "diag", 302),
    ("agent", "no-session", 4, "la", 303),
    ("implant", "parent-child-user-id", 1, "la", 304),
    ("mixed", "behind-app-service", 1, "diag", 305),
    ("password", "via-apim", 3, "la", 306),
    ("token", "parent-child", 1, "la", 307),
    ("agent", "one-row", 1, "diag", 308),
    ("implant", "via-apim", 1, "la", 309),
    ("mixed", "parent-child", 2, "la", 310),
]


def judge(report, truth):
    found = {c["customer_id"]: c["tier"] for c in report["affected_customers"]}
    expected = set(truth["affected_customers"])
    hits = len(set(found) & expected)
    tiers = {}
    for tier in ["exfiltrated", "accessed", "exposed", "cannot_exclude"]:
        want = {c for c, t in truth["customer_tiers"].items() if t == tier}
        got = {c for c, t in found.items() if t == tier}
        if want or got:
            tiers[tier] = f"{len(want & got)}/{len(want)}/{len(got)}"
    suspects = {s["user"] for s in report["suspects"]}
    compromised = {u["upn"] for u in truth["compromised_users"]}
    innocent = {u["upn"] for u in truth["innocent_users"]}
    destinations = {p["destination_ip"] for p in report["exfiltration"]}
    true_destinations = {e["ip"] for e in truth["exfiltration"]}
    verdict = {
        "recall": f"{hits}/{len(expected)}",
        "precision": f"{hits}/{len(found)}",
        "tiers": tiers,
        "suspects_missing": sorted(compromised - suspects),
        "innocent_named": sorted(innocent & suspects),
        "implant": [bool(report["server_compromise"]), truth["server_compromised"]],
        "dest_missing": sorted(true_destinations - destinations),
        "dest_extra": sorted(destinations - true_destinations),
    }
    ok = (hits == len(expected) and hits >= 0.95 * len(found) and not verdict["suspects_missing"]
          and not verdict["innocent_named"] and verdict["implant"][0] == verdict["implant"][1]
          and not verdict["dest_missing"] and not verdict["dest_extra"])
    return ok, verdict


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default="target/release/mcpforensics")
    parser.add_argument("--workdir", default="/tmp/mcpforensics-sweep")
    parser.add_argument("--scale", default="0.5")
    parser.add_argument("--guesses", default="-1d,6h,3d,auto",
                        help="offsets from the truth's attack start (h or d, a leading - for early), or auto")
    args = parser.parse_args()
    bad = 0
    for story, emitter, sampled, signins, seed in COMBOS:
        d = os.path.join(args.workdir, f"{story}-{emitter}-{sampled}-{signins}-{seed}")
        if not os.path.isdir(os.path.join(d, "case")):
            subprocess.run([args.binary, "sample-data", "generate", "--seed", str(seed), "--scale", args.scale,
                            "--days", "30", "--start", "2026-09-01", "--scenario", story, "--emitter", emitter,
                            "--sampled", str(sampled), "--signins", signins, "--out", os.path.join(d, "acct"),
                            "--truth", os.path.join(d, "truth.json")], check=True, capture_output=True)
            # Exit 3: some records rejected on purpose (the generator cuts lines as exports do).
            subprocess.run([args.binary, "ingest", os.path.join(d, "acct"), "--case", os.path.join(d, "case"),
                            "--format", "json"], capture_output=True)
        with open(os.path.join(d, "truth.json")) as f:
            truth = json.load(f)
        start = datetime.datetime.fromisoformat(truth["attack_start"].replace("Z", "+00:00"))
        for guess in args.guesses.split(","):
            if guess == "auto":
                since = "auto"
            else:
                sign = -1 if guess.startswith("-") else 1
                n, unit = int(guess.lstrip("-")[:-1]), guess[-1]
                delta = datetime.timedelta(hours=n) if unit == "h" else datetime.timedelta(days=n)
                since = (start + sign * delta).strftime("%Y-%m-%dT%H:%M:%SZ")
            run = subprocess.run([args.binary, "scope", "--case", os.path.join(d, "case"), "--since", since,
                                  "--format", "json"], capture_output=True, text=True)
            ok, verdict = judge(json.loads(run.stdout), truth)
            bad += not ok
            print("OK " if ok else "BAD", story, emitter, sampled, signins, seed, guess, json.dumps(verdict), flush=True)
    print(f"{bad} runs not exact")


if __name__ == "__main__":
    main()
