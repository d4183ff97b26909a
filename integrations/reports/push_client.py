"""mlaudit-report: push a CI report to mlaudit. Standard library only, so a CI job can use it after
`pip install mlaudit` or by downloading this one file.

    mlaudit-report push --url https://mlaudit.example.com --token "$MLAUDIT_PUSH_TOKEN" \\
        --project churn-forecast --kind junit report.xml --run-id "$CI_RUN_ID" --run-url "$CI_RUN_URL"

Exits 0 when the report was stored (or had been already), 1 with the server's sentence when it was refused,
2 on wrong usage or an unreadable file. `--url`, `--token` and `--project` default to MLAUDIT_URL,
MLAUDIT_TOKEN and MLAUDIT_PROJECT.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

KINDS = ("junit", "great_expectations", "evidently", "prometheus_rules")


def multipart(fields: dict[str, str], file_field: str, path: Path) -> tuple[bytes, str]:
    boundary = f"mlaudit-{uuid.uuid4().hex}"
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    safe_name = path.name.replace('"', "")
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{safe_name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
    )
    parts.append(path.read_bytes())
    parts.append(f"\r\n--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def push(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"mlaudit-report: {path} is not a file.", file=sys.stderr)
        return 2
    fields = {"kind": args.kind}
    for name in ("run_id", "run_url", "commit", "source"):
        if getattr(args, name):
            fields[name] = getattr(args, name)
    body, content_type = multipart(fields, "file", path)
    url = f"{args.url.rstrip('/')}/api/v1/projects/{args.project}/reports/"
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Authorization": f"Token {args.token}", "Content-Type": content_type, "Accept": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
            result: dict[str, Any] = json.load(response)
    except urllib.error.HTTPError as error:
        print(f"mlaudit-report: refused ({error.code}): {_message(error)}", file=sys.stderr)
        return 1
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        print(f"mlaudit-report: could not reach {args.url}: {error}", file=sys.stderr)
        return 1
    state = "stored" if result.get("created") else "already stored for this run"
    print(f"Report {result.get('id')} {state}: {result.get('checks')} checks, {result.get('mapped')} mapped.")
    for finding in result.get("findings", []):
        level = finding.get("suggested_status") or finding.get("result")
        print(f"  {finding.get('item')}: {level}")
    if result.get("unmapped"):
        print(f"  unmapped: {', '.join(result['unmapped'][:20])}")
    return 0


def _message(error: urllib.error.HTTPError) -> str:
    try:
        envelope = json.load(error)
        return str(envelope["error"]["message"]) + (
            f" {json.dumps(envelope['error']['fields'])}" if envelope["error"].get("fields") else ""
        )
    except (ValueError, KeyError, TypeError):
        return error.reason if isinstance(error.reason, str) else str(error)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mlaudit-report", description="Push a CI report to mlaudit.")
    commands = parser.add_subparsers(dest="command", required=True)
    send = commands.add_parser("push", help="push one report file")
    send.add_argument("file")
    send.add_argument("--kind", required=True, choices=KINDS)
    send.add_argument("--url", default=os.environ.get("MLAUDIT_URL"))
    send.add_argument("--token", default=os.environ.get("MLAUDIT_TOKEN"))
    send.add_argument("--project", default=os.environ.get("MLAUDIT_PROJECT"))
    send.add_argument("--run-id", dest="run_id", default="")
    send.add_argument("--run-url", dest="run_url", default="")
    send.add_argument("--commit", default="")
    send.add_argument("--source", default="")
    send.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args(argv)
    missing = [name for name in ("url", "token", "project") if not getattr(args, name)]
    if missing:
        parser.error(f"give {', '.join('--' + m for m in missing)} (or set MLAUDIT_{missing[0].upper()})")
    return push(args)


if __name__ == "__main__":
    sys.exit(main())
