"""The `nprnn` command (also `python -m nprnn`)."""
import argparse
import sys

GRADCHECK_BAR = 1e-7


def cmd_gradcheck(args):
    from .gradcheck import format_report, standard_checks

    rows = []
    for what, report in standard_checks(seed=args.seed):
        rows += [(what, name, err) for name, err in report.items()]
    print(format_report(rows, args.bar))
    worst = max(rows, key=lambda r: r[2])
    failed = [r for r in rows if r[2] > args.bar]
    print(f"\n{len(rows)} gradients checked in float64 against centred differences; "
          f"worst {worst[2]:.2e} ({worst[0]} {worst[1]}); bar {args.bar:.0e}: "
          f"{'FAIL' if failed else 'all ok'}")
    return 1 if failed else 0


def build_parser():
    parser = argparse.ArgumentParser(prog="nprnn", description="Sequence-to-sequence learning in NumPy.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("gradcheck", help="check every hand-written backward pass against finite differences")
    p.add_argument("--seed", type=int, default=0, help="seed of the random weights and inputs (default 0)")
    p.add_argument("--bar", type=float, default=GRADCHECK_BAR, help="largest relative error allowed (default 1e-7)")
    p.set_defaults(func=cmd_gradcheck)
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.func(args)
    except KeyboardInterrupt:
        print("nprnn: interrupted", file=sys.stderr)
        return 130
