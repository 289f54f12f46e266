"""Read models: each a pure function from an episode to rows (`registry`).

The projector keeps them in step with the log; the queries read them.
"""
