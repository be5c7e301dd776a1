#!/usr/bin/env python3
"""A throwaway webhook receiver for trying hookline: prints each POST and answers 204.

Usage: python3 scripts/print_webhooks.py [PORT]   (default 9000, listens on 127.0.0.1)
For real use, run `hookline receive` (it verifies, stores durably and deduplicates).
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class PrintWebhook(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(min(length, 1 << 20)).decode("utf-8", "replace")
        print(f"--- webhook {self.headers.get('webhook-id')} "
              f"signature {self.headers.get('webhook-signature', '')[:20]}...", flush=True)
        print(body, flush=True)
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    ThreadingHTTPServer(("127.0.0.1", port), PrintWebhook).serve_forever()
