#!/usr/bin/env python3
"""Runs README.md's commands as a newcomer would, so that the README cannot drift from
working.

The blocks README marks with `<!-- readme-path: NAME -->` run in order, line by line, each
line verbatim through bash:
  install      the build and `make install`, into a staging DESTDIR under a temp directory
               (never into the system: `sudo` is a shim that keeps the environment); then
               `walcast` must be found on PATH in that staging tree's /usr/local/bin.
               `bash test/install-deps.sh` runs only with WALCAST_README_DEPS=1 (it
               installs packages and stops Debian's cluster: `make test` ran it already).
  quickstart   pg_recvlogical against a throwaway PostgreSQL (test/pg_tmp.sh, wal_level
               logical); the event it prints must have the shape and values of the
               `expected-event` block.
  sidecar      the walcast sidecar with examples/walcast.properties against that server and a
               throwaway Kafka broker (test/kafka/kafka.sh): snapshot, stream, status,
               verify, slot drop.
  file-sink    the same without Kafka.
A line whose comment says "until Ctrl-C" runs in the background until it is streaming,
then gets SIGINT and must exit 0. Every other line must exit 0.

The commands talk to the throwaway servers through the environment a user would set:
PGHOST/PGPORT/PGUSER for libpq tools, WALCAST_DATABASE_HOSTNAME/_PORT and
WALCAST_KAFKA_BOOTSTRAP_SERVERS for walcast (docs/configuration.md), which override the
example file's localhost:5432 and localhost:9092.

    test/.venv/bin/python test/readme_path.py      (or python3; standard library only)
Environment: PG_BINDIR (default: pg_config --bindir), KEEP=1 keeps the temp directory.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
UNTIL_CTRL_C = re.compile(r"#.*until Ctrl-C", re.I)


def say(msg):
    print(f"readme_path: {msg}", flush=True)


def fail(msg):
    say(f"FAILED: {msg}")
    sys.exit(1)


def readme_blocks(text):
    """{name: [command lines]} of the fenced blocks after <!-- readme-path: NAME -->."""
    blocks = {}
    for m in re.finditer(r"<!-- readme-path: ([\w-]+) -->\n```\w*\n(.*?)\n```", text, re.S):
        lines, pending = [], ""
        for line in m.group(2).split("\n"):
            if line.rstrip().endswith("\\"):
                pending += line.rstrip()[:-1] + " "
                continue
            line = pending + line
            pending = ""
            if line.strip():
                lines.append(line)
        blocks[m.group(1)] = lines
    return blocks


class Runner:
    def __init__(self, env, cwd):
        self.env = env
        self.cwd = cwd

    def run(self, line, check=True, timeout=900):
        say(f"$ {line}")
        p = subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=self.cwd, env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=timeout)
        out = p.stdout
        sys.stdout.write("".join(f"    {l}\n" for l in out.splitlines()[-40:]))
        if check and p.returncode != 0:
            fail(f"exit {p.returncode}: {line}")
        return out

    def run_until_streaming(self, line, ready, timeout=180):
        """Starts line, waits until ready(output so far) is true, sends SIGINT as Ctrl-C
        would (to the whole process group), and requires exit status 0."""
        say(f"$ {line}    [until streaming, then Ctrl-C]")
        log_path = os.path.join(self.cwd, "until-ctrl-c.log")
        with open(log_path, "w") as log:
            p = subprocess.Popen(["bash", "-c", line], cwd=self.cwd, env=self.env, stdout=log,
                                 stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.time() + timeout
        try:
            while True:
                out = open(log_path, errors="replace").read()
                if p.poll() is not None:
                    sys.stdout.write(out)
                    fail(f"exited {p.returncode} before it was streaming: {line}")
                if ready(out):
                    break
                if time.time() > deadline:
                    sys.stdout.write(out)
                    fail(f"not streaming after {timeout} s: {line}")
                time.sleep(0.5)
            os.killpg(p.pid, signal.SIGINT)
            rc = p.wait(timeout=60)
        finally:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        out = open(log_path, errors="replace").read()
        sys.stdout.write("".join(f"    {l}\n" for l in out.splitlines()[-40:]))
        if rc != 0:
            fail(f"exit {rc} after Ctrl-C: {line}")
        return out


def psql(env, sql, db="app"):
    return subprocess.run(["psql", "-X", "-Atq", "-d", db, "-c", sql], env=env, check=True,
                          stdout=subprocess.PIPE, text=True).stdout.strip()


def slot_active(env):
    return psql(env, "SELECT count(*) FROM pg_replication_slots WHERE active") != "0"


def readiness(line, env):
    """When a long-running README command counts as streaming."""
    if line.startswith("walcast run"):
        # The log line walcast writes once the snapshot is delivered and streaming begins.
        return lambda out: "streaming slot" in out and slot_active(env)
    first_active = []

    def active_for_two_seconds(out):
        if not slot_active(env):
            return False
        first_active.append(time.time())
        return time.time() - first_active[0] >= 2
    return active_for_two_seconds


def check_event(output, expected_text):
    """The quickstart printed an event with the README example's fields and values."""
    expected = json.loads(expected_text)
    events = []
    for line in output.splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    creates = [e for e in events if isinstance(e, dict) and e.get("op") == "c"]
    if not creates:
        fail(f"the quickstart printed no create event:\n{output}")
    got = creates[0]
    for part in ("", "source"):
        want_keys = list((expected[part] if part else expected).keys())
        got_keys = list((got[part] if part else got).keys())
        if want_keys != got_keys:
            fail(f"README's example event {part or 'envelope'} has fields {want_keys}, "
                 f"walcast writes {got_keys}")
    for field in ("before", "after", "op", "transaction"):
        if got[field] != expected[field]:
            fail(f"README's example event has {field}={expected[field]!r}, walcast wrote "
                 f"{got[field]!r}")
    for field in ("connector", "db", "schema", "table", "snapshot", "name"):
        if got["source"][field] != expected["source"][field]:
            fail(f"README's example event has source.{field}={expected['source'][field]!r}, "
                 f"walcast wrote {got['source'][field]!r}")
    say("the quickstart's event matches README's example (fields, before/after, source names)")


def main():
    blocks = readme_blocks(open(os.path.join(TOP, "README.md")).read())
    for name in ("install", "quickstart", "expected-event", "sidecar", "file-sink"):
        if not blocks.get(name):
            fail(f"README.md has no <!-- readme-path: {name} --> block")

    work = tempfile.mkdtemp(prefix="walcast-readme.")
    os.chmod(work, 0o755)
    pg_dir, kafka_dir = os.path.join(work, "pg"), os.path.join(work, "kafka")
    destdir, user_dir = os.path.join(work, "destdir"), os.path.join(work, "user")
    shim_dir = os.path.join(work, "shim")
    for d in (user_dir, shim_dir):
        os.makedirs(d)
    pg_started = kafka_started = False
    pg_bindir = os.environ.get("PG_BINDIR") or subprocess.run(
        ["pg_config", "--bindir"], stdout=subprocess.PIPE, text=True, check=True).stdout.strip()
    try:
        # The user's environment: no WALCAST_* of the test harness (WALCAST_KAFKA_* would
        # become kafka.* settings), `sudo` that keeps DESTDIR.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("WALCAST_", "PG"))}
        with open(os.path.join(shim_dir, "sudo"), "w") as f:
            f.write('#!/bin/sh\n# readme_path.py: sudo keeping the environment (DESTDIR)\nexec "$@"\n')
        os.chmod(os.path.join(shim_dir, "sudo"), 0o755)

        # --- install: into the staging DESTDIR only.
        install_env = dict(env, DESTDIR=destdir, PATH=f"{shim_dir}:{env['PATH']}")
        installer = Runner(install_env, TOP)
        for line in blocks["install"]:
            if "install-deps.sh" in line and os.environ.get("WALCAST_README_DEPS") != "1":
                say(f"$ {line}    [skipped: make test ran it; WALCAST_README_DEPS=1 runs it]")
                continue
            installer.run(line)
        bindir = os.path.join(destdir, "usr", "local", "bin")
        if not os.access(os.path.join(bindir, "walcast"), os.X_OK):
            fail(f"make install did not put walcast into /usr/local/bin (looked in {bindir})")

        # --- servers.
        port = subprocess.run(["bash", "test/pg_tmp.sh", "start", pg_dir], cwd=TOP,
                              env=dict(os.environ, PG_BINDIR=pg_bindir), check=True,
                              stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[-1]
        pg_started = True
        say(f"throwaway PostgreSQL on port {port}")
        bootstrap = subprocess.run(["bash", "test/kafka/kafka.sh", "start", kafka_dir], cwd=TOP,
                                   check=True, stdout=subprocess.PIPE,
                                   text=True).stdout.strip().splitlines()[-1]
        kafka_started = True
        say(f"throwaway Kafka broker at {bootstrap}")

        # The user's shell after `make install`: /usr/local/bin (here: the staging copy) on
        # PATH, the server's client tools, a working directory with examples/ in it.
        user_env = dict(env, PATH=f"{bindir}:{env['PATH']}:{pg_bindir}", PGHOST="127.0.0.1",
                        PGPORT=port, PGUSER="postgres", WALCAST_DATABASE_HOSTNAME="127.0.0.1",
                        WALCAST_DATABASE_PORT=port, WALCAST_KAFKA_BOOTSTRAP_SERVERS=bootstrap)
        os.symlink(os.path.join(TOP, "examples"), os.path.join(user_dir, "examples"))
        user = Runner(user_env, user_dir)
        found = user.run("command -v walcast").strip()
        if found != os.path.join(bindir, "walcast"):
            fail(f"walcast on PATH is {found!r}, not the one make install put in {bindir}")

        quickstart_output = ""
        for name in ("quickstart", "sidecar", "file-sink"):
            say(f"--- README block '{name}'")
            for line in blocks[name]:
                if UNTIL_CTRL_C.search(line):
                    user.run_until_streaming(line, readiness(line, user_env))
                else:
                    out = user.run(line)
                    if name == "quickstart":
                        quickstart_output += out
        check_event(quickstart_output, "\n".join(blocks["expected-event"]))
        left = psql(user_env, "SELECT string_agg(slot_name, ', ') FROM pg_replication_slots")
        if left:
            fail(f"the README's commands leave slots behind: {left}")
        say("OK: every README command ran as written")
    finally:
        if kafka_started:
            subprocess.run(["bash", "test/kafka/kafka.sh", "stop", kafka_dir], cwd=TOP)
        if pg_started:
            subprocess.run(["bash", "test/pg_tmp.sh", "stop", pg_dir], cwd=TOP,
                           env=dict(os.environ, PG_BINDIR=pg_bindir), stdout=subprocess.DEVNULL)
        if os.environ.get("KEEP") == "1":
            say(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
