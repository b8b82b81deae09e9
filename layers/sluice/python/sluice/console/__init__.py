"""The web console: static files (``static/``) the api serves at ``/`` and ``/console/``,
and the safe lookup of one of them by its path (``files``)."""
