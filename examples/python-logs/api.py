"""A tiny HTTP service that logs one JSON object per line on stdout."""
import json
import logging
import os
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class JsonFormatter(logging.Formatter):
    def format(self, record):
        entry = {"level": record.levelname.lower(), "logger": record.name, "msg": record.getMessage()}
        entry.update(getattr(record, "fields", {}))
        return json.dumps(entry)


handler = logging.StreamHandler(sys.stdout)
handler.setFormatter(JsonFormatter())
log = logging.getLogger("api")
log.addHandler(handler)
log.setLevel(logging.INFO)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        log.info("request", extra={"fields": {"method": "GET", "path": self.path, "status": 200}})

    def log_message(self, *args):
        pass  # the JSON line above is the access log


port = int(os.environ.get("PORT", "5000"))
server = HTTPServer(("127.0.0.1", port), Handler)
log.info("listening", extra={"fields": {"port": port}})
server.serve_forever()
