(* Copy_swap (adversary finding F3): the name yield holds Sched.pause, and another field,
   resume, holds Sched.yield. Neither is a function of Copy_swap, and the binary does not
   record which field is named yield: matching the copied closures by their functions'
   names found Sched.yield and called it for OCPREEMPT_YIELD=Copy_swap.yield. It must be
   refused (copied_yield.ml). *)

let yield = Sched.pause
let resume = Sched.yield
