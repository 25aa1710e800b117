#!/usr/bin/env python3
"""required_bindings.py SOURCE_DIR: "required = used" for the shim's bindings to the
OCaml runtime (issue 9 item 6). A binding the shim requires but never uses turns into a
refusal on binaries where it differs; one it uses but does not require reads garbage
(an absent field's offset is (size_t)-1). So, from the sources:
  - runtime layout: a field of analysis/runtime/runtime_layout.c's table is required
    (FIELD(..., false)) exactly when shim/ reads it (DS, DS_ATOMIC, STACK_FIELD, HANDLER_FIELD, or
    layout.<struct>.<field>); struct sizes are the structs' sizeof, not fields, and skipped;
  - runtime symbols: every ocaml_rt member shim/base/runtime.c binds is used elsewhere in
    shim/.
Each violation is one line saying what to change; exit 1 if any."""
import pathlib
import re
import sys

src = pathlib.Path(sys.argv[1])
# Optional by version and checked for absence by their one user: memprof_young_trigger is
# absent before OCaml 5.2 and hijack.c tests it against (size_t)-1 before use.
CHECKED_WHEN_ABSENT = {"domain_state.memprof_young_trigger"}
STRUCT_OF_MACRO = {"DS": "domain_state", "DS_ATOMIC": "domain_state",
                   "STACK_FIELD": "stack_info", "HANDLER_FIELD": "stack_handler"}

table = {}
for m in re.finditer(r"FIELD\(LAYOUT_\w+,\s*(\w+),\s*(\w+),\s*(true|false)\)",
                     (src / "analysis/runtime/runtime_layout.c").read_text()):
    table[f"{m[1]}.{m[2]}"] = m[3] == "false"

# every stage folder of shim/ (shim/base/, shim/inject/, ...)
shim_files = sorted(p for p in (src / "shim").rglob("*") if p.suffix in (".c", ".h", ".S"))
used = {}
for p in shim_files:
    in_define = False
    for n, line in enumerate(p.read_text().splitlines(), 1):
        starts = line.lstrip().startswith("#define")
        skip = starts or in_define            # macro bodies are not uses
        in_define = (starts or in_define) and line.rstrip().endswith("\\")
        if skip:
            continue
        for m in re.finditer(r"\b(DS_ATOMIC|DS|STACK_FIELD|HANDLER_FIELD)\([^,()]+,\s*(\w+)\)", line):
            used.setdefault(f"{STRUCT_OF_MACRO[m[1]]}.{m[2]}", f"{p.name}:{n}")
        for m in re.finditer(r"layout\.(domain_state|stack_info|stack_handler|c_stack_link)\.(\w+)", line):
            used.setdefault(f"{m[1]}.{m[2]}", f"{p.name}:{n}")

problems = []
if not table:
    problems.append("no FIELD(...) rows found in analysis/runtime/runtime_layout.c (format changed?)")
for field, where in sorted(used.items()):
    if field.endswith(".size"):
        continue
    if field not in table:
        problems.append(f"shim uses {field} ({where}), which the layout table does not read: "
                        "add it to runtime_layout_fields as required (FIELD(..., false))")
    elif not table[field] and field not in CHECKED_WHEN_ABSENT:
        problems.append(f"shim uses {field} ({where}) but analysis/runtime/runtime_layout.c marks it "
                        "optional: make it FIELD(..., false)")
for field, required in sorted(table.items()):
    if required and not field.endswith(".size") and field not in used:
        problems.append(f"analysis/runtime/runtime_layout.c requires {field} but shim/ never reads it: "
                        "make it FIELD(..., true) (reported, never a refusal)")

runtime_c = (src / "shim/base/runtime.c").read_text()
bound = set(re.findall(r'BIND\("\w+",\s*(\w+)\)', runtime_c))
bound |= set(re.findall(r"bind_symbol\(img,\s*\"\w+\",\s*&ocaml_rt\.(\w+)", runtime_c))
if not bound:
    problems.append("no BIND(...) in shim/base/runtime.c (format changed?)")
# Uses: anywhere in shim/, runtime.c included (it hands the frame-table functions to their
# adapters, runtime_frame_abi.c, which lies below it and reads no ocaml_rt), but not the
# binding statements themselves.
runtime_uses = re.sub(r'BIND\("\w+",\s*\w+\)|bind_symbol\(img,\s*"\w+",\s*&ocaml_rt\.\w+', "",
                      runtime_c)
others = "\n".join([p.read_text() for p in shim_files if p != src / "shim/base/runtime.c"]
                   + [runtime_uses])
for member in sorted(bound):
    if not re.search(rf"ocaml_rt\.{member}\b", others):
        problems.append(f"shim/base/runtime.c binds ocaml_rt.{member} but nothing in shim/ "
                        "uses it: drop the binding (a missing symbol would refuse the binary)")

for p in problems:
    print(f"FAIL: {p}")
print(f"{len(table)} layout fields ({sum(table.values())} required), {len(used)} read by the "
      f"shim; {len(bound)} runtime symbols bound")
sys.exit(1 if problems else 0)
