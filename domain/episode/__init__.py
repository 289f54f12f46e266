"""The patient-episode aggregate and everything that writes to it.

`aggregate` (the `Episode` and its events), `commands` (the typed command
documents), `invariants` and `amendments` (the checks a command passes),
`application` (the `Episodes` service), `audit` (the record as of a time),
`importer` (JSON Lines batches), `codec` and `lazy` (how events are stored and
snapshots read).
"""
