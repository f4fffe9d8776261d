"""siting.outputs.write."""
