"""Validates srlm's `--format json` outputs against schema/json/*.schema.json with PyPI jsonschema.

Usage: validate_json.py SCHEMA_DIR CHECKS.json
CHECKS.json: [{"schema": NAME, "output": PATH, "command": TEXT}, ...]. Each output must be exactly one JSON document
(nothing before or after it) valid against SCHEMA_DIR/NAME.schema.json. "integer" means a JSON integer: 4.0 is
refused (jsonschema alone would take it). Prints {"valid": N, "errors": [...]} and exits 1 when any check fails.
"""
import json
import sys

import jsonschema


def strict_integer(checker, instance):
    return isinstance(instance, int) and not isinstance(instance, bool)


Validator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine("integer", strict_integer))


def main():
    folder, manifest = sys.argv[1], sys.argv[2]
    with open(manifest) as f:
        checks = json.load(f)
    valid, errors = 0, []
    for check in checks:
        where = f"{check['command']} ({check['schema']})"
        try:
            with open(f"{folder}/{check['schema']}.schema.json") as f:
                schema = json.load(f)
            Validator.check_schema(schema)
            with open(check["output"]) as f:
                text = f.read()
            document = json.loads(text, parse_float=float)  # one document: trailing text fails to parse
        except (OSError, ValueError, jsonschema.SchemaError) as error:
            errors.append(f"{where}: {error}")
            continue
        found = sorted(Validator(schema).iter_errors(document), key=lambda e: list(e.absolute_path))
        if found:
            errors += [f"{where}: at {list(e.absolute_path)}: {e.message}" for e in found[:5]]
        else:
            valid += 1
    print(json.dumps({"valid": valid, "errors": errors}, indent=1))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
