"""The web app's routers, one per area; each route names its action for the one permission check."""
