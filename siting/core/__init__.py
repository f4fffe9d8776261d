"""siting.core."""
