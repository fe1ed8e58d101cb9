// Switchboard agent workspace: the live parts. The pages work without this file; it adds live
// updates (Server-Sent Events), presence and "viewing/typing", notifications, keyboard
// shortcuts, and forms that do not reload the page. No framework, no build step.
"use strict";
(function () {
  var body = document.body;
  var me = body.dataset.agentId;
  if (!me) return; // sign-in pages: nothing live

  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function text(key, vars) {
    var el = $('#strings [data-key="' + key + '"]');
    var s = el ? el.textContent : key;
    Object.keys(vars || {}).forEach(function (k) { s = s.split("{" + k + "}").join(vars[k]); });
    return s;
  }
  function conversationId() { var c = $("[data-conversation]"); return c ? c.dataset.conversation : null; }
  function post(url, data) {
    return fetch(url, { method: "POST", credentials: "same-origin", keepalive: true,
      headers: { "Content-Type": "application/json" }, body: JSON.stringify(data) });
  }

  // ---------------------------------------------------------------- times in the agent's zone
  function localTimes(root) {
    $all("time[datetime]", root).forEach(function (t) {
      var d = new Date(t.getAttribute("datetime"));
      if (!isNaN(d)) t.textContent = d.toLocaleString(document.documentElement.lang, { dateStyle: "short", timeStyle: "short" });
    });
  }

  // ---------------------------------------------------------------- notices, sound, notifications
  function notice(message, href) {
    var box = $("#notices");
    if (!box) return;
    var item = document.createElement(href ? "a" : "p");
    item.className = "notice";
    item.textContent = message;
    if (href) item.href = href;
    box.appendChild(item);
    setTimeout(function () { item.remove(); }, 15000);
  }
  var audio;
  function beep() {
    if (body.dataset.notifySound !== "true") return;
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.08;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.15);
    } catch (e) { /* no audio: the visible notice remains */ }
  }
  function alertAgent(message, href) {
    notice(message, href);
    beep();
    if (body.dataset.notifyDesktop === "true" && "Notification" in window && Notification.permission === "granted" && document.hidden) {
      var n = new Notification("Switchboard", { body: message });
      if (href) n.onclick = function () { window.focus(); location.href = href; };
    }
  }
  document.addEventListener("click", function askOnce() {
    document.removeEventListener("click", askOnce);
    if (body.dataset.notifyDesktop === "true" && "Notification" in window && Notification.permission === "default") {
      Notification.requestPermission();
    }
  });

  // ---------------------------------------------------------------- refreshing parts of the page
  // At most one refresh in flight per window: on a busy day every message would otherwise
  // re-render every open inbox. Events arriving meanwhile ride on the pending refresh.
  var refreshTimer = null, afterRefresh = [];
  function refresh(after) {
    if (after) afterRefresh.push(after);
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () {
      refreshTimer = null;
      var callbacks = afterRefresh;
      afterRefresh = [];
      fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.text() : null; }).then(function (html) {
        if (!html) return;
        var doc = new DOMParser().parseFromString(html, "text/html");
        // Swap what changes; never the composer, so a half-written reply survives.
        ["#inbox-list", "#views", ".total", "#timeline", ".conv-head .meta", "#conv-notice", ".side"].forEach(function (sel) {
          var now = $(sel), fresh = $(sel, doc), active = document.activeElement;
          if (!now || !fresh) return;
          if (now.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) return; // someone is typing there
          var row = now.contains(active) && active.closest(".conv");
          now.replaceWith(fresh);
          localTimes(fresh);
          // Keep the keyboard's place in the list.
          var again = row && fresh.querySelector('.conv[data-id="' + row.dataset.id + '"] a');
          if (again) again.focus();
        });
        callbacks.forEach(function (f) { f(); });
      });
    }, conversationId() ? 150 : 1000);
  }

  // ---------------------------------------------------------------- SLA countdowns
  // Each `.sla[data-due]` counts down to its deadline (ms) every second and turns into a breach
  // at it; the server's live event then refreshes the list with the clock as stored.
  function tickSla() {
    var now = Date.now();
    $all(".sla[data-due]").forEach(function (el) {
      var left = Number(el.dataset.due) - now;
      if (left <= 0) {
        el.classList.add("breached");
        el.textContent = el.dataset.overdueText;
        return;
      }
      var s = Math.floor(left / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
      var clock = (h ? h + ":" + (m < 10 ? "0" : "") : "") + m + ":" + (sec < 10 ? "0" : "") + sec;
      el.textContent = el.dataset.dueText.replace("{d}", clock);
    });
  }
  setInterval(tickSla, 1000);
  tickSla();

  // ---------------------------------------------------------------- presence of colleagues
  var presence = {};
  function drawPresence() {
    var list = $("#presence");
    if (!list) return;
    list.textContent = "";
    Object.keys(presence).forEach(function (id) {
      var p = presence[id];
      if (id === me || p.state === "offline") return;
      var li = document.createElement("li");
      li.className = "pr pr-" + p.state;
      li.textContent = p.name;
      li.title = text(p.state);
      list.appendChild(li);
    });
  }
  fetch("/api/v1/presence", { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (j) {
    (j.items || []).forEach(function (p) { presence[p.agent_id] = p; });
    drawPresence();
  }).catch(function () {});
  document.addEventListener("visibilitychange", function () {
    post("/api/v1/presence", { state: document.hidden ? "away" : "online" });
  });

  // ---------------------------------------------------------------- viewing / typing
  var activity = {};
  function drawActivity() {
    var box = $("#activity");
    if (!box) return;
    var now = Date.now(), parts = [];
    Object.keys(activity).forEach(function (id) {
      var a = activity[id];
      if (a.until < now) { delete activity[id]; return; }
      parts.push(a.activity === "customer" ? text("customer-typing") : text(a.activity === "typing" ? "typing" : "viewing", { name: a.name }));
    });
    box.textContent = parts.join(" · ");
  }
  setInterval(drawActivity, 2000);
  var lastTyping = 0;
  function tellActivity(kind) {
    var id = conversationId();
    if (id && body.dataset.role !== "viewer") post("/api/v1/conversations/" + id + "/activity", { activity: kind });
  }
  function watchComposer() {
    var area = $("#reply-text");
    if (!area) return;
    area.addEventListener("input", function () {
      if (Date.now() - lastTyping > 3000) { lastTyping = Date.now(); tellActivity("typing"); }
    });
  }
  if (conversationId()) {
    tellActivity("viewing");
    setInterval(function () { if (!document.hidden) tellActivity("viewing"); }, 20000);
    window.addEventListener("pagehide", function () { tellActivity("left"); });
  }

  // ---------------------------------------------------------------- the live stream
  var source;
  function connect() {
    source = new EventSource("/api/v1/events");
    // `data-live` tells whoever looks (people through the style, tests through the attribute)
    // whether live updates are flowing.
    source.addEventListener("ready", function () { body.classList.remove("offline"); body.dataset.live = "ready"; });
    source.onerror = function () { body.classList.add("offline"); body.dataset.live = "lost"; };
    var on = function (kind, handler) {
      source.addEventListener(kind, function (e) { var d = {}; try { d = JSON.parse(e.data); } catch (x) { /* empty */ } handler(d); });
    };
    on("message.created", function (d) {
      var here = conversationId(), link = "/conversations/" + d.conversation_id;
      if (here === d.conversation_id || (!here && $("#inbox-list"))) refresh();
      if (d.author_agent_id) return; // a colleague's reply or note: no alert
      if (d.new_conversation) {
        // Every agent's "All" view holds a new conversation.
        alertAgent(text("new-conversation"), link);
      } else if (here !== d.conversation_id || document.hidden) {
        // A customer's reply: an alert when the conversation is the agent's own.
        fetch("/api/v1/conversations/" + d.conversation_id, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : {}; })
          .then(function (c) { if (c.assignee === me) alertAgent(text("new-reply"), link); }).catch(function () {});
      }
    });
    ["message.updated", "conversation.updated", "sla.warning", "sla.breached", "contact.merged", "contact.unmerged"].forEach(function (kind) {
      on(kind, function (d) {
        var here = conversationId();
        if (!here || d.conversation_id === here || d.id === here || kind.indexOf("contact") === 0) refresh();
      });
    });
    // A merge, its undo or a split changes two conversations: refresh where either is open.
    ["conversation.merged", "conversation.unmerged", "conversation.split"].forEach(function (kind) {
      on(kind, function (d) {
        var here = conversationId();
        if (!here || [d.conversation_id, d.merged_id, d.id, d.split_from].indexOf(here) >= 0) refresh();
      });
    });
    on("conversation.activity", function (d) {
      if (d.agent_id === me || d.conversation_id !== conversationId()) return;
      if (d.activity === "left") delete activity[d.agent_id];
      else activity[d.agent_id] = { name: d.name, activity: d.activity, until: Date.now() + (d.activity === "typing" ? 8000 : 45000) };
      drawActivity();
    });
    on("customer.typing", function (d) {
      if (d.conversation_id !== conversationId()) return;
      activity.customer = { name: "", activity: "customer", until: Date.now() + 6000 };
      drawActivity();
    });
    on("conversation.rated", function (d) { if (d.conversation_id === conversationId()) refresh(); });
    on("agent.presence", function (d) { presence[d.agent_id] = d; drawPresence(); });
    on("agent.mentioned", function (d) {
      if (d.agent_id !== me) return;
      var badge = $("#unread");
      if (badge) { badge.textContent = String((parseInt(badge.textContent, 10) || 0) + 1); badge.hidden = false; }
      alertAgent(text("mentioned", { name: d.by }) + ": " + d.text, "/conversations/" + d.conversation_id);
    });
    // A monitoring rule alerted this agent of a public post (the mentions stream).
    on("mention.alert", function (d) {
      if (d.agent_id !== me) return;
      var badge = $("#unread");
      if (badge) { badge.textContent = String((parseInt(badge.textContent, 10) || 0) + 1); badge.hidden = false; }
      alertAgent(text("public-mention") + ": " + d.text, "/mentions#mention-" + d.mention_id);
    });
    on("lagged", function () { refresh(); });
    // The session ended (signed out elsewhere, deactivated, a new password): sign in again.
    on("ended", function () {
      source.close();
      body.classList.add("offline");
      body.dataset.live = "ended";
      location.href = "/login?next=" + encodeURIComponent(location.pathname + location.search);
    });
  }
  connect();

  // ---------------------------------------------------------------- forms without reloads
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.hasAttribute("data-enhance") || !window.fetch) return;
    e.preventDefault();
    var data = new FormData(form);
    var payload = form.enctype === "multipart/form-data" ? data : new URLSearchParams(data);
    var button = form.querySelector("[type=submit]");
    if (button) button.disabled = true;
    fetch(form.action, { method: "POST", credentials: "same-origin", body: payload }).then(function (r) {
      return r.text().then(function (html) { return { ok: r.ok, html: html, url: r.url }; });
    }).then(function (res) {
      var doc = new DOMParser().parseFromString(res.html, "text/html");
      var fresh = $("#main", doc);
      if (!res.ok || !fresh) { document.open(); document.write(res.html); document.close(); return; }
      $("#main").replaceWith(fresh);
      if (res.url && res.url !== location.href) history.replaceState(null, "", res.url);
      init(fresh);
      var area = $("#reply-text");
      if (area && form.id === "composer") area.focus();
    }).catch(function () { form.submit(); });
  });

  // ---------------------------------------------------------------- keyboard
  function rows() { return $all("#inbox-list .conv a"); }
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    if (e.ctrlKey || e.metaKey || e.altKey || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) || t.isContentEditable) return;
    var list = rows(), at = list.indexOf(document.activeElement);
    switch (e.key) {
      case "j": if (list.length) list[Math.min(at + 1, list.length - 1)].focus(); break;
      case "k": if (list.length) list[Math.max(at - 1, 0)].focus(); break;
      case "/": var q = $("#q"); if (q) q.focus(); break;
      case "r": case "n":
        var kind = e.key === "r" ? "reply" : "note";
        if ($("#composer")) compose(kind);
        else if (at >= 0) location.href = list[at].getAttribute("href") + "#" + kind; // from the inbox: open it there
        break;
      case "e":
        var solve = $("#solve");
        if (solve) solve.click();
        else if (at >= 0) {
          // Solve the selected conversation from the inbox, then show the list as it is now.
          var id = list[at].closest(".conv").dataset.id;
          fetch("/conversations/" + id + "/update", { method: "POST", credentials: "same-origin", body: new URLSearchParams({ status: "solved" }) })
            .then(function () { refresh(); });
        }
        break;
      default: return;
    }
    e.preventDefault();
  });

  // ---------------------------------------------------------------- canned replies, copy fields
  document.addEventListener("submit", function (e) {
    var form = e.target, text;
    if (form.classList.contains("canned")) {
      var option = form.querySelector("select").selectedOptions[0];
      text = option && option.dataset.text;
    } else if (form.classList.contains("kb-insert")) {
      text = form.dataset.text;  // a knowledge-base answer, in the customer's language
    } else return;
    var area = $("#reply-text");
    if (!text || !area) return;
    e.preventDefault();
    var at = area.selectionStart || area.value.length;
    area.value = area.value.slice(0, at) + text + area.value.slice(area.selectionEnd || at);
    area.focus();
  }, true);
  document.addEventListener("focusin", function (e) { if (e.target.classList && e.target.classList.contains("copy")) e.target.select(); });

  function compose(kind) {
    var radio = $('#composer input[name=kind][value="' + kind + '"]');
    if (radio) radio.checked = true;
    var area = $("#reply-text");
    if (area) area.focus();
  }
  if (location.hash === "#reply" || location.hash === "#note") compose(location.hash.slice(1));

  function init(root) { localTimes(root); watchComposer(); }
  init(document);
})();
