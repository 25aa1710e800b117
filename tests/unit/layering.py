#!/usr/bin/env python3
"""The layering check: no circle between units, no unit that calls up a stage.

A *unit* is a source file and its header (`x.c` + `x.h` in one folder; a header without a
`.c`, or an assembly file, is a unit of its own). Unit A depends on unit B when A's `.c`
or `.h` includes B's header (so an inline function of a header counts for that header's
unit), or when A's object file has an undefined symbol that B's object defines (`nm`).

The stages are listed in LAYERS (one folder per line, top stage first; `#` comments): a
unit may depend on units of its own folder or of folders listed below it, never above.
Within a folder the units must not form a circle either.

    layering.py --root SRC --build BUILD [--layers FILE] [--dot]

Exit status: 0 clean; 1 a circle or an upward dependency (each printed with what ties
it); 2 bad usage (no objects found: build first).
"""
import argparse
import os
import re
import subprocess
import sys

SOURCE_DIRS = ("analysis", "shim", "probe")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def source_files(root):
    files = []
    for top in SOURCE_DIRS:
        for d, _, names in os.walk(os.path.join(root, top)):
            for n in names:
                if n.endswith((".c", ".h", ".S")):
                    files.append(os.path.relpath(os.path.join(d, n), root))
    return sorted(files)


def unit_of(path, files):
    """x.h belongs to x.c's unit where that exists; otherwise every file is its own."""
    stem, ext = os.path.splitext(path)
    if ext == ".h" and stem + ".c" in files:
        return stem
    return stem if ext == ".c" else path


def include_edges(root, files, fileset):
    by_name = {}
    for f in files:
        by_name.setdefault(os.path.basename(f), []).append(f)
    edges = {}
    for f in files:
        with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
            text = fh.read()
        for inc in INCLUDE.findall(text):
            here = os.path.normpath(os.path.join(os.path.dirname(f), inc))
            if here in fileset:
                target = here
            else:
                cands = [c for c in by_name.get(os.path.basename(inc), [])
                         if c.endswith(inc)]
                if len(cands) != 1:
                    continue            # a system header, or one this check cannot place
                target = cands[0]
            a, b = unit_of(f, fileset), unit_of(target, fileset)
            if a != b:
                edges.setdefault((a, b), set()).add("includes " + os.path.basename(target))
    return edges


def object_sources(build, root):
    """Object files CMake wrote, each with the source it was compiled from."""
    out = []
    for d, _, names in os.walk(build):
        if os.path.relpath(d, build).split(os.sep)[0] == "tests":
            continue                    # test programs are not units of the house
        m = re.search(r"CMakeFiles/[^/]+\.dir(?:/(.*))?$", d)
        if not m:
            continue
        # CMake mirrors the source path below the target's folder, `__` standing for `..`
        target_src = os.path.relpath(d[: d.index("/CMakeFiles")], build)
        rel = m.group(1) or ""
        for n in names:
            if not n.endswith((".c.o", ".S.o")):
                continue
            src = os.path.normpath(os.path.join(target_src, rel.replace("__", ".."),
                                                n[:-2]))
            if os.path.exists(os.path.join(root, src)):
                out.append((os.path.join(d, n), src))
    return out


def nm_symbols(obj):
    res = subprocess.run(["nm", "-g", obj], capture_output=True, text=True, check=True)
    defined, undefined = set(), set()
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "U":
            undefined.add(parts[1])
        elif len(parts) == 3 and parts[1] not in ("U", "w", "v"):
            defined.add(parts[2])
    return defined, undefined


def symbol_edges(build, root, fileset):
    objs = object_sources(build, root)
    if not objs:
        return None
    definer = {}
    needs = []
    for obj, src in objs:
        if src not in fileset:
            continue
        u = unit_of(src, fileset)
        defined, undefined = nm_symbols(obj)
        for s in defined:
            definer.setdefault(s, set()).add(u)
        needs.append((u, undefined))
    edges = {}
    for u, undefined in needs:
        for s in undefined:
            for b in definer.get(s, ()):
                if b != u:
                    edges.setdefault((u, b), set()).add("calls " + s)
    return edges


def read_layers(path):
    layers = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.split("#", 1)[0].strip()
            if line:
                layers.append(line.rstrip("/"))
    return layers


def stage_of(unit, layers):
    """Index of the longest listed folder holding the unit (None: not listed)."""
    best, best_len = None, -1
    for i, folder in enumerate(layers):
        if (unit.startswith(folder + "/")) and len(folder) > best_len:
            best, best_len = i, len(folder)
    return best


def circles(nodes, edges):
    """Strongly connected components of more than one unit (Tarjan, iterative)."""
    succ = {n: sorted({b for (a, b) in edges if a == n}) for n in nodes}
    index, low, onstack, stack, out = {}, {}, set(), [], []
    counter = [0]
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, 0)]
        while work:
            v, i = work.pop()
            if i == 0:
                index[v] = low[v] = counter[0]
                counter[0] += 1
                stack.append(v)
                onstack.add(v)
            recurse = False
            for j in range(i, len(succ[v])):
                w = succ[v][j]
                if w not in index:
                    work.append((v, j + 1))
                    work.append((w, 0))
                    recurse = True
                    break
                if w in onstack:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    onstack.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--root", required=True, help="source tree")
    ap.add_argument("--build", required=True, help="CMake build tree (objects for nm)")
    ap.add_argument("--layers", help="the stage order (default: ROOT/LAYERS)")
    ap.add_argument("--dot", action="store_true", help="print the unit graph as dot")
    args = ap.parse_args()

    files = source_files(args.root)
    fileset = set(files)
    edges = include_edges(args.root, files, fileset)
    sym = symbol_edges(args.build, args.root, fileset)
    if sym is None:
        print(f"layering: no object files under {args.build}: build the project first",
              file=sys.stderr)
        return 2
    for k, why in sym.items():
        edges.setdefault(k, set()).update(why)
    nodes = {unit_of(f, fileset) for f in files}

    if args.dot:
        print("digraph units {")
        for (a, b) in sorted(edges):
            print(f'  "{a}" -> "{b}";')
        print("}")
        return 0

    failed = False
    for comp in circles(nodes, edges):
        failed = True
        print(f"layering: circle of {len(comp)} units: {', '.join(comp)}")
        members = set(comp)
        for (a, b), why in sorted(edges.items()):
            if a in members and b in members:
                print(f"  {a} -> {b}: {', '.join(sorted(why)[:4])}")

    layers_path = args.layers or os.path.join(args.root, "LAYERS")
    if os.path.exists(layers_path):
        layers = read_layers(layers_path)
        for u in sorted(nodes):
            if stage_of(u, layers) is None:
                failed = True
                print(f"layering: {u} lies in no stage of {layers_path}: add its folder")
        for (a, b), why in sorted(edges.items()):
            sa, sb = stage_of(a, layers), stage_of(b, layers)
            if sa is not None and sb is not None and sb < sa:
                failed = True
                print(f"layering: upward: {a} ({layers[sa]}) -> {b} ({layers[sb]}): "
                      f"{', '.join(sorted(why)[:4])}")
    elif args.layers:
        print(f"layering: no such file {layers_path}", file=sys.stderr)
        return 2

    if not failed:
        print(f"layering: {len(nodes)} units, {len(edges)} dependencies, no circle, "
              "nothing calls up a stage")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
