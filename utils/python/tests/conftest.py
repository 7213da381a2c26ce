# SPDX-License-Identifier: LGPL-2.1-or-later
"""The module from this tree, and the library from the project's build
(GPUDMALOCK_LIBRARY overrides; tests/bindings/run.sh builds it)."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(HERE, ".."))
os.environ.setdefault("GPUDMALOCK_LIBRARY", os.path.join(
    os.environ.get("GDL_BUILD_DIR", os.path.join(TOP, "build")),
    "utils", "libgpudmalock.so.0"))
