#!/usr/bin/python3
"""Open-loop HTTP/1.1 load for perf/bench-rollout.sh: POSTs v2 REST requests at a fixed rate over a pool of
keep-alive connections and records, per request, the scheduled and actual send time, the receive time (wall clock,
time.time(), so they compare with the sidecar's decision timestamps), the status and the x-gantry-variant header.

  rollout-load.py URL RATE SECONDS BODIES_FILE OUT_TSV [CONNECTIONS=32] [USER_PREFIX=u]

BODIES_FILE holds one JSON body per line; request i sends body i mod n and x-user-id PREFIX-i (a new sticky key per
request, so the endpoint's weights split the traffic). Latency counts from the scheduled send time, so a stall of the
server is not hidden by a waiting client (open loop). Prints one JSON summary line on stdout.
"""
import asyncio
import json
import sys
import time
from urllib.parse import urlsplit


def main():
    url, rate, secs, bodies_file, out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5]
    conns = int(sys.argv[6]) if len(sys.argv) > 6 else 32
    prefix = sys.argv[7] if len(sys.argv) > 7 else "u"
    u = urlsplit(url)
    bodies = [l.strip().encode() for l in open(bodies_file) if l.strip()]
    heads = [(f"POST {u.path} HTTP/1.1\r\nhost: {u.hostname}:{u.port}\r\ncontent-type: application/json\r\n"
              f"content-length: {len(b)}\r\nx-user-id: {prefix}-").encode() for b in bodies]
    records = []  # (sched, sent, recv, status, variant)
    queue = asyncio.Queue()

    async def read_response(reader):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        variant, length, chunked = "-", 0, False
        for h in lines[1:]:
            k, _, v = h.partition(":")
            k = k.strip().lower()
            if k == "content-length":
                length = int(v)
            elif k == "x-gantry-variant":
                variant = v.strip()
            elif k == "transfer-encoding" and "chunked" in v.lower():
                chunked = True
        if chunked:
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                await reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await reader.readexactly(length)
        return status, variant

    async def worker():
        reader = writer = None
        while True:
            item = await queue.get()
            if item is None:
                break
            i, sched = item
            k = i % len(bodies)
            sent = sched
            try:
                if writer is None:
                    reader, writer = await asyncio.open_connection(u.hostname, u.port)
                sent = time.time()
                writer.write(heads[k] + str(i).encode() + b"\r\n\r\n" + bodies[k])
                status, variant = await read_response(reader)
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError):
                status, variant = 0, "-"
                if writer is not None:
                    writer.close()
                reader = writer = None
            records.append((sched, sent, time.time(), status, variant))

    async def run():
        workers = [asyncio.ensure_future(worker()) for _ in range(conns)]
        t0 = time.time()
        n = int(rate * secs)
        i = 0
        while i < n:
            now = time.time()
            due = min(n, int((now - t0) * rate) + 1)
            while i < due:
                queue.put_nowait((i, t0 + i / rate))
                i += 1
            await asyncio.sleep(max(0.0, t0 + i / rate - time.time()))
        for _ in workers:
            queue.put_nowait(None)
        done, pending = await asyncio.wait(workers, timeout=5)
        for w in pending:
            w.cancel()
        return t0, n

    t0, n = asyncio.run(run())
    records.sort()
    with open(out, "w") as f:
        for r in records:
            f.write(f"{r[0]:.6f}\t{r[1]:.6f}\t{r[2]:.6f}\t{r[3]}\t{r[4]}\n")
    lat = sorted(r[2] - r[0] for r in records if r[3] == 200)
    span = (max(r[2] for r in records) - t0) if records else 0
    by = {}
    for r in records:
        key = f"{r[4]}:{r[3]}"
        by[key] = by.get(key, 0) + 1
    pct = lambda p: round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 2) if lat else None
    print(json.dumps({"scheduled": n, "answered": len(records), "achieved_rps": round(len(records) / span, 1)
                      if span else 0, "by_variant_status": by, "p50_ms": pct(0.5), "p99_ms": pct(0.99),
                      "max_ms": round(lat[-1] * 1000, 2) if lat else None}))


if __name__ == "__main__":
    main()
