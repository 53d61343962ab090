#!/usr/bin/env python3
"""Stub LLM server for flowmimic tests (python3 standard library only).

Usage:
    python3 stub_llm.py SCRIPT.json --port-file PATH [--log PATH]

Binds 127.0.0.1 on an ephemeral port (port 0), writes the port number to PATH
atomically (tmp file + rename) once listening, and serves until max_requests
requests were answered or max_seconds elapsed, then exits 0. It never outlives
max_seconds. Every request is logged to --log as one JSON line:
    {"method": "POST", "path": "/api/chat",
     "headers": {...},                 # Authorization redacted to "Bearer <N chars>"
     "body": {...}}                    # parsed JSON (null when empty, a string if not JSON)

Endpoints:
    ollama: GET /api/version, POST /api/show, POST /api/chat
    openai: GET /v1/models, POST /v1/chat/completions
    (both APIs' endpoints are served whatever "api" says; "api" only selects
     which chat endpoint is "the" chat endpoint for documentation purposes)

Script JSON:
{ "api": "ollama" | "openai",
  "models": ["llama3.2:3b"],            /* /api/show 404s and /v1/models omits others */
  "version": "0.5.7",
  "max_requests": 100, "max_seconds": 60,
  "fail_first": 0,                       /* answer the first N chat requests with 503 */
  "replies": [                           /* chat replies, consumed in order */
    { "match": "reviewer",               /* optional: only used when this substring occurs
                                            in the request body; first unused match wins */
      "repeat": false,                   /* true: never consumed (a catch-all) */
      "content": "{\"verdict\": \"APPROVE\", \"problems\": []}",  /* the assistant text */
      "chunks": 4,                       /* streamed in this many pieces */
      "delay_s": 0,                      /* before the headers */
      "chunk_delay_s": 0,                /* between chunks */
      "status": 200,                     /* an HTTP error status with {"error": "..."} */
      "error_text": "...",               /* with status != 200, or with error_after */
      "error_after": false,              /* send 1 chunk, then an {"error": ...} line */
      "cut": false,                      /* close the connection mid-stream (truncated) */
      "done_reason": "stop",             /* "length" to say the reply was cut at the cap */
      "repeat_content": 1                /* repeat content N times (a huge reply) */ } ],
  "default": { ... a reply used when no reply matches ... } }

Details:
  - Reply selection: the first not-yet-consumed reply whose "match" (if any) is a
    substring of the raw request body or of the decoded message contents (so a match
    holding quotes or newlines works too); a reply without "match" matches anything.
    A reply with "repeat": true is never consumed. When nothing matches, "default"
    is used; with no default the answer is 500 {"error":"stub: no scripted reply"}.
  - Defaults when a field is absent: chunks 1, delays 0, status 200, error_after
    false, cut false, done_reason "stop", repeat_content 1, repeat false,
    error_text "stub error".
  - fail_first: the first N chat requests get 503 {"error": "stub: overloaded"}
    and consume no reply.
  - Streaming follows the request's "stream" field (Ollama: absent means true;
    OpenAI: absent means false). Ollama streams NDJSON lines
    {"model","created_at","message":{"role":"assistant","content":PIECE},"done":false}
    and a final line with "done": true, "done_reason", "prompt_eval_count",
    "eval_count", "eval_duration" (ns), "total_duration" (ns). OpenAI streams SSE
    "data: {...}" with choices[0].delta.content, a last chunk with finish_reason
    and "usage", then "data: [DONE]". Non-streamed: one JSON object with the whole
    content and the same counts (OpenAI: choices[0].message.content, usage).
  - Token counts: prompt_eval_count = len(request body) // 4,
    eval_count = number of whitespace-separated words of the content (at least 1);
    eval_duration = 1000000 ns per chunk.
  - Errors with status != 200: body {"error": error_text} (OpenAI:
    {"error": {"message": error_text, "type": "stub"}}).
  - error_after (status 200): one chunk of content is streamed, then an
    {"error": error_text} line (OpenAI: "data: {\"error\": {...}}"), and the
    response ends.
  - cut: about half the content is streamed, then the connection is closed
    without the final chunk (chunked encoding not terminated).
  - Streamed responses use Transfer-Encoding: chunked.
  - A chat request naming a model absent from "models" gets 404
    {"error": "model \"X\" not found, try pulling it first"} (as Ollama says it)
    and consumes no reply; so does POST /api/show.
  - Optional "api_key": "KEY" in the script: every /v1/ request whose header is not
    "Authorization: Bearer KEY" gets 401 {"error": {"message": "Incorrect API key
    provided: <the key it got>", ...}}; the key is echoed on purpose, to test that
    the client never repeats it.
  - max_requests counts every request (check requests included).
"""

import argparse
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Script:
    """The parsed script and the state shared by the request threads."""

    def __init__(self, data):
        self.api = data.get("api", "ollama")
        self.models = list(data.get("models", ["llama3.2:3b"]))
        self.version = str(data.get("version", "0.5.7"))
        self.max_requests = int(data.get("max_requests", 100))
        self.max_seconds = float(data.get("max_seconds", 60))
        self.fail_first = int(data.get("fail_first", 0))
        self.api_key = data.get("api_key")
        self.replies = list(data.get("replies", []))
        self.used = [False] * len(self.replies)
        self.default = data.get("default")
        self.lock = threading.Lock()
        self.chats = 0
        self.requests = 0
        self.done = threading.Event()

    def next_chat(self, body_text, said):
        """Return (reply or None, fail503) for one chat request."""
        with self.lock:
            self.chats += 1
            if self.chats <= self.fail_first:
                return None, True
            for i, r in enumerate(self.replies):
                if self.used[i]:
                    continue
                m = r.get("match")
                if m is not None and m not in body_text and m not in said:
                    continue
                if not r.get("repeat", False):
                    self.used[i] = True
                return r, False
            return self.default, False

    def finished_one(self):
        with self.lock:
            self.requests += 1
            if self.requests >= self.max_requests:
                self.done.set()


SCRIPT = None
LOG = None
LOG_LOCK = threading.Lock()


def log_request(method, path, headers, body):
    if LOG is None:
        return
    h = {}
    for k, v in headers.items():
        if k.lower() == "authorization":
            parts = v.split(" ", 1)
            if len(parts) == 2 and parts[0].lower() == "bearer":
                v = "Bearer <%d chars>" % len(parts[1])
            else:
                v = "<%d chars>" % len(v)
        h[k] = v
    line = json.dumps({"method": method, "path": path, "headers": h, "body": body})
    with LOG_LOCK:
        LOG.write(line + "\n")
        LOG.flush()


def split_pieces(text, n):
    n = max(1, min(int(n), max(1, len(text))))
    size = (len(text) + n - 1) // n if text else 0
    if size == 0:
        return [text]
    return [text[i:i + size] for i in range(0, len(text), size)]


def word_count(text):
    return max(1, len(text.split()))


class OllamaFormat:
    """Ollama /api/chat: NDJSON lines, the last one with done: true and the counts."""
    ctype = "application/x-ndjson"

    def __init__(self, r):
        self.r = r
        self.now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())

    def frame(self, obj):
        return json.dumps(obj) + "\n"

    def piece(self, i, text):
        return self.frame({"model": self.r["model"], "created_at": self.now,
                           "message": {"role": "assistant", "content": text}, "done": False})

    def whole(self, content=None):
        r = self.r
        return {"model": r["model"], "created_at": self.now,
                "message": {"role": "assistant",
                            "content": r["content"] if content is None else content},
                "done_reason": r["done_reason"], "done": True,
                "total_duration": r["eval_ns"] + 500000, "load_duration": 100000,
                "prompt_eval_count": r["prompt_tokens"], "prompt_eval_duration": 400000,
                "eval_count": r["reply_tokens"], "eval_duration": r["eval_ns"]}

    def final(self):
        return [self.frame(self.whole(""))]

    def error(self):
        return {"error": self.r["error_text"]}


class OpenAIFormat:
    """OpenAI /v1/chat/completions: server-sent events, finish_reason, usage, [DONE]."""
    ctype = "text/event-stream"

    def __init__(self, r):
        self.r = r
        self.base = {"id": "chatcmpl-stub", "created": int(time.time()), "model": r["model"],
                     "system_fingerprint": "stub"}
        self.usage = {"prompt_tokens": r["prompt_tokens"],
                      "completion_tokens": r["reply_tokens"],
                      "total_tokens": r["prompt_tokens"] + r["reply_tokens"]}

    def frame(self, obj):
        return "data: " + json.dumps(obj) + "\n\n"

    def chunk_obj(self, choices, **extra):
        return dict(self.base, object="chat.completion.chunk", choices=choices, **extra)

    def piece(self, i, text):
        delta = {"content": text}
        if i == 0:
            delta["role"] = "assistant"
        return self.frame(self.chunk_obj([{"index": 0, "delta": delta, "finish_reason": None}]))

    def whole(self):
        r = self.r
        return dict(self.base, object="chat.completion", choices=[{
            "index": 0, "message": {"role": "assistant", "content": r["content"]},
            "finish_reason": r["done_reason"]}], usage=self.usage)

    def final(self):
        return [self.frame(self.chunk_obj([{"index": 0, "delta": {},
                                            "finish_reason": self.r["done_reason"]}])),
                self.frame(self.chunk_obj([], usage=self.usage)),
                "data: [DONE]\n\n"]

    def error(self):
        return {"error": {"message": self.r["error_text"], "type": "stub"}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stub_llm/1"

    def log_message(self, fmt, *args):  # keep stderr quiet
        pass

    # ---- plumbing -------------------------------------------------------
    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n) if n > 0 else b""
        text = raw.decode("utf-8", "replace")
        if not raw:
            return text, None
        try:
            return text, json.loads(text)
        except ValueError:
            return text, text

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()

    def start_chunked(self, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self.wfile.flush()

    def chunk(self, data):
        if isinstance(data, str):
            data = data.encode()
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def end_chunked(self):
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def cut_connection(self):
        self.close_connection = True
        try:
            self.wfile.flush()
            self.connection.shutdown(2)
        except OSError:
            pass

    def error_body(self, text, openai):
        if openai:
            return {"error": {"message": text, "type": "stub", "code": None}}
        return {"error": text}

    # ---- dispatch -------------------------------------------------------
    def do_GET(self):
        self.handle_any("GET")

    def do_POST(self):
        self.handle_any("POST")

    def handle_any(self, method):
        try:
            text, body = self.read_body()
            log_request(method, self.path, self.headers, body)
            self.route(method, self.path.split("?", 1)[0], text, body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        finally:
            SCRIPT.finished_one()

    def route(self, method, path, text, body):
        s = SCRIPT
        if path.startswith("/v1/") and s.api_key is not None:
            auth = self.headers.get("Authorization", "")
            if auth != "Bearer " + s.api_key:
                got = auth[7:] if auth.startswith("Bearer ") else auth
                self.send_json(401, {"error": {
                    "message": "Incorrect API key provided: %s" % got,
                    "type": "invalid_request_error", "code": "invalid_api_key"}})
                return
        if method == "GET" and path == "/api/version":
            self.send_json(200, {"version": s.version})
        elif method == "GET" and path in ("/api/tags",):
            self.send_json(200, {"models": [{"name": m, "model": m} for m in s.models]})
        elif method == "POST" and path == "/api/show":
            name = body.get("model", body.get("name")) if isinstance(body, dict) else None
            if name in s.models:
                self.send_json(200, {"modelfile": "", "parameters": "", "template": "",
                                     "details": {"family": "stub", "format": "gguf"},
                                     "model_info": {}})
            else:
                self.send_json(404, {"error": "model '%s' not found" % name})
        elif method == "GET" and path == "/v1/models":
            self.send_json(200, {"object": "list", "data": [
                {"id": m, "object": "model", "created": 0, "owned_by": "stub"}
                for m in s.models]})
        elif method == "POST" and path == "/api/chat":
            self.chat(text, body, openai=False)
        elif method == "POST" and path == "/v1/chat/completions":
            self.chat(text, body, openai=True)
        else:
            self.send_json(404, self.error_body("stub: no such endpoint %s %s" % (method, path),
                                                path.startswith("/v1/")))

    # ---- chat -----------------------------------------------------------
    def chat(self, text, body, openai):
        s = SCRIPT
        if not isinstance(body, dict):
            self.send_json(400, self.error_body("stub: request body is not a JSON object",
                                                openai))
            return
        model = body.get("model")
        if model not in s.models:
            self.send_json(404, self.error_body(
                "model \"%s\" not found, try pulling it first" % model, openai))
            return
        msgs = body.get("messages")
        said = "\n".join(str(m.get("content", "")) for m in msgs if isinstance(m, dict)) \
            if isinstance(msgs, list) else ""
        reply, fail = s.next_chat(text, said)
        if fail:
            self.send_json(503, self.error_body("stub: overloaded", openai))
            return
        if reply is None:
            self.send_json(500, self.error_body("stub: no scripted reply", openai))
            return
        time.sleep(float(reply.get("delay_s", 0)))
        status = int(reply.get("status", 200))
        error_text = str(reply.get("error_text", "stub error"))
        if status != 200:
            self.send_json(status, self.error_body(error_text, openai))
            return
        content = str(reply.get("content", "")) * int(reply.get("repeat_content", 1))
        stream = body.get("stream", not openai)
        pieces = split_pieces(content, reply.get("chunks", 1))
        r = {
            "model": model,
            "content": content,
            "pieces": pieces,
            "chunk_delay": float(reply.get("chunk_delay_s", 0)),
            "error_after": bool(reply.get("error_after", False)),
            "error_text": error_text,
            "cut": bool(reply.get("cut", False)),
            "done_reason": str(reply.get("done_reason", "stop")),
            "prompt_tokens": max(1, len(text) // 4),
            "reply_tokens": word_count(content),
            "eval_ns": 1000000 * len(pieces),
        }
        fmt = OpenAIFormat(r) if openai else OllamaFormat(r)
        self.reply(r, stream, fmt)

    def reply(self, r, stream, fmt):
        """Send a 200 chat reply in either API's format, streamed or whole, with the
        scripted faults (error_after, cut)."""
        if not stream:
            if r["error_after"]:
                self.send_json(200, fmt.error())
            elif r["cut"]:
                self.cut_body(json.dumps(fmt.whole()).encode(), "application/json")
            else:
                self.send_json(200, fmt.whole())
            return
        self.start_chunked(fmt.ctype)
        pieces = r["pieces"]
        if r["error_after"]:
            pieces = pieces[:1]
        elif r["cut"]:
            pieces = pieces[:max(1, len(pieces) // 2)]
        for i, p in enumerate(pieces):
            if i:
                time.sleep(r["chunk_delay"])
            self.chunk(fmt.piece(i, p))
        if r["cut"]:
            self.cut_mid_stream()
            return
        if r["error_after"]:
            self.chunk(fmt.frame(fmt.error()))
        else:
            time.sleep(r["chunk_delay"])
            for f in fmt.final():
                self.chunk(f)
        self.end_chunked()

    def cut_body(self, data, ctype):
        """A non-streamed reply that announces its length and stops halfway."""
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[:len(data) // 2])
        self.cut_connection()

    def cut_mid_stream(self):
        """Half a line more, then close without the terminating chunk."""
        self.chunk('{"model": "')
        self.cut_connection()


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client that gives up (timeout, stop flag, size limit) resets its connection;
        # that is what the tests provoke, not a stub failure worth a traceback.
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def main():
    global SCRIPT, LOG
    ap = argparse.ArgumentParser(description="scripted stub Ollama/OpenAI server for tests")
    ap.add_argument("script")
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--log")
    args = ap.parse_args()
    try:
        with open(args.script, encoding="utf-8") as f:
            SCRIPT = Script(json.load(f))
    except (OSError, ValueError) as e:
        print("stub_llm: cannot load script %s: %s" % (args.script, e), file=sys.stderr)
        return 2
    if args.log:
        LOG = open(args.log, "a", encoding="utf-8")
    srv = Server(("127.0.0.1", 0), Handler)
    port = srv.server_address[1]
    tmp = args.port_file + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("%d\n" % port)
    os.replace(tmp, args.port_file)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True)
    t.start()
    SCRIPT.done.wait(SCRIPT.max_seconds)
    # A short grace period lets the last response leave before the process ends; handler
    # threads that still sleep are daemons and end with the process.
    time.sleep(0.05)
    if LOG is not None:
        with LOG_LOCK:
            LOG.flush()
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
