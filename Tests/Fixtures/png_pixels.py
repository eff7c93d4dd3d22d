#!/usr/bin/env python3
"""Count pixels in a PNG screenshot, with nothing but the standard library (PIL is not assumed).

Usage: python3 png_pixels.py FILE [#RRGGBB ...]
Prints JSON: width, height, nonWhite (pixels that are not pure white) and, per colour asked for, how many pixels
have exactly that colour. The browser test uses it to see that a report's charts were actually drawn: chart
series are the only things painted in the palette colours. Handles 8-bit greyscale, RGB and RGBA, non-interlaced.
"""
import json
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise SystemExit("not a PNG: " + path)
    position, compressed = 8, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        chunk = data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", chunk)
            if depth != 8 or interlace or colour not in (0, 2, 6):
                raise SystemExit("unsupported PNG: depth %d colour %d interlace %d" % (depth, colour, interlace))
        elif kind == b"IDAT":
            compressed += chunk
    channels = {0: 1, 2: 3, 6: 4}[colour]
    return width, height, channels, unfilter(zlib.decompress(compressed), width * channels, height, channels)


def unfilter(raw, row_bytes, height, bpp):
    rows, previous = [], bytearray(row_bytes)
    for y in range(height):
        start = y * (row_bytes + 1)
        kind, row = raw[start], bytearray(raw[start + 1:start + 1 + row_bytes])
        if kind == 1:
            for i in range(bpp, row_bytes):
                row[i] = (row[i] + row[i - bpp]) & 0xFF
        elif kind == 2:
            row = bytearray((a + b) & 0xFF for a, b in zip(row, previous))
        elif kind == 3:
            for i in range(row_bytes):
                left = row[i - bpp] if i >= bpp else 0
                row[i] = (row[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(row_bytes):
                a = row[i - bpp] if i >= bpp else 0
                b, c = previous[i], previous[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                row[i] = (row[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(row))
        previous = row
    return rows


def main(path, colours):
    width, height, channels, rows = read_png(path)
    wanted = {c: tuple(int(c.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4)) for c in colours}
    counts = {c: 0 for c in colours}
    non_white = 0
    white = b"\xff" * (width * channels)
    for row in rows:
        if row == white:
            continue  # most of a report is background
        for x in range(width):
            pixel = row[x * channels:x * channels + 3] if channels >= 3 else bytes([row[x]] * 3)
            rgb = tuple(pixel)
            if rgb != (255, 255, 255):
                non_white += 1
                for name, colour in wanted.items():
                    if rgb == colour:
                        counts[name] += 1
    print(json.dumps({"width": width, "height": height, "nonWhite": non_white, "colours": counts}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
