"""The game server's I/O edge: config, clock, lifecycle, websocket handler, live rooms."""
