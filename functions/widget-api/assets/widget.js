/*!
 * IllumiChat widget. Paste one tag into a page:
 *   <script src="https://.../widget.js" data-assistant-id="ast_..." async></script>
 * Optional: data-api-base="https://api.example.com" (default: where this
 * script was loaded from). Plain JavaScript, no build step, no
 * dependencies. It draws inside a Shadow DOM, so the page's CSS cannot
 * reach it and its CSS cannot reach the page; it keeps its session in
 * localStorage so a visitor's conversation survives a reload.
 */
(function () {
  "use strict";

  var script = document.currentScript ||
    document.querySelector("script[data-assistant-id][src*='widget']");
  if (!script) return;
  var assistantId = script.getAttribute("data-assistant-id") || "";
  if (!/^ast_[a-z0-9]{20}$/.test(assistantId)) {
    console.warn("IllumiChat widget: data-assistant-id is missing or not an assistant id");
    return;
  }
  var apiBase = (script.getAttribute("data-api-base") || new URL(script.src, location.href).origin)
    .replace(/\/+$/, "");
  var base = apiBase + "/api/widget/" + assistantId;
  var storageKey = "illumichat:" + assistantId + ":session";
  var GENERIC = "Something went wrong. Please try again in a moment.";

  var state = { config: null, session: null, token: null, expiresAt: 0, busy: false, loaded: false };
  var ui = {};

  function stored() {
    try { return localStorage.getItem(storageKey); } catch (e) { return null; }
  }
  function store(sessionId) {
    try { localStorage.setItem(storageKey, sessionId); } catch (e) { /* private mode */ }
  }

  function request(method, route, body, accept) {
    var headers = { "Accept": accept || "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (state.token) headers["Authorization"] = "Widget " + state.token;
    return fetch(base + "/" + route, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      mode: "cors"
    });
  }

  // The API's error body names the problem in words meant to be shown.
  function failure(response) {
    return response.json().then(function (body) {
      return { status: response.status, message: (body && body.error) || GENERIC };
    }, function () { return { status: response.status, message: GENERIC }; });
  }

  function el(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    if (text) node.textContent = text;
    return node;
  }

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".launcher{position:fixed;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;cursor:pointer;display:flex;",
    "align-items:center;justify-content:center;background:var(--ic-color);color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483646}",
    ".launcher:focus-visible,button:focus-visible,textarea:focus-visible{outline:3px solid #111;outline-offset:2px}",
    ".panel{position:fixed;bottom:88px;width:min(370px,calc(100vw - 24px));height:min(560px,calc(100vh - 110px));",
    "display:flex;flex-direction:column;background:#fff;color:#111;border-radius:14px;overflow:hidden;",
    "box-shadow:0 10px 40px rgba(0,0,0,.3);z-index:2147483647;font-size:15px}",
    ".panel[hidden]{display:none}",
    ".right{right:20px}.left{left:20px}",
    "header{display:flex;align-items:center;justify-content:space-between;padding:12px 14px;background:var(--ic-color);color:#fff}",
    "h2{margin:0;font-size:16px;font-weight:600}",
    ".close{background:transparent;border:0;color:#fff;font-size:22px;cursor:pointer;width:32px;height:32px;border-radius:6px}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f7f7f8}",
    ".msg{max-width:85%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;line-height:1.4}",
    ".user{align-self:flex-end;background:var(--ic-color);color:#fff}",
    ".assistant{align-self:flex-start;background:#fff;border:1px solid #e3e3e6}",
    ".failed{border-color:#d33}",
    ".rate{display:flex;gap:4px;margin-top:4px}",
    ".rate button{border:1px solid #ccc;background:#fff;border-radius:6px;cursor:pointer;font-size:13px;padding:1px 6px}",
    ".rate button[aria-pressed=true]{background:#e8eefc;border-color:var(--ic-color)}",
    ".notice{padding:8px 12px;font-size:13px;color:#7a2100;background:#fff4e5;border-top:1px solid #f3d3a8}",
    ".notice:empty{display:none}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e3e3e6;background:#fff}",
    "textarea{flex:1;resize:none;height:42px;padding:10px;border:1px solid #ccc;border-radius:8px;font-size:15px;color:#111}",
    ".send{border:0;border-radius:8px;padding:0 14px;background:var(--ic-color);color:#fff;font-size:15px;cursor:pointer}",
    ".send:disabled{opacity:.6;cursor:default}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}"
  ].join("");

  function draw(config) {
    var host = el("div", { id: "illumichat-widget" });
    var root = host.attachShadow({ mode: "open" });
    var side = config.position === "left" ? "left" : "right";
    var style = el("style");
    style.textContent = CSS + ":host{--ic-color:" + config.primaryColor + "}";
    var launcher = el("button", {
      "class": "launcher " + side, type: "button", "aria-haspopup": "dialog",
      "aria-expanded": "false", "aria-controls": "ic-panel", "aria-label": "Open chat: " + config.title
    });
    // A speech bubble drawn, not an emoji: no font on the page is assumed.
    launcher.innerHTML = '<svg width="26" height="26" viewBox="0 0 24 24" aria-hidden="true" focusable="false">' +
      '<path fill="currentColor" d="M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"/></svg>';
    var panel = el("section", {
      "class": "panel " + side, id: "ic-panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "ic-title", hidden: ""
    });
    var header = el("header");
    header.appendChild(el("h2", { id: "ic-title" }, config.title));
    var close = el("button", { "class": "close", type: "button", "aria-label": "Close chat" }, "\u00D7");
    header.appendChild(close);
    var log = el("div", { "class": "log", role: "log", "aria-live": "polite", "aria-label": "Conversation" });
    var notice = el("div", { "class": "notice", role: "alert" });
    var form = el("form");
    var label = el("label", { "for": "ic-input", "class": "sr" }, "Your message to " + config.title);
    var input = el("textarea", { id: "ic-input", rows: "1", maxlength: "16000", placeholder: "Type your question\u2026" });
    var send = el("button", { "class": "send", type: "submit" }, "Send");
    form.appendChild(label); form.appendChild(input); form.appendChild(send);
    panel.appendChild(header); panel.appendChild(log); panel.appendChild(notice); panel.appendChild(form);
    root.appendChild(style); root.appendChild(panel); root.appendChild(launcher);
    document.body.appendChild(host);
    ui = { launcher: launcher, panel: panel, log: log, notice: notice, input: input, send: send };

    launcher.addEventListener("click", function () { toggle(panel.hidden); });
    close.addEventListener("click", function () { toggle(false); });
    panel.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); toggle(false); }
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); submit(); }
    });
    form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
  }

  function toggle(open) {
    ui.panel.hidden = !open;
    ui.launcher.setAttribute("aria-expanded", String(open));
    ui.launcher.setAttribute("aria-label", (open ? "Close chat: " : "Open chat: ") + state.config.title);
    if (open) {
      ui.input.focus();
      if (!state.loaded) { state.loaded = true; start(); }
    } else {
      ui.launcher.focus();
    }
  }

  function say(text) { ui.notice.textContent = text || ""; }

  function bubble(message) {
    var node = el("div", { "class": "msg " + message.role + (message.status === "failed" ? " failed" : "") });
    if (message.id) node.setAttribute("data-message-id", message.id);
    var text = el("span", {}, message.content || "");
    node.appendChild(text);
    ui.log.appendChild(node);
    ui.log.scrollTop = ui.log.scrollHeight;
    return { node: node, text: text };
  }

  function rating(node, message) {
    if (message.role !== "assistant" || !message.id || message.status === "failed") return;
    var group = el("div", { "class": "rate", role: "group", "aria-label": "Was this answer helpful?" });
    [["up", "Helpful"], ["down", "Not helpful"]].forEach(function (choice) {
      var current = message.feedback && message.feedback.rating === choice[0];
      var button = el("button", { type: "button", "aria-pressed": String(!!current) }, choice[1]);
      button.addEventListener("click", function () {
        authorized(function () {
          return request("POST", "feedback", { messageId: message.id, rating: choice[0] });
        }).then(function (response) {
          if (!response.ok) return failure(response).then(function (f) { say(f.message); });
          group.querySelectorAll("button").forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
        }, function () { say(GENERIC); });
      });
      group.appendChild(button);
    });
    node.appendChild(group);
  }

  // A session for this browser: the one it holds, if the server still
  // knows it, else a new one; a fresh token either way.
  function init() {
    var held = stored();
    state.token = null;
    return request("POST", "init", held ? { sessionId: held } : {}).then(function (response) {
      if (!response.ok) return failure(response).then(function (f) { throw f; });
      return response.json().then(function (body) {
        state.session = body.sessionId;
        state.token = body.token;
        state.expiresAt = Date.parse(body.expiresAt) - 30000;
        store(body.sessionId);
        return body;
      });
    });
  }

  // Runs a call with a live token, once more with a new one if it lapsed.
  function authorized(call) {
    var ready = state.token && Date.now() < state.expiresAt ? Promise.resolve() : init();
    return ready.then(call).then(function (response) {
      if (response.status !== 401) return response;
      return init().then(call);
    });
  }

  function start() {
    init().then(function () {
      return request("GET", "history?limit=100");
    }).then(function (response) {
      if (!response.ok) return failure(response).then(function (f) { throw f; });
      return response.json();
    }).then(function (page) {
      // Only answers to a question are rated, not the welcome message.
      var asked = false;
      page.data.forEach(function (message) {
        var node = bubble(message).node;
        if (asked) rating(node, message);
        asked = asked || message.role === "user";
      });
    }).catch(function (problem) {
      state.loaded = false;
      say(problem && problem.message ? problem.message : GENERIC);
    });
  }

  // Reads a Server-Sent Events body as it arrives, calling on(event, data).
  function readEvents(response, on) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
        var end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          var block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          var name = "message", data = [];
          block.split("\n").forEach(function (line) {
            if (line.indexOf("event:") === 0) name = line.slice(6).trim();
            else if (line.indexOf("data:") === 0) data.push(line.slice(5).replace(/^ /, ""));
          });
          if (data.length) on(name, JSON.parse(data.join("\n")));
        }
        return pump();
      });
    }
    return pump();
  }

  function submit() {
    var content = ui.input.value;
    if (state.busy || !content.trim()) return;
    state.busy = true;
    ui.send.disabled = true;
    say("");
    var question = bubble({ role: "user", content: content });
    ui.input.value = "";
    var answer = null;
    authorized(function () {
      return request("POST", "chat", { content: content }, "text/event-stream");
    }).then(function (response) {
      if (!response.ok) {
        return failure(response).then(function (f) {
          question.node.remove();
          ui.input.value = content;
          say(f.message);
        });
      }
      return readEvents(response, function (name, data) {
        if (name === "message") question.node.setAttribute("data-message-id", data.id);
        else if (name === "delta") {
          if (!answer) answer = bubble({ role: "assistant", content: "" });
          answer.text.textContent += data.text;
          ui.log.scrollTop = ui.log.scrollHeight;
        } else if (name === "done") {
          if (!answer) answer = bubble({ role: "assistant", content: "" });
          answer.text.textContent = data.content;
          answer.node.setAttribute("data-message-id", data.id);
          rating(answer.node, data);
        } else if (name === "error") {
          if (answer) answer.node.classList.add("failed");
          say(data.error || GENERIC);
        }
      });
    }).catch(function () {
      say(GENERIC);
    }).then(function () {
      state.busy = false;
      ui.send.disabled = false;
    });
  }

  function boot() {
    fetch(base + "/config", { headers: { "Accept": "application/json" }, credentials: "omit", mode: "cors" })
      .then(function (response) {
        if (!response.ok) throw new Error("this page may not show the assistant (" + response.status + ")");
        return response.json();
      })
      .then(function (config) { state.config = config; draw(config); })
      .catch(function (error) { console.warn("IllumiChat widget not shown: " + error.message); });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
