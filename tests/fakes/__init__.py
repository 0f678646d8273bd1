"""Local stand-ins for platforms that cannot run here, speaking their documented wire formats."""
