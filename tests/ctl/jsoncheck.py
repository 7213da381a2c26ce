#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""jsoncheck.py SCHEMA DOCUMENT: validate DOCUMENT against a JSON Schema.

Uses the jsonschema package when it is installed (Debian: python3-jsonschema);
otherwise a strict validator of the keywords docs/*.schema.json use (type,
enum, required, properties, additionalProperties, items, minimum, maximum,
maxLength, pattern), which refuses any other keyword rather than ignoring it.
Exit 0 when valid, 1 with the reasons when not.
"""
import json
import re
import sys

KNOWN = {"$schema", "$id", "$comment", "title", "description", "type", "enum", "required",
         "properties", "additionalProperties", "items", "minimum", "maximum",
         "maxLength", "pattern"}
TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def check(schema, v, path, errs):
    unknown = set(schema) - KNOWN
    if unknown:
        raise SystemExit("jsoncheck: schema keyword(s) %s not supported" % sorted(unknown))
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(TYPES[t](v) for t in types):
            errs.append("%s: %r is not of type %s" % (path, v, types))
            return
    if "enum" in schema and v not in schema["enum"]:
        errs.append("%s: %r not in %r" % (path, v, schema["enum"]))
    if isinstance(v, dict):
        for k in schema.get("required", []):
            if k not in v:
                errs.append("%s: missing %r" % (path, k))
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for k, x in v.items():
            if k in props:
                check(props[k], x, "%s.%s" % (path, k), errs)
            elif extra is False:
                errs.append("%s: unexpected key %r" % (path, k))
            elif isinstance(extra, dict):
                check(extra, x, "%s.%s" % (path, k), errs)
    if isinstance(v, list) and "items" in schema:
        for i, x in enumerate(v):
            check(schema["items"], x, "%s[%d]" % (path, i), errs)
    if TYPES["number"](v):
        if "minimum" in schema and v < schema["minimum"]:
            errs.append("%s: %r < minimum %r" % (path, v, schema["minimum"]))
        if "maximum" in schema and v > schema["maximum"]:
            errs.append("%s: %r > maximum %r" % (path, v, schema["maximum"]))
    if isinstance(v, str):
        if "maxLength" in schema and len(v) > schema["maxLength"]:
            errs.append("%s: longer than %d" % (path, schema["maxLength"]))
        if "pattern" in schema and not re.search(schema["pattern"], v):
            errs.append("%s: %r does not match %s" % (path, v, schema["pattern"]))


def main():
    schema = json.load(open(sys.argv[1]))
    # Duplicate keys are an error in our output, though JSON allows them.
    def no_dups(pairs):
        keys = [k for k, _ in pairs]
        if len(keys) != len(set(keys)):
            raise ValueError("duplicate key in %r" % keys)
        return dict(pairs)
    doc = json.load(open(sys.argv[2]), object_pairs_hook=no_dups)
    try:
        import jsonschema
    except ImportError:
        jsonschema = None
    if jsonschema:
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        errs = ["%s: %s" % ("/".join(map(str, e.path)), e.message)
                for e in cls(schema).iter_errors(doc)]
        how = "jsonschema %s" % cls.__name__
    else:
        errs = []
        check(schema, doc, "$", errs)
        how = "built-in strict validator"
    for e in errs:
        print("jsoncheck: " + e)
    print("jsoncheck: %s: %s (%s)" % (sys.argv[2], "INVALID" if errs else "valid", how))
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
