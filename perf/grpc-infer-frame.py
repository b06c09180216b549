#!/usr/bin/env python3
"""Writes one gRPC frame for h2load -d: a 0 byte, the big-endian length, then
ModelInferRequest{model_name: MODEL, inputs: [input FP32 [1,3] = 12, 70.35, 844.2 as typed contents]}: a row of
the churn MLP. Usage: perf/grpc-infer-frame.py MODEL OUTPUT-FILE"""
import struct
import sys


def varint(v):
    out = b""
    while True:
        b = v & 0x7f
        v >>= 7
        out += bytes([b | (0x80 if v else 0)])
        if not v:
            return out


def field(n, wt, payload):
    return bytes([n << 3 | wt]) + (varint(len(payload)) + payload if wt == 2 else payload)


model, output = sys.argv[1], sys.argv[2]
floats = b"".join(struct.pack("<f", x) for x in (12, 70.35, 844.2))
contents = field(6, 2, floats)  # InferTensorContents.fp32_contents (field 6, packed)
tensor = field(1, 2, b"input") + field(2, 2, b"FP32") + field(3, 2, bytes([1, 3])) + field(5, 2, contents)
msg = field(1, 2, model.encode()) + field(5, 2, tensor)
with open(output, "wb") as f:
    f.write(b"\x00" + struct.pack(">I", len(msg)) + msg)
