"""siting.readers."""
