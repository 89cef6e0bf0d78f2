"""Web pages (网页): server-rendered shells for the browser UI, static assets and translations.

The pages are plain HTML templates plus vanilla ES modules in ``static/``; front-end libraries
(MapLibre GL JS) come from the npm registry at build time into ``static/vendor/`` and are never
committed (DESIGN §4.4). ``pages.mount(app)`` wires it all into the FastAPI app.
"""
