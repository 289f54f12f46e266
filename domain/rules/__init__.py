"""The rule tables careledger decides with, and where each came from.

Codes, payer profiles, fee schedules, NCCI pairs, thresholds, the lexicon and
the outcome instruments (`catalogue`), shipped in `domain/data/`.
"""
