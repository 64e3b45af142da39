#!/usr/bin/env python3
"""Check scan-conformance golden fixtures with numpy alone (no safetensors package).

A fixture is a safetensors file: an 8-byte little-endian header length N, N bytes of JSON
(tensor name -> dtype, shape, data_offsets; plus "__metadata__", a map of strings), then raw
little-endian row-major data. Inputs are float32 ("input.a", ...); the reference's outputs
("output.h", ...), condition scales ("scale.h") and depth scales ("depth.h") are float64.

This script recomputes prefix-sum and linear-recurrence fixtures with a plain sequential
float64 recurrence and compares with the expected outputs, within the rounding error a
sequential float64 loop can make: |got - expected| <= 2^-53 * (4 W + 6 S) + L * 2^-1074, where
S is the condition scale and W the depth scale stored in the fixture (twice the bound of the
sequential order, 2W + 3S units of roundoff, for margin). Other families, and cases of another
form (a "form" metadata key: ssd's "varlen", or "vjp" for a gradient case), are reported as skipped.

Usage:
  python3 check_fixture.py FILE.safetensors [FILE ...]
  python3 check_fixture.py --all path/to/fixtures     # every supported case of manifest.json,
                                                      # each file's SHA-256 checked first
Exit status: 0 when every checked fixture matches, 1 when one does not or none was checked (every
case skipped), 2 for usage errors.
"""

import argparse
import hashlib
import json
import os
import struct
import sys

import numpy as np

MAX_HEADER_BYTES = 100_000_000
DTYPES = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I32": "<i4", "I64": "<i8", "U8": "u1", "BOOL": "u1"}
UNIT_ROUNDOFF = 2.0 ** -53
SMALLEST_SUBNORMAL = 2.0 ** -1074
SUPPORTED = ("prefix-sum", "linear-recurrence")


class FixtureFormatError(Exception):
    """A file that is not a well-formed safetensors fixture."""


def read_safetensors(path):
    """Return (metadata dict, {name: numpy array}) of a safetensors file, validating its layout."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise FixtureFormatError(f"{path}: expected at least 8 bytes, got {len(data)}")
    (header_length,) = struct.unpack("<Q", data[:8])
    if header_length > MAX_HEADER_BYTES or 8 + header_length > len(data):
        raise FixtureFormatError(f"{path}: header length {header_length} does not fit the file ({len(data)} bytes)")
    header_text = data[8 : 8 + header_length].decode("utf-8")
    if not header_text.startswith("{"):
        raise FixtureFormatError(f"{path}: header does not start with '{{'")
    header = json.loads(header_text)
    metadata = header.pop("__metadata__", {})
    buffer = memoryview(data)[8 + header_length :]
    tensors = {}
    end = 0
    for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"]):
        begin, stop = info["data_offsets"]
        if begin != end:
            raise FixtureFormatError(f"{path}: tensor {name} starts at {begin}, expected {end}")
        dtype = np.dtype(DTYPES[info["dtype"]])
        count = int(np.prod(info["shape"], dtype=np.int64))
        if stop - begin != count * dtype.itemsize:
            raise FixtureFormatError(f"{path}: tensor {name} has {stop - begin} bytes, expected {count * dtype.itemsize}")
        tensors[name] = np.frombuffer(buffer[begin:stop], dtype=dtype).reshape(info["shape"])
        end = stop
    if end != len(buffer):
        raise FixtureFormatError(f"{path}: tensors cover {end} of {len(buffer)} data bytes")
    return metadata, tensors


def prefix_sum(x, exclusive, reverse):
    """y_t = sum of x_k for k <= t (k < t exclusive), or from the end when reverse; sequential, float64."""
    x = x.astype(np.float64)
    batch, dim, length = x.shape
    y = np.zeros((batch, dim, length))
    running = np.zeros((batch, dim))
    steps = range(length - 1, -1, -1) if reverse else range(length)
    for t in steps:
        if exclusive:
            y[:, :, t] = running
            running = running + x[:, :, t]
        else:
            running = running + x[:, :, t]
            y[:, :, t] = running
    return {"y": y}


def linear_recurrence(a, b, h0, reverse):
    """h_t = a_t * h_(t-1) + b_t from h0 (forward), or h_t = a_t * h_(t+1) + b_t (reverse); float64."""
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    batch, dim, length = a.shape
    h = np.zeros((batch, dim, length))
    state = np.zeros((batch, dim)) if h0 is None else h0.astype(np.float64)
    steps = range(length - 1, -1, -1) if reverse else range(length)
    for t in steps:
        state = a[:, :, t] * state + b[:, :, t]
        h[:, :, t] = state
    return {"h": h, "lastState": state}


def check_file(path):
    """Recompute one fixture; return (status, message) with status 'pass', 'fail' or 'skip'."""
    metadata, tensors = read_safetensors(path)
    family = metadata.get("family")
    case_id = metadata.get("caseId", path)
    if metadata.get("form") is not None:
        # ssd's variable-length form ('varlen', packed sequences) and gradient cases ('vjp'): read by the suite's loader only.
        return "skip", f"SKIP {case_id}: form {metadata['form']!r}; this example reads ordinary cases only"
    if family not in SUPPORTED:
        return "skip", f"SKIP {case_id}: this example recomputes {', '.join(SUPPORTED)} only"
    options = json.loads(metadata["options"])
    if family == "prefix-sum":
        outputs = prefix_sum(tensors["input.x"], options["exclusive"], options["reverse"])
        length = tensors["input.x"].shape[2]
    else:
        outputs = linear_recurrence(tensors["input.a"], tensors["input.b"], tensors.get("input.h0"), options["reverse"])
        length = tensors["input.a"].shape[2]
    worst = 0.0
    for name, got in outputs.items():
        expected = tensors[f"output.{name}"]
        bound = UNIT_ROUNDOFF * (4 * tensors[f"depth.{name}"] + 6 * tensors[f"scale.{name}"]) + (length + 1) * SMALLEST_SUBNORMAL
        error = np.abs(got - expected)
        if got.shape != expected.shape:
            return "fail", f"FAIL {case_id}: {name} has shape {got.shape}, expected {expected.shape}"
        if not np.all(np.isfinite(got)) or np.any(error > bound):
            index = int(np.argmax(np.where(np.isfinite(error), error / bound, np.inf)))
            flat_got, flat_expected = got.reshape(-1), expected.reshape(-1)
            return "fail", (
                f"FAIL {case_id}: {name}[{np.unravel_index(index, got.shape)}] = {flat_got[index]!r}, "
                f"expected {flat_expected[index]!r} (bound {bound.reshape(-1)[index]:.3g})"
            )
        if error.size:
            worst = max(worst, float(np.max(error / bound)))
    return "pass", f"PASS {case_id}: worst error {worst:.3g} of the bound"


def manifest_files(folder):
    """The supported fixture files listed in folder/manifest.json, each SHA-256 checked, and how many cases were left out."""
    with open(os.path.join(folder, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    files = []
    left_out = 0
    root = os.path.realpath(folder)
    for case in manifest["cases"]:
        if case["family"] not in SUPPORTED or case.get("form") is not None:
            left_out += 1
            continue
        path = os.path.realpath(os.path.join(root, case["file"]))
        if os.path.commonpath([root, path]) != root:
            raise FixtureFormatError(f"{case['file']}: leaves the fixtures folder")
        with open(path, "rb") as f:
            digest = hashlib.sha256(f.read()).hexdigest()
        if digest != case["sha256"]:
            raise FixtureFormatError(f"{case['file']}: SHA-256 {digest}, manifest says {case['sha256']}")
        files.append(path)
    return files, left_out


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", help="fixture files (.safetensors)")
    parser.add_argument("--all", metavar="DIR", help="check every supported case of DIR/manifest.json")
    args = parser.parse_args(argv)
    if not args.files and args.all is None:
        parser.print_usage(sys.stderr)
        return 2
    counts = {"pass": 0, "fail": 0, "skip": 0}
    try:
        listed, left_out = manifest_files(args.all) if args.all else ([], 0)
    except (OSError, ValueError, KeyError, FixtureFormatError) as error:
        print(f"FAIL manifest: {error}")
        return 1
    files = list(args.files) + listed
    if left_out:
        counts["skip"] += left_out
        print(f"SKIP {left_out} case(s) of {os.path.join(args.all, 'manifest.json')}: gradient or varlen form, or a family other than {', '.join(SUPPORTED)}")
    for path in files:
        try:
            status, message = check_file(path)
        except (OSError, ValueError, KeyError, FixtureFormatError) as error:
            status, message = "fail", f"FAIL {path}: {error}"
        counts[status] += 1
        print(message)
    print(f"{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped (numpy {np.__version__})")
    if counts["pass"] + counts["fail"] == 0:
        # A run that checked nothing is not a pass.
        print(f"FAIL nothing checked: no ordinary {' or '.join(SUPPORTED)} case among those given")
        return 1
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
