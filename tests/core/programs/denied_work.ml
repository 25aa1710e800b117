(* Denied_work: code where preemption must never land.

   denied_code runs with OCPREEMPT_DENY=+Denied_work: the shim must not make a fiber
   yield while it executes code of this module, even though the loop below has poll
   points and allocation points (it must defer the request until the fiber is back
   in allowed code: skip_denied). [in_denied] is set and cleared *inside* this
   module, so no allowed instruction ever runs while it is true; the scheduler hook
   in denied_code fails the program if a yield arrives while it is true.

   Nothing here calls into another module (no Stdlib functions), so every instruction
   executed between the two assignments of [in_denied] belongs to Denied_work. The
   only exception is the fake-preemption self-test (CORE_FAKE_PREEMPT=1), which
   deliberately yields from here to prove that the detector works. *)

let in_denied = ref false

let rec length acc = function [] -> acc | _ :: t -> length (acc + 1) t

let[@inline never] long_loop seed iters =
  in_denied := true;
  let a = ref seed and b = ref (seed lxor 0x3C6EF372) and l = ref [] in
  for i = 1 to iters do
    a := (!a * 0x5DEECE66D) + i;
    b := !b lxor (!a lsr 17) lxor (!b lsl 5);
    if i land 1023 = 0 then begin
      (* an allocation point inside denied code *)
      l := (!a land 0xFFFF) :: !l;
      if Tcommon.fake_preempt && i land 0xFFFF = 0 then Tcommon.fake_yield ()
    end
  done;
  let r = !a lxor !b lxor length 0 !l in
  in_denied := false;
  r
