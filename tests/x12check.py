"""Validate an X12 interchange with pyx12, the HIPAA X12 validator on PyPI (nobody here wrote it)."""

from __future__ import annotations

import io
import logging

import pyx12.params
import pyx12.x12n_document


def pyx12_errors(text: str) -> list[str]:
    """Return pyx12's errors for an interchange (its 999 acknowledgment's IK3/IK4 segments and a
    rejected transaction set); an empty list means pyx12 accepts it with 0 errors.
    """
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    ack = io.StringIO()
    ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), ack, None)
    segments = [s.strip() for s in ack.getvalue().split("~") if s.strip()]
    errors = [s for s in segments if s.startswith(("IK3", "IK4", "CTX"))]
    rejected = [s for s in segments if s.startswith(("IK5*R", "IK5*E", "AK9*R", "AK9*E", "AK9*P"))]
    if not ok and not errors:
        errors.append("pyx12 rejected the interchange")
    return errors + rejected
