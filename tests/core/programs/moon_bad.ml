(* Moon_bad: names that must not resolve to a function (reexport_yield.ml's negative twins).
   - yield: a re-export named yield of a value that is no function (Sched's counter);
   - pause: a value, not a closure, named like the function Sched.pause;
   - Inner.yield: a function of a submodule, which a near-match suggestion must name so
     that it resolves (Moon_bad.yield does not). *)

let yield = Sched.received
let pause = 42

module Inner = struct
  let yield () = Sched.yield ()
end
