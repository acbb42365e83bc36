"""An independent TOTP implementation (pyotp) for the second-factor tests.

usage: totp.py OTPAUTH_URI UNIX_TIME
Parses the otpauth:// URI Authify shows at enrolment (as an authenticator app would) and prints
the code for that time. Fails if the URI is not what authenticator apps expect.
"""

import sys

import pyotp


def main() -> int:
    uri, at = sys.argv[1], int(sys.argv[2])
    otp = pyotp.parse_uri(uri)
    if not isinstance(otp, pyotp.TOTP):
        print(f"not a TOTP URI: {uri}", file=sys.stderr)
        return 1
    if otp.digits != 6 or otp.interval != 30 or otp.digest().name != "sha1":
        print(f"unexpected parameters: {otp.digits} digits, {otp.interval}s", file=sys.stderr)
        return 1
    print(otp.at(at))
    return 0


if __name__ == "__main__":
    sys.exit(main())
