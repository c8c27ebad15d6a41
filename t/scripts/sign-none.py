"""Wrap a jobspec read on stdin in a "none" signature claiming a userid

Prints J, the signed jobspec that `flux job submit --flags=signed` takes.
flux-core built without flux-security accepts such a J when the request
comes from that userid, which lets a test instance's owner submit as
another user (FLUX_HANDLE_USERID, FLUX_HANDLE_ROLEMASK=0x2).

Usage: flux python sign-none.py USERID <jobspec.json >J
"""

import base64
import sys


def sign_none(payload, userid):
    """Return payload wrapped in a "none" mechanism envelope for userid"""
    fields = ["version", "i1", "userid", f"i{userid}", "mechanism", "snone"]
    header = "".join(field + "\0" for field in fields).encode()
    return ".".join(
        [
            base64.b64encode(header).decode(),
            base64.b64encode(payload).decode(),
            "none",
        ]
    )


def main():
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("Usage: sign-none.py USERID <jobspec.json")
    print(sign_none(sys.stdin.buffer.read().strip(), int(sys.argv[1])))


if __name__ == "__main__":
    main()
