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


def pyx12_835_errors(text: str) -> list[str]:
    """Return pyx12's error messages for an 835 (005010X221A1); an empty list is 0 errors.

    pyx12 cannot write its 999 acknowledgment for an 835 (the guide marks ST03 not used, which its
    999 needs), so its errors are read from the messages it logs for each one.
    """
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logger = logging.getLogger("pyx12.error_handler")
    handler = Collect(logging.ERROR)
    logger.addHandler(handler)
    try:
        ok = pyx12.x12n_document.x12n_document(pyx12.params.params(), io.StringIO(text), None, None)
    finally:
        logger.removeHandler(handler)
    if not ok and not messages:
        messages.append("pyx12 rejected the interchange")
    return messages
