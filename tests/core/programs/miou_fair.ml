(* Miou_fair: the program's own module whose name starts with a deny entry (Miou). Deny
   entries name units and libraries, not string prefixes: this is not Miou's code, and a
   fiber computing here must be preempted (lookalike_unit). The loop is here, not in a
   callee, so that its poll sites belong to this unit. *)

let[@inline never] hog ~seconds (finished : bool ref) (chunks : int ref) =
  let deadline = Unix.gettimeofday () +. seconds in
  while Unix.gettimeofday () < deadline do
    let a = ref !chunks and b = ref 0x2545F4914F6CDD1D in
    for i = 1 to 200_000 do
      a := (!a * 0x1851F42D4C957F2D) + i;
      b := !b lxor ((!a lsr 29) + (!b lsl 7))
    done;
    if !a lxor !b = 0 then Tcommon.fail "Miou_fair.hog: impossible checksum";
    incr chunks
  done;
  finished := true
