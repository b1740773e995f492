#!/usr/bin/env python3
"""Times one of faiss's binary indexes on the codes `safeguard-bench index` made.

usage: faiss_index.py METHOD CODES QUERIES RADIUS SAMPLE

METHOD is flat (IndexBinaryFlat, timed on the first SAMPLE queries only),
mih0 or mih1 (IndexBinaryMultiHash, 16 tables of 16 bits, probing with
nflip 0 or 1). CODES and QUERIES are raw files of 32-byte codes. Prints

    build seconds<TAB>bytes/code<TAB>CPU ms/query<TAB>ms/query: mean<TAB>p50<TAB>p99<TAB>max

then, for each of the first SAMPLE queries, a line of the ids it found, so
that the caller can compare them with brute force. Each method runs in a
process of its own, so that its memory (resident-set growth while it
builds) is its own. Single-threaded, one query a call, as Go times it; the
times include Python's few microseconds a call. Faiss's range_search keeps
distances strictly below its threshold, so it is given RADIUS+1.
"""
import resource
import sys
import time

import faiss
import numpy as np


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def make(method):
    if method == "flat":
        return faiss.IndexBinaryFlat(256)
    index = faiss.IndexBinaryMultiHash(256, 16, 16)
    index.nflip = {"mih0": 0, "mih1": 1}[method]
    return index


def main():
    method, codes_path, queries_path = sys.argv[1:4]
    radius, sample = int(sys.argv[4]), int(sys.argv[5])
    faiss.omp_set_num_threads(1)
    codes = np.fromfile(codes_path, dtype=np.uint8).reshape(-1, 32)
    queries = np.fromfile(queries_path, dtype=np.uint8).reshape(-1, 32)
    if method == "flat":
        queries = queries[:sample]

    before = rss_bytes()
    t = time.perf_counter()
    index = make(method)
    index.add(codes)
    build = time.perf_counter() - t
    mem = (rss_bytes() - before) / len(codes)

    times, found = [], []
    cpu = time.thread_time()
    for q in queries:
        t = time.perf_counter()
        lims, _, ids = index.range_search(q[None, :], radius + 1)
        times.append(time.perf_counter() - t)
        if len(found) < sample:
            found.append(ids[lims[0]:lims[1]])
    cpu = (time.thread_time() - cpu) / len(queries) * 1e3
    ms = np.array(times) * 1e3
    print("\t".join(f"{v:.4f}" for v in (build, mem, cpu, ms.mean(), np.percentile(ms, 50),
                                        np.percentile(ms, 99), ms.max())))
    for ids in found:
        print(" ".join(str(i) for i in ids.tolist()))


if __name__ == "__main__":
    main()
