"""`sizekit explore`: search the profile settings for the smallest binary that still runs and is fast enough."""
