"""Run ``nn.load`` on hostile files in a process whose address space is capped, so that a loader that
reads a bomb whole fails with ``MemoryError`` here instead of taking the machine down.

``python capped_load.py CAP_MIB JOB`` where ``JOB`` is JSON: ``{"load": [[path, kwargs], ...]}``
prints one outcome per file; ``{"mutate": path}`` loads every single-byte flip and every proper prefix
of ``path`` and prints the ones that neither load identically nor raise ``ValueError``.
"""
import json
import os
import resource
import sys
import tempfile


def outcome(path, kwargs):
    """What ``nn.load`` did: ``{"outcome": "loaded" | exception name, "message": ...}``."""
    import nn
    try:
        nn.load(path, **kwargs)
    except Exception as e:  # noqa: BLE001 - the test wants to see exactly what escaped
        return {"outcome": type(e).__name__, "message": str(e)}
    return {"outcome": "loaded", "message": ""}


def same(a, b):
    """Whether two loaded values are equal in structure, types, dtypes and bits."""
    import numpy as np
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (type(a) is type(b) and a.dtype == b.dtype and a.shape == b.shape
                and a.tobytes() == b.tobytes())
    if isinstance(a, dict):
        return (type(b) is type(a) and list(a) == list(b)
                and all(same(a[k], b[k]) for k in a))
    if isinstance(a, (list, tuple)):
        return type(b) is type(a) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and repr(a) == repr(b)


def mutants(raw):
    """Every single-byte flip (all eight bits) and every proper prefix of ``raw``."""
    for i in range(len(raw)):
        flipped = bytearray(raw)
        flipped[i] ^= 0xFF
        yield f"byte {i} flipped", bytes(flipped), True
    for n in range(len(raw)):
        yield f"first {n} bytes", raw[:n], False


def mutate(path):
    """The mutants of ``path`` that loaded differently or raised something other than ValueError."""
    import nn
    with open(path, "rb") as f:
        raw = f.read()
    reference = nn.load(path)
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        target = os.path.join(tmp, "m.npz")
        for what, data, may_load in mutants(raw):
            with open(target, "wb") as f:
                f.write(data)
            try:
                loaded = nn.load(target)
            except ValueError:
                continue
            except Exception as e:  # noqa: BLE001
                bad.append(f"{what}: {type(e).__name__}: {e}")
                continue
            if not (may_load and same(loaded, reference)):
                bad.append(f"{what}: loaded {'differently' if may_load else 'a truncated file'}")
    return {"checked": 2 * len(raw), "bad": bad}


def main():
    cap = int(sys.argv[1]) << 20
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    job = json.loads(sys.argv[2])
    if "mutate" in job:
        result = mutate(job["mutate"])
    else:
        result = [outcome(path, kwargs) for path, kwargs in job["load"]]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
