import sys

from synaptic_s3.cli.main import main

sys.exit(main())
