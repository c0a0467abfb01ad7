#!/usr/bin/env python3
"""compare_pytorch.py - gradtape-bench beside PyTorch, in one run on one machine.

    python3 bench/compare_pytorch.py [BENCH] [--rounds N] [--budget S] [--quick]
                                     [--old OLD_BENCH] [--json-out FILE] [--train PATH]
                                     [--python PY] [--ops]
    python3 bench/compare_pytorch.py --chargpt [--full] [--chargpt-bin PATH]
                                     [--setups 1x1 2x1 1x2] [--python PY]

Runs gradtape-bench --json (BENCH, or build/bench/gradtape-bench), then the same models,
batches and training recipe in PyTorch (Debian's python3-torch): MLP
Linear(784,100)-ReLU-Linear(100,10) and LeNet-5 Conv2d(1,6,5,padding=2)-Tanh-MaxPool2d(2)-
Conv2d(6,16,5)-Tanh-MaxPool2d(2)-Conv2d(16,120,5)-Tanh-Flatten-Linear(120,84)-Tanh-
Linear(84,10), and the modern CNN (gradtape-train --model cnn) Conv2d(1,32,3,padding=1)-
BatchNorm2d-ReLU-Conv2d(32,32,3,padding=1)-BatchNorm2d-ReLU-MaxPool2d(2)-
Conv2d(32,64,3,padding=1)-BatchNorm2d-ReLU-Conv2d(64,64,3,padding=1)-BatchNorm2d-ReLU-
MaxPool2d(2)-Flatten-Dropout(0.25)-Linear(3136,128)-ReLU-Dropout(0.5)-Linear(128,10) in train
mode,
CrossEntropyLoss, SGD(lr=0.01, momentum=0.9) (the CNN: its recipe's SGD(lr=0.05,
momentum=0.9, nesterov=True, weight_decay=5e-4)), float32, random data of the same shapes; and a Hessian-vector product of the loss over every
parameter (the hvp cell: gradtape's gt_grad with create_graph then the gradient of <grad, v>,
PyTorch's double backward with torch.autograd.grad). PyTorch runs once per thread setup
(torch threads x OpenBLAS threads: 1x1,
2x1, 1x2), each in its own process since OpenBLAS reads OPENBLAS_NUM_THREADS when it is
loaded; the best setup of each cell is kept. Every PyTorch worker runs with glibc's malloc
told to keep its memory (PT_MALLOC), as a caching allocator would: without it PyTorch's
big tensors are page-faulted in again at every step, some cells several times slower, and
by how much changed from process to process. Prints the environment and one table: metric,
gradtape, PyTorch best (setup), ratio, target, PASS/FAIL, then every cell for information.

Also measured: LeNet-5 at batch 256 on 1 and 2 threads (once gradtape-bench reports that
--threads is wired), and the peak resident memory of a real `gradtape-train --model lenet
--batch 64` run (when that program is built) and of `gradtape-bench --epoch`, taken from
os.wait4's rusage of that one child.

--ops instead times the op rows: `gradtape-bench --model ops` (one row per op family at a
realistic shape: forward, and forward + backward from a fixed upstream gradient), and the
same rows in PyTorch, each as the function the oracle calls for the op
(tests/data/make_oracle.py's torch_op: torch.nn.functional.NAME, torch.NAME or its SPECIAL
line) on inputs drawn as the oracle draws them (case_inputs), in float32; one table with
the ratio against PyTorch's best setup (target: at least as fast). The rows are defined
once, in gradtape_bench.c's op_rows: this script reads them from gradtape-bench's JSON. With
--old, the older build's rows run in the same rounds: two more columns, its time and how many
times faster this build is ("vs old"), as in the models' table of all cells.

--chargpt runs examples/chargpt (CHARGPT, or build/examples/chargpt) and its PyTorch twin
examples/chargpt.py in PyTorch's thread setups (torch x OpenBLAS threads: 1x1, 2x1, 1x2, each
its own process), the same model, data, batches and recipe,
for 200 steps (--full: the default 2000), and prints each run's last line and a table:
the final validation loss (gradtape's within 2% of PyTorch's) and tokens/s (gradtape's at
least 1.5x PyTorch's best setup).

A measuring tool, not a test: it exits 0 whenever it ran, whatever the verdicts; 2 on a bad
argument or when gradtape-bench cannot run. Standard library only in this process; torch
is imported only by the worker processes, run with a Python that has it (this one, else
/usr/bin/python3, or --python).
"""
import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

SETUPS = [(1, 1), (2, 1), (1, 2)]  # (torch threads, OpenBLAS threads)
BATCHES = [1, 64, 256]
INFERENCE_BATCH = 1000
MIB = 1024.0

# (label, model, cell, batch, kind, target): kind "rate" compares images/s (gradtape /
# PyTorch), "time" compares the step time (PyTorch / gradtape): both read "x faster".
TARGET_ROWS = [
    ("LeNet-5 training, batch 64", "lenet", "train_step", 64, "rate", 3.0),
    ("MLP training, batch 64", "mlp", "train_step", 64, "rate", 1.5),
    ("CNN (batch norm, dropout) training, batch 64", "cnn", "train_step", 64, "rate", 2.0),
    ("LeNet-5 training step, batch 1", "lenet", "train_step", 1, "time", 10.0),
    ("MLP training step, batch 1", "mlp", "train_step", 1, "time", 10.0),
    ("LeNet-5 inference, batch 1000", "lenet", "inference", 1000, "rate", 2.0),
    ("MLP inference, batch 1000", "mlp", "inference", 1000, "rate", 1.2),
    ("MLP Hessian-vector product, batch 64", "mlp", "hvp", 64, "time", 1.0),
]
# PyTorch's best on this machine as measured once, quiet, when the targets above were set
# (images/s, or us per step): today's PyTorch against it says how loaded the machine was
# during this run.
REFERENCE = {
    ("lenet", "train_step", 64): ("rate", 16700), ("lenet", "train_step", 1): ("time", 440),
    ("lenet", "inference", 1000): ("rate", 19000), ("mlp", "train_step", 64): ("rate", 250000),
    ("mlp", "train_step", 1): ("time", 107), ("mlp", "inference", 1000): ("rate", 1000000),
}
RSS_TARGET_MIB = 96
# --isa avx2: each side's kernels as on a CPU without AVX-512 (an Intel Core, an AMD Zen 2 or
# 3): gradtape's GEMM and conv tiles, PyTorch's own kernels, its oneDNN convolutions and
# OpenBLAS (which already takes its Haswell kernels on the AMD Zen 5).
ISA_AVX2 = {"GT_CPU": "avx2", "ATEN_CPU_CAPABILITY": "avx2", "DNNL_MAX_CPU_ISA": "AVX2",
            "OPENBLAS_CORETYPE": "Haswell"}
SCALING_TARGET = 1.7
# glibc's malloc in the PyTorch workers keeps the memory it is given: big blocks from its
# heap rather than fresh mappings, and no trimming. PyTorch's CPU allocator frees every
# tensor to malloc, and by default glibc hands blocks past 128 KiB back to the system at the
# free, so the next step faults them in again: on this project's VMs that made LeNet-5's
# inference at batch 1000 174 ms instead of 31 and the dilated conv row 22 ms instead of 1.4
# (2x1), and which of the two a process fell into changed from run to run. A caching
# allocator (jemalloc, tcmalloc, as PyTorch's tuning guide advises) does the same.
PT_MALLOC = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30),
             "MALLOC_TOP_PAD_": str(100 << 20)}


def malloc_line():
    """The environment section's line on the PyTorch workers' malloc (PT_MALLOC)."""
    if not PT_MALLOC:
        return "  PyTorch malloc    glibc's defaults (--torch-malloc glibc)"
    return ("  PyTorch malloc    glibc keeps the memory it is given (" +
            " ".join(f"{k}={v}" for k, v in PT_MALLOC.items()) + ")")


def isa_line(args):
    """The report's line on the kernels' instruction set."""
    if args.isa == "avx2":
        return ("  ISA               AVX2 on both sides (--isa avx2: " +
                " ".join(f"{k}={v}" for k, v in ISA_AVX2.items()) + ")")
    return "  ISA               each side's choice for this CPU (--isa native)"


def torch_worker_env(torch_threads=None, blas_threads=None):
    """The environment of a PyTorch worker: PT_MALLOC, and its thread setup (None: the
    defaults, with this process's thread variables removed)."""
    env = dict(os.environ, **PT_MALLOC)
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
        env.pop(var, None)
    if torch_threads:
        env.update(OPENBLAS_NUM_THREADS=str(blas_threads), OMP_NUM_THREADS=str(torch_threads))
    return env


# ---- the PyTorch worker: runs in its own process, one thread setup ---------------------

def torch_env(torch):
    """The worker's environment record: torch, its threads, and the BLAS it runs on."""
    info = {"type": "env", "torch": torch.__version__, "torch_threads": torch.get_num_threads(),
            "openblas_num_threads_env": os.environ.get("OPENBLAS_NUM_THREADS"),
            "openblas_coretype_env": os.environ.get("OPENBLAS_CORETYPE"),
            "cpu_capability": next((line.split(":", 1)[1].strip() for line in
                                    torch.__config__.show().splitlines()
                                    if "CPU capability usage" in line), None),
            "mkldnn": torch.backends.mkldnn.is_available()}
    try:  # what OpenBLAS itself says, through the library torch already loaded
        import ctypes
        blas = ctypes.CDLL("libopenblas.so.0")
        blas.openblas_get_corename.restype = ctypes.c_char_p
        blas.openblas_get_config.restype = ctypes.c_char_p
        info["openblas_core"] = blas.openblas_get_corename().decode()
        info["openblas_config"] = blas.openblas_get_config().decode()
        info["openblas_threads"] = blas.openblas_get_num_threads()
    except (OSError, AttributeError) as e:
        info["openblas_core"] = f"unknown ({e})"
    return info


def worker(args):
    import torch
    from torch import nn

    if args.torch_threads > 0:  # 0: PyTorch's own default (every core)
        torch.set_num_threads(args.torch_threads)
    torch.manual_seed(args.seed)

    def make(model):
        if model == "mlp":
            return nn.Sequential(nn.Linear(784, 100), nn.ReLU(), nn.Linear(100, 10))
        if model == "cnn":  # GT_MODEL_CNN_SPEC (models/gt_nn.h)
            return nn.Sequential(
                nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
                nn.Conv2d(64, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
                nn.Flatten(), nn.Dropout(0.25), nn.Linear(3136, 128), nn.ReLU(), nn.Dropout(0.5),
                nn.Linear(128, 10))
        return nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5), nn.Tanh(), nn.MaxPool2d(2),
            nn.Conv2d(16, 120, 5), nn.Tanh(), nn.Flatten(),
            nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))

    def data(model, batch):
        shape = (batch, 784) if model == "mlp" else (batch, 1, 28, 28)
        return torch.rand(shape, dtype=torch.float32), torch.randint(0, 10, (batch,))

    def measure(fn):
        return measure_samples(fn, args)

    def emit(cell, model, batch, samples):
        med = statistics.median(samples)
        print(json.dumps({"type": cell, "model": model, "batch": batch,
                          "median_us": med * 1e6, "min_us": min(samples) * 1e6,
                          "reps": len(samples), "images_per_s": batch / med}), flush=True)

    print(json.dumps(torch_env(torch)), flush=True)

    loss_fn = nn.CrossEntropyLoss()
    for model_name in args.models:
        for batch in args.batches + ([args.inference_batch] if args.inference_batch else []):
            model = make(model_name)
            opt = (torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True,
                                   weight_decay=5e-4) if model_name == "cnn" else
                   torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
            x, y = data(model_name, batch)

            def forward():
                with torch.no_grad():
                    model(x)

            def step():
                loss = loss_fn(model(x), y)
                loss.backward()
                opt.step()
                opt.zero_grad()

            if batch == args.inference_batch:
                emit("inference", model_name, batch, measure(forward))
                continue
            if not args.train_only:
                emit("forward", model_name, batch, measure(forward))
            model.train()
            emit("train_step", model_name, batch, measure(step))
            if args.train_only:
                continue
            params = list(model.parameters())
            directions = [torch.randn_like(p) for p in params]

            def hvp():  # double backward: H v = d/dparams <d loss/d params, v>
                loss = loss_fn(model(x), y)
                grads = torch.autograd.grad(loss, params, create_graph=True)
                dot = sum((g * v).sum() for g, v in zip(grads, directions))
                torch.autograd.grad(dot, params)

            emit("hvp", model_name, batch, measure(hvp))


def op_worker(args):
    """--ops: the op rows gradtape-bench printed (args.op_rows, JSON), in PyTorch."""
    import torch

    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                    "data"))
    import make_oracle  # the one mapping from a gradtape op and case to a PyTorch call

    torch.manual_seed(args.seed)
    print(json.dumps(torch_env(torch)), flush=True)
    for row in json.loads(args.op_rows):
        fn = make_oracle.torch_op(row["op"])
        kwargs = make_oracle.case_attrs(row["attrs"])
        _, leaves = make_oracle.case_inputs(row["inputs"], torch.float32)

        def forward():
            with torch.no_grad():
                fn(*leaves, **kwargs)

        y = fn(*leaves, **kwargs)
        upstream = torch.randn(y.shape)

        def forward_backward():  # .grad accumulates, as gradtape-bench's gradients do
            fn(*leaves, **kwargs).backward(upstream)

        for cell, call in (("forward", forward), ("forward_backward", forward_backward)):
            if cell == "forward_backward" and not y.requires_grad:
                continue
            samples = measure_samples(call, args)
            print(json.dumps({"type": "op", "op": row["op"], "case": row["case"], "cell": cell,
                              "median_us": statistics.median(samples) * 1e6,
                              "min_us": min(samples) * 1e6, "reps": len(samples)}), flush=True)


def measure_samples(fn, args):
    """Two untimed calls, the warm-up, then timed calls for the budget (at least min_reps):
    seconds per call."""
    fn()
    first_start = time.perf_counter()
    fn()
    first = time.perf_counter() - first_start
    for _ in range(0 if first > args.budget else args.warmup - 2):
        fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < args.min_reps or time.perf_counter() - start < args.budget:
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return samples


# ---- the driver ---------------------------------------------------------------------------

def die(message):
    print(f"compare_pytorch.py: {message}", file=sys.stderr)
    sys.exit(2)


def json_lines(text, source):
    records = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as e:
            die(f"{source} printed a line that is not JSON ({e}): {line!r}")
    return records


def run_json(cmd, env=None, what=None):
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        die(f"{what or cmd[0]} failed with exit {proc.returncode}: {' '.join(cmd)}\n"
            f"{proc.stderr.strip()}")
    return json_lines(proc.stdout, what or cmd[0])


def cells_of(records):
    return {(r["model"], r["type"], r["batch"]): r for r in records
            if r.get("type") in ("forward", "train_step", "inference", "hvp")}


def median_of_rounds(rounds):
    """{key: record} per round -> {key: the record of the median round (lower middle when
    even), by median time}, with "rounds" set to how many rounds had the cell."""
    merged = {}
    for key in {k for r in rounds for k in r}:
        recs = sorted((r[key] for r in rounds if key in r), key=lambda c: c["median_us"])
        merged[key] = dict(recs[(len(recs) - 1) // 2], rounds=len(recs))
    return merged


def loadavg():
    try:
        return " ".join(f"{v:.2f}" for v in os.getloadavg())
    except OSError:
        return "n/a"


def cpu_model():
    """'model name (family F, model M)' from /proc/cpuinfo: the name alone may not say which
    core it is (a hypervisor may show only "AMD EPYC")."""
    fields = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key in ("model name", "cpu family", "model") and key not in fields:
                    fields[key] = value.strip()
                if not line.strip() and fields:
                    break
    except OSError:
        pass
    name = fields.get("model name") or platform.processor() or "unknown"
    if "cpu family" in fields:
        name += f" (family {fields['cpu family']}, model {fields.get('model', '?')})"
    return name


def cpu_caches():
    """L1d and L2 per core, as lscpu prints them, or ''."""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    except OSError:
        return ""
    sizes = [line.split(":", 1)[1].strip() for line in out.splitlines()
             if line.startswith(("L1d cache:", "L2 cache:"))]
    return "L1d " + sizes[0] + ", L2 " + sizes[1] if len(sizes) == 2 else ""


def torch_python(explicit):
    candidates = [explicit] if explicit else [sys.executable, "/usr/bin/python3"]
    for py in candidates:
        if py and shutil.which(py) or (py and os.path.exists(py)):
            probe = subprocess.run([py, "-c", "import torch"], capture_output=True)
            if probe.returncode == 0:
                return py
    return None


def run_peak_rss(cmd):
    """Runs cmd to its end; returns (exit status, peak RSS in KiB of that child, seconds,
    last lines of its output)."""
    with tempfile.TemporaryFile(mode="w+") as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)  # already reaped by wait4
        seconds = time.perf_counter() - start
        out.seek(0)
        tail = out.read().strip().splitlines()[-3:]
    return proc.returncode, usage.ru_maxrss, seconds, tail


def fmt_rate(v):
    return f"{v:,.0f}/s"


def fmt_time(us):
    return f"{us / 1000:,.2f} ms" if us >= 10000 else f"{us:,.1f} us"


def main():
    ap = argparse.ArgumentParser(
        description="gradtape-bench beside PyTorch: one table of ratios against the targets.")
    ap.add_argument("bench", nargs="?",
                    help="gradtape-bench (default: ./build/bench/gradtape-bench)")
    ap.add_argument("--budget", type=float, default=1.0,
                    help="seconds of timed repetitions per cell, both sides (default 1)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="alternate gradtape and PyTorch this many times and keep each "
                    "cell's median round (default 1; 3 on a busy machine)")
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--min-reps", type=int, default=5)
    ap.add_argument("--quick", action="store_true",
                    help="short budgets (0.1 s, 2 reps) for trying the script, not for numbers")
    ap.add_argument("--train", help="gradtape-train (default: tools/gradtape-train beside the "
                    "bench's build directory)")
    ap.add_argument("--train-limit", type=int, default=6400,
                    help="images for the peak-memory training runs (default 6400; data is "
                    "loaded whole either way)")
    ap.add_argument("--python", help="the Python that imports torch (default: this one, "
                    "else /usr/bin/python3)")
    ap.add_argument("--old", help="a gradtape-bench built from an older commit: timed in "
                    "the same rounds, one more column in the table of all cells (with --load: "
                    "two more columns, its default and 1 thread)")
    ap.add_argument("--json-out", help="also write every measurement to this file")
    ap.add_argument("--torch-malloc", choices=["keep", "glibc"], default="keep",
                    help="the PyTorch workers' malloc: keep (default: glibc told to keep its "
                    "memory, PT_MALLOC, as a caching allocator would) or glibc (its defaults, "
                    "as the tables before 2026-12-07 21:00 ran)")
    ap.add_argument("--isa", choices=["native", "avx2"], default="native",
                    help="avx2: both sides as on a CPU without AVX-512 (ISA_AVX2: gradtape's "
                    "kernels by GT_CPU=avx2, PyTorch's by ATEN_CPU_CAPABILITY, oneDNN's by "
                    "DNNL_MAX_CPU_ISA, OpenBLAS's by OPENBLAS_CORETYPE); caches, cores and "
                    "clocks stay this machine's")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--load", type=int, default=0, metavar="N",
                    help="instead of the usual table: start N CPU-bound processes of this "
                    "script's own, time training steps (MLP and LeNet-5, batches 1 and 64) on "
                    "both sides at their defaults and at each thread setup while they run, "
                    "stop them, and print one table (--load 2 on a 2-core machine: one busy "
                    "process per core)")
    ap.add_argument("--ops", action="store_true",
                    help="instead of the models: the op rows of gradtape-bench --model ops "
                    "beside the same calls in PyTorch, one table")
    # the worker: one thread setup of PyTorch in this process
    ap.add_argument("--chargpt", action="store_true",
                    help="compare examples/chargpt with examples/chargpt.py instead")
    ap.add_argument("--full", action="store_true",
                    help="--chargpt: the full default run (2000 steps) instead of 200 steps")
    ap.add_argument("--chargpt-bin", help="examples/chargpt (default: build/examples/chargpt)")
    ap.add_argument("--setups", nargs="+", default=["1x1", "2x1", "1x2"],
                    help="--chargpt: PyTorch's setups, torch threads x OpenBLAS threads "
                    "(default 1x1 2x1 1x2, as the main comparison)")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--torch-threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--models", nargs="+", default=["mlp", "lenet", "cnn"],
                    help=argparse.SUPPRESS)
    ap.add_argument("--batches", type=int, nargs="+", default=BATCHES, help=argparse.SUPPRESS)
    ap.add_argument("--inference-batch", type=int, default=INFERENCE_BATCH,
                    help=argparse.SUPPRESS)
    ap.add_argument("--train-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--op-rows", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.quick:
        args.budget, args.warmup, args.min_reps = 0.1, 2, 2
    if not (args.budget >= 0 and args.rounds >= 1 and args.warmup >= 1 and args.min_reps >= 1
            and args.train_limit >= 0):
        die("--budget must be >= 0, --rounds, --warmup and --min-reps >= 1, --train-limit >= 0")
    if args.worker:
        op_worker(args) if args.op_rows else worker(args)
        return 0
    if args.torch_malloc == "glibc":
        PT_MALLOC.clear()
    if args.isa == "avx2":  # inherited by gradtape-bench and every PyTorch worker
        os.environ.update(ISA_AVX2)
    if args.load < 0:
        die("--load must be >= 0")
    if args.chargpt:
        return run_chargpt(args)

    here = os.path.dirname(os.path.abspath(__file__))
    bench = args.bench
    if not bench:
        for candidate in ("build/bench/gradtape-bench",
                          os.path.join(here, "..", "build", "bench", "gradtape-bench")):
            if os.path.exists(candidate):
                bench = candidate
                break
    if not bench or not os.access(bench, os.X_OK):
        die(f"gradtape-bench not found ({bench or 'build/bench/gradtape-bench'}): build it "
            "with cmake --build build, or give its path")
    bench = os.path.abspath(bench)
    train = args.train or os.path.join(os.path.dirname(os.path.dirname(bench)), "tools",
                                       "gradtape-train")
    timing = ["--budget", str(args.budget), "--warmup", str(args.warmup),
              "--min-reps", str(args.min_reps)]
    started = time.strftime("%Y-%m-%d %H:%M:%S %Z")
    loads = {"start": loadavg()}
    old_bench = os.path.abspath(args.old) if args.old else None
    if old_bench and not os.access(old_bench, os.X_OK):
        die(f"--old {args.old}: not an executable gradtape-bench")
    if args.load:
        return run_loaded(args, bench, old_bench, torch_python(args.python), timing, started)
    if args.ops:
        return run_ops(args, bench, old_bench, torch_python(args.python), timing, started)

    # Rounds alternate the two sides (gradtape, then each PyTorch setup), so that a burst
    # of load from another user of the machine does not land on one side only; each cell
    # keeps the median of its rounds' medians.
    py = torch_python(args.python)
    gt_rounds, scaling_rounds, pt_rounds, pt_envs = [], {1: [], 2: []}, {}, {}
    old_rounds = []
    gt_records, gt_env = [], {}
    for round_no in range(1, args.rounds + 1):
        # gradtape: every cell, all threads (0 = all cores)
        print(f"round {round_no}/{args.rounds}: gradtape-bench {bench}", file=sys.stderr)
        records = run_json([bench, "--json", "--threads", "0"] + timing, what="gradtape-bench")
        gt_records += records
        gt_env = gt_env or next((r for r in records if r.get("type") == "env"), {})
        gt_rounds.append(cells_of(records))
        if old_bench:  # the older build, on the same rounds, with the same options
            print(f"round {round_no}/{args.rounds}: old gradtape-bench {old_bench}",
                  file=sys.stderr)
            old_rounds.append(cells_of(run_json([old_bench, "--json", "--threads", "0"] + timing,
                                                what="the old gradtape-bench")))

        # gradtape on 1 and 2 threads, LeNet-5 at batch 256
        if gt_env.get("threads_wired"):
            for n in (1, 2):
                recs = run_json([bench, "--json", "--threads", str(n), "--model", "lenet",
                                 "--batches", "256", "--cells", "train"] + timing,
                                what=f"gradtape-bench --threads {n}")
                env = next((r for r in recs if r.get("type") == "env"), {})
                cell = cells_of(recs)[("lenet", "train_step", 256)]
                scaling_rounds[n].append({"threads": env.get("threads"), **cell})

        # PyTorch: every thread setup in its own process
        for torch_threads, blas_threads in SETUPS if py else []:
            setup = f"{torch_threads}x{blas_threads}"
            print(f"round {round_no}/{args.rounds}: PyTorch {setup} (torch threads x OpenBLAS "
                  f"threads) with {py}", file=sys.stderr)
            recs = run_json([py, os.path.abspath(__file__), "--worker", "--torch-threads",
                             str(torch_threads), "--seed", str(args.seed)] + timing,
                            env=torch_worker_env(torch_threads, blas_threads),
                            what=f"PyTorch worker {setup}")
            pt_envs[setup] = next((r for r in recs if r.get("type") == "env"), {})
            pt_rounds.setdefault(setup, []).append(cells_of(recs))
        loads[f"after round {round_no}"] = loadavg()

    gt = median_of_rounds(gt_rounds)
    old = median_of_rounds(old_rounds) if old_rounds else {}
    pt_runs = {setup: median_of_rounds(rounds) for setup, rounds in pt_rounds.items()}
    scaling = None
    if scaling_rounds[1]:
        scaling = {n: median_of_rounds([{0: c} for c in cells])[0]
                   for n, cells in scaling_rounds.items()}

    def pt_best(key):
        best = None
        for setup, cells in pt_runs.items():
            c = cells.get(key)
            if c and (best is None or c["median_us"] < best[1]["median_us"]):
                best = (setup, c)
        return best

    # peak resident memory of whole training runs, data included
    rss = {}
    if os.access(train, os.X_OK):
        cmd = [train, "--model", "lenet", "--batch", "64", "--epochs", "1",
               "--limit", str(args.train_limit)]
        status, kib, secs, tail = run_peak_rss(cmd)
        rss["gradtape-train"] = {"cmd": " ".join(cmd), "status": status, "peak_rss_kib": kib,
                                 "seconds": secs, "tail": tail}
    epoch_cmd = [bench, "--epoch", "--model", "lenet", "--batch", "64", "--limit",
                 str(args.train_limit), "--json"]
    status, kib, secs, tail = run_peak_rss(epoch_cmd)
    rss["gradtape-bench --epoch"] = {"cmd": " ".join(epoch_cmd), "status": status,
                                     "peak_rss_kib": kib, "seconds": secs, "tail": tail}
    loads["end"] = loadavg()

    # ---- the report ------------------------------------------------------------------------
    any_env = next(iter(pt_envs.values()), {})
    print("Environment")
    print(f"  date              {started}")
    print(f"  CPU               {cpu_model()}, {os.cpu_count()} logical cores; "
          f"{cpu_caches()}; {platform.system()} {platform.release()}")
    peak = gt_env.get("peak_gflops")
    per_core = gt_env.get("peak_gflops_per_core")
    if peak:
        print(f"  peak              {peak:.0f} GFLOP/s float ({gt_env.get('peak_source')}; "
              f"{per_core or 0:.0f}/core {gt_env.get('peak_isa', '')} FMA x {gt_env.get('cores')})")
    threads_text = (f"{gt_env.get('threads')} (--threads 0)" if gt_env.get("threads_wired")
                    else "1 (the library has no thread control yet)")
    print(f"  gradtape          gt_real={gt_env.get('real')}, threads {threads_text}")
    if py:
        print(f"  PyTorch           {any_env.get('torch')} ({py}), CPU capability "
              f"{any_env.get('cpu_capability')}, oneDNN {any_env.get('mkldnn')}, OpenBLAS core "
              f"{any_env.get('openblas_core')}")
        if str(any_env.get("openblas_core", "")).startswith("unknown"):
            print("  WARNING           PyTorch is not running on OpenBLAS: Debian's python3-torch "
                  "then uses the reference BLAS, some 20-40x slower on the MLP, and every ratio "
                  "below flatters gradtape. Install libopenblas0-pthread (see README, Performance) "
                  "and measure again.")
        print("  setups            " + ", ".join(
            f"{s}: torch {e.get('torch_threads')} x OpenBLAS {e.get('openblas_threads', '?')}"
            for s, e in pt_envs.items()))
    else:
        tried = args.python or f"{sys.executable}, /usr/bin/python3"
        print(f"  PyTorch           not found: no 'import torch' in {tried} (Debian: apt-get "
              "install python3-torch): gradtape's numbers only")
    if py:
        print(malloc_line())
    print(f"  OPENBLAS_CORETYPE {os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print(isa_line(args))
    print(f"  load average      " + "; ".join(f"{k}: {v}" for k, v in loads.items()))
    print(f"  method            medians of reps after {args.warmup} warm-up runs, "
          f"{args.budget:g} s per cell and at least {args.min_reps} reps, both sides; "
          f"{args.rounds} round(s) alternating the sides, the median round kept; the "
          "machine is shared, so numbers are noisy")
    print(f"  FLOP convention   {gt_env.get('flop_convention')}")
    print()

    rows = []
    for label, model, cell, batch, kind, target in TARGET_ROWS:
        g = gt.get((model, cell, batch))
        b = pt_best((model, cell, batch))
        if kind == "rate":
            unit = "images/s"
            g_text = fmt_rate(g["images_per_s"]) if g else "n/a"
        else:
            unit = "step time"
            g_text = fmt_time(g["median_us"]) if g else "n/a"
        if g and b:
            setup, c = b
            p_text = (fmt_rate(c["images_per_s"]) if kind == "rate" else fmt_time(c["median_us"]))
            p_text += f" ({setup})"
            ratio = (g["images_per_s"] / c["images_per_s"] if kind == "rate"
                     else c["median_us"] / g["median_us"])
            verdict = "PASS" if ratio >= target else "FAIL"
            ratio_text = f"{ratio:.3g}x"
        else:
            p_text, ratio, ratio_text = "n/a", None, "n/a"
            verdict = "SKIP"
        rows.append((f"{label} ({unit})", g_text, p_text, ratio_text, f">= {target:g}x", verdict))

    if scaling:
        t1, t2 = scaling[1]["median_us"], scaling[2]["median_us"]
        ratio = t1 / t2
        rows.append(("LeNet-5 batch 256 training, 2 threads vs 1",
                     f"{fmt_time(t2)} vs {fmt_time(t1)}", "-", f"{ratio:.3g}x",
                     f">= {SCALING_TARGET:g}x", "PASS" if ratio >= SCALING_TARGET else "FAIL"))
    else:
        rows.append(("LeNet-5 batch 256 training, 2 threads vs 1", "not measurable", "-", "n/a",
                     f">= {SCALING_TARGET:g}x", "SKIP"))

    r = rss.get("gradtape-train")
    if r and r["status"] == 0:
        mib = r["peak_rss_kib"] / MIB
        rows.append(("Peak RSS, gradtape-train lenet batch 64", f"{mib:.1f} MiB", "-", "-",
                     f"< {RSS_TARGET_MIB} MiB", "PASS" if mib < RSS_TARGET_MIB else "FAIL"))
    else:
        rows.append(("Peak RSS, gradtape-train lenet batch 64",
                     "not built" if not r else f"exit {r['status']}", "-", "-",
                     f"< {RSS_TARGET_MIB} MiB", "SKIP"))
    r = rss["gradtape-bench --epoch"]
    if r["status"] == 0:
        mib = r["peak_rss_kib"] / MIB
        rows.append(("Peak RSS, gradtape-bench --epoch lenet 64", f"{mib:.1f} MiB", "-", "-",
                     f"< {RSS_TARGET_MIB} MiB", "info"))

    header = ("metric", "gradtape", "PyTorch best (setup)", "ratio", "target", "verdict")
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    line = "  ".join(f"{{:{'<' if i in (0, 1, 2) else '>'}{w}}}" for i, w in enumerate(widths))
    print(line.format(*header))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line.format(*row))
    print()

    # notes that explain SKIP and info rows
    if scaling and (scaling[1].get("threads"), scaling[2].get("threads")) != (1, 2):
        print(f"note: for the 2-threads-vs-1 row gradtape-bench reported "
              f"{scaling[2].get('threads')} and {scaling[1].get('threads')} threads in effect "
              "(asked for 2 and 1): the library did not take the thread count as asked.")
    if not scaling:
        print("note: the 2-threads-vs-1 row is not measurable: gradtape-bench reports "
              "threads_wired=false (gt_set_threads refused the thread count).")
    if "gradtape-train" not in rss:
        print(f"note: peak RSS of gradtape-train skipped: {train} is not built on this "
              "branch. The info row is the same workload (LeNet-5, batch 64, Fashion-MNIST "
              "loaded whole, one epoch of --limit images) run by gradtape-bench --epoch.")
    elif rss["gradtape-train"]["status"] != 0:
        print(f"note: {rss['gradtape-train']['cmd']} exited {rss['gradtape-train']['status']}: "
              + " | ".join(rss["gradtape-train"]["tail"]))
    if rss["gradtape-bench --epoch"]["status"] != 0:
        print(f"note: {rss['gradtape-bench --epoch']['cmd']} failed: "
              + " | ".join(rss["gradtape-bench --epoch"]["tail"]))
    drift = []
    for key, (kind, ref) in REFERENCE.items():
        b = pt_best(key)
        if b:
            today = b[1]["images_per_s"] if kind == "rate" else b[1]["median_us"]
            speed = today / ref if kind == "rate" else ref / today
            drift.append(f"{key[0]} {key[1]} {key[2]}: {speed:.2f}")
    if drift:
        print("note: PyTorch's best today as a fraction of its reference measurement "
              "(1.00 = as fast; lower = a busier machine or a slower setup): " + ", ".join(drift))
    print("note: ratios read as 'gradtape is Nx faster' (images/s over images/s, or PyTorch's "
          "step time over gradtape's); PyTorch's LeNet runs conv-tanh-pool as written, "
          "gradtape's pool-then-tanh (same values, a quarter of the tanh work).")
    print()

    # every cell, for information
    print("All cells (median per call; PyTorch: best setup" +
          ("; old: the --old build, and how many times faster this one is)" if old else ")"))
    detail = [("model", "cell", "batch", "gradtape", "GFLOP/s", "PyTorch", "setup", "ratio") +
              (("old", "vs old") if old else ())]
    for (model, cell, batch), g in sorted(gt.items(), key=lambda kv: (kv[0][0], kv[0][2],
                                                                     kv[0][1])):
        b = pt_best((model, cell, batch))
        o = old.get((model, cell, batch))
        detail.append((model, cell, str(batch), fmt_time(g["median_us"]), f"{g['gflops']:.2f}",
                       fmt_time(b[1]["median_us"]) if b else "n/a", b[0] if b else "-",
                       f"{b[1]['median_us'] / g['median_us']:.3g}x" if b else "n/a") +
                      ((fmt_time(o["median_us"]) if o else "n/a",
                        f"{o['median_us'] / g['median_us']:.3g}x" if o else "n/a") if old else ()))
    widths = [max(len(row[i]) for row in detail) for i in range(len(detail[0]))]
    for i, row in enumerate(detail):
        print("  ".join(f"{v:<{w}}" if j < 2 else f"{v:>{w}}" for j, (v, w) in
                        enumerate(zip(row, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    if pt_runs:
        print()
        print("PyTorch by thread setup (median per call)")
        keys = sorted(next(iter(pt_runs.values())).keys(), key=lambda k: (k[0], k[2], k[1]))
        print(f"{'model':<6} {'cell':<11} {'batch':>5}  " +
              "  ".join(f"{s:>10}" for s in pt_runs))
        for key in keys:
            print(f"{key[0]:<6} {key[1]:<11} {key[2]:>5}  " + "  ".join(
                f"{fmt_time(pt_runs[s][key]['median_us']) if key in pt_runs[s] else 'n/a':>10}"
                for s in pt_runs))

    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"date": started, "cpu": cpu_model(), "loadavg": loads,
                       "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE"),
                       "gradtape": gt_records, "scaling": scaling,
                       "pytorch": {s: {"env": pt_envs[s], "cells": list(c.values())}
                                   for s, c in pt_runs.items()},
                       "rss": rss, "table": rows}, f, indent=1)
    return 0


# ---- --ops: the op rows ------------------------------------------------------------------

def run_ops(args, bench, old_bench, py, timing, started):
    """gradtape-bench --model ops at all threads (and old_bench, the --old build, likewise),
    then each PyTorch setup on the rows it printed; rounds alternate the sides; each cell
    keeps its median round and PyTorch its best setup."""
    gt_rounds, old_rounds, pt_rounds, pt_env = [], [], {}, {}
    loads, rows = {"start": loadavg()}, []

    def op_cells(records):
        return {(r["op"], r["case"], r["cell"]): r for r in records if r.get("type") == "op"}

    for round_no in range(1, args.rounds + 1):
        print(f"round {round_no}/{args.rounds}: gradtape-bench --model ops", file=sys.stderr)
        records = run_json([bench, "--json", "--threads", "0", "--model", "ops"] + timing,
                           what="gradtape-bench --model ops")
        rows = rows or list({(r["op"], r["case"]): {k: r[k] for k in ("op", "case", "attrs",
                                                                        "inputs")}
                             for r in records if r.get("type") == "op"}.values())
        gt_rounds.append(op_cells(records))
        if old_bench:  # the older build, on the same rounds, with the same options
            print(f"round {round_no}/{args.rounds}: old gradtape-bench --model ops",
                  file=sys.stderr)
            old_rounds.append(op_cells(run_json(
                [old_bench, "--json", "--threads", "0", "--model", "ops"] + timing,
                what="the old gradtape-bench --model ops")))
        for torch_threads, blas_threads in SETUPS if py else []:
            setup = f"{torch_threads}x{blas_threads}"
            print(f"round {round_no}/{args.rounds}: PyTorch {setup}", file=sys.stderr)
            recs = run_json([py, os.path.abspath(__file__), "--worker", "--torch-threads",
                             str(torch_threads), "--seed", str(args.seed), "--op-rows",
                             json.dumps(rows)] + timing,
                            env=torch_worker_env(torch_threads, blas_threads),
                            what=f"PyTorch worker {setup} (--ops)")
            pt_env = pt_env or next((r for r in recs if r.get("type") == "env"), {})
            pt_rounds.setdefault(setup, []).append(op_cells(recs))
    loads["end"] = loadavg()
    gt = median_of_rounds(gt_rounds)
    old = median_of_rounds(old_rounds) if old_rounds else {}
    pt = {setup: median_of_rounds(r) for setup, r in pt_rounds.items()}

    print("Environment")
    print(f"  date              {started}")
    print(f"  CPU               {cpu_model()}, {os.cpu_count()} logical cores; "
          f"{cpu_caches()}; {platform.system()} {platform.release()}")
    print(f"  load average      " + "; ".join(f"{k}: {v}" for k, v in loads.items()))
    print(isa_line(args))
    if pt_env:
        print(f"  PyTorch           {pt_env.get('torch')} ({py}), CPU capability "
              f"{pt_env.get('cpu_capability')}, OpenBLAS core {pt_env.get('openblas_core')}")
        print(malloc_line())
        if str(pt_env.get("openblas_core", "")).startswith("unknown"):
            print("  WARNING           PyTorch is not running on OpenBLAS (the reference BLAS "
                  "instead): its matmul row flatters gradtape (see README, Performance)")
    print(f"  method            gradtape at all threads; PyTorch (float32) at each setup "
          f"(torch x OpenBLAS threads: {', '.join(f'{a}x{b}' for a, b in SETUPS)}), its best "
          f"kept; medians of reps, {args.budget:g} s per cell, {args.rounds} round(s), the "
          "median round kept" + (f"; old: {old_bench}, in the same rounds" if old_bench else ""))
    print()
    header = ("op", "case", "cell", "gradtape", "PyTorch best (setup)", "ratio", "verdict") + \
        (("old", "vs old") if old_bench else ())
    table = []
    for key in sorted(gt, key=lambda k: ([r["op"] for r in rows].index(k[0]), k[1], k[2])):
        g = gt[key]
        best = min(((s, c[key]) for s, c in pt.items() if key in c),
                   key=lambda sc: sc[1]["median_us"], default=None)
        ratio = best[1]["median_us"] / g["median_us"] if best else None
        table.append((key[0], key[1], key[2], fmt_time(g["median_us"]),
                      f"{fmt_time(best[1]['median_us'])} ({best[0]})" if best else "n/a",
                      f"{ratio:.3g}x" if ratio else "n/a",
                      ("PASS" if ratio >= 1 else "FAIL") if ratio else "SKIP") +
                     ((fmt_time(old[key]["median_us"]) if key in old else "n/a",
                       f"{old[key]['median_us'] / g['median_us']:.3g}x" if key in old else "n/a")
                      if old_bench else ()))
    widths = [max(len(r[i]) for r in table + [header]) for i in range(len(header))]
    fmt_line = "  ".join(f"{{:{'<' if i < 3 else '>'}{w}}}" for i, w in enumerate(widths))
    print(fmt_line.format(*header))
    print("  ".join("-" * w for w in widths))
    for r in table:
        print(fmt_line.format(*r))
    print()
    print("ratio: PyTorch's best time over gradtape's (> 1: gradtape is faster); target: at "
          "least as fast (>= 1x)" + ("; vs old: the --old build's time over this one's (> 1: "
                                     "this build is faster)" if old_bench else ""))
    if pt:
        print()
        print("PyTorch by thread setup (median per call)")
        for key in sorted(gt, key=lambda k: ([r["op"] for r in rows].index(k[0]), k[1], k[2])):
            print(f"{key[0]:<20} {key[1]:<48} {key[2]:<16} " + "  ".join(
                f"{s} {fmt_time(c[key]['median_us']) if key in c else 'n/a':>10}"
                for s, c in pt.items()))
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"date": started, "cpu": cpu_model(), "loadavg": loads,
                       "gradtape": list(gt.values()), "old": list(old.values()),
                       "pytorch": {s: list(c.values()) for s, c in pt.items()},
                       "table": [header] + table}, f, indent=1)
    return 0


# ---- --load N: the same steps while N busy processes compete for the cores ---------------

LOAD_BATCHES = [1, 64]
GT_SETUPS = [("default", ["--threads", "0"]), ("1 thread", ["--threads", "1"]),
             ("2 threads", ["--threads", "2"])]
PT_LOAD_SETUPS = [("default", None, None), ("1x1", 1, 1), ("2x1", 2, 1), ("1x2", 1, 2)]
LOADED_VS_ONE_TARGET = 0.8
LOADED_VS_TORCH_TARGET = 3.0


CHARGPT_LOSS_TOLERANCE = 0.02  # gradtape's final validation loss within 2% of PyTorch's
CHARGPT_SPEED_TARGET = 1.5     # gradtape's tokens/s over PyTorch's best setup


def run_chargpt(args):
    """examples/chargpt beside examples/chargpt.py: one gradtape run (all cores), one PyTorch
    run per thread count; each prints a last line of key=value pairs."""
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    binary = args.chargpt_bin or os.path.join(root, "build", "examples", "chargpt")
    if not os.access(binary, os.X_OK):
        die(f"chargpt not found ({binary}): build it with cmake --build build --target "
            "chargpt, or give --chargpt-bin")
    py = torch_python(args.python)
    if not py:
        die("no Python with torch (apt-get install python3-torch, or --python)")
    steps = [] if args.full else ["--steps", "200", "--eval-every", "100"]
    print(f"CPU: {cpu_model()}; {os.cpu_count()} cores; load {loadavg()}; "
          f"{'full run (2000 steps)' if args.full else '200 steps (--full: 2000)'}")

    def run(name, cmd):
        print(f"$ {' '.join(cmd)}", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines or "val_loss=" not in lines[-1]:
            die(f"{name} failed ({proc.returncode}): {proc.stderr.strip()[-500:]}")
        print(f"{name:<22} {lines[-1]}", flush=True)
        return {k: float(v) for k, v in (kv.split("=", 1) for kv in lines[-1].split())}

    gt = run("gradtape", [binary, "--threads", "0"] + steps)
    torch_runs = {}
    for setup in args.setups:
        t, blas = (int(v) for v in setup.split("x"))
        os.environ.update(PT_MALLOC, OPENBLAS_NUM_THREADS=str(blas))  # read at load
        torch_runs[setup] = run(f"pytorch {setup}", [py, os.path.join(root, "examples",
                                "chargpt.py"), "--threads", str(t)] + steps)
    best = max(torch_runs, key=lambda t: torch_runs[t]["tokens_per_s"])
    pt = torch_runs[best]
    loss_gap = abs(gt["val_loss"] - pt["val_loss"]) / pt["val_loss"]
    speed = gt["tokens_per_s"] / pt["tokens_per_s"]
    print(f"load at the end {loadavg()}")
    print(f"{'metric':<26} {'gradtape':>10} {'PyTorch best':>14} {'ratio':>7}  target")
    print(f"{'final validation loss':<26} {gt['val_loss']:>10.4f} {pt['val_loss']:>10.4f} "
          f"({best}) {gt['val_loss'] / pt['val_loss']:>6.3f}  within "
          f"{CHARGPT_LOSS_TOLERANCE:.0%}: {'PASS' if loss_gap <= CHARGPT_LOSS_TOLERANCE else 'FAIL'}")
    print(f"{'training tokens/s':<26} {gt['tokens_per_s']:>10.0f} {pt['tokens_per_s']:>10.0f} "
          f"({best}) {speed:>6.2f}x  >= {CHARGPT_SPEED_TARGET}x: "
          f"{'PASS' if speed >= CHARGPT_SPEED_TARGET else 'FAIL'}")
    return 0


def start_load(n):
    """N processes that spin on the CPU until stopped (plain Python loops)."""
    return [subprocess.Popen([sys.executable, "-c", "while True: pass"],
                             stdin=subprocess.DEVNULL) for _ in range(n)]


def stop_load(procs):
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()


def run_loaded(args, bench, old, py, timing, started):
    """Times training steps with args.load busy processes running: gradtape at --threads
    0 (its default), 1 and 2 (and the --old build at 0 and 1); PyTorch at its default (no
    thread variables set) and at each setup. Rounds alternate the setups; each cell keeps
    its median round."""
    gt_cmd = ["--json", "--cells", "train", "--batches", ",".join(map(str, LOAD_BATCHES)),
              "--inference-batch", "0"] + timing
    gt_setups = [(name, bench, flags) for name, flags in GT_SETUPS]
    if old:
        gt_setups += [("old " + name, old, flags) for name, flags in GT_SETUPS[:2]]
    gt_rounds = {name: [] for name, _, _ in gt_setups}
    pt_rounds = {name: [] for name, _, _ in PT_LOAD_SETUPS} if py else {}
    gt_env, loads = {}, {"before": loadavg()}
    procs = start_load(args.load)
    try:
        time.sleep(1.0)  # let the scheduler spread them
        for round_no in range(1, args.rounds + 1):
            for name, exe, flags in gt_setups:
                print(f"round {round_no}/{args.rounds} under load {args.load}: gradtape {name}",
                      file=sys.stderr)
                recs = run_json([exe] + gt_cmd + flags, what=f"gradtape-bench {name}")
                gt_env = gt_env or next((r for r in recs if r.get("type") == "env"), {})
                gt_rounds[name].append(cells_of(recs))
            for name, torch_threads, blas_threads in PT_LOAD_SETUPS if py else []:
                print(f"round {round_no}/{args.rounds} under load {args.load}: PyTorch {name}",
                      file=sys.stderr)
                env = torch_worker_env(torch_threads, blas_threads)
                recs = run_json([py, os.path.abspath(__file__), "--worker", "--torch-threads",
                                 str(torch_threads or 0), "--seed", str(args.seed),
                                 "--models", "mlp", "lenet", "--batches"] + [str(b) for b in LOAD_BATCHES] +
                                ["--inference-batch", "0", "--train-only"] + timing,
                                env=env, what=f"PyTorch worker {name}")
                pt_rounds[name].append(cells_of(recs))
        loads["during"] = loadavg()
    finally:
        stop_load(procs)
    gt = {name: median_of_rounds(r) for name, r in gt_rounds.items()}
    pt = {name: median_of_rounds(r) for name, r in pt_rounds.items()}

    print("Environment")
    print(f"  date              {started}")
    print(f"  CPU               {cpu_model()}, {os.cpu_count()} logical cores; "
          f"{cpu_caches()}; {platform.system()} {platform.release()}")
    print(f"  load              {args.load} busy processes of this script's own during every "
          f"measurement; load average " + "; ".join(f"{k}: {v}" for k, v in loads.items()))
    print(f"  gradtape          default threads {gt_env.get('threads')}")
    print(malloc_line())
    print(isa_line(args))
    print(f"  method            training steps (forward, loss, backward, SGD momentum), medians "
          f"of reps, {args.budget:g} s per cell, {args.rounds} round(s), median round kept")
    print()
    header = (["model", "batch"] + [f"gt {n}" for n in gt] +
              [f"torch {n}" for n in pt] + ["default vs 1 thread", "vs torch default"])
    rows, verdicts = [], []
    for model in ("mlp", "lenet"):
        for batch in LOAD_BATCHES:
            key = (model, "train_step", batch)
            rate = {f"gt {n}": gt[n].get(key, {}).get("images_per_s") for n in gt}
            rate.update({f"torch {n}": pt[n].get(key, {}).get("images_per_s") for n in pt})
            own = (rate["gt default"] / rate["gt 1 thread"]
                   if rate["gt default"] and rate["gt 1 thread"] else None)
            vs_torch = (rate["gt default"] / rate["torch default"]
                        if rate.get("torch default") and rate["gt default"] else None)
            rows.append([model, str(batch)] +
                        [fmt_rate(rate[h]) if rate.get(h) else "n/a" for h in header[2:-2]] +
                        [f"{own:.2f}x" if own else "n/a", f"{vs_torch:.3g}x" if vs_torch else "n/a"])
            if batch == 64 and own:
                verdicts.append(f"{model} batch 64: default {own:.2f}x of 1 thread (target >= "
                                f"{LOADED_VS_ONE_TARGET:g}x) "
                                f"{'PASS' if own >= LOADED_VS_ONE_TARGET else 'FAIL'}" +
                                (f"; {vs_torch:.3g}x PyTorch's default (target >= "
                                 f"{LOADED_VS_TORCH_TARGET:g}x) "
                                 f"{'PASS' if vs_torch >= LOADED_VS_TORCH_TARGET else 'FAIL'}"
                                 if vs_torch else ""))
    widths = [max(len(r[i]) for r in rows + [header]) for i in range(len(header))]
    print("  ".join(f"{h:<{w}}" if i < 2 else f"{h:>{w}}" for i, (h, w) in
                    enumerate(zip(header, widths))))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(f"{v:<{w}}" if i < 2 else f"{v:>{w}}" for i, (v, w) in
                        enumerate(zip(r, widths))))
    print()
    print("images/s of training steps; torch AxB = torch threads x OpenBLAS threads" +
          ("; gt old: the --old build" if old else ""))
    for v in verdicts:
        print(v)
    if args.json_out:
        with open(args.json_out, "w") as f:
            json.dump({"date": started, "cpu": cpu_model(), "load": args.load,
                       "loadavg": loads, "gradtape": {n: list(c.values()) for n, c in gt.items()},
                       "pytorch": {n: list(c.values()) for n, c in pt.items()},
                       "table": [header] + rows}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
