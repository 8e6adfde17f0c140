#!/usr/bin/env python3
"""Reads a run's gradient record (gradients.rec, docs/diagnostics.md "The gradient record") into numpy.

    from read_record import read_record
    header, records = read_record("runs/mmoe/gradients.rec")
    header["T"], header["P"], header["meta"]["tasks"]
    records[0]["step"], records[0]["losses"], records[0]["weights"]   # weights: None if not a weighting
    records[0]["J"] (T x P), records[0]["d"] (P)                      # content "jacobian"
    records[0]["G"] (T x T), records[0]["Jd"] (T), records[0]["dd"]   # content "gramian"

As a script it prints one line per record (step, losses, |d|). A truncated or corrupt file raises
ValueError naming the file and the byte offset, after yielding the whole records before it
(iter_records) -- read_record raises on it.
"""
import json
import struct
import sys
import zlib

import numpy as np

MAGIC = b"MTLGREC\n"
TAG = b"REC1"


def _fail(path, offset, what):
    raise ValueError(f"{path}: {what} at offset {offset}")


def read_header(path, data):
    if len(data) < 32:
        _fail(path, 0, "truncated header")
    if data[:8] != MAGIC:
        _fail(path, 0, "not a gradient record (bad magic)")
    version, T, P, real_size, content, _, m = struct.unpack_from("<IIQBBHI", data, 8)
    if version != 1:
        _fail(path, 8, f"format version {version}")
    if len(data) < 36 + m:
        _fail(path, 32, "truncated header")
    crc = struct.unpack_from("<I", data, 32 + m)[0]
    if crc != zlib.crc32(data[: 32 + m]) & 0xFFFFFFFF:
        _fail(path, 32 + m, "header checksum mismatch")
    if real_size not in (4, 8) or content not in (0, 1):
        _fail(path, 24, "unknown real size or content")
    meta = json.loads(data[32 : 32 + m].decode("utf-8"))
    header = {"version": version, "T": T, "P": P, "real_size": real_size,
              "content": "jacobian" if content == 0 else "gramian", "meta": meta}
    return header, 36 + m


def iter_records(path):
    """Yields (header, record) for each whole record; raises ValueError at a cut or corrupt one."""
    with open(path, "rb") as f:
        data = f.read()
    header, off = read_header(path, data)
    T, P = header["T"], header["P"]
    dtype = np.dtype("<f8" if header["real_size"] == 8 else "<f4")
    rs = dtype.itemsize
    while off < len(data):
        at = off
        if len(data) - off < 24:
            _fail(path, at, "truncated record")
        if data[off : off + 4] != TAG:
            _fail(path, at, "corrupt record (no REC1 tag)")
        n, raw_n, crc = struct.unpack_from("<QQI", data, off + 4)
        off += 24
        if n > len(data) - off:
            _fail(path, at, "truncated record")
        z = data[off : off + n]
        off += n
        if zlib.crc32(z) & 0xFFFFFFFF != crc:
            _fail(path, at, "corrupt record (checksum mismatch)")
        raw = zlib.decompress(z)
        if len(raw) != raw_n:
            _fail(path, at, "corrupt record (length)")
        step, rng_n = struct.unpack_from("<QI", raw, 0)
        p = 12
        rng = json.loads(raw[p : p + rng_n].decode("utf-8"))
        p += rng_n
        has_w = raw[p] != 0
        p += 1

        def take(k):
            nonlocal p
            a = np.frombuffer(raw, dtype=dtype, count=k, offset=p).copy()
            p += k * rs
            return a

        rec = {"step": step, "rng": rng, "losses": take(T), "weights": take(T) if has_w else None}
        if header["content"] == "jacobian":
            rec["d"] = take(P)
            rec["J"] = take(T * P).reshape(T, P)
        else:
            rec["G"] = take(T * T).reshape(T, T)
            rec["Jd"] = take(T)
            rec["dd"] = float(take(1)[0])
        if p != len(raw):
            _fail(path, at, "corrupt record (sizes disagree with T and P)")
        yield header, rec


def read_record(path):
    """(header, [records]) of the whole file."""
    records = []
    header = None
    for header, rec in iter_records(path):
        records.append(rec)
    if header is None:
        with open(path, "rb") as f:
            header, _ = read_header(path, f.read())
    return header, records


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: read_record.py RUN_DIR/gradients.rec", file=sys.stderr)
        sys.exit(2)
    try:
        header, records = read_record(sys.argv[1])
    except (ValueError, OSError) as e:
        print(f"read_record.py: error: {e}", file=sys.stderr)
        sys.exit(1)
    print(f"T = {header['T']}, P = {header['P']}, {header['content']}, {header['real_size']}-byte reals, "
          f"tasks {header['meta'].get('tasks')}")
    for r in records:
        dn = np.linalg.norm(r["d"]) if "d" in r else np.sqrt(r["dd"])
        print(f"step {r['step']}: losses {np.array2string(r['losses'], precision=4)}  |d| {dn:.6g}")
