"""Publishing: built videos -> YouTube, with a ledger that makes every run safe to repeat.

The phases mirror the compiler's: `units` reads what `doit build` left in build/, `plan` turns a
unit plus the brand's channel settings into the exact API bodies (printable as a dry run:
`dryrun`), `publisher` runs the upload/converge state machine against YouTube through `youtube`,
on the client `channels` hands it (the brand's channel and token, checked), recording every
intent and result in the ledger first through `repository`. The publisher reports typed
`core.events` events; `printer` turns them into the lines the CLI prints. Nothing here imports
google libraries at import time, so `doit list` stays fast; they are imported where a call is
about to be made.
"""
