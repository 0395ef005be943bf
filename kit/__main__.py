"""python -m kit sandbox [--host H] [--port P] [--db FILE] [--rate-limit N]
python -m kit inspect BLOB | -    (say what a pasted value is; - reads standard input)"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kit", description="xchat-kit command line")
    sub = parser.add_subparsers(dest="command", required=True)
    sb = sub.add_parser("sandbox", help="serve the sandbox X API over HTTP (for a workshop room, curl, other SDKs)")
    sb.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for a room)")
    sb.add_argument("--port", type=int, default=8000)
    sb.add_argument("--db", default=None, help="SQLite file to keep state in (default: memory)")
    sb.add_argument("--rate-limit", type=int, default=None, help="requests per user and endpoint per 15 minutes (default: off)")
    ins = sub.add_parser("inspect", help="say what a pasted blob, body or error is, field by field")
    ins.add_argument("blob", help="base64, hex, JSON, a signed text or an error message; - reads standard input")
    args = parser.parse_args(argv)
    if args.command == "inspect":
        return _inspect(args.blob)
    if args.command == "sandbox":
        from kit.sandbox import serve

        serve(host=args.host, port=args.port, db=args.db, rate_limit=args.rate_limit)
    return 0


def _inspect(blob: str) -> int:
    import kit

    text = sys.stdin.read() if blob == "-" else blob
    found = kit.inspect(text)
    print(found.text())
    return 0 if found.kind != "unknown" else 1


if __name__ == "__main__":
    sys.exit(main())
