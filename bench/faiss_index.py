#!/usr/bin/env python3
"""Times faiss's binary indexes on the codes `safeguard bench index` made.

usage: faiss_index.py CODES QUERIES RADIUS FLAT_QUERIES

CODES and QUERIES are raw files of 32-byte codes. Prints one line a method:
name<TAB>build seconds<TAB>bytes/code<TAB>ms/query mean<TAB>p50<TAB>p99<TAB>max<TAB>found<TAB>true<TAB>CPU ms/query
where "true" is what IndexBinaryFlat (exact) finds for the same queries, so
found/true is the recall. Single-threaded, one query a call, as Go times it;
the times include Python's few microseconds a call.
Faiss's range_search keeps distances strictly below its threshold, so it is
given RADIUS+1.
"""
import resource
import sys
import time

import faiss
import numpy as np


def rss_bytes():
    # ru_maxrss is in KiB on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def timed_search(index, queries, thresh):
    times, found = [], []
    cpu = time.thread_time()
    for q in queries:
        t = time.perf_counter()
        lims, _, ids = index.range_search(q[None, :], thresh)
        times.append(time.perf_counter() - t)
        found.append(set(ids[lims[0]:lims[1]].tolist()))
    cpu = (time.thread_time() - cpu) / len(queries) * 1e3
    return np.array(times) * 1e3, cpu, found


def main():
    codes_path, queries_path, radius, flat_n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    faiss.omp_set_num_threads(1)
    codes = np.fromfile(codes_path, dtype=np.uint8).reshape(-1, 32)
    queries = np.fromfile(queries_path, dtype=np.uint8).reshape(-1, 32)
    n = len(codes)

    methods = [("faiss IndexBinaryFlat", lambda: faiss.IndexBinaryFlat(256), flat_n)]
    for nflip in (0, 1):
        def make(nflip=nflip):
            ix = faiss.IndexBinaryMultiHash(256, 16, 16)
            ix.nflip = nflip
            return ix
        methods.append((f"faiss IndexBinaryMultiHash 16x16 nflip={nflip}", make, len(queries)))

    truth = None
    for name, make, nq in methods:
        before = rss_bytes()
        t = time.perf_counter()
        index = make()
        index.add(codes)
        build = time.perf_counter() - t
        mem = max(0, rss_bytes() - before) / n
        ms, cpu, found = timed_search(index, queries[:nq], radius + 1)
        if truth is None:
            truth = found  # the flat index is exact
        k = min(len(truth), len(found))
        true = sum(len(s) for s in truth[:k])
        hit = sum(len(a & b) for a, b in zip(truth[:k], found[:k]))
        print("\t".join([name, f"{build:.2f}", f"{mem:.1f}", f"{ms.mean():.4f}", f"{np.percentile(ms, 50):.4f}",
                         f"{np.percentile(ms, 99):.4f}", f"{ms.max():.4f}", str(hit), str(true), f"{cpu:.4f}"]), flush=True)
        del index


if __name__ == "__main__":
    main()
