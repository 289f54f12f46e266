"""Billing: units, the minute ledger, modifiers, claim lines and the annual threshold.

Pure functions from a visit's facts and the rule tables to claim lines with
the reasons: `units`, `ledger`, `modifiers`, `claims` (one visit), `threshold`
(KX) and `bill` (an episode).
"""
