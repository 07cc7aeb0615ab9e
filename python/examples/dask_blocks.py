"""A compiled graphjit function mapped over the blocks of a dask.array on a dask.distributed
cluster: the function travels to the workers as IR text, each worker process compiles it once,
and the result equals the single-process result bit for bit.

Run: python examples/dask_blocks.py [--address tcp://scheduler:8786]
Without --address it starts a LocalCluster of 2 worker processes (what CI does); with it, the
same code runs on a real cluster whose workers have graphjit installed."""

from __future__ import annotations

import argparse

import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster

import graphjit

N = 1 << 20  # W3a's size: 2^20 f32
BLOCK = 1 << 16


@graphjit.jit
def poly(x):
    """W3a: ((x*2+1)*x - 3)/(x+4), elementwise."""
    return ((x * 2.0 + 1.0) * x - 3.0) / (x + 4.0)


def run(client: Client) -> dict:
    """Maps the compiled block function over a dask array and checks it against one process."""
    x = np.random.default_rng(0).standard_normal(N).astype(np.float32)
    # One compiled graphjit.Function for the block shape; it pickles as its IR text.
    block_fn = poly.function(x[:BLOCK])
    dx = da.from_array(x, chunks=BLOCK)
    # `meta` tells dask the result type, so it does not call the function on an empty block.
    meta = np.empty((0,), dtype=np.float32)
    distributed = dx.map_blocks(block_fn, dtype=np.float32, meta=meta).compute()
    single = poly(x)  # the whole array in this process, through another compiled function
    per_worker = client.run(graphjit.compiler_stats)
    return {
        "equal": distributed.tobytes() == single.tobytes(),
        "blocks": len(dx.chunks[0]),
        "compilations_per_worker": sorted(s["compilations"] for s in per_worker.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--address", help="a running dask scheduler; default: a LocalCluster")
    args = parser.parse_args()
    if args.address:
        with Client(args.address) as client:
            report = run(client)
    else:
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster:
            with Client(cluster) as client:
                report = run(client)
    print(f"blocks: {report['blocks']}")
    print(f"compilations per worker: {report['compilations_per_worker']}")
    print(f"bit-identical to one process: {report['equal']}")
    if not report["equal"]:
        raise SystemExit("the distributed result differs from the single-process one")


if __name__ == "__main__":
    main()
