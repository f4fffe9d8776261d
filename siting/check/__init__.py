"""siting.check."""
