"""supportlake package."""
