"""``python -m demos`` lists the demos; ``python -m demos NAME [options]`` runs one.

Every demo writes its plots and ``report.json`` into ``--out`` (default ``results/``, so
``python -m demos moons`` leaves ``results/decision_boundary.png``) and ends with a short text report;
give each demo its own ``--out`` to keep several demos' files side by side. Errors a user can
cause (a bad CSV, a bad option) print one line on stderr and exit with status 2.
"""
import argparse
import os
import sys

from . import DEMOS, DemoError, check_out_dir, load

USAGE = "python -m demos NAME [--epochs N --lr X --batch-size N --seed N --out DIR --quick --quiet]"


def _positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}")
        return value
    return parse


def _extra_arguments(name, p):
    """The options only some demos have."""
    if name == "digits":
        p.add_argument("--model", choices=("mlp", "cnn", "both"), default="both",
                       help="which network(s) to train (default: both)")
        p.add_argument("--vs-torch", action="store_true",
                       help="also train the same architecture in PyTorch from the same initial weights "
                            "and compare accuracy and time")
    elif name == "csv":
        p.add_argument("path", nargs="?", metavar="FILE",
                       help="a CSV file with a header row (default with no --model: demos/data/fruit.csv)")
        p.add_argument("--target", metavar="COLUMN", help="the column to predict")
        p.add_argument("--predict", metavar="NEW_CSV",
                       help="a CSV with the same feature columns (target optional): write predictions.csv")
        p.add_argument("--model", metavar="MODEL_NPZ",
                       help="predict --predict's rows with a model saved by an earlier run (its model.npz)")
        p.add_argument("--missing", choices=("error", "drop", "mean"), default="error",
                       help="empty or NA cells: stop with the rows named (default), drop those rows, or "
                            "fill them with the column's training mean")
        p.add_argument("--task", choices=("auto", "classification", "regression"), default="auto",
                       help="auto: classification for a text target or an integer-valued one with few "
                            "distinct values (default)")
        p.add_argument("--hidden", type=_positive(int), metavar="N", help="hidden units per layer")
    elif name == "scratch":
        p.add_argument("--samples", type=_positive(int), metavar="N", help="number of moons points")


def build_parser():
    training = argparse.ArgumentParser(add_help=False)
    g = training.add_argument_group("training")
    g.add_argument("--epochs", type=_positive(int), metavar="N", help="training epochs (default: the demo's)")
    g.add_argument("--lr", type=_positive(float), metavar="X", help="learning rate (default: the demo's)")
    g.add_argument("--batch-size", type=_positive(int), metavar="N",
                   help="mini-batch size (default: the demo's)")
    g.add_argument("--seed", type=int, default=0, metavar="N", help="random seed (default: 0)")
    output = argparse.ArgumentParser(add_help=False)
    o = output.add_argument_group("output")
    o.add_argument("--out", default="results", metavar="DIR",
                   help="write the files into DIR (default: results)")
    o.add_argument("--quick", action="store_true",
                   help="a few seconds: fewer epochs and less data, lower targets")
    o.add_argument("--quiet", action="store_true", help="no progress bars")

    parser = argparse.ArgumentParser(prog="python -m demos", usage=USAGE,
                                     description="chainrule's demos. Run one by NAME.")
    sub = parser.add_subparsers(dest="demo", metavar="NAME")
    for name, (_, line) in DEMOS.items():
        parents = [output] if name == "graph" else [training, output]
        p = sub.add_parser(name, parents=parents, help=line, description=line, prog=f"python -m demos {name}")
        _extra_arguments(name, p)
    return parser


def list_demos():
    width = max(map(len, DEMOS))
    lines = ["chainrule demos. Run one with:", f"  {USAGE}", ""]
    lines += [f"  {name:<{width}}  {line}" for name, (_, line) in DEMOS.items()]
    lines += ["", "Files go to --out DIR (default results/). "
                  "`python -m demos NAME --help` shows a demo's options."]
    return "\n".join(lines)


def missing_dependencies_hint(name, error):
    """One line for a Python that lacks what the demos need (``error``: the ``ImportError``)."""
    missing = getattr(error, "name", None) or str(error)
    if missing == "torch":
        return (f"python -m demos {name}: this needs PyTorch, which this Python ({sys.executable}) does not "
                "have; `make test` installs it into .venv (the version in constraints.txt)")
    return (f"python -m demos {name}: this Python ({sys.executable}) has no module {missing!r}; run "
            f"`make demo DEMO={name}` (it creates .venv with the demos' dependencies), or "
            f"`.venv/bin/python -m demos {name}` once .venv exists")


def main(argv=None):
    """Run the CLI; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv or argv[0] in ("list", "--list"):
        print(list_demos())
        return 0
    args = build_parser().parse_args(argv)
    if args.demo is None:
        print(list_demos())
        return 0
    options = vars(args)
    name = options.pop("demo")
    out_dir = options.pop("out")
    try:
        check_out_dir(out_dir)
        module = load(name)
    except ImportError as e:  # the system Python, without the demos' dependencies
        print(missing_dependencies_hint(name, e), file=sys.stderr)
        return 1
    except DemoError as e:
        print(f"python -m demos {name}: error: {e}", file=sys.stderr)
        return 2
    try:
        module.main(out_dir, **options)
    except ImportError as e:  # an optional dependency, such as torch for --vs-torch
        print(missing_dependencies_hint(name, e), file=sys.stderr)
        return 1
    except DemoError as e:
        print(f"python -m demos {name}: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"python -m demos {name}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
