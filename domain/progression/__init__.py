"""Progression across visits.

Exercise dosage and plateaus (`dosage`); outcome measures against their
clinically important change (`outcomes`).
"""
