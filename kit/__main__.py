"""python -m kit sandbox [--host H] [--port P] [--db FILE] [--rate-limit N | --no-rate-limit]
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
    sb.add_argument("--rate-limit", type=int, default=None,
                    help="requests per user and endpoint per 15 minutes (default 300; users created per address: 60)")
    sb.add_argument("--no-rate-limit", action="store_true", help="no rate limits at all (load tests, a room of one)")
    sb.add_argument("--limit-concurrency", type=int, default=None, help="connections and requests at once (default 200)")
    sb.add_argument("--header-timeout", type=float, default=None, help="seconds a connection has to send a request head (default 10)")
    ins = sub.add_parser("inspect", help="say what a pasted blob, body or error is, field by field")
    ins.add_argument("blob", help="base64, hex, JSON, a signed text or an error message; - reads standard input")
    args = parser.parse_args(argv)
    if args.command == "inspect":
        return _inspect(args.blob)
    if args.command == "sandbox":
        from kit.sandbox import server

        if args.no_rate_limit and args.rate_limit is not None:
            parser.error("--rate-limit and --no-rate-limit do not go together")
        limits = {"rate_limit": None, "user_creation_limit": None} if args.no_rate_limit else {
            "rate_limit": args.rate_limit or server.ROOM_RATE_LIMIT, "user_creation_limit": server.ROOM_USER_CREATION_LIMIT}
        server.serve(
            host=args.host,
            port=args.port,
            db=args.db,
            limit_concurrency=args.limit_concurrency or server.LIMIT_CONCURRENCY,
            header_timeout_s=args.header_timeout or server.HEADER_TIMEOUT_S,
            **limits,
        )
    return 0


def _inspect(blob: str) -> int:
    import kit

    text = sys.stdin.read() if blob == "-" else blob
    found = kit.inspect(text)
    print(found.text())
    return 0 if found.kind != "unknown" else 1


if __name__ == "__main__":
    sys.exit(main())
