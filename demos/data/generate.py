"""Writes the example CSVs next to this file (seeded, so the output never changes):

- ``fruit.csv``: 200 rows, four numeric measurements and the class column ``kind`` (0, 1 or 2);
- ``new.csv``: 12 more rows of the same measurements without ``kind``, to predict.

``python demos/data/generate.py`` rewrites both; ``python -m demos csv demos/data/fruit.csv
--target kind --predict demos/data/new.csv`` uses them.
"""
import os

import numpy as np

COLUMNS = ("weight_g", "length_cm", "width_cm", "sugar_pct")
# per class: mean and spread of each column (three kinds of fruit that overlap a little)
MEANS = np.array([[150.0, 7.5, 7.0, 10.0], [120.0, 18.0, 3.5, 15.0], [170.0, 9.0, 8.5, 8.0]])
SPREADS = np.array([[18.0, 0.8, 0.7, 1.5], [15.0, 2.0, 0.5, 2.0], [20.0, 1.0, 0.8, 1.5]])


def rows(n, rng):
    kind = rng.integers(0, 3, size=n)
    x = MEANS[kind] + SPREADS[kind] * rng.standard_normal((n, len(COLUMNS)))
    return np.round(x, 2), kind


def write(path, x, kind=None):
    with open(path, "w") as f:
        f.write(",".join(COLUMNS + (("kind",) if kind is not None else ())) + "\n")
        for i, row in enumerate(x):
            cells = [f"{v:g}" for v in row] + ([str(kind[i])] if kind is not None else [])
            f.write(",".join(cells) + "\n")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    rng = np.random.default_rng(2024)
    x, kind = rows(200, rng)
    write(os.path.join(here, "fruit.csv"), x, kind)
    x_new, _ = rows(12, rng)
    write(os.path.join(here, "new.csv"), x_new)


if __name__ == "__main__":
    main()
