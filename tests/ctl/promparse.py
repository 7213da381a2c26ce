#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""promparse.py FILE: strict parser of the Prometheus text exposition format
(version 0.0.4), as node_exporter's textfile collector reads it.

Checks: every line is a HELP, a TYPE or a sample (other comments allowed);
metric and label names match the grammar; label values use only the \\\\,
\\" and \\n escapes; values are floats (+Inf, -Inf, NaN allowed); HELP and
TYPE come at most once per family, before its samples; a family's samples
are contiguous; no sample (name and label set) repeats; counters end in
_total and are not negative.  Exit 0 and a summary when it parses.
"""
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def parse_labels(s, lineno):
    """s is what is between the braces; returns a tuple of (name, value)."""
    out = []
    i = 0
    while i < len(s):
        m = re.match(LABEL + "=\"", s[i:])
        if not m:
            raise ValueError("line %d: bad label at %r" % (lineno, s[i:]))
        name = s[i:i + m.end() - 2]
        i += m.end()
        val = ""
        while True:
            if i >= len(s):
                raise ValueError("line %d: unterminated label value" % lineno)
            c = s[i]
            if c == "\\":
                nxt = s[i + 1:i + 2]
                if nxt not in ("\\", "\"", "n"):
                    raise ValueError("line %d: bad escape \\%s" % (lineno, nxt))
                val += {"n": "\n"}.get(nxt, nxt)
                i += 2
            elif c == "\"":
                i += 1
                break
            elif c == "\n":
                raise ValueError("line %d: raw newline in a label value" % lineno)
            else:
                val += c
                i += 1
        if name in [n for n, _ in out]:
            raise ValueError("line %d: label %s repeated" % (lineno, name))
        out.append((name, val))
        if i < len(s):
            if s[i] != ",":
                raise ValueError("line %d: expected ',' at %r" % (lineno, s[i:]))
            i += 1
    return tuple(out)


def value(s, lineno):
    if s in ("+Inf", "-Inf", "NaN"):
        return float(s.replace("+", ""))
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", s):
        raise ValueError("line %d: %r is not a float" % (lineno, s))
    return float(s)


def parse(text):
    if text and not text.endswith("\n"):
        raise ValueError("the last line does not end with a newline")
    help_, type_, seen, done = {}, {}, set(), set()
    current = None
    samples = 0
    for lineno, line in enumerate(text.split("\n")[:-1], 1):
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (" + NAME + r") (.*)", line)
            if not m:
                if re.match(r"#\s*(HELP|TYPE)", line):
                    raise ValueError("line %d: malformed %r" % (lineno, line))
                continue
            kind, name, rest = m.groups()
            d = help_ if kind == "HELP" else type_
            if name in d:
                raise ValueError("line %d: second %s for %s" % (lineno, kind, name))
            if name in done or name == current:
                raise ValueError("line %d: %s for %s after its samples" % (lineno, kind, name))
            if kind == "TYPE" and rest not in TYPES:
                raise ValueError("line %d: unknown type %r" % (lineno, rest))
            d[name] = rest
            continue
        if not line.strip():
            continue
        m = re.fullmatch("(" + NAME + r")(\{(.*)\})? (\S+)( -?\d+)?", line)
        if not m:
            raise ValueError("line %d: not a sample: %r" % (lineno, line))
        name, _, labels, val = m.group(1), m.group(2), m.group(3), m.group(4)
        lset = parse_labels(labels, lineno) if labels else ()
        v = value(val, lineno)
        if name != current:
            if name in done:
                raise ValueError("line %d: samples of %s are not contiguous" % (lineno, name))
            if current:
                done.add(current)
            current = name
        key = (name, tuple(sorted(lset)))
        if key in seen:
            raise ValueError("line %d: duplicate sample %s%s" % (lineno, name, lset))
        seen.add(key)
        t = type_.get(name)
        if t == "counter":
            if not name.endswith("_total"):
                raise ValueError("line %d: counter %s does not end in _total" % (lineno, name))
            if v < 0:
                raise ValueError("line %d: negative counter" % lineno)
        samples += 1
    return samples, len(type_)


def main():
    try:
        samples, families = parse(open(sys.argv[1]).read())
    except ValueError as e:
        print("promparse: %s: %s" % (sys.argv[1], e))
        return 1
    print("promparse: %s: %d samples in %d families, valid" % (sys.argv[1], samples, families))
    return 0


if __name__ == "__main__":
    sys.exit(main())
