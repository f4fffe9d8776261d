"""siting.network.roads."""
