# Where scripts/setup-ocaml.sh installs the bootstrapped OCaml compilers. Included by the
# top-level project and by bench/ when it is configured on its own.
set(OCPREEMPT_CACHE "$ENV{OCPREEMPT_CACHE}" CACHE PATH "ocaml toolchain cache")
if(NOT OCPREEMPT_CACHE)
  set(OCPREEMPT_CACHE "$ENV{HOME}/.cache/ocpreempt")
endif()
set(OCAML_53_PREFIX "${OCPREEMPT_CACHE}/ocaml-5.3.0" CACHE PATH "OCaml 5.3.0 prefix")
set(OCAML_514_PREFIX "${OCPREEMPT_CACHE}/ocaml-5.1.4" CACHE PATH "OCaml 5.1.4 prefix")
# Built by scripts/test.sh from ../shared/toolchains where present (tests skip without).
set(OCAML_52_PREFIX "${OCPREEMPT_CACHE}/ocaml-5.2.0" CACHE PATH "OCaml 5.2.0 prefix")
set(OCAML_54DEV_PREFIX "${OCPREEMPT_CACHE}/ocaml-5.4.0-dev-2024-10-24" CACHE PATH
    "OCaml trunk snapshot of 2024-10-24 (5.4.0+dev0) prefix")
