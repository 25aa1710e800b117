(* Inl_lock: a scheduler library's small functions, [@inline]: ocamlopt copies their code,
   safe points included, into the caller's machine code whenever this unit's .cmx is
   visible (no flambda needed). inlined_code runs with OCPREEMPT_DENY=+Inl_lock or
   OCPREEMPT_CRITICAL=Inl_lock...: the shim must find this unit on the inlining chain of the
   frame tables' debuginfo, since the machine code is the caller's.

   [held] is true exactly while inlined Inl_lock code runs an allocation (push) or a Stdlib
   call (drain's List.rev: transparent code, whose verdict is its caller's); [in_callback]
   while with_lock runs the caller's function (user code called by the library: an extent
   covers it, a deny entry does not). *)

let held = ref false
let in_callback = ref false
let log : int list ref = ref []

let[@inline] push x =
  held := true;
  log := x :: !log;
  held := false

let[@inline] drain () =
  held := true;
  let l = List.rev !log in
  log := [];
  held := false;
  l

let[@inline] with_lock f x =
  in_callback := true;
  let r = f x in
  in_callback := false;
  r
