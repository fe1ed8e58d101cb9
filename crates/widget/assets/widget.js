/* Switchboard web chat widget. One file, no dependencies, no requests to anyone but the
 * Switchboard server it was loaded from. Embed with
 *   <script src="https://support.example.com/widget.js" data-channel="CHANNEL_ID" async></script>
 * A signed-in user of the site can be vouched for before the script loads:
 *   window.SwitchboardSettings = {user: {id, hash, name, email, email_hash}};
 * (hash = hex HMAC-SHA256(identity_secret, id); email_hash the same over the email).
 * Everything the visitor or an agent wrote is put on the page as text, never as HTML. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__switchboardWidget) return;
  window.__switchboardWidget = true;
  var channel = script.getAttribute("data-channel");
  var base = new URL(script.src, location.href).origin;
  var settings = window.SwitchboardSettings || {};
  var api = base + "/widget/v1/" + encodeURIComponent(channel || "");
  var storeKey = "switchboard:" + channel;

  function load() { try { return JSON.parse(localStorage.getItem(storeKey) || "{}"); } catch (e) { return {}; } }
  function save() { try { localStorage.setItem(storeKey, JSON.stringify(saved)); } catch (e) { /* storage blocked: this page only */ } }
  var saved = load();
  var state = {
    token: null, strings: {}, messages: [], ids: {}, conversation: null, visitor: {}, verified: false,
    socket: null, socketFailures: 0, polling: false, lastTyping: 0, open: false, unread: 0, known: false, stopped: false
  };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }
  function s(key) { return state.strings[key] || key; }
  // Icons are drawn, not emoji: every system shows them alike.
  var ICONS = {
    chat: "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z",
    close: "M6 6l12 12M18 6L6 18",
    clip: "M16.5 6.5l-8 8a2.5 2.5 0 0 0 3.5 3.5l8.5-8.5a4.5 4.5 0 0 0-6.4-6.4L5.6 11.6a6.5 6.5 0 0 0 9.2 9.2L20 15.6",
    file: "M14 3H6a1 1 0 0 0-1 1v16a1 1 0 0 0 1 1h12a1 1 0 0 0 1-1V8zM14 3v5h5"
  };
  function icon(name) {
    var ns = "http://www.w3.org/2000/svg";
    var g = document.createElementNS(ns, "svg");
    g.setAttribute("viewBox", "0 0 24 24");
    g.setAttribute("aria-hidden", "true");
    g.setAttribute("class", "ico");
    var p = document.createElementNS(ns, "path");
    p.setAttribute("d", ICONS[name]);
    g.appendChild(p);
    return g;
  }
  function clientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  // A signed-in user's token counts only with the page's signed user, on every call: sent in a
  // header (base64url JSON, as a header carries only ASCII) where there is no JSON body.
  function userHeader() {
    var json = JSON.stringify(settings.user);
    return btoa(unescape(encodeURIComponent(json))).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  // Every use hands out a renewed token (an anonymous one lasts 30 days from its last use).
  function renew(token) {
    if (typeof token !== "string" || !token) return;
    state.token = token;
    if (!settings.user) { saved.token = token; save(); }
  }

  function request(method, path, body, isForm) {
    var headers = {};
    if (state.token) headers.Authorization = "Bearer " + state.token;
    if (settings.user) headers["X-Switchboard-User"] = userHeader();
    if (body && !isForm) headers["Content-Type"] = "application/json";
    return fetch(api + path, {
      method: method, headers: headers, credentials: "omit", mode: "cors",
      body: body ? (isForm ? body : JSON.stringify(body)) : undefined
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) {
        if (!r.ok) {
          var err = new Error((data.error && data.error.message) || ("HTTP " + r.status));
          err.status = r.status;
          err.code = data.error && data.error.code;
          throw err;
        }
        if (data && data.token && path !== "/session") renew(data.token);
        return data;
      });
    });
  }

  // ---------------------------------------------------------------- the page parts
  var host = el("div");
  host.setAttribute("data-switchboard-widget", "");
  var root = host.attachShadow({ mode: "open" });
  var css = el("style");
  css.textContent = [
    ":host{all:initial}",
    "[hidden]{display:none!important}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;width:56px;height:56px;border-radius:50%;border:0;background:var(--c);color:#fff;font-size:26px;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483646}",
    ".launcher:focus-visible,button:focus-visible,textarea:focus-visible,input:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}",
    ".badge{position:absolute;top:-4px;right:-4px;min-width:20px;height:20px;border-radius:10px;background:#d93025;color:#fff;font-size:12px;line-height:20px;padding:0 5px}",
    ".panel{position:fixed;right:20px;bottom:88px;width:370px;max-width:calc(100vw - 24px);height:560px;max-height:calc(100vh - 110px);background:#fff;color:#1f1f1f;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.28);display:flex;flex-direction:column;overflow:hidden;z-index:2147483647;font-size:14px}",
    "header{background:var(--c);color:#fff;padding:14px 16px}",
    "header h2{margin:0;font-size:16px}",
    "header p{margin:4px 0 0;font-size:12px;opacity:.95}",
    ".close{float:right;background:none;border:0;color:#fff;font-size:20px;cursor:pointer;line-height:1}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f7f9}",
    ".greeting{color:#444;background:#fff;border-radius:10px;padding:10px}",
    ".msg{max-width:80%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word;line-height:1.35}",
    ".msg.in{align-self:flex-end;background:var(--c);color:#fff;border-bottom-right-radius:3px}",
    ".msg.out{align-self:flex-start;background:#fff;border:1px solid #e0e0e0;border-bottom-left-radius:3px}",
    ".msg .who{display:block;font-size:11px;opacity:.8;margin-bottom:2px}",
    ".msg a{color:inherit;text-decoration:underline;display:block;margin-top:4px}",
    ".msg.pending{opacity:.6}",
    ".msg.failed{background:#fde7e7;color:#8a1c1c}",
    ".msg button{margin-left:6px}",
    ".typing{font-size:12px;color:#555;padding:0 14px;min-height:18px}",
    "form{margin:0}",
    ".prechat{padding:12px;border-top:1px solid #e6e6e6;display:flex;flex-direction:column;gap:8px}",
    ".prechat label{font-size:12px;color:#333;display:flex;flex-direction:column;gap:3px}",
    "input,textarea{font-size:14px;padding:8px;border:1px solid #bbb;border-radius:8px;width:100%;color:#1f1f1f;background:#fff}",
    ".hint{font-size:12px;color:#555;margin:0}",
    ".composer{display:flex;gap:6px;padding:10px;border-top:1px solid #e6e6e6;align-items:flex-end}",
    ".composer textarea{resize:none;height:40px;max-height:120px;flex:1}",
    ".primary{background:var(--c);color:#fff;border:0;border-radius:8px;padding:9px 14px;cursor:pointer;font-size:14px}",
    ".icon{background:#eee;border:0;border-radius:8px;padding:9px 10px;cursor:pointer;font-size:15px;color:#333}",
    ".files{font-size:12px;color:#444;padding:0 12px}",
    ".csat{padding:12px;border-top:1px solid #e6e6e6;display:flex;flex-direction:column;gap:8px}",
    ".stars{display:flex;gap:6px}",
    ".stars button{flex:1;padding:8px 0;border:1px solid #bbb;border-radius:8px;background:#fff;cursor:pointer;font-size:15px;color:#1f1f1f}",
    ".stars button[aria-pressed=true]{background:var(--c);color:#fff;border-color:var(--c)}",
    ".notice{font-size:12px;color:#8a4b00;padding:4px 12px}",
    ".ico{width:1.25em;height:1.25em;fill:none;stroke:currentColor;stroke-width:2;stroke-linecap:round;stroke-linejoin:round;vertical-align:middle}",
    ".launcher .ico{width:28px;height:28px}",
    ".msg a .ico{width:1em;height:1em;margin-right:3px}"
  ].join("\n");

  var launcher = el("button", "launcher");
  launcher.appendChild(icon("chat"));
  launcher.type = "button";
  var badge = el("span", "badge");
  badge.hidden = true;
  launcher.appendChild(badge);
  var panel = el("section", "panel");
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  var header = el("header");
  var closeBtn = el("button", "close");
  closeBtn.appendChild(icon("close"));
  closeBtn.type = "button";
  var title = el("h2");
  var subtitle = el("p");
  header.append(closeBtn, title, subtitle);
  var log = el("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  var greeting = el("div", "greeting");
  var typingLine = el("div", "typing");
  typingLine.setAttribute("aria-live", "polite");
  var notice = el("div", "notice");
  notice.hidden = true;

  var prechat = el("form", "prechat");
  var nameInput = el("input");
  nameInput.name = "name";
  nameInput.autocomplete = "name";
  nameInput.required = true;
  var emailInput = el("input");
  emailInput.name = "email";
  emailInput.type = "email";
  emailInput.autocomplete = "email";
  var nameLabel = el("label"), emailLabel = el("label");
  var nameText = el("span"), emailText = el("span");
  nameLabel.append(nameText, nameInput);
  emailLabel.append(emailText, emailInput);
  var hint = el("p", "hint");
  var startBtn = el("button", "primary");
  startBtn.type = "submit";
  prechat.append(nameLabel, emailLabel, hint, startBtn);

  var composer = el("form", "composer");
  var fileInput = el("input");
  fileInput.type = "file";
  fileInput.multiple = true;
  fileInput.hidden = true;
  var attachBtn = el("button", "icon");
  attachBtn.appendChild(icon("clip"));
  attachBtn.type = "button";
  var textInput = el("textarea");
  textInput.name = "text";
  var sendBtn = el("button", "primary");
  sendBtn.type = "submit";
  composer.append(fileInput, attachBtn, textInput, sendBtn);
  var chosen = el("div", "files");

  var csat = el("form", "csat");
  csat.hidden = true;
  var csatQuestion = el("div");
  var stars = el("div", "stars");
  var rating = 0;
  for (var i = 1; i <= 5; i++) {
    (function (n) {
      var b = el("button", null, n + " ★");
      b.type = "button";
      b.setAttribute("aria-pressed", "false");
      b.setAttribute("data-rating", String(n));
      b.addEventListener("click", function () {
        rating = n;
        Array.prototype.forEach.call(stars.children, function (c) { c.setAttribute("aria-pressed", String(c === b)); });
      });
      stars.appendChild(b);
    })(i);
  }
  var csatComment = el("textarea");
  csatComment.name = "comment";
  var csatSend = el("button", "primary");
  csatSend.type = "submit";
  csat.append(csatQuestion, stars, csatComment, csatSend);

  panel.append(header, log, typingLine, notice, prechat, chosen, composer, csat);
  root.append(css, launcher, panel);

  // ---------------------------------------------------------------- rendering
  function applyStrings() {
    title.textContent = s("title");
    launcher.setAttribute("aria-label", s("open"));
    closeBtn.setAttribute("aria-label", s("close"));
    panel.setAttribute("aria-label", s("title"));
    greeting.textContent = s("greeting");
    nameText.textContent = s("name");
    emailText.textContent = s("email");
    hint.textContent = s("email_hint");
    startBtn.textContent = s("start");
    textInput.placeholder = s("placeholder");
    textInput.setAttribute("aria-label", s("placeholder"));
    sendBtn.textContent = s("send");
    attachBtn.setAttribute("aria-label", s("attach"));
    attachBtn.title = s("attach");
    csatQuestion.textContent = s("csat_question");
    csatComment.placeholder = s("csat_comment");
    csatComment.setAttribute("aria-label", s("csat_comment"));
    csatSend.textContent = s("csat_send");
  }

  function showPresence(online) {
    subtitle.textContent = online ? s("online") : s("offline") + " · " + s("reply_time");
  }

  function needsForm() {
    return !state.formDone && !state.verified && !state.known && state.messages.length === 0;
  }

  function layout() {
    prechat.hidden = !needsForm();
    composer.hidden = !prechat.hidden;
    var c = state.conversation;
    csat.hidden = !(c && c.csat_pending);
  }

  function bubble(m) {
    var b = el("div", "msg " + m.direction);
    b.setAttribute("data-id", m.id || "");
    var who = el("span", "who", m.direction === "in" ? s("you") : (m.author || s("agent")));
    b.appendChild(who);
    if (m.text) b.appendChild(document.createTextNode(m.text));
    (m.files || []).forEach(function (f) {
      var a = el("a");
      a.append(icon("file"), document.createTextNode(f.filename));
      a.href = base + f.url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      b.appendChild(a);
    });
    return b;
  }

  function add(items) {
    var seen = [];
    items.forEach(function (m) {
      if (state.ids[m.id]) return;
      state.ids[m.id] = true;
      state.messages.push(m);
      var pending = log.querySelector('[data-message="' + m.id + '"]') ||
        (m.client_id ? log.querySelector('[data-pending="' + CSS.escape(m.client_id) + '"]') : null);
      log.appendChild(bubble(m));
      if (m.direction === "out") {
        seen.push(m.id);
        if (!state.open) state.unread++;
      }
      if (pending) pending.remove();
    });
    if (items.length) {
      saved.last = state.messages[state.messages.length - 1].id;
      save();
      typingLine.textContent = "";
    }
    if (seen.length) acknowledge(seen);
    badge.hidden = state.unread === 0;
    badge.textContent = String(state.unread);
    log.scrollTop = log.scrollHeight;
    layout();
  }

  // ---------------------------------------------------------------- live updates
  function acknowledge(ids) {
    // The server takes at most 100 ids at a time.
    for (var i = 0; i < ids.length; i += 100) {
      var some = ids.slice(i, i + 100);
      if (state.socket && state.socket.readyState === 1) state.socket.send(JSON.stringify({ type: "seen", ids: some }));
      else request("POST", "/seen", { ids: some }).catch(function () {});
    }
  }

  var typingTimer = null;
  function onLive(data) {
    if (data.type === "messages") add(data.items || []);
    else if (data.type === "ready") renew(data.token);
    else if (data.type === "conversation") { state.conversation = data.conversation; layout(); }
    else if (data.type === "typing") {
      typingLine.textContent = s("typing").replace(/\{\s*\$name\s*\}/, data.name || s("agent"));
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { typingLine.textContent = ""; }, 5000);
    } else if (data.type === "error") { stop(); }
  }

  function connect() {
    if (state.stopped || state.polling) return;
    if (!("WebSocket" in window) || state.socketFailures >= 3) { poll(); return; }
    var ws;
    try { ws = new WebSocket(api.replace(/^http/, "ws") + "/socket"); } catch (e) { state.socketFailures++; return poll(); }
    var opened = false;
    state.socket = ws;
    ws.onopen = function () {
      opened = true;
      state.socketFailures = 0;
      notice.hidden = true;
      ws.send(JSON.stringify({ type: "hello", token: state.token, user: settings.user || null, after: lastId() }));
      panel.setAttribute("data-live", "socket");
    };
    ws.onmessage = function (e) { try { onLive(JSON.parse(e.data)); } catch (err) { /* not ours */ } };
    ws.onclose = function () {
      state.socket = null;
      panel.removeAttribute("data-live");
      if (state.stopped) return;
      if (!opened) state.socketFailures++;
      notice.textContent = s("reconnecting");
      notice.hidden = false;
      setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, state.socketFailures)));
    };
  }

  function lastId() {
    return state.messages.length ? state.messages[state.messages.length - 1].id : null;
  }

  // Where no socket can be opened (a proxy that refuses upgrades), ask over and over.
  function poll() {
    if (state.stopped) return;
    state.polling = true;
    panel.setAttribute("data-live", "polling");
    var after = lastId();
    request("GET", "/messages?wait=25" + (after ? "&after=" + encodeURIComponent(after) : ""))
      .then(function (data) {
        notice.hidden = true;
        add(data.items || []);
        state.conversation = data.conversation;
        layout();
        setTimeout(poll, 100);
      })
      .catch(function () {
        notice.textContent = s("reconnecting");
        notice.hidden = false;
        setTimeout(poll, 5000);
      });
  }

  function typed() {
    if (!state.messages.length) return; // no conversation yet: nobody to tell
    var now = Date.now();
    if (now - state.lastTyping < 2000) return;
    state.lastTyping = now;
    if (state.socket && state.socket.readyState === 1) state.socket.send(JSON.stringify({ type: "typing" }));
    else request("POST", "/typing").catch(function () {});
  }

  // ---------------------------------------------------------------- sending
  function send(text, files) {
    var id = clientId();
    var who = { name: saved.name || null, email: saved.email || null };
    var pending = bubble({ direction: "in", text: text, files: files.map(function (f) { return { filename: f.name, url: "" }; }) });
    pending.classList.add("pending");
    pending.setAttribute("data-pending", id);
    log.appendChild(pending);
    log.scrollTop = log.scrollHeight;
    var attempt = function () {
      var body, isForm = files.length > 0;
      if (isForm) {
        body = new FormData();
        body.append("client_id", id);
        body.append("text", text);
        if (!state.known && who.name) body.append("name", who.name);
        if (!state.known && who.email) body.append("email", who.email);
        if (settings.user) body.append("user", JSON.stringify(settings.user));
        files.forEach(function (f) { body.append("file", f, f.name); });
      } else {
        body = { client_id: id, text: text };
        if (!state.known && who.name) body.name = who.name;
        if (!state.known && who.email) body.email = who.email;
        if (settings.user) body.user = settings.user;
      }
      pending.classList.remove("failed");
      request("POST", "/messages", body, isForm).then(function (data) {
        state.known = true;
        pending.classList.remove("pending");
        // The stored message comes back through the live channel and takes this one's place.
        if (state.ids[data.message_id]) pending.remove();
        else pending.setAttribute("data-message", data.message_id);
      }).catch(function (err) {
        pending.classList.add("failed");
        var retry = el("button", "icon", s("retry"));
        retry.type = "button";
        retry.addEventListener("click", function () { retry.remove(); attempt(); });
        pending.appendChild(el("span", null, " · " + (err.status === 413 ? s("file_too_large") : s("failed"))));
        pending.appendChild(retry);
      });
    };
    attempt();
  }

  prechat.addEventListener("submit", function (e) {
    e.preventDefault();
    saved.name = nameInput.value.trim();
    saved.email = emailInput.value.trim();
    save();
    state.formDone = true;
    layout();
    textInput.focus();
  });

  composer.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = textInput.value.trim();
    var files = Array.prototype.slice.call(fileInput.files || []);
    if (!text && !files.length) return;
    textInput.value = "";
    fileInput.value = "";
    chosen.textContent = "";
    send(text, files);
  });
  textInput.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); composer.requestSubmit(); }
  });
  textInput.addEventListener("input", typed);
  attachBtn.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () {
    chosen.textContent = Array.prototype.map.call(fileInput.files, function (f) { return f.name; }).join(", ");
  });
  csat.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!rating) return;
    request("POST", "/csat", { rating: rating, comment: csatComment.value.trim() }).then(function () {
      state.conversation.csat_pending = false;
      csat.hidden = true;
      log.appendChild(el("div", "greeting", s("csat_thanks")));
      log.scrollTop = log.scrollHeight;
    }).catch(function () { csatSend.textContent = s("retry"); });
  });

  function toggle(open) {
    state.open = open;
    panel.hidden = !open;
    launcher.setAttribute("aria-expanded", String(open));
    launcher.textContent = "";
    launcher.append(icon(open ? "close" : "chat"), badge);
    if (open) {
      state.unread = 0;
      badge.hidden = true;
      log.scrollTop = log.scrollHeight;
      (needsForm() ? nameInput : textInput).focus();
    }
  }
  launcher.addEventListener("click", function () { toggle(!state.open); });
  closeBtn.addEventListener("click", function () { toggle(false); launcher.focus(); });

  function stop() {
    state.stopped = true;
    if (state.socket) state.socket.close();
    host.remove();
  }

  // ---------------------------------------------------------------- start
  function start() {
    var body = { token: saved.token || null };
    if (settings.user) body.user = settings.user;
    var lang = script.getAttribute("data-lang");
    if (lang) body.lang = lang;
    request("POST", "/session", body).then(function (data) {
      state.token = data.token;
      state.strings = data.strings || {};
      state.visitor = data.visitor || {};
      state.verified = !!state.visitor.verified;
      state.known = !!(state.visitor.name || state.visitor.email);
      state.conversation = data.conversation;
      if (!settings.user) { saved.token = data.token; save(); }
      host.style.setProperty("--c", data.color || "#1f5fbf");
      applyStrings();
      showPresence(data.agents_online);
      log.appendChild(greeting);
      add(data.messages || []);
      state.unread = 0;
      badge.hidden = true;
      layout();
      document.body.appendChild(host);
      connect();
    }).catch(function (err) {
      // An anonymous visitor's token past its 30 days: start afresh as a new visitor.
      if (err.code === "visitor_expired" && saved.token) { saved.token = null; save(); return start(); }
      // The site's owner needs to know; its visitors see nothing.
      console.error("Switchboard chat is not available on this page: " + err.message);
    });
  }

  window.Switchboard = {
    open: function () { toggle(true); },
    close: function () { toggle(false); },
    /* Forget the visitor (call when a user signs out). */
    shutdown: function () { try { localStorage.removeItem(storeKey); } catch (e) { /* ignore */ } stop(); }
  };
  if (!channel) { console.error("Switchboard chat: the script tag needs data-channel"); return; }
  if (document.body) start(); else document.addEventListener("DOMContentLoaded", start);
})();
