"""Errors the pipeline reports to people: a clear sentence, never a traceback."""


class PipelineError(Exception):
    """Bad input or configuration: empty data, identical pair texts, a prompt longer than the
    context, a model path that does not exist..."""
