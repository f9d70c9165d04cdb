"""rawasgi: ASGI from the wire up (stage 04).

Raw apps (``apps``), a router (``routing``) and middleware (``middleware``)
in async form, and an ASGI server on asyncio streams (``server``) that
reuses stage 01's HTTP parser and speaks WebSocket (``websocket``). The
chapter is README.md next to this package.
"""
