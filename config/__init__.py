"""What every layer may read: the settings (``config.settings``, from the environment) and the
limits they hold (``config.limits``). It imports nothing of ``api``, ``schema`` or ``db``, so that
the per-request context, the schema's checks and the services can all read them without a circle.
"""
