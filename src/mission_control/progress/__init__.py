"""Item state per environment, owners, notes, and the append-only audit trail."""
