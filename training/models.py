"""Training models arrive with the training-rounds issue; the app is a shell for now."""
