#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""Issue 22's sequence for vm-ctl.sh, as root in the test VM, through the
Python bindings (PYTHONPATH=utils/python):
    holdshared.py EXPORTER IMPORTER SIZE
This process, bound by pid to agent EXPORTER, reserves SIZE bytes on
device 0 and shares them by a 64-byte key, grants IMPORTER its memory
there, and starts an importer (this script again, --importer), bound by
pid to IMPORTER, which attaches and then holds the handle until it is
killed.  The grant is revoked, and this process exits, printing
"importer PID" last: the importer alone then holds EXPORTER's charge.
    holdshared.py --orphan AGENT SIZE
This process, bound by pid to AGENT, reserves SIZE bytes on device 0 and
forks: the child keeps the file, the parent (its opener) prints "holder
PID" and exits, so the holders table can show no pid for it.
"""
import os
import signal
import subprocess
import sys

import gpudmalock as gdl

KEY = b"\x22" * gdl.SHARE_KEY_LEN


def importer():
    sys.stdin.readline()        # bound to its agent by now
    led = gdl.Ledger()
    held = led.attach(KEY)
    print("attached %d" % held.handle, flush=True)
    sys.stdout.close()
    keep = (led, held)
    while keep:
        signal.pause()


def exporter(a_name, b_name, size):
    led = gdl.Ledger()
    a, b = led.find_agent(a_name), led.find_agent(b_name)
    led.bind_pid(a, os.getpid())
    exp = gdl.Ledger()
    r = exp.reserve(0, gdl.parse_size(size))
    r.share(KEY)
    grant = gdl.AclEntry(b, a, 0, gdl.READ | gdl.WRITE, 0, 0, gdl.UNLIMITED)
    led.acl_grant([grant])
    # Its own session, so that the shell's job control leaves it alone.
    child = subprocess.Popen([sys.executable, os.path.abspath(__file__),
                              "--importer"], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True,
                             start_new_session=True)
    led.bind_pid(b, child.pid)
    child.stdin.write("go\n")
    child.stdin.flush()
    line = child.stdout.readline()
    if not line.startswith("attached "):
        child.kill()
        sys.exit("the importer did not attach: %r" % line)
    # The sequence: A revokes B's grant; the attachment stays.
    led.acl_revoke([grant])
    print("importer %d" % child.pid, flush=True)
    # Exiting closes both files: A's own handle goes, B's stays.


def orphan(name, size):
    led = gdl.Ledger()
    led.bind_pid(led.find_agent(name), os.getpid())
    mine = gdl.Ledger()
    r = mine.reserve(0, gdl.parse_size(size))
    led.close()
    pid = os.fork()
    if pid == 0:
        os.setsid()
        keep = (mine, r)
        while keep:
            signal.pause()
    print("holder %d" % pid, flush=True)
    # No destructors: the child's copy of the file keeps the reservation.
    os._exit(0)


if __name__ == "__main__":
    if sys.argv[1:] == ["--importer"]:
        importer()
    elif sys.argv[1] == "--orphan":
        orphan(*sys.argv[2:4])
    else:
        exporter(*sys.argv[1:4])
