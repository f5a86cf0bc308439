"""AWS Lambda handler of the scheduled idle-session sweeper (template.yaml:
SweeperFunction, created only when IdleSessionDays is set). The logic lives in the
library module ``synaptic_s3.service.sweeper``."""

from synaptic_s3.service.sweeper import handler

__all__ = ["handler"]
