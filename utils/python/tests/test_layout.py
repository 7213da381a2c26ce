# SPDX-License-Identifier: LGPL-2.1-or-later
"""The ctypes mirrors against the C header: a C program generated from the
same field lists prints every size and offset as the compiler lays them
out in src/uapi/gpu_dma_lock.h."""
import os
import subprocess

from conftest import TOP
import gpudmalock
from gpudmalock import _abi


def _c_output(tmp_path, name, lines):
    """The lines a C program of LINES (statements) prints, compiled
    against the header."""
    src = tmp_path / (name + ".c")
    src.write_text("#include <stddef.h>\n#include <stdio.h>\n"
                   "#include <gpudmalock.h>\nint main(void)\n{\n\t"
                   + "\n\t".join(lines) + "\n\treturn 0;\n}\n")
    exe = tmp_path / name
    subprocess.run([os.environ.get("CC", "cc"), "-Wall", "-Werror", "-I",
                    os.path.join(TOP, "src", "uapi"), "-I",
                    os.path.join(TOP, "utils", "include"), str(src), "-o",
                    str(exe)], check=True)
    return subprocess.run([str(exe)], check=True, capture_output=True,
                          text=True).stdout.splitlines()


def test_structs_match_the_c_header(tmp_path):
    want, lines = [], []
    for s in _abi.STRUCTS:
        n = s.__name__
        want.append("%s sizeof %d" % (n, _abi.ctypes.sizeof(s)))
        lines.append('printf("%s sizeof %%zu\\n", sizeof(struct %s));' % (n, n))
        for f, t in s._fields_:
            d = getattr(s, f)
            want.append("%s %s %d %d" % (n, f, d.offset, d.size))
            lines.append('printf("%s %s %%zu %%zu\\n", offsetof(struct %s, %s),'
                         ' sizeof(((struct %s *)0)->%s));'
                         % (n, f, n, f, n, f))
    got = _c_output(tmp_path, "layout", lines)
    drift = ["python: %s  C: %s" % (w, g) for w, g in zip(want, got) if w != g]
    assert len(got) == len(want)
    assert not drift, "\n".join(drift)


def test_flags_match_the_c_header(tmp_path):
    flags = {"GDL_DEV_F_PCI": _abi.DEV_F_PCI, "GDL_DEV_F_GONE": _abi.DEV_F_GONE,
             "GDL_AGENT_F_DESTROYED": _abi.AGENT_F_DESTROYED,
             "GDL_LIST_F_DESTROYED": _abi.LIST_F_DESTROYED,
             "GDL_QUOTA_F_DESTROYED": _abi.QUOTA_F_DESTROYED,
             "GDLOCK_HOLDER_DESTROYED": _abi.HOLDER_DESTROYED,
             "GDLOCK_HOLDER_ATTACHED": _abi.HOLDER_ATTACHED}
    got = _c_output(tmp_path, "flags",
                    ['printf("%s %%u\\n", %s);' % (n, n) for n in flags])
    assert got == ["%s %d" % (n, v) for n, v in flags.items()]


def test_event_kinds_match_the_c_header(tmp_path):
    # EVENT_KINDS decodes event types: each name is the header's, lowered.
    names = ["GDL_EVENT_" + k.upper() for k in gpudmalock.EVENT_KINDS.values()]
    got = _c_output(tmp_path, "events",
                    ['printf("%s %%u\\n", %s);' % (n, n) for n in names])
    assert got == ["%s %d" % (n, v) for n, v in
                   zip(names, gpudmalock.EVENT_KINDS.keys())]

