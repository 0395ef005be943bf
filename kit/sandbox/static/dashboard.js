// The room dashboard: polls /sandbox/dashboard.json every 2 s and redraws the tables; shows what
// the server holds of the selected conversation; in operator mode (opened with /#operator=<token>)
// adds the Revoke, Free name and Reset room buttons. The token stays in this tab's sessionStorage
// and leaves the address bar at once, so the projector never shows it; it is sent only as a
// bearer header to /sandbox/operator/... Every value from the server is set with textContent.
"use strict";
(function () {
  const REFRESH_MS = 2000;
  const KEY = "kit-room-operator";
  let operatorToken = null;
  let selected = null;
  let lastData = "";
  let lastEvents = "";

  function takeToken() {
    const match = /(?:^#|&)operator=([^&]+)/.exec(window.location.hash);
    if (match) {
      sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
      history.replaceState(null, "", window.location.pathname + window.location.search);
    }
    return sessionStorage.getItem(KEY);
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === "class") node.className = v; else node.setAttribute(k, v);
    }
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
    return node;
  }

  async function getJSON(path) {
    const r = await fetch(path, { cache: "no-store" });
    if (!r.ok) throw new Error(path + " answered " + r.status);
    return (await r.json()).data;
  }

  async function operator(path, body) {
    const r = await fetch(path, {
      method: "POST",
      headers: Object.assign({ authorization: "Bearer " + operatorToken }, body ? { "content-type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    let data = null;
    try { data = JSON.parse(text); } catch (e) { data = null; }
    const result = document.getElementById("operator-result");
    result.textContent = r.ok ? "done: " + path.split("/").slice(-1)[0] : (r.status + ": " + (data && data.detail ? data.detail : text));
    await refresh();
  }

  function memberRow(m) {
    const actions = el("td", { class: "actions" });
    if (operatorToken && !m.revoked) {
      const revoke = el("button", { type: "button", class: "danger" }, "Revoke");
      revoke.addEventListener("click", () => operator("/sandbox/operator/users/" + m.id + "/revoke"));
      actions.append(revoke);
    }
    if (operatorToken && m.name !== null) {
      const free = el("button", { type: "button" }, "Free name");
      free.addEventListener("click", () => operator("/sandbox/operator/users/" + m.id + "/free-name"));
      actions.append(free);
    }
    const row = el("tr", { "data-user": m.id },
      el("td", { class: "name" }, m.name !== null ? m.name : "@" + m.username),
      el("td", { class: "id" }, m.id),
      el("td", { class: "fp" }, m.fingerprint || "no keys yet"),
      el("td", {}, m.key_versions.join(", ")),
      actions);
    if (m.revoked) row.className = "revoked";
    return row;
  }

  function conversationRow(c) {
    const who = c.participants.map((p) => p.name || p.id).join(", ");
    const row = el("tr", { "data-conversation": c.id },
      el("td", { class: "id" }, c.group_name ? c.id + " (" + c.group_name + ")" : c.id),
      el("td", {}, c.kind), el("td", {}, who), el("td", {}, c.latest_key_version || ""),
      el("td", {}, c.key_changes), el("td", {}, c.messages));
    if (c.id === selected) row.classList.add("selected");
    row.addEventListener("click", () => { selected = c.id; lastEvents = ""; lastData = ""; refresh(); });
    return row;
  }

  function eventBox(e) {
    const box = el("div", { class: "event", "data-sequence": e.sequence_id },
      el("h3", {}, (e.kind === "key_change" ? "key change" : e.kind) + " · sequence " + e.sequence_id + " · from " + e.sender +
        " · key version " + e.key_version + " · " + e.bytes + " bytes · " + e.created_at));
    for (const p of e.parts) {
      box.append(el("div", { class: "part" }, el("div", { class: "label" }, p.label), el("code", { class: "bytes" }, p.base64)));
      if (p.hex) box.append(el("div", { class: "part" }, el("div", { class: "label" }, "first bytes, hex"), el("code", { class: "bytes" }, p.hex)));
    }
    box.append(el("details", {}, el("summary", {}, "the whole stored event, base64"), el("code", { class: "bytes" }, e.encoded_event)));
    return box;
  }

  async function showEvents() {
    const target = document.getElementById("server-sees-events");
    if (!selected) {  // nothing to show (or the conversation is gone: a reset)
      lastEvents = "";
      target.replaceChildren();
      document.getElementById("server-sees-id").textContent = "";
      return;
    }
    let data;
    try { data = await getJSON("/sandbox/dashboard/events?id=" + encodeURIComponent(selected)); }
    catch (err) { selected = null; target.replaceChildren(); document.getElementById("server-sees-id").textContent = ""; return; }
    const text = JSON.stringify(data);
    if (text === lastEvents) return;
    lastEvents = text;
    document.getElementById("server-sees-id").textContent = "· " + data.id + " (" + data.stored + " events" +
      (data.shown < data.stored ? ", newest " + data.shown + " shown" : "") + ")";
    target.replaceChildren(...data.events.map(eventBox));
  }

  async function refresh() {
    let data;
    try { data = await getJSON("/sandbox/dashboard.json"); }
    catch (err) { document.getElementById("updated").textContent = "server unreachable: " + err.message; return; }
    document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString();
    if (selected && !data.conversations.some((c) => c.id === selected)) selected = null;
    if (!selected && data.conversations.length) selected = data.conversations[0].id;
    const text = JSON.stringify(data) + "|" + selected + "|" + (operatorToken ? "op" : "");
    if (text !== lastData) {
      lastData = text;
      document.getElementById("count-members").textContent = data.members.filter((m) => !m.revoked).length;
      document.getElementById("count-conversations").textContent = data.conversations.length;
      document.getElementById("member-rows").replaceChildren(...data.members.map(memberRow));
      document.getElementById("conversation-rows").replaceChildren(...data.conversations.map(conversationRow));
    }
    await showEvents();
  }

  async function checkOperator() {
    const token = takeToken();
    if (!token) return;
    const r = await fetch("/sandbox/operator/status", { headers: { authorization: "Bearer " + token }, cache: "no-store" });
    if (r.ok) {
      operatorToken = token;
      document.getElementById("operator-bar").hidden = false;
      return;
    }
    sessionStorage.removeItem(KEY);
    const warning = document.getElementById("operator-warning");
    warning.textContent = "This operator link is not this room's (" + r.status + "): copy it again from the server's start-up lines.";
    warning.hidden = false;
  }

  document.addEventListener("DOMContentLoaded", async () => {
    await checkOperator();
    document.getElementById("reset-room").addEventListener("click", () => {
      if (window.confirm("Reset the room? Every account, key, conversation and message is removed; every learner runs kit.join again.")) {
        operator("/sandbox/operator/reset", { confirm: "reset" });
      }
    });
    await refresh();
    setInterval(refresh, REFRESH_MS);
  });
})();
