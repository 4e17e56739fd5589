"""`python -m training.pipeline <stage> ...`: see training/pipeline/cli.py."""

from training.pipeline.cli import main

raise SystemExit(main())
