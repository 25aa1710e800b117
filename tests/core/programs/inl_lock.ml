(* Inl_lock: a scheduler library's small functions, [@inline]: ocamlopt copies their code,
   safe points included, into the caller's machine code whenever this unit's .cmx is
   visible (no flambda needed). inlined_code runs with OCPREEMPT_DENY=+Inl_lock or
   OCPREEMPT_CRITICAL=Inl_lock...: the shim must find this unit on the inlining chain of the
   frame tables' debuginfo, since the machine code is the caller's.

   Each flag is true exactly while inlined Inl_lock code runs: [in_push] an allocation (a
   safe point in the caller's code, whose inlining chain names Inl_lock.push); [in_drain]
   a Stdlib call (List.rev: transparent code, whose verdict is that of its caller's
   frame, a return address inside inlined Inl_lock.drain); [in_callback] the caller's
   own function (user code called by the library: an extent covers it, a deny entry does
   not). *)

let in_push = ref false
let in_drain = ref false
let in_callback = ref false
let log : int array list ref = ref []

(* 20 words allocated inline (the array and the cons cell, combined into one site):
   large enough that chaos mode's allocation clock often fires on it *)
let[@inline] push x =
  in_push := true;
  log := [| x; x; x; x; x; x; x; x; x; x; x; x; x; x; x; x |] :: !log;
  in_push := false

let[@inline] drain () =
  in_drain := true;
  let l = List.rev !log in
  log := [];
  in_drain := false;
  l

let[@inline] with_lock f x =
  in_callback := true;
  let r = f x in
  in_callback := false;
  r
