"""Compile and export time, and peak memory, of layered pipelines for Kubeflow Pipelines.

Not a test: it prints figures. Each size runs in a fresh Python process so peak memory (max RSS) is its own.
For comparison it also compiles the same graph with the bare kfp compiler and one shared container component,
the floor any KFP compiler built on the SDK can reach.

    python benchmarks/kfp_compile.py                 # 10, 100, 500 and 2,000 nodes
    python benchmarks/kfp_compile.py --sizes 100 500 --repeat 3
"""


import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

WIDTH = 10
FAN_IN = 3


def layered_pipeline(size: int) -> "Any":
    """`size` Python nodes in layers of 10; each depends on three nodes of the layer above, writes one output."""
    from elyra_proc_ext.model import Node, Pipeline, PipelineParameter

    nodes = {}
    for index in range(size):
        layer = index // WIDTH
        above = range((layer - 1) * WIDTH, layer * WIDTH) if layer else range(0)
        parents = [f"n{j}" for j in list(above)[index % WIDTH:][:FAN_IN] or list(above)[:FAN_IN]]
        nodes[f"n{index}"] = Node(f"n{index}", f"step {index}", "execute-python-node", "python", parents,
                                  filename=f"steps/step_{index}.py", runtime_image="python:3.11",
                                  env_vars={"STEP": str(index)}, outputs=[f"out_{index}.txt"],
                                  pipeline_parameters=["SIZE"] if index % 2 else [])
    return Pipeline("layered", f"layered-{size}", nodes,
                    parameters=[PipelineParameter("SIZE", type="Integer", default_value=size)])


def bare_compile(size: int, path: Path) -> float:
    """The kfp compiler alone: one container component, same graph, no per-task settings."""
    from kfp import compiler, dsl

    @dsl.container_component
    def step(name: str) -> dsl.ContainerSpec:
        return dsl.ContainerSpec(image="python:3.11", command=["python3", "-c", "print(1)"], args=[name])

    pipeline = layered_pipeline(size)

    def graph() -> None:
        tasks: dict[str, Any] = {}
        for node in pipeline.nodes.values():
            task = step(name=node.name)
            if node.parent_ids:
                task.after(*(tasks[p] for p in node.parent_ids))
            tasks[node.id] = task

    # kfp builds the whole spec when the pipeline decorator runs, so the decoration is inside the timing.
    start = time.perf_counter()
    compiler.Compiler().compile(dsl.pipeline(name=f"bare-{size}")(graph), str(path))
    return time.perf_counter() - start


def measure_once(size: int) -> dict[str, float]:
    """One size, in this process, warm: our compile, our YAML export, and the bare compiler (which writes YAML)."""
    from elyra_proc_ext.kfp.compiler import StagingPlan, compile_pipeline

    pipeline = layered_pipeline(size)
    staging = StagingPlan("http://minio.example:9000", "bucket", f"bench/layered-{size}", "secret", "cos-secret")
    with tempfile.TemporaryDirectory() as directory:
        compile_pipeline(layered_pipeline(2), staging)  # imports and caches out of the timing, for both sides
        bare_compile(2, Path(directory) / "warm.yaml")
        start = time.perf_counter()
        compiled = compile_pipeline(pipeline, staging)
        compiled_at = time.perf_counter()
        target = Path(directory) / "pipeline.yaml"
        target.write_text(compiled.to_yaml(), encoding="utf-8")
        exported_at = time.perf_counter()
        size_bytes = target.stat().st_size
        bare = bare_compile(size, Path(directory) / "bare.yaml")
    return {"compile": compiled_at - start, "export": exported_at - start, "bare": bare,
            "yaml_mb": size_bytes / 1e6, "components": len(compiled.spec["components"]),
            "max_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_size(size: int) -> dict[str, float]:
    output = subprocess.run([sys.executable, __file__, "--one", str(size)], check=True, capture_output=True,
                            text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 500, 2000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per size (median reported)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure_once(args.one)))
        return
    print(f"CPUs: {os.cpu_count()}, Python {sys.version.split()[0]}", file=sys.stderr)
    print("| Nodes | Compile (s) | Export: compile + YAML (s) | Bare kfp compiler (s) | Compile / bare | "
          "YAML (MB) | Components | Peak RSS (MB) |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for size in args.sizes:
        runs = [run_size(size) for _ in range(args.repeat)]
        median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
        print(f"| {size} | {median['compile']:.2f} | {median['export']:.2f} | {median['bare']:.2f} | "
              f"{median['compile'] / median['bare']:.2f} | {median['yaml_mb']:.2f} | {median['components']:.0f} | "
              f"{median['max_rss_mb']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
