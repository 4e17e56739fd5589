"""Pure ML code (torch, transformers). Imports nothing from Django; runs and is tested alone."""
