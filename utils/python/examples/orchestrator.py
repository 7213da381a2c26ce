#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A minimal orchestrator: runs a command in a new cgroup as agent NAME
with QUOTA bytes on every GPU, prints that agent's events while it runs,
and retires the agent when it exits.  As root:

    orchestrator.py NAME QUOTA COMMAND [ARG...]
"""
import os
import subprocess
import sys

import gpudmalock as gdl

name, quota, cmd = sys.argv[1], gdl.parse_size(sys.argv[2]), sys.argv[3:]
cg = "/sys/fs/cgroup/" + name
with gdl.Ledger() as led:
    os.makedirs(cg, exist_ok=True)
    agent = led.ensure_agent(name, {gdl.ALL_DEVICES: quota}, cg)
    procs = os.open(cg + "/cgroup.procs", os.O_WRONLY | os.O_CLOEXEC)
    child = subprocess.Popen(cmd, preexec_fn=lambda: os.write(procs, b"0"))
    while True:
        done = child.poll() is not None
        for ev in led.read_events(64, timeout=0 if done else 0.2):
            if ev.agent == agent:
                print("%s: %s on device %d: asked %d bytes, limit %d"
                      % (name, ev.kind, ev.device, ev.value, ev.value2))
        if done:
            break
    led.retire_agent(name)
    os.rmdir(cg)
    print("%s: exit status %d, agent retired" % (name, child.returncode))
