"""siting.synth."""
