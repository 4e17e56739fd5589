"""Write workflows: every transaction and cross-model update of the annotation app."""
