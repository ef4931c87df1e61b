"""Reading real CSV files for ``python -m demos csv``: column by column, with the user's mistakes as
one-line ``DemoError``s, and the ``.npz`` model file that carries everything a prediction needs.

The reader streams the file: each cell goes straight into its column's compact array (8 bytes a
number, 8 bytes a category code), so memory stays near the size of the numbers, not of Python
objects. A cell that is empty or ``NA``/``nan``/``null``/``none`` is missing; a column whose cells are
all text is categorical; a column mixing numbers and text is an error naming the line and the cell.
"""
import csv
import json
import os
from array import array

import numpy as np

from . import DemoError

MISSING = frozenset({"", "na", "n/a", "nan", "null", "none"})  # compared lower-case
INDEX_NAMES = ("", "Unnamed: 0")  # the header pandas' to_csv gives an unnamed index
MAX_CATEGORIES = 50  # distinct text values a feature column may have (one-hot columns it becomes)
META_KEY = "meta.json"  # the model file's JSON member (UTF-8 bytes as a uint8 array)
PARAM_PREFIX = "param."


class Column:
    """One column read cell by cell: numbers (NaN where missing) or, when its cells are text,
    category codes (-1 where missing) with the categories in order of appearance.

    ``kind`` forces "number" or "category" (predicting with a model: cells must match training);
    ``typecode`` "f" keeps numbers as float32 (features: the model's precision), "d" as float64."""

    def __init__(self, path, name, kind=None, typecode="d"):
        self.path, self.name, self.kind, self.typecode = path, name, kind, typecode
        self.values = array(typecode)
        self.codes = array("q")
        self.categories = {}
        self.first = None  # (line, text) of the first non-missing cell

    def add(self, text, line):
        """Append one cell (``text`` as read, at file line ``line``)."""
        text = text.strip()
        if text.lower() in MISSING:
            (self.codes.append(-1) if self.kind == "category" else self.values.append(np.nan))
            return
        if self.kind is None:
            self.kind = "number" if _number(text) is not None else "category"
            if self.kind == "category":  # the missing cells before the first one read
                self.codes.extend([-1] * len(self.values))
                self.values = array(self.typecode)
        if self.kind == "category":
            if _number(text) is not None:
                where = f" (line {self.first[0]}: {self.first[1]!r})" if self.first else ""
                raise DemoError(f"{self.path}: line {line}, column {self.name!r}: {text!r} is a number in a "
                                f"text column{where}; make the column all numbers or all text")
            self.codes.append(self.categories.setdefault(text, len(self.categories)))
        else:
            value = _number(text)
            if value is None:
                raise DemoError(f"{self.path}: line {line}, column {self.name!r}: {text!r} is not a number")
            if not np.isfinite(value):
                raise DemoError(f"{self.path}: line {line}, column {self.name!r}: {text!r} is not a finite "
                                "number")
            self.values.append(value)
        if self.first is None:
            self.first = (line, text)

    def numbers(self):
        """The cells as a float array (NaN where missing), float32 or float64 as ``typecode`` says."""
        if self.kind == "category":
            raise DemoError(f"{self.path}: column {self.name!r} holds text ({self.first[1]!r} on line "
                            f"{self.first[0]}), not numbers")
        return np.frombuffer(self.values, dtype=np.float32 if self.typecode == "f" else np.float64)

    def codes_sorted(self):
        """``(names, codes)``: the categories sorted by name and each cell's index into them (-1: missing)."""
        names = sorted(self.categories)
        remap = np.array([names.index(c) for c in self.categories] + [-1], dtype=np.int64)
        return names, remap[np.frombuffer(self.codes, dtype=np.int64)]

    def __len__(self):
        return len(self.codes) if self.kind == "category" else len(self.values)


def _number(text):
    try:
        return float(text)
    except ValueError:
        return None


class Table:
    """The columns read from a CSV file: ``columns`` (name -> Column), ``header`` and the file
    ``lines`` of the data rows (int64 array)."""

    def __init__(self, path, header, columns, lines):
        self.path, self.header, self.columns, self.lines = path, header, columns, lines

    def __len__(self):
        return len(self.lines)


def read_header(path):
    """The stripped column names of ``path``; a ``DemoError`` for a missing, unreadable or empty file,
    a nameless column (other than a first-column index) or duplicate names."""
    if not os.path.exists(path):
        raise DemoError(f"{path}: no such file")
    if not os.path.isfile(path):
        raise DemoError(f"{path}: not a regular file (a directory, a device or a pipe?); give a CSV file")
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            for row in csv.reader(f):
                if any(cell.strip() for cell in row):
                    header = [cell.strip() for cell in row]
                    break
            else:
                raise DemoError(f"{path}: the file is empty")
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise DemoError(f"{path}: cannot read it as a CSV text file ({e})") from None
    nameless = [i + 1 for i, name in enumerate(header) if not name and i > 0]
    if nameless:
        raise DemoError(f"{path}: column(s) {', '.join(map(str, nameless))} have no name in the header row; "
                        "name them")
    seen, dupes = {}, {}
    for i, name in enumerate(header):
        if name in seen:
            dupes.setdefault(name, [seen[name]]).append(i + 1)
        seen.setdefault(name, i + 1)
    if dupes:
        listed = "; ".join(f"{name!r} (columns {', '.join(map(str, at))})" for name, at in dupes.items())
        raise DemoError(f"{path}: duplicate column names {listed}; give every column its own name")
    return header


def read_table(path, wanted=None, kinds=None, exact=()):
    """Stream ``path`` into a ``Table`` of the columns ``wanted`` (all when ``None``); ``kinds`` maps a
    name to the kind it must have ("number" or "category"); numbers are float32 but in the columns
    ``exact`` (a regression target), float64. Missing columns and ragged rows are ``DemoError``s."""
    header = read_header(path)
    names = header if wanted is None else list(wanted)
    absent = [n for n in names if n not in header]
    if absent:
        raise DemoError(f"{path}: missing column(s) {', '.join(map(repr, absent))}; the columns are "
                        f"{', '.join(map(repr, header))}")
    kinds = kinds or {}
    columns = {n: Column(path, n, kinds.get(n), "d" if n in exact else "f") for n in names}
    where = [(header.index(n), columns[n]) for n in names]
    lines = array("q")
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.reader(f)
        for row in reader:  # the header: the first non-blank row
            if any(cell.strip() for cell in row):
                break
        try:
            for row in reader:
                if len(row) != len(header):
                    if not any(cell.strip() for cell in row):
                        continue  # a blank line
                    raise DemoError(f"{path}: line {reader.line_num} has {len(row)} cells, the header "
                                    f"{len(header)}")
                for i, column in where:
                    column.add(row[i], reader.line_num)
                lines.append(reader.line_num)
        except (UnicodeDecodeError, csv.Error) as e:
            raise DemoError(f"{path}: line {reader.line_num}: cannot read it as CSV ({e})") from None
    if not lines:
        raise DemoError(f"{path}: the file has a header but no data rows")
    return Table(path, header, columns, np.frombuffer(lines, dtype=np.int64))


def is_index(table, name):
    """Whether column ``name`` is a saved row index: the first column, unnamed, counting 0..n-1."""
    if name != table.header[0] or name not in INDEX_NAMES or table.columns[name].kind != "number":
        return False
    values = table.columns[name].numbers()
    return bool(np.array_equal(np.sort(values), np.arange(len(values))))


# ----------------------------------------------------------------------------------------- features
def feature_spec(table, names):
    """How to encode the feature columns ``names``: one entry each, ``{"name", "kind": "number"}`` or
    ``{"name", "kind": "category", "categories": [...]}`` (one-hot, categories sorted)."""
    spec, wide = [], []
    for name in names:
        column = table.columns[name]
        if column.kind == "category":
            if len(column.categories) > MAX_CATEGORIES:
                wide.append(f"{name!r} ({len(column.categories)} values)")
            spec.append({"name": name, "kind": "category", "categories": sorted(column.categories)})
        else:
            spec.append({"name": name, "kind": "number"})
    if wide:
        raise DemoError(f"{table.path}: text column(s) {', '.join(wide)} have more than {MAX_CATEGORIES} "
                        "distinct values to one-hot encode; drop them or turn them into numbers")
    return spec


def encoded_names(spec):
    """The model's input names: a number column's own, ``name=category`` for each one-hot column."""
    return [name for s in spec for name in ([s["name"]] if s["kind"] == "number"
                                            else [f"{s['name']}={c}" for c in s["categories"]])]


def encode(table, spec):
    """The features of ``table`` encoded by ``spec`` as a float32 ``(n, d)`` array, NaN where a cell is
    missing (every one-hot column of a missing category); a category unknown to ``spec`` is an error."""
    width = sum(1 if s["kind"] == "number" else len(s["categories"]) for s in spec)
    x = np.empty((len(table), width), dtype=np.float32)
    j = 0
    for s in spec:
        column = table.columns[s["name"]]
        if s["kind"] == "number":
            x[:, j] = column.numbers()
            j += 1
            continue
        known = {c: k for k, c in enumerate(s["categories"])}
        unknown = [c for c in column.categories if c not in known]
        if unknown:
            raise DemoError(f"{table.path}: column {s['name']!r}: {unknown[0]!r} is not one of the "
                            f"categories seen in training ({', '.join(map(repr, s['categories']))})")
        order = np.array([known[c] for c in column.categories] + [-1], dtype=np.int64)
        codes = order[np.frombuffer(column.codes, dtype=np.int64)]
        block = x[:, j:j + len(known)]
        block[:] = 0.0
        block[codes >= 0, codes[codes >= 0]] = 1.0
        block[codes < 0] = np.nan
        j += len(known)
    return x


def missing_message(path, lines, mask, names, limit=4):
    """The one-line error for missing cells: which lines (and columns), and the flag that helps.
    ``mask`` is an ``(n, k)`` bool array over the columns ``names``."""
    rows = np.flatnonzero(mask.any(axis=1))
    shown = ", ".join(f"line {lines[r]} ({', '.join(repr(names[c]) for c in np.flatnonzero(mask[r]))})"
                      for r in rows[:limit])
    more = f" and {len(rows) - limit} more" if len(rows) > limit else ""
    return (f"{path}: {len(rows)} row(s) with empty or missing cells: {shown}{more}; pass --missing drop to "
            "leave those rows out or --missing mean to fill them with the column's training mean")


def column_of(spec):
    """For each encoded column, the name of the CSV column it comes from."""
    return [s["name"] for s in spec for _ in range(1 if s["kind"] == "number" else len(s["categories"]))]


# ----------------------------------------------------------------------------------------- model file
def save_model(path, state, meta):
    """Write ``state`` (name -> array) and ``meta`` (JSON-able) to the ``.npz`` ``path``."""
    arrays = {PARAM_PREFIX + k: np.asarray(v) for k, v in state.items()}
    arrays[META_KEY] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def load_model(path):
    """``(state, meta)`` from a file written by ``save_model``; never unpickles. Anything else is a
    one-line ``DemoError``."""
    if not os.path.isfile(path):
        raise DemoError(f"--model {path}: no such file" if not os.path.exists(path) else
                        f"--model {path}: not a regular file")
    try:
        with np.load(path, allow_pickle=False) as z:
            if META_KEY not in z.files:
                raise ValueError(f"it has no {META_KEY} member")
            meta = json.loads(z[META_KEY].tobytes().decode("utf-8"))
            state = {k[len(PARAM_PREFIX):]: z[k] for k in z.files if k.startswith(PARAM_PREFIX)}
    except DemoError:
        raise
    except Exception as e:  # a damaged or foreign file: zipfile, numpy and json each raise their own
        raise DemoError(f"--model {path}: not a model saved by `python -m demos csv` ({e})") from None
    for key in ("task", "target", "spec", "sizes", "x_mean", "x_std"):
        if key not in meta:
            raise DemoError(f"--model {path}: not a model saved by `python -m demos csv` (no {key!r})")
    return state, meta
