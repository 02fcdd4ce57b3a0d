"""Publishing: built videos -> YouTube, with a ledger that makes every run safe to repeat.

The phases mirror the compiler's: `units` reads what `doit build` left in build/, `plan` turns a
unit plus the brand's channel settings into the exact API bodies (printable as a dry run),
`publisher` executes them against YouTube through `youtube`, recording every intent and result
in the `ledger` first. Nothing here imports google libraries at import time, so `doit list`
stays fast; they are imported where a call is about to be made.
"""
