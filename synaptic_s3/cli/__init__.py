"""The ``synaptic-s3`` command line (``synaptic_s3.cli.main:main``)."""
