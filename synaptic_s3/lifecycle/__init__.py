"""Session lifecycle: leases (one run at a time), checkpoint pruning, retention of
idle sessions, forks, and the sweep of objects that belong to no session.

Each job is one small module; :class:`~synaptic_s3.session.SessionManager` and
:class:`~synaptic_s3.checkpoint.StoreCheckpointer` expose them as thin methods.
"""
