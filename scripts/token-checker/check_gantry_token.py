# Offline check of a Gantry token (gtp_, gti_, gtr_, gtc_, gtk_): format and CRC32 checksum.
# Standard library only; a valid checksum says "this is a Gantry token", not that it is still live.
import re, sys, zlib

BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
TOKEN = re.compile(r"(gt[pirck]_[0-9A-Za-z]{30})([0-9A-Za-z]{6})")

def is_gantry_token(token: str) -> bool:
    match = TOKEN.fullmatch(token)
    if not match:
        return False
    value = zlib.crc32(match.group(1).encode("ascii"))
    checksum = ""  # 6 base62 digits, most significant first, left-padded with "0"
    for _ in range(6):
        value, digit = divmod(value, 62)
        checksum = BASE62[digit] + checksum
    return checksum == match.group(2)

if __name__ == "__main__":  # one token per line on stdin -> "valid" or "invalid" per line
    for line in sys.stdin:
        print("valid" if is_gantry_token(line.rstrip("\n")) else "invalid")
