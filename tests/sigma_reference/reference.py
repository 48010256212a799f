#!/usr/bin/env python3
"""An independent reference for `mcpforensics sigma`: pySigma's SQLite backend.

Converts the same Sigma rules with pySigma (`pysigma-backend-sqlite`, pinned in requirements.txt),
through the same log-source map (the tool's `logsources.yaml`: tables and field renames, given to
pySigma as a processing pipeline), runs them on the same records loaded into SQLite, and prints
one JSON object: per rule title, the records it matched (`blob:line`), and the rules pySigma could
not convert with its reason.

Records come as one JSON file per table (`TABLE.json`, an array of records, as `mcpforensics sql
--format json` writes them). A text value that holds a JSON object is also flattened into dotted columns
(`Status.errorCode`), as Zircolite flattens events; text columns compare without regard to case
(COLLATE NOCASE, as Zircolite declares them); booleans are 'true'/'false'.

Usage: reference.py --records DIR --logsources logsources.yaml RULES...
"""

import argparse
import json
import re
import sqlite3
import sys
from pathlib import Path

import yaml
from sigma.backends.sqlite import sqliteBackend
from sigma.collection import SigmaCollection
from sigma.processing.pipeline import ProcessingItem, ProcessingPipeline
from sigma.processing.transformations import (
    FieldMappingTransformation,
    SetStateTransformation,
)
from sigma.rule import SigmaRule


def flatten(prefix, value, row):
    if isinstance(value, dict):
        for key, inner in value.items():
            flatten(f"{prefix}.{key}", inner, row)
    elif isinstance(value, list):
        row[prefix] = json.dumps(value, separators=(",", ":"))
    elif isinstance(value, bool):
        row[prefix] = "true" if value else "false"
    else:
        row[prefix] = value


def load(connection, path):
    table = path.stem
    rows = []
    for record in json.loads(path.read_text(encoding="utf-8")):
        row = {}
        for column, value in record.items():
            flatten(column, value, row)
            if isinstance(value, str) and value.startswith("{"):
                try:
                    parsed = json.loads(value)
                except ValueError:
                    parsed = None
                if isinstance(parsed, dict):
                    for key, inner in parsed.items():
                        flatten(f"{column}.{key}", inner, row)
        rows.append(row)
    columns = {}
    for row in rows:
        for column, value in row.items():
            if value is None:
                continue
            numeric = isinstance(value, (int, float))
            columns[column] = columns.get(column, True) and numeric
    for row in rows:
        for column in row:
            columns.setdefault(column, False)
    quote = lambda name: '"' + name.replace('"', '""') + '"'
    declared = ", ".join(
        f"{quote(c)} NUMERIC" if numeric else f"{quote(c)} TEXT COLLATE NOCASE"
        for c, numeric in columns.items()
    )
    connection.execute(f"CREATE TABLE {quote(table)} ({declared})")
    names = list(columns)
    connection.executemany(
        f"INSERT INTO {quote(table)} ({', '.join(map(quote, names))}) "
        f"VALUES ({', '.join('?' for _ in names)})",
        [[row.get(n) for n in names] for row in rows],
    )
    return table


def source_of(rule, logsources):
    """The map's first entry whose log-source keys all equal the rule's (without regard to case)."""
    for source in logsources["sources"]:
        if all(
            str(getattr(rule.logsource, key, None) or "").lower() == str(value).lower()
            for key, value in source["logsource"].items()
        ):
            return source
    return None


def pipeline(source):
    """The entry as a pySigma pipeline: its table and its field renames."""
    items = [
        ProcessingItem(
            identifier="table",
            transformation=SetStateTransformation("table", source["tables"][0]),
        )
    ]
    if source.get("fields"):
        items.append(
            ProcessingItem(
                identifier="fields",
                transformation=FieldMappingTransformation(source["fields"]),
            )
        )
    return ProcessingPipeline(name="mcpforensics log sources", items=items)


def rule_files(paths):
    for path in map(Path, paths):
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml"))
        else:
            yield path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", required=True)
    parser.add_argument("--logsources", required=True)
    parser.add_argument("rules", nargs="+")
    args = parser.parse_args()
    connection = sqlite3.connect(":memory:")
    connection.create_function(
        "REGEXP", 2, lambda pattern, value: value is not None and re.search(pattern, str(value)) is not None
    )
    tables = {load(connection, p) for p in sorted(Path(args.records).glob("*.json"))}
    logsources = yaml.safe_load(Path(args.logsources).read_text(encoding="utf-8"))
    hits, refused = {}, {}
    for path in rule_files(args.rules):
        try:
            collection = SigmaCollection.from_yaml(path.read_text(encoding="utf-8"))
        except Exception as error:  # noqa: BLE001 - reported per rule, as the tool does
            refused[str(path)] = f"pySigma cannot read it: {error}"
            continue
        for rule in collection.rules:
            if not isinstance(rule, SigmaRule):
                refused[rule.title] = "a correlation (not compared)"
                continue
            source = source_of(rule, logsources)
            if source is None:
                refused[rule.title] = "its log source is not in the map"
                continue
            backend = sqliteBackend(pipeline(source))
            try:
                queries = backend.convert_rule(rule)
            except Exception as error:  # noqa: BLE001
                refused[rule.title] = f"pySigma cannot convert it: {error}"
                continue
            matched = set()
            try:
                for query in queries:
                    table = re.match(r'SELECT \* FROM "?([^" ]+)"? WHERE', query)
                    if table is None or table.group(1) not in tables:
                        raise LookupError(f"no records of its table: {query[:80]}")
                    cursor = connection.execute(
                        query.replace("SELECT *", 'SELECT "_blob", "_line"', 1)
                    )
                    matched.update(f"{blob}:{line}" for blob, line in cursor)
            except Exception as error:  # noqa: BLE001
                refused[rule.title] = f"SQLite cannot run it: {error}"
                continue
            hits[rule.title] = sorted(matched)
    json.dump({"hits": hits, "refused": refused}, sys.stdout, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
