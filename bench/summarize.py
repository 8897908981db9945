#!/usr/bin/env python3
"""Summary of bench/plugin_decode.sh's results file: medians, ratios and a Markdown table.

usage: summarize.py RESULTS_TSV ROWS TXNS ROUNDS SERVER_VERSION CONNECTION
"""
import json
import os
import statistics
import sys

path, rows, txns, rounds, version, conn = sys.argv[1:7]
rows, txns = int(rows), int(txns)

runs, sizes, events_seen, mems = {}, {}, None, []
order = []
for line in open(path):
    f = line.rstrip("\n").split("\t")
    if f[0] == "size":
        sizes[f[1]] = int(f[2] or 0)
        if f[1] == "test_decoding" and f[3]:
            events_seen = int(f[3])
    elif f[0] == "run":
        try:
            res = json.loads(f[3])
        except ValueError:
            res = {}
        if f[2] not in order:
            order.append(f[2])
        if res.get("rc") == 0:
            runs.setdefault(f[2], []).append(res)
    elif f[0] == "mem":
        try:
            mems.append((f[1], int(f[2]), json.loads(f[3])))
        except ValueError:
            pass

events = events_seen or rows + 15 * txns
preferred = ["walcast", "pgoutput", "wal2json", "test_decoding"]
plugins = [p for p in preferred if p in order] + [p for p in order if p not in preferred]


def med(p, key):
    vals = [r[key] for r in runs.get(p, []) if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def fmt(v, spec):
    return "n/a" if v is None else format(v, spec)


wall = {p: med(p, "wall_s") for p in plugins}
cpu = {p: med(p, "ws_cpu_s") for p in plugins}

out = []
out.append(f"### Decoding benchmark (`make bench`, bench/plugin_decode.sh)")
out.append("")
out.append(f"Workload: one {rows:,}-row INSERT transaction plus {txns:,} small transactions of 15 row "
           f"changes (7 inserts, 5 updates, 3 deletes) = {events:,} row events; 10 columns "
           "(int, bigint, text, numeric(12,2), timestamptz, bool, uuid, jsonb, double precision). "
           f"PostgreSQL {version}, {os.cpu_count()} CPUs, pg_recvlogical over {conn} to /dev/null, "
           f"median of {rounds} alternating rounds, every plugin starting from a copy of one slot. "
           "wal2json: `format-version=2`; pgoutput: `proto_version=1`, publication FOR ALL TABLES; "
           "walcast and test_decoding: default options; walcast_frames: `format=frames` (the "
           "sidecar's framing); walcast_frames_schemas: `format=frames`, `schemas=true` (Connect "
           "schemas for key/value.converter.schemas.enable).")
out.append("")
out.append("| plugin | wall s (median) | min–max s | walsender CPU s (median) | events/s | output MB | bytes/event | walsender peak RssAnon MB |")
out.append("|---|---:|---:|---:|---:|---:|---:|---:|")
for p in plugins:
    rs = runs.get(p, [])
    walls = [r["wall_s"] for r in rs]
    rng = f"{min(walls):.2f}–{max(walls):.2f}" if walls else "n/a"
    eps = f"{events / wall[p]:,.0f}" if wall[p] else "n/a"
    size = sizes.get(p)
    mbs = fmt(size / 1e6 if size else None, ".0f")
    bpe = fmt(size / events if size else None, ".0f")
    anon = med(p, "anon_peak_kb")
    out.append(f"| {p} | {fmt(wall[p], '.2f')} | {rng} | {fmt(cpu[p], '.2f')} | {eps} | {mbs} | {bpe} | "
               f"{fmt(anon / 1024 if anon else None, '.0f')} |")
out.append("")


def ratio_line(label, num, den, target, better_if_ge, bnum=None, bden=None):
    if not num or not den:
        return f"- {label}: n/a"
    r = num / den
    ok = r >= target if better_if_ge else r <= target
    sign = "≥" if better_if_ge else "≤"
    best = f"; best runs {bnum / bden:.2f}" if bnum and bden else ""
    return f"- {label}: **{r:.2f}**{best} (target {sign} {target}: {'met' if ok else 'missed'})"


best = {p: min((r["wall_s"] for r in runs.get(p, [])), default=None) for p in plugins}
bestcpu = {p: min((r["ws_cpu_s"] for r in runs.get(p, []) if r.get("ws_cpu_s")), default=None) for p in plugins}
if "walcast" in wall:
    out.append("Ratios of medians (and of the best run of each plugin, less sensitive to other load on the machine):")
    if "wal2json" in wall:
        out.append(ratio_line("wal2json / walcast, wall (speed-up over wal2json format 2)", wall.get("wal2json"), wall["walcast"], 1.5, True, best.get("wal2json"), best["walcast"]))
        out.append(ratio_line("wal2json / walcast, walsender CPU", cpu.get("wal2json"), cpu["walcast"], 1.5, True, bestcpu.get("wal2json"), bestcpu["walcast"]))
    if "pgoutput" in wall:
        out.append(ratio_line("walcast / pgoutput, wall", wall["walcast"], wall.get("pgoutput"), 1.3, False, best["walcast"], best.get("pgoutput")))
        out.append(ratio_line("walcast / pgoutput, walsender CPU", cpu["walcast"], cpu.get("pgoutput"), 1.3, False, bestcpu["walcast"], bestcpu.get("pgoutput")))
    if "test_decoding" in wall and wall.get("test_decoding") and wall["walcast"]:
        out.append(f"- walcast / test_decoding, wall: {wall['walcast'] / wall['test_decoding']:.2f}; "
                   f"walsender CPU: {fmt(cpu['walcast'] / cpu['test_decoding'] if cpu.get('test_decoding') and cpu['walcast'] else None, '.2f')} (reference)")
if "walcast_frames" in wall and "walcast_frames_schemas" in wall:
    out.append(ratio_line("walcast_frames_schemas / walcast_frames, walsender CPU (cost of schemas)",
                          cpu.get("walcast_frames_schemas"), cpu.get("walcast_frames"), 1.1, False,
                          bestcpu.get("walcast_frames_schemas"), bestcpu.get("walcast_frames")))
    if wall.get("walcast_frames") and wall.get("walcast_frames_schemas"):
        out.append(f"- walcast_frames_schemas / walcast_frames, wall: "
                   f"{wall['walcast_frames_schemas'] / wall['walcast_frames']:.2f} (reference: "
                   "pg_recvlogical's wall time follows the machine's load more than the plugin's cost)")
allruns = [r for rs in runs.values() for r in rs]
if allruns:
    other = statistics.median(r.get("other_cpu_s", 0) for r in allruns)
    steal = sum(r.get("steal_s", 0) for r in allruns)
    walls = sum(r["wall_s"] for r in allruns)
    out.append(f"- noise: other processes used a median {other:.1f} CPU-s per run; hypervisor steal "
               f"{steal:.1f} s over {walls:.0f} s of timed runs"
               + (" (the machine was busy: prefer the best-run ratios)" if other > 1.0 or steal > 0.05 * walls else ""))
for label, n, res in mems:
    kb = lambda k: res.get(k) or 0
    out.append(f"- walsender memory, walcast decoding the {label}, {n:,} rows: RssAnon "
               f"{kb('anon_start_kb') / 1024:.0f} MB at start, {kb('anon_peak_kb') / 1024:.0f} MB peak "
               f"(VmRSS peak {kb('rss_peak_kb') / 1024:.0f} MB incl. shared buffers)")
print("\n".join(out))
