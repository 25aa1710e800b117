/* fiber_names_stubs: a C stub that calls back into OCaml (caml_callback), so that the
 * fiber calling it runs OCaml code above a C-to-OCaml boundary on its own stack
 * (fiber_names.ml, mode callback). Not [@@noalloc]: called through caml_c_call. */
#include <caml/callback.h>
#include <caml/memory.h>
#include <caml/mlvalues.h>

value cbn_run_callback(value f)
{
    CAMLparam1(f);
    caml_callback(f, Val_unit);
    CAMLreturn(Val_unit);
}
