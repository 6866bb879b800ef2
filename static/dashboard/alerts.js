/* The alerts page: the signed-in user's rules through /api/v1/alerts/ (list, create, mute, delete), their events
   from /api/v1/alert-events/ and then live from /ws/alerts/. The API takes the page's session, so every write
   carries the CSRF token. */
"use strict";

(() => {
  const form = document.getElementById("rule-form");
  const formError = document.getElementById("form-error");
  const rulesBody = document.querySelector("#rules tbody");
  const rulesStatus = document.getElementById("rules-status");
  const eventsList = document.getElementById("events");
  const eventsStatus = document.getElementById("events-status");
  const UPPERCASE = new Set(["symbol", "pair_symbol"]);
  const watchlistNames = new Map(); // id -> name
  const shownEvents = new Set(); // ids

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRFToken"] = form.dataset.csrf;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(`/api/v1/${path}`, { method, headers, body: body && JSON.stringify(body) });
    const data = response.status === 204 ? null : await response.json();
    return { ok: response.ok, status: response.status, data };
  }

  function errorOf(result) {
    return (result.data && result.data.error) || { message: `Error ${result.status}`, fields: {} };
  }

  function showStatus(element, text, isError = false) {
    element.textContent = text;
    element.classList.toggle("error", isError);
  }

  // -- the form: only the inputs of the chosen target and condition are shown and sent
  function showFields() {
    const target = form.elements.target.value;
    for (const label of form.querySelectorAll("[data-target]")) label.hidden = label.dataset.target !== target;
    const fields = new Set(form.elements.kind.selectedOptions[0].dataset.fields.split(" "));
    for (const label of form.querySelectorAll("[data-condition]")) {
      label.hidden = !fields.has(label.querySelector("[name]").name);
    }
  }

  function ruleFromForm() {
    const rule = {};
    for (const control of form.elements) {
      if (!control.name || control.closest("[hidden]")) continue;
      const value = control.value.trim();
      if (control.type === "checkbox") rule[control.name] = control.checked;
      else if (value !== "") rule[control.name] = UPPERCASE.has(control.name) ? value.toUpperCase() : value;
    }
    return rule;
  }

  function clearErrors() {
    formError.hidden = true;
    for (const note of form.querySelectorAll(".field-error")) note.remove();
    for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  }

  /* Each field's messages beside its input; those of no input on show (or of the whole rule) above the form. */
  function showErrors(error) {
    const elsewhere = [];
    for (const [name, messages] of Object.entries(error.fields || {})) {
      const text = [].concat(messages).join(" ");
      const control = form.elements[name];
      const label = control && control.closest && !control.closest("[hidden]") && control.closest("label");
      if (!label) {
        elsewhere.push(name === "non_field_errors" ? text : `${name}: ${text}`);
        continue;
      }
      const note = document.createElement("small");
      note.className = "field-error error";
      note.dataset.field = name;
      note.textContent = text;
      label.append(note);
      control.setAttribute("aria-invalid", "true");
    }
    if (elsewhere.length || !Object.keys(error.fields || {}).length) {
      formError.textContent = elsewhere.length ? elsewhere.join(" ") : error.message;
      formError.hidden = false;
    }
  }

  form.addEventListener("change", (event) => {
    if (event.target.name === "target" || event.target.name === "kind") showFields();
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    const result = await api("POST", "alerts/", ruleFromForm());
    if (!result.ok) {
      showErrors(errorOf(result));
      return;
    }
    form.reset();
    showFields();
    await loadRules();
  });

  // -- the rules
  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function actionButton(text, action, onClick) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = text;
    button.dataset.action = action;
    button.addEventListener("click", onClick);
    return button;
  }

  function targetText(rule) {
    if (rule.target === "symbol") return rule.symbol;
    if (rule.target === "watchlist") return watchlistNames.get(rule.watchlist) || `watchlist ${rule.watchlist}`;
    return "all symbols";
  }

  function ruleRow(rule) {
    const tr = document.createElement("tr");
    tr.dataset.id = rule.id;
    tr.classList.toggle("muted", !rule.is_active);
    const actions = document.createElement("td");
    actions.className = "actions";
    actions.append(
      actionButton(rule.is_active ? "Mute" : "Unmute", "mute", () => change(rule, "PATCH", { is_active: !rule.is_active })),
      actionButton("Delete", "delete", () => change(rule, "DELETE")),
    );
    tr.append(
      cell(rule.name ? `${rule.name}: ${rule.description}` : rule.description, "description"),
      cell(targetText(rule)),
      cell(rule.last_fired_at ? new Date(rule.last_fired_at).toLocaleString() : "never", "wide"),
      cell(rule.is_active ? "on" : "muted", "state"),
      actions,
    );
    return tr;
  }

  async function change(rule, method, body) {
    const result = await api(method, `alerts/${rule.id}/`, body);
    if (!result.ok) {
      showStatus(rulesStatus, errorOf(result).message, true);
      return;
    }
    await loadRules();
  }

  async function loadRules() {
    const result = await api("GET", "alerts/");
    if (!result.ok) {
      showStatus(rulesStatus, errorOf(result).message, true);
      return;
    }
    const { count, results } = result.data;
    rulesBody.replaceChildren(...results.map(ruleRow));
    const shown = count > results.length ? ` (the newest ${results.length} shown)` : "";
    showStatus(rulesStatus, count ? `${count} alert${count === 1 ? "" : "s"}${shown}` : "No alerts yet.");
    rulesBody.dataset.loaded = String(Date.now());
  }

  // -- choices the API knows: the user's watchlists and the strategies
  async function loadChoices() {
    const [watchlists, strategies] = await Promise.all([api("GET", "watchlists/"), api("GET", "strategies/")]);
    if (watchlists.ok) {
      const select = form.elements.watchlist;
      for (const watchlist of watchlists.data.results) {
        watchlistNames.set(watchlist.id, watchlist.name);
        select.append(new Option(watchlist.name, watchlist.id));
      }
    }
    if (strategies.ok) {
      const list = document.getElementById("strategies");
      for (const strategy of strategies.data.results) list.append(new Option(strategy.name));
    }
  }

  // -- the events, newest first
  function eventItem(event) {
    const li = document.createElement("li");
    li.dataset.id = event.id;
    const time = document.createElement("time");
    time.dateTime = event.created_at;
    time.textContent = new Date(event.created_at).toLocaleString();
    const symbol = document.createElement("a");
    symbol.href = `/s/${event.symbol}/`;
    symbol.textContent = event.symbol;
    const message = document.createElement("span");
    message.className = "message";
    message.textContent = event.message;
    li.append(time, symbol, message);
    return li;
  }

  function addEvent(event, live) {
    if (shownEvents.has(event.id)) return;
    shownEvents.add(event.id);
    const li = eventItem(event);
    li.dataset.time = String(Date.parse(event.created_at));
    if (live) li.classList.add("new");
    const older = [...eventsList.children].find(
      (item) => Number(item.dataset.time) < Number(li.dataset.time) ||
        (item.dataset.time === li.dataset.time && Number(item.dataset.id) < event.id),
    );
    eventsList.insertBefore(li, older || null);
    showStatus(eventsStatus, "");
  }

  async function loadEvents() {
    const result = await api("GET", "alert-events/");
    if (!result.ok) {
      showStatus(eventsStatus, errorOf(result).message, true);
      return;
    }
    for (const event of result.data.results) addEvent(event, false);
    if (!shownEvents.size) showStatus(eventsStatus, "No events yet: they arrive here as your alerts fire.");
  }

  showFields();
  loadChoices().then(loadRules);
  loadEvents();
  // Again on each (re)connect: the history holds whatever fired while the socket was down.
  Dashboard.reconnecting("/ws/alerts/", loadEvents, (frame) => {
    if (frame.type !== "alert") return;
    addEvent(frame.event, true);
    loadRules(); // its last firing; a one-time rule is off now
  });
})();
