"""What careledger writes for other systems and readers: FHIR R4, claim lines, the audit packet."""
