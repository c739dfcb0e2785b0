#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Runs a service unit's commands the way systemd would, for tests on a
machine where systemd is not PID 1 (systemd-analyze verify checks the syntax;
this checks that the commands do what they should).

  systemd_exec.py UNIT start   ExecStartPre, ExecStart, ExecStartPost in
                               order; a failure stops there. Without
                               RemainAfterExit=yes the service then stops:
                               ExecStopPost runs, with SERVICE_RESULT.
  systemd_exec.py UNIT stop    ExecStop, then ExecStopPost.

The environment is Environment= then EnvironmentFile= (a leading '-' makes
the file optional), as systemd orders them. In a command line %% is %; after
the line is split into words (quotes group), a word that is exactly $NAME
becomes the value split at whitespace (no word when empty), ${NAME} is
replaced in place, and $$ is $. A command prefixed with '-' may fail. Exits
with the status of the first command that failed, else 0; prints each
command on stderr.
"""
import os
import re
import shlex
import subprocess
import sys

VAR_WORD = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")
IN_WORD = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def read_unit(path):
    """[(key, value)] of the [Service] section, in order."""
    entries, section = [], None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            if line.startswith("["):
                section = line
            elif section == "[Service]":
                key, _, value = line.partition("=")
                entries.append((key.strip(), value.strip()))
    return entries


def read_env_file(path, env):
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line[0] in "#;":
                continue
            key, _, value = line.partition("=")
            words = shlex.split(value)
            env[key.strip()] = " ".join(words)


def environment(entries):
    env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
    for key, value in entries:
        if key == "Environment":
            for assignment in shlex.split(value):
                name, _, val = assignment.partition("=")
                env[name] = val
    for key, value in entries:
        if key == "EnvironmentFile":
            optional = value.startswith("-")
            path = value.lstrip("-")
            if os.path.exists(path) or not optional:
                read_env_file(path, env)
    return env


def expand(line, env):
    """(may_fail, argv) of an Exec line."""
    may_fail = False
    while line and line[0] in "-@+!:":
        may_fail |= line[0] == "-"
        line = line[1:]
    argv = []
    for word in shlex.split(line.replace("%%", "%")):
        m = VAR_WORD.match(word)
        if m:
            argv.extend(env.get(m.group(1), "").split())
        else:
            argv.append(IN_WORD.sub(lambda m: "$" if m.group(0) == "$$"
                                    else env.get(m.group(1), ""), word))
    return may_fail, argv


def run(entries, env, keys):
    """Runs the commands of these keys; returns the first failure's status."""
    for key, value in entries:
        if key not in keys:
            continue
        may_fail, argv = expand(value, env)
        print("systemd_exec: %s: %s" % (key, shlex.join(argv)), file=sys.stderr)
        status = subprocess.run(argv, env=env).returncode
        if status and not may_fail:
            return status
    return 0


def main():
    unit, action = sys.argv[1], sys.argv[2]
    entries = read_unit(unit)
    env = environment(entries)
    remain = ("RemainAfterExit", "yes") in entries
    status = 0
    if action == "start":
        status = run(entries, env, ("ExecStartPre", "ExecStart", "ExecStartPost"))
    if action == "stop" or (action == "start" and (status or not remain)):
        if action == "stop":
            status = run(entries, env, ("ExecStop",))
        env["SERVICE_RESULT"] = "exit-code" if status else "success"
        post = run(entries, env, ("ExecStopPost",))
        status = status or post
    sys.exit(status)


if __name__ == "__main__":
    main()
