"""The plan-of-care, certification and progress-report clocks (`periods`).

`coverage` judges each visit once against them, for every reader of the result.
"""
