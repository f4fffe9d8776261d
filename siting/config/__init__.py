"""siting.config."""
