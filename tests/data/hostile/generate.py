"""Write the hostile-input corpus (``tests/data/hostile/{workloads,designs,spaces}``).

Run from the repository root: ``python tests/data/hostile/generate.py``. The files are committed; the
script is how they were made (and how to remake them after a format change). Each file starts with
one comment line stating what archmodel must do with it (``tests/test_hostile.py`` holds it to that):

* ``# expect: refuse`` — exit 2 with one line naming the file (loading refuses it);
* ``# expect: refuse-eval`` — it loads, but evaluating it is refused in one line naming a file;
* ``# expect: valid`` — ``eval`` exits 0 and every number it prints is finite.

A second comment line ``# isolate`` marks a resource bomb: the test runs it in a subprocess under a
1 GB address-space limit and a time limit, so a regression cannot take the machine down.

Designs are the shipped presets (``configs/archs``) with one numeric field replaced; workloads and
spaces are written out here. Values are chosen to be outside every field's domain (or, for the
``valid`` files, at its edge), so an expectation never depends on which field was hit.
"""

from __future__ import annotations

import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]

GEMM = """workload: g
ranks: {{M: {M}, N: {N}, K: {K}}}
tensors:
  A: {{ranks: [M, K], bits: 8}}
  B: {{ranks: [K, N], bits: 8}}
einsums:
  - C[m,n] = A[m,k] * B[k,n]
"""

BIG_INT = "9" * 5000  # past Python's 4,300-digit int() limit
#: YAML scalars no numeric field may take, whatever its domain.
NOT_NUMBERS = {
    "nan": ".nan",
    "inf": ".inf",
    "neg-inf": "-.inf",
    "1e400": "1.0e+400",
    "neg": "-1",
    "2p62": str(2**62),
    "5000-digits": BIG_INT,
    "string": "'12'",
    "bool": "true",
    "null": "null",
    "list": "[1]",
    "map": "{a: 1}",
    "neg-big": "-" + BIG_INT,
}


def write(sub: str, name: str, expect: str, body: str | bytes, *, isolate: bool = False) -> None:
    head = f"# expect: {expect}\n" + ("# isolate\n" if isolate else "")
    path = HERE / sub / f"{name}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    data = head.encode() + (body if isinstance(body, bytes) else body.encode())
    path.write_bytes(data)


def workloads() -> None:
    w = "workloads"
    base = GEMM.format(M=64, N=64, K=64)
    # -- numbers where they enter: extents, bits, init, pad, constants, index coefficients ---------
    for tag, value in {
        **NOT_NUMBERS,
        "zero": "0",
        "float": "1.5",
        "2p53-plus-1": str(2**53 + 1),
        "2p63": str(2**63),
        "hex-2p63": "0x7fffffffffffffff",
        "10p400": "1" + "0" * 400,
    }.items():
        write(w, f"extent-{tag}", "refuse", base.replace("M: 64", f"M: {value}"))
    for tag, value in {"nan": ".nan", "2p64": str(2**64), "zero": "0", "digits": BIG_INT}.items():
        write(w, f"extent-long-form-{tag}", "refuse", base.replace("M: 64", f"M: {{extent: {value}}}"))
    for tag, value in {**NOT_NUMBERS, "zero": "0", "257": "257"}.items():
        write(w, f"bits-top-{tag}", "refuse", "bits: " + value + "\n" + base)
        write(w, f"bits-tensor-{tag}", "refuse", base.replace("bits: 8}", f"bits: {value}}}", 1))
    rec = """workload: r
ranks: {{M: {{extent: 64, parts: [M1, M0]}}, M0: 8, P: 4}}
tensors:
  X: [M1, M0, P]
  RM: {{ranks: [M1, P], init: {init}}}
einsums:
  - RM[m1+1,p] = max(RM[m1,p], X[m1,m0,p])
"""
    write(w, "init-ok-neg-inf", "valid", rec.format(init="-.inf"))
    for tag, value in {
        "nan": ".nan",
        "neg-nan": "-.nan",
        "string-nan": "nan",
        "string": "abc",
        "digits": BIG_INT,
        "2p60": str(2**60),
        "list": "[1]",
    }.items():
        write(w, f"init-{tag}", "refuse", rec.format(init=value))
    conv = """workload: c
ranks: {{P: 8, R: 3, C: 4}}
tensors:
  I: {{ranks: [P, C], pad: {{P: {pad}}}}}
  F: [R, C]
einsums:
  - O[p] = I[p+r-1, c] * F[r, c]
"""
    write(w, "pad-ok", "valid", conv.format(pad=1))
    for tag, value in {"neg": "-1", "nan": ".nan", "2p60": str(2**60), "digits": BIG_INT}.items():
        write(w, f"pad-{tag}", "refuse", conv.format(pad=value))
    for tag, expr in {
        "const-1e400": "A[m,k] * B[k,n] * 1e400",
        "const-400-digits": "A[m,k] * " + "9" * 400,
        "const-5000-digits": "A[m,k] * " + BIG_INT,
        "index-coef-huge": "A[100000000000000000000*m,k] * B[k,n]",
        "index-coef-digits": f"A[{BIG_INT}*m,k] * B[k,n]",
        "index-float": "A[1.5*m,k] * B[k,n]",
        "index-product-overflow": "A[4294967296*4294967296*m,k] * B[k,n]",
    }.items():
        write(w, f"einsum-{tag}", "refuse", base.replace("A[m,k] * B[k,n]", expr))
    # -- index variables in the wrong case must never become other variables -----------------------
    vec = """workload: v
ranks: {M: 4, MX: 4, N: 4}
tensors:
  A: [M]
einsums:
  - C[m] = EXPR
"""
    for tag, expr in {
        "mX": "A[mX]",
        "Mx-extent": "A[Mx]",
        "M-upper": "A[M]",
        "mm-undeclared": "A[mm]",
        "mX-output": "A[m]",
        "n-wrong-rank": "A[n] * 2",
    }.items():
        body = vec.replace("EXPR", expr)
        if tag == "mX-output":
            body = body.replace("C[m] =", "C[mX] =")
        # ``A[n]`` reads A's M dimension with N's variable: legal (same extent), a reduction over n
        write(w, f"index-{tag}", "valid" if tag == "n-wrong-rank" else "refuse", body)
    # -- ranks ------------------------------------------------------------------------------------
    write(w, "rank-lower-case", "refuse", base.replace("M: 64", "m: 64"))
    write(
        w,
        "rank-self-part",
        "refuse",
        "workload: p\nranks: {M: {extent: 64, parts: [M, M0]}, M0: 8}\n"
        "tensors:\n  A: [M]\neinsums:\n  - B[m] = A[m]\n",
    )
    write(
        w,
        "rank-part-twice",
        "refuse",
        "workload: p\nranks: {M: {parts: [M0, M0]}, M0: 8}\ntensors:\n  A: [M]\neinsums:\n  - B[m] = A[m]\n",
    )
    write(
        w,
        "rank-parts-product-huge",
        "refuse",
        "workload: p\nranks: {M: {parts: [M1, M0]}, M1: "
        f"{2**40}, M0: {2**40}}}\ntensors:\n  A: [M]\neinsums:\n  - B[m] = A[m]\n",
    )
    write(
        w,
        "rank-parts-cycle",
        "refuse",
        "workload: p\nranks: {M: {parts: [N, M0]}, N: {parts: [M, M0]}, "
        "M0: 8}\ntensors:\n  A: [M]\neinsums:\n  - B[m] = A[m]\n",
    )
    names = [f"R{i}" for i in range(300)]
    write(
        w,
        "ranks-300",
        "refuse",
        "workload: r\nranks: {"
        + ", ".join(f"{n}: 2" for n in names)
        + "}\ntensors:\n  A: [R0]\neinsums:\n  - B[r0] = A[r0]\n",
    )
    many = [f"R{i}" for i in range(200)]
    write(
        w,
        "ranks-200-of-1e6",
        "refuse",
        "workload: r\nranks: {"
        + ", ".join(f"{n}: 1000000" for n in many)
        + "}\ntensors:\n  A: ["
        + ", ".join(many)
        + "]\neinsums:\n  - B[] = A["
        + ",".join(n.lower() for n in many)
        + "]\n",
        isolate=True,
    )
    fifty = [f"R{i}" for i in range(50)]
    write(
        w,
        "ranks-50-of-2",
        "valid",
        "workload: r\nranks: {"
        + ", ".join(f"{n}: 2" for n in fifty)
        + "}\ntensors:\n  A: ["
        + ", ".join(fifty)
        + "]\neinsums:\n  - B[] = A["
        + ",".join(n.lower() for n in fifty)
        + "]\n",
    )
    # -- sizes that analyse but must evaluate quickly and finitely, or be refused -----------------
    write(w, "gemm-2p24", "refuse", GEMM.format(M=2**24, N=2**24, K=2**24), isolate=True)
    write(w, "gemm-cube-2p18", "refuse", GEMM.format(M=2**18, N=2**18, K=2**18), isolate=True)
    write(w, "gemm-cube-2p17", "refuse-eval", GEMM.format(M=2**17, N=2**17, K=2**17), isolate=True)
    write(w, "gemm-m-1e9", "refuse-eval", GEMM.format(M=10**9, N=512, K=512), isolate=True)
    write(w, "gemm-m-1e8-k-8", "valid", GEMM.format(M=10**8, N=8, K=8), isolate=True)
    write(w, "gemm-space-2p53", "refuse-eval", GEMM.format(M=2**18, N=2**18, K=2**17), isolate=True)
    write(
        w,
        "extent-2p53",
        "valid",
        f"workload: v\nranks: {{M: {2**53}}}\ntensors:\n  A: [M]\neinsums:\n"
        "  - B[m] = exp(A[m])\n  - S[] = sum(m) B[m]\n",
        isolate=True,
    )
    write(
        w,
        "vector-2p70",
        "refuse",
        "workload: v\nranks: {M: 1073741824, N: 1073741824, K: 1048576}\n"
        "tensors:\n  A: [M, N, K]\neinsums:\n  - B[m,n,k] = exp(A[m,n,k])\n",
        isolate=True,
    )
    write(
        w,
        "tensor-too-large",
        "refuse",
        "workload: v\nranks: {M: 4294967296, N: 4294967296}\n"
        "tensors:\n  A: [M, N]\n  X: [M]\neinsums:\n  - B[m] = X[m] * 2\n  - C[m,n] = A[m,n]\n",
    )
    # -- expressions ------------------------------------------------------------------------------
    head = "workload: d\nranks: {M: 4}\ntensors:\n  B: [M]\neinsums:\n"
    write(w, "nest-100-parens", "valid", head + "  - A[m] = " + "(" * 100 + "B[m]" + ")" * 100 + "\n")
    write(w, "nest-128-calls", "valid", head + "  - A[m] = " + "exp(" * 127 + "B[m]" + ")" * 127 + "\n")
    for n in (129, 300, 5000):
        write(w, f"nest-{n}-parens", "refuse", head + "  - A[m] = " + "(" * n + "B[m]" + ")" * n + "\n")
        write(w, f"nest-{n}-minus", "refuse", head + "  - A[m] = " + "-" * n + "B[m]\n")
        write(w, f"nest-{n}-calls", "refuse", head + "  - A[m] = " + "relu(" * n + "B[m]" + ")" * n + "\n")
    write(w, "sum-2000-terms", "valid", head + "  - A[m] = " + " + ".join(["B[m]"] * 2000) + "\n")
    write(w, "einsum-unknown-char", "refuse", head + "  - A[m] = B[m] ^ 2\n")
    write(w, "einsum-not-string", "refuse", head + "  - {A: 1}\n")
    write(w, "einsum-eval-attempt", "refuse", head + "  - A[m] = __import__('os').system('true')\n")
    # -- names and long text: the error line stays short ----------------------------------------
    long = "X" * 20000
    write(
        w,
        "long-tensor-name",
        "refuse",
        base.replace("A: {ranks: [M, K], bits: 8}", f"{long}: {{ranks: [M, K], bits: 8}}"),
    )
    write(w, "long-rank-name", "refuse", base.replace("M: 64", f"M{long}: 64"))
    write(w, "long-unknown-key", "refuse", base + f"{'k' * 20000}: 1\n")
    write(w, "long-workload-value", "refuse", base.replace("workload: g", "workload: [" + "1," * 5000 + "1]"))
    write(w, "long-einsum-undeclared", "refuse", head + "  - A[m] = " + " + ".join(["Q[m]"] * 3000) + "\n")
    # -- YAML itself ------------------------------------------------------------------------------
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n"
    for i, c in enumerate("bcdefghij"):
        prev = chr(ord("a") + i)
        bomb += f"{c}: &{c} [" + ", ".join([f"*{prev}"] * 9) + "]\n"
    write(w, "yaml-alias-bomb", "refuse", bomb, isolate=True)
    mbomb = "a: &a {k0: 1, k1: 1, k2: 1, k3: 1, k4: 1, k5: 1, k6: 1, k7: 1}\n"
    for i, c in enumerate("bcdefghijkl"):
        prev = chr(ord("a") + i)
        mbomb += f"{c}: &{c} {{" + ", ".join(f"k{j}: *{prev}" for j in range(8)) + "}\n"
    write(w, "yaml-alias-bomb-mappings", "refuse", mbomb, isolate=True)
    write(
        w,
        "yaml-alias-bomb-in-einsums",
        "refuse",
        head.replace("einsums:\n", "")
        + "x: &x [A, A, A, A, A, A, A, A]\n"
        + "".join(
            f"x{i}: &x{i} [" + ", ".join(["*x" if i == 0 else f"*x{i - 1}"] * 8) + "]\n" for i in range(8)
        )
        + "einsums: *x7\n",
        isolate=True,
    )
    write(w, "yaml-self-reference", "refuse", "a: &x [*x]\n")
    write(w, "yaml-self-reference-map", "refuse", "a: &x {b: *x}\n")
    write(w, "yaml-deep-lists", "refuse", "a: " + "[" * 20000 + "]" * 20000 + "\n", isolate=True)
    write(w, "yaml-deep-maps", "refuse", "a: " + "{a: " * 5000 + "1" + "}" * 5000 + "\n", isolate=True)
    write(w, "yaml-duplicate-key", "refuse", base + "workload: h\n")
    write(w, "yaml-tab-indent", "refuse", base.replace("  - C", "\t- C"))
    write(w, "yaml-not-utf8", "refuse", base.encode() + b"# \xff\xfe\xfa\n")
    write(w, "yaml-nul-bytes", "refuse", base.encode() + b"\x00\x00\n")
    write(w, "yaml-binary", "refuse", bytes(range(256)) * 4)
    write(w, "yaml-empty", "refuse", "")
    write(w, "yaml-only-comment", "refuse", "# nothing here\n")
    write(w, "yaml-python-tag", "refuse", "!!python/object/apply:os.system ['true']\n")
    write(w, "yaml-python-name", "refuse", base.replace("workload: g", "workload: !!python/name:os.system"))
    write(w, "yaml-binary-tag", "refuse", base.replace("workload: g", "workload: !!binary aGVsbG8="))
    write(w, "yaml-bad-date", "refuse", base.replace("workload: g", "workload: 2001-13-45"))
    write(w, "yaml-bad-float-tag", "refuse", base.replace("M: 64", "M: !!float abc"))
    write(w, "yaml-int-tag-digits", "refuse", base.replace("M: 64", f"M: !!int '{BIG_INT}'"))
    write(w, "yaml-set-key", "refuse", base.replace("M: 64", "? [1, 2]\n  : 64").replace("{M", "{\n  M", 1))
    write(w, "yaml-multi-doc", "refuse", base + "---\n" + base)
    write(w, "yaml-list-top", "refuse", "- 1\n- 2\n")
    write(w, "yaml-scalar-top", "refuse", "42\n")


def designs() -> None:
    d = "designs"
    presets = {
        "systolic": "tpu-like",
        "pim": "pim-gddr6-aim",
        "npu-pim": "npu-pim-neupims",
        "spatial": "spatial-fusemax",
    }
    field_re = re.compile(r"^(?P<indent>\s*)(?P<key>[a-z_]+): (?P<value>-?[0-9][0-9.e+-]*)\b", re.M)
    inline_re = re.compile(r"(?P<key>[a-z_]+): (?P<value>-?[0-9][0-9.]*)(?=[,}])")
    # 5,000-digit integers are tried on a few fields below, not on every one (they weigh 5 KB each)
    values = [(k, v) for k, v in NOT_NUMBERS.items() if BIG_INT not in v]
    for template, preset in presets.items():
        text = (ROOT / "configs" / "archs" / f"{preset}.yaml").read_text(encoding="utf-8")
        text = (
            "\n".join(
                line.split("  #")[0].rstrip() if "  #" in line else line
                for line in text.splitlines()
                if not line.startswith("#")
            )
            + "\n"
        )
        spots = [(m.start("value"), m.end("value"), m.group("key")) for m in field_re.finditer(text)]
        spots += [(m.start("value"), m.end("value"), m.group("key")) for m in inline_re.finditer(text)]
        spots.sort()
        seen: dict[str, int] = {}
        for n, (start, end, key) in enumerate(spots):
            seen[key] = seen.get(key, 0) + 1
            label = key if seen[key] == 1 else f"{key}{seen[key]}"
            for k in range(2):  # two hostile values per field, rotating through the list
                tag, value = values[(2 * n + k) % len(values)]
                write(d, f"{template}-{label}-{tag}", "refuse", text[:start] + value + text[end:])
            if n < 3:
                write(d, f"{template}-{label}-5000-digits", "refuse", text[:start] + BIG_INT + text[end:])
    tpu = (ROOT / "configs" / "archs" / "tpu-like.yaml").read_text(encoding="utf-8")

    def sub(pattern: str, repl: str) -> str:
        out, n = re.subn(pattern, repl, tpu, count=1)
        assert n == 1, pattern
        return out

    # the issue's cases and the edges of each domain
    write(d, "clock-1e-300", "refuse", sub(r"clock_ghz: 0.7", "clock_ghz: 1.0e-300"))
    write(d, "clock-inf", "refuse", sub(r"clock_ghz: 0.7", "clock_ghz: .inf"))
    write(d, "clock-zero", "refuse", sub(r"clock_ghz: 0.7", "clock_ghz: 0"))
    write(
        d, "dram-energy-inf", "refuse", sub(r"capacity_gib: 8}", "capacity_gib: 8, energy_pj_per_bit: .inf}")
    )
    write(
        d, "dram-energy-nan", "refuse", sub(r"capacity_gib: 8}", "capacity_gib: 8, energy_pj_per_bit: .nan}")
    )
    write(d, "bandwidth-1e-300", "refuse", sub(r"bandwidth_gb_per_s: 34", "bandwidth_gb_per_s: 1.0e-300"))
    write(d, "buffer-size-zero", "refuse", sub(r"size_kib: 1024", "size_kib: 0"))
    write(d, "banks-zero", "refuse", sub(r"banks: 8", "banks: 0"))
    write(d, "rows-2p31", "refuse", sub(r"rows: 32", f"rows: {2**31}"))
    write(d, "rows-cols-2p31", "refuse", sub(r"rows: 32\ncols: 32", f"rows: {2**31}\ncols: {2**31}"))
    write(d, "lanes-2p40", "refuse", sub(r"lanes: 32", f"lanes: {2**40}"))
    write(d, "pe-bits-1000", "refuse", sub(r"a_bits: 8", "a_bits: 1000"))
    write(d, "node-1e-300", "refuse", sub(r"node_nm: 28", "node_nm: 1.0e-300"))
    write(d, "node-huge", "refuse", sub(r"node_nm: 28", "node_nm: 1.0e+300"))
    write(d, "long-design-name", "refuse", sub(r"template: systolic", "template: " + "s" * 20000))
    write(d, "unknown-template", "refuse", sub(r"template: systolic", "template: quantum"))
    write(d, "design-not-mapping", "refuse", "- 1\n")
    write(
        d,
        "vector-cost-nan",
        "refuse",
        sub(r"vector: \{lanes: 32, bits: 16\}", "vector: {lanes: 32, bits: 16, costs: {exp: .nan}}"),
    )
    write(
        d,
        "vector-cost-inf",
        "refuse",
        sub(r"vector: \{lanes: 32, bits: 16\}", "vector: {lanes: 32, bits: 16, costs: {exp: .inf}}"),
    )
    write(
        d,
        "vector-cycles-digits",
        "refuse",
        sub(
            r"vector: \{lanes: 32, bits: 16\}",
            "vector: {lanes: 32, bits: 16, costs: {exp: {cycles: " + BIG_INT + "}}}",
        ),
    )
    # valid at the edges: finite numbers, not refusals
    write(d, "edge-rows-cols-65536", "valid", sub(r"rows: 32\ncols: 32", "rows: 65536\ncols: 65536"))
    write(d, "edge-clock-1e-6", "valid", sub(r"clock_ghz: 0.7", "clock_ghz: 1.0e-6"))
    write(d, "edge-clock-1000", "valid", sub(r"clock_ghz: 0.7", "clock_ghz: 1000"))
    write(d, "edge-bandwidth-1e-6", "valid", sub(r"bandwidth_gb_per_s: 34", "bandwidth_gb_per_s: 1.0e-6"))
    write(
        d,
        "edge-dram-energy-1e6",
        "valid",
        sub(r"capacity_gib: 8}", "capacity_gib: 8, energy_pj_per_bit: 1.0e+6}"),
    )
    write(
        d,
        "edge-dram-energy-zero",
        "valid",
        sub(r"capacity_gib: 8}", "capacity_gib: 8, energy_pj_per_bit: 0}"),
    )
    write(d, "edge-capacity-2p30", "valid", sub(r"capacity_gib: 8", f"capacity_gib: {2**30}"))
    write(d, "edge-buffer-2p30-kib", "valid", sub(r"size_kib: 1024", f"size_kib: {2**30}"))


def spaces() -> None:
    s = "spaces"
    head = "space: s\nstrategy: grid\ntemplates:\n  systolic:\n"
    ok = head + "    rows: [8, 16]\n"
    for tag, value in NOT_NUMBERS.items():
        write(s, f"range-min-{tag}", "refuse", head + f"    rows: {{min: {value}, max: 16, step: 8}}\n")
        write(s, f"range-max-{tag}", "refuse", head + f"    rows: {{min: 8, max: {value}, step: 8}}\n")
        write(s, f"budget-{tag}", "refuse", ok + f"budget: {value}\n")
        write(s, f"constraint-power-{tag}", "refuse", ok + f"constraints: {{power_w: {value}}}\n")
    for tag, value in {"tiny": "1.0e-12", "zero": "0", "nan": ".nan", "neg": "-1", "inf": ".inf"}.items():
        write(
            s, f"range-step-{tag}", "refuse", head + f"    clock_ghz: {{min: 0.1, max: 2.0, step: {value}}}\n"
        )
    for tag, value in {
        "1e12": "1000000000000",
        "float-1e12": "1.0e+12",
        "digits": BIG_INT,
        "zero": "0",
        "nan": ".nan",
    }.items():
        write(
            s, f"range-num-{tag}", "refuse", head + f"    clock_ghz: {{min: 0.1, max: 2.0, num: {value}}}\n"
        )
    write(
        s,
        "range-1e7-values",
        "refuse",
        head + "    memory.global_buffer.size_kib: {min: 1, max: 10000000, step: 1}\n",
    )
    write(s, "range-min-gt-max", "refuse", head + "    rows: {min: 64, max: 8, scale: pow2}\n")
    write(
        s,
        "choices-5000",
        "refuse",
        head + "    clock_ghz: [" + ", ".join(f"{0.1 + i * 1e-4:.4f}" for i in range(5000)) + "]\n",
    )
    write(
        s,
        "budget-1e12",
        "refuse",
        ok.replace("strategy: grid", "strategy: random") + "budget: 1000000000000\n",
    )
    write(
        s,
        "population-1e9",
        "refuse",
        ok.replace("strategy: grid", "strategy: nsga2") + "population: 1000000000\n",
    )
    for tag, value in {"neg": "-1", "2p40": str(2**40), "digits": BIG_INT, "nan": ".nan"}.items():
        write(s, f"seed-{tag}", "refuse", ok + f"seed: {value}\n")
    write(
        s,
        "grid-too-large",
        "refuse",
        head
        + "".join(
            f"    {k}: [{', '.join(str(v) for v in vals)}]\n"
            for k, vals in (
                ("rows", [8, 16, 32, 64, 128, 256, 512, 1024]),
                ("cols", [8, 16, 32, 64, 128, 256, 512, 1024]),
                ("clock_ghz", [0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3, 1.4]),
                ("memory.global_buffer.size_kib", [64, 128, 256, 512, 1024, 2048, 4096, 8192]),
                ("memory.dram.bandwidth_gb_per_s", [8, 16, 32, 64, 128, 256, 512, 1024]),
                ("vector.lanes", [8, 16, 32, 64, 128, 256, 512, 1024]),
                ("memory.global_buffer.banks", [1, 2, 4, 8, 16, 32, 64, 128]),
                ("memory.global_buffer.bytes_per_cycle", [8, 16, 32, 64, 128, 256, 512, 1024]),
            )
        ),
    )
    for tag, value in {"nan": ".nan", "inf": ".inf", "1e400": "1.0e+400", "string": "'big'"}.items():
        write(
            s, f"constraint-area-min-{tag}", "refuse", ok + f"constraints: {{area_mm2: {{min: {value}}}}}\n"
        )
    write(s, "constraint-contradictory", "refuse", ok + "constraints: {area_mm2: {min: 5, max: 1}}\n")
    write(s, "constraint-unknown", "refuse", ok + "constraints: {happiness: {min: 5}}\n")
    for tag, value in {
        "dev-zero": "/dev/zero",
        "root-dir": "/",
        "missing": "no-such-design.yaml",
        "nul-byte": '"a\\0b.yaml"',
        "long-name": "x" * 5000 + ".yaml",
        "list": "[1]",
        "dev-null": "/dev/null",
        "proc-self": "/proc/self/mem",
    }.items():
        write(s, f"base-{tag}", "refuse", head + f"    base: {value}\n    rows: [8, 16]\n")
    for tag, value in {
        "clock-nan": "clock_ghz: .nan",
        "clock-1e-300": "clock_ghz: 1.0e-300",
        "rows-2p62": f"rows: {2**62}",
        "rows-digits": f"rows: {BIG_INT}",
        "energy-inf": "memory.dram.energy_pj_per_bit: .inf",
        "bandwidth-list-nan": "memory.dram.bandwidth_gb_per_s: [25.6, .nan]",
        "unknown-param": "wheels: [4, 6]",
        "size-range-nan": "memory.global_buffer.size_kib: {min: .nan, max: 8}",
    }.items():
        write(s, f"param-{tag}", "refuse", head + f"    {value}\n")
    write(s, "objective-unknown", "refuse", ok + "objectives: [latency, beauty]\n")
    write(s, "objectives-empty", "refuse", ok + "objectives: []\n")
    write(s, "templates-empty", "refuse", "space: s\ntemplates: {}\n")
    write(s, "template-unknown", "refuse", "space: s\ntemplates:\n  warp-drive: {rows: [1]}\n")
    write(
        s,
        "space-alias-bomb",
        "refuse",
        "x0: &x0 [8, 8, 8, 8, 8, 8, 8, 8]\n"
        + "".join(f"x{i}: &x{i} [" + ", ".join([f"*x{i - 1}"] * 8) + "]\n" for i in range(1, 9)),
        isolate=True,
    )
    write(s, "space-not-mapping", "refuse", "[1, 2, 3]\n")


if __name__ == "__main__":
    # the workload the design and space files are evaluated on: small, so a valid design is quick
    (HERE / "base-gemm.yaml").write_text(GEMM.format(M=64, N=64, K=64), encoding="utf-8")
    for sub in ("workloads", "designs", "spaces"):
        for old in (HERE / sub).glob("*.yaml"):
            old.unlink()
    workloads()
    designs()
    spaces()
    counts = {sub: len(list((HERE / sub).glob("*.yaml"))) for sub in ("workloads", "designs", "spaces")}
    print(counts, "total", sum(counts.values()))
