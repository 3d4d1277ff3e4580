"""Settings from outside the command line: credentials and base URLs (``credentials``), the
defaults ``--help`` shows before anything heavy is imported (``defaults``), and the cron jobs
and alerts of ``catalog-sync.toml`` (``jobs``)."""
