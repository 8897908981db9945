#!/usr/bin/env python3
"""Run one pg_recvlogical decode and measure it; helper of bench/plugin_decode.sh.

usage: decode_run.py --postmaster PID [--sample-ms N] [--timeline FILE] [--perf FILE]
                     [--stdout FILE] -- pg_recvlogical ARGS...

Prints one JSON object on stdout:
  wall_s          wall-clock time of pg_recvlogical, start to exit
  ws_cpu_s        CPU (user+sys) of the walsender that served it. Exact: the delta of
                  the postmaster's cutime+cstime once it has reaped the walsender
                  (autovacuum must be off so no other child exits meanwhile); falls back
                  to the last /proc sample of the walsender when that is not available
  client_cpu_s    CPU of pg_recvlogical itself
  other_cpu_s     CPU used meanwhile by everything else on the machine (noise indicator)
  steal_s         CPU time stolen by the hypervisor meanwhile (noise indicator)
  ws_pid          the walsender's pid
  anon_start_kb, anon_peak_kb   walsender RssAnon (private memory), first sample and peak
  rss_start_kb, rss_peak_kb     walsender VmRSS (includes touched shared buffers)
  hwm_kb          walsender VmHWM at the last sample
  samples         number of /proc samples taken
  waited_s        time spent waiting for an idle machine first (--quiet-wait)
  rc              pg_recvlogical's exit status
"""
import argparse
import json
import os
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        # Kernels without CONFIG_PROC_CHILDREN: scan /proc.
        out = []
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            try:
                with open(f"/proc/{d}/stat") as f:
                    st = f.read()
                if int(st[st.rindex(")") + 2:].split()[1]) == pid:
                    out.append(int(d))
            except (OSError, ValueError):
                pass
        return out


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def stat_fields(pid):
    with open(f"/proc/{pid}/stat") as f:
        st = f.read()
    return st[st.rindex(")") + 2:].split()  # fields from 3 (state) on


def reaped_children_cpu(pm):
    f = stat_fields(pm)
    return (int(f[13]) + int(f[14])) / CLK_TCK  # cutime, cstime (fields 16, 17)


def own_cpu(pid):
    f = stat_fields(pid)
    return (int(f[11]) + int(f[12])) / CLK_TCK  # utime, stime (fields 14, 15)


def system_cpu():
    """(busy, steal) seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
    return (user + nice + system + irq + softirq) / CLK_TCK, steal / CLK_TCK


def mem(pid):
    vals = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM", "RssAnon"):
                vals[k] = int(v.split()[0])
    return vals


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--postmaster", type=int, required=True)
    ap.add_argument("--sample-ms", type=float, default=50)
    ap.add_argument("--timeline", help="write 't_s anon_kb rss_kb' samples here")
    ap.add_argument("--perf", help="perf record the walsender into this file")
    ap.add_argument("--stdout", help="pg_recvlogical's stdout goes here (default: inherit)")
    ap.add_argument("--quiet-wait", type=float, default=0,
                    help="first wait up to this many seconds for the machine to be idle")
    ap.add_argument("--quiet-cpu", type=float, default=0.3,
                    help="idle: less than this many CPUs busy over one second")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    pm = a.postmaster

    waited = 0.0
    w0 = time.perf_counter()
    while a.quiet_wait > 0:
        b0 = system_cpu()[0]
        time.sleep(1.0)
        if system_cpu()[0] - b0 < a.quiet_cpu or time.perf_counter() - w0 >= a.quiet_wait:
            break
    waited = time.perf_counter() - w0 if a.quiet_wait > 0 else 0.0

    before = set(children(pm))
    cpu0 = reaped_children_cpu(pm)
    out = open(a.stdout, "wb") if a.stdout else None
    sys0 = system_cpu()
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out)
    ws = None
    perf = None
    timeline = []
    nsamples = 0
    last_cpu = None
    m_first = m_peak = None
    rusage = None
    status = None
    interval = a.sample_ms / 1000.0
    while True:
        pid, st, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            t1 = time.perf_counter()
            sys1 = system_cpu()
            status, rusage = st, ru
            break
        if ws is None:
            for c in children(pm):
                if c not in before and "walsender" in cmdline(c):
                    ws = c
                    if a.perf:
                        perf = subprocess.Popen(
                            ["perf", "record", "-q", "-e", "cpu-clock", "-g", "-p", str(ws), "-o", a.perf],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    break
        if ws is not None:
            try:
                m = mem(ws)
                last_cpu = own_cpu(ws)
            except OSError:
                m = None
            if m:
                nsamples += 1
                m["t"] = time.perf_counter() - t0
                if m_first is None:
                    m_first = m
                if m_peak is None:
                    m_peak = dict(m)
                else:
                    for k in ("VmRSS", "RssAnon", "VmHWM"):
                        m_peak[k] = max(m_peak[k], m.get(k, 0))
                if a.timeline:
                    timeline.append((m["t"], m.get("RssAnon", 0), m.get("VmRSS", 0)))
        time.sleep(interval)
    if out:
        out.close()

    # Wait for the postmaster to reap the walsender so its CPU lands in cutime/cstime.
    ws_cpu = None
    if ws is not None:
        deadline = time.time() + 10
        while ws in children(pm) and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.02)
        if ws not in children(pm):
            ws_cpu = reaped_children_cpu(pm) - cpu0
    if ws_cpu is None or ws_cpu <= 0:
        ws_cpu = last_cpu
    if perf is not None:
        try:
            perf.wait(timeout=30)
        except subprocess.TimeoutExpired:
            perf.terminate()
            perf.wait()
    if a.timeline:
        with open(a.timeline, "w") as f:
            for t, anon, rss in timeline:
                f.write(f"{t:.3f} {anon} {rss}\n")

    rc = os.waitstatus_to_exitcode(status)
    client_cpu = rusage.ru_utime + rusage.ru_stime
    # CPU used on the machine by anything but this walsender and pg_recvlogical (other
    # users, the sampler, the postmaster): a noise indicator for the run.
    other = sys1[0] - sys0[0] - (ws_cpu or 0) - client_cpu
    res = {
        "wall_s": round(t1 - t0, 4),
        "ws_cpu_s": None if ws_cpu is None else round(ws_cpu, 2),
        "client_cpu_s": round(client_cpu, 2),
        "other_cpu_s": round(max(other, 0.0), 2),
        "steal_s": round(sys1[1] - sys0[1], 2),
        "ws_pid": ws,
        "anon_start_kb": m_first and m_first.get("RssAnon"),
        "anon_peak_kb": m_peak and m_peak.get("RssAnon"),
        "rss_start_kb": m_first and m_first.get("VmRSS"),
        "rss_peak_kb": m_peak and m_peak.get("VmRSS"),
        "hwm_kb": m_peak and m_peak.get("VmHWM"),
        "samples": nsamples,
        "waited_s": round(waited, 1),
        "rc": rc,
    }
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
