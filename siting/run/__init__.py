"""siting.run."""
