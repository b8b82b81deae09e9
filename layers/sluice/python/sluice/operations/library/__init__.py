"""The operations: one module each. A module here that defines a concrete subclass of
``sluice.operations.base.Operation`` adds that operation to the catalogue."""
