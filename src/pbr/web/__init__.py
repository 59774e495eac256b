"""The web app: FastAPI routers over pbr's services, server-rendered pages with htmx, and a JSON API."""
