"""The production counterparts of the stages' example apps, for ``trace N --beside``.

Each module serves the same request as a stage's example app, written the
way the production system it mirrors expects (Werkzeug's ``Map``, Paste's
middlewares, Starlette's ``Route``, Flask's ``MethodView``), and keeps the
stage's own data so the two traces differ only in the framework:

* :mod:`.werkzeug_books`: stage 02's books on Werkzeug's routing, ``Request``, ``Response``;
* :mod:`.paste_onion`: stage 02's books API in Paste's WSGI middlewares (stage 03);
* :mod:`.starlette_tasks`: stage 05's tasks API on Starlette;
* :mod:`.flask_products`: stage 06's product service behind Flask's ``MethodView``.

Stages 01 and 04 need no module here: their own apps run under gunicorn,
``wsgiref`` and uvicorn.
"""
