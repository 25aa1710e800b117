(* Stands in for a module of a dune-wrapped library `mylib.core` (dune names the unit
   Mylib__core__Sched): users write Mylib.Sched.yield through the library's alias module,
   which leaves no trace in the binary. Also holds submodules with functions of the same
   name: Event.yield (int -> unit) and Inner.yield, which the module block's structure
   tells from the toplevel one. *)
let count = ref 0

module Event = struct
  let yield (x : int) = count := !count + x
end

let yield () = incr count

module Inner = struct
  let yield () = count := !count + 2
end
