// Progressive enhancement for the dashboard. Without this file every form still works by plain
// POST; with it, saves happen in place, failed saves are shown and retried, and changes made in
// other browsers arrive live over server-sent events.
"use strict";

(function () {
  document.documentElement.classList.add("js");

  document.querySelectorAll("select.auto-submit").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  const dashboard = document.getElementById("dashboard");
  if (!dashboard) return;
  const environment = dashboard.dataset.environment;
  const csrfMeta = document.querySelector('meta[name="csrf-token"]');
  const csrfToken = csrfMeta ? csrfMeta.content : "";
  const liveStatus = document.getElementById("live-status");
  const RETRY_DELAYS_MS = [1000, 2000, 4000, 8000, 15000];
  const proofLabels = JSON.parse(dashboard.dataset.proofLabels || "{}");
  const evidenceLabels = JSON.parse(dashboard.dataset.evidenceLabels || "{}");
  const statusLabels = JSON.parse(dashboard.dataset.statusLabels || "{}");
  const verificationStatus = document.querySelector('[data-field="verification-status"]');
  const verifyButton = document.getElementById("verify-now");

  function itemElement(itemId) { return document.getElementById("item-" + itemId); }

  function formatWhen(iso) {
    if (!iso) return "";
    return iso.slice(0, 16).replace("T", " ") + " UTC";
  }

  // The facts as the server renders them (templates/_facts.html): a key/value list, never raw JSON.
  function factValue(value) {
    if (value === null || value === undefined) return document.createTextNode("—");
    if (value === true || value === false) return document.createTextNode(value ? "yes" : "no");
    if (Array.isArray(value)) {
      if (!value.some(function (inner) { return inner && typeof inner === "object" && !Array.isArray(inner); })) {
        return document.createTextNode(value.length ? value.join(", ") : "none");
      }
      const list = document.createElement("ul");
      list.className = "facts-items";
      value.forEach(function (inner) {
        const entry = document.createElement("li");
        entry.appendChild(factValue(inner));
        list.appendChild(entry);
      });
      return list;
    }
    if (typeof value === "object") {
      const list = document.createElement("dl");
      list.className = "facts-list";
      Object.keys(value).forEach(function (key) {
        const pair = document.createElement("div");
        const term = document.createElement("dt");
        const definition = document.createElement("dd");
        term.textContent = key.replace(/_/g, " ");
        definition.appendChild(factValue(value[key]));
        pair.appendChild(term);
        pair.appendChild(definition);
        list.appendChild(pair);
      });
      return list;
    }
    return document.createTextNode(String(value));
  }

  function applyItem(element, item) {
    element.dataset.version = String(item.version);
    element.className = element.className.replace(/\bstatus-[\w-]+/, "status-" + item.status);
    const pill = element.querySelector('[data-field="pill"]');
    pill.className = "pill pill-" + item.status;
    pill.textContent = statusLabels[item.status] || item.status;
    element.querySelector('[data-field="regressed"]').hidden = !item.regressed;
    const proof = element.querySelector('[data-field="proof"]');
    const facts = element.querySelector('[data-field="facts"]');
    const proofResult = item.verification;
    proof.dataset.status = proofResult ? proofResult.status : "";
    proof.textContent = proofResult
      ? proofLabels[proofResult.status] + " — " + proofResult.summary + " (checked " + formatWhen(proofResult.verified_at) + ")"
      : "";
    facts.replaceChildren();
    const hasFacts = Boolean(proofResult) && Object.keys(proofResult.facts).length > 0;
    if (hasFacts) facts.appendChild(factValue(proofResult.facts));
    facts.hidden = !hasFacts;
    const evidence = element.querySelector('[data-field="evidence"]');
    evidence.dataset.state = item.evidence ? item.evidence.state : "";
    evidence.textContent = item.evidence
      ? evidenceLabels[item.evidence.state] + " (valid " + item.evidence.valid_days + " days): " +
        item.evidence.kinds.map(function (kind) {
          return kind.kind + " " + kind.state + (kind.at ? " " + formatWhen(kind.at) : "") + " — " + kind.detail;
        }).join("; ")
      : "";
    element.querySelectorAll('input[name="version"]').forEach(function (input) { input.value = item.version; });
    const box = element.querySelector('.check-form input[type="checkbox"]');
    if (box && !element.classList.contains("saving")) { box.indeterminate = false; box.checked = item.checked; }
    element.querySelector('[data-field="checked-meta"]').textContent =
      item.checked ? "Ticked by " + item.checked_by + " on " + formatWhen(item.checked_at) : "";
    element.querySelector('[data-field="owner"]').textContent = item.owner || "no owner";
    element.querySelector('[data-field="note"]').textContent = item.note;
    const owner = element.querySelector('input[name="owner"]');
    const note = element.querySelector('textarea[name="note"]');
    if (owner && document.activeElement !== owner) owner.value = item.owner || "";
    if (note && document.activeElement !== note) note.value = item.note;
  }

  // The top of the page and an item's drills are rendered by the server; the script only swaps them in.
  function fetchFragment(path) {
    return fetch(path, { headers: { "Accept": "text/html" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; });
  }

  function refreshSummary() {
    const summary = document.getElementById("summary");
    return fetchFragment("/environments/" + encodeURIComponent(environment) + "/summary")
      .then(function (html) { if (html !== null) summary.innerHTML = html; });
  }

  function refreshDrills(itemId) {
    const element = itemElement(itemId);
    const drills = element && element.querySelector('[data-field="drills"]');
    if (!drills) return Promise.resolve();
    return fetchFragment("/environments/" + encodeURIComponent(environment) + "/items/" +
                         encodeURIComponent(itemId) + "/drills")
      .then(function (html) {
        if (html === null) return;
        const box = drills.querySelector('input[name="allow_writes"]');
        const keep = box ? box.checked : false;
        drills.outerHTML = html;
        const fresh = element.querySelector('[data-field="drills"] input[name="allow_writes"]');
        if (fresh) fresh.checked = keep;
      });
  }

  // A closed history is only marked stale, and fetched when someone opens it.
  function refreshHistory(itemId) {
    const element = itemElement(itemId);
    const history = element && element.querySelector('[data-field="history"]');
    if (!history) return Promise.resolve();
    if (!history.open) { history.dataset.stale = "true"; return Promise.resolve(); }
    return fetchFragment("/environments/" + encodeURIComponent(environment) + "/items/" +
                         encodeURIComponent(itemId) + "/recent-history")
      .then(function (html) {
        if (html === null) return;
        const open = history.open;
        history.outerHTML = html;
        element.querySelector('[data-field="history"]').open = open;
      });
  }

  dashboard.addEventListener("toggle", function (event) {
    const history = event.target;
    if (history.dataset && history.dataset.field === "history" && history.open && history.dataset.stale) {
      refreshHistory(history.closest(".item").dataset.item);
    }
  }, true);  // toggle does not bubble: listen while it is captured

  function showDrillRunning(itemId, drill) {
    const element = itemElement(itemId);
    const line = element && element.querySelector('.drill-last[data-drill="' + drill + '"]');
    if (!line) return;
    line.replaceChildren();
    const name = document.createElement("strong");
    name.textContent = drill;
    const pill = document.createElement("span");
    pill.className = "pill pill-running";
    pill.textContent = "⏳ Running…";
    line.append(name, ": ", pill);
  }

  function openItemInHash() {
    const match = /^#item-(.+)$/.exec(window.location.hash);
    const element = match && itemElement(decodeURIComponent(match[1]));
    const details = element && element.querySelector(".item-details");
    if (details) details.open = true;
  }
  openItemInHash();
  window.addEventListener("hashchange", openItemInHash);

  function applyChecklist(checklist) {
    document.querySelectorAll('[data-counter="completed"]').forEach(function (e) { e.textContent = checklist.completed; });
    document.querySelectorAll('[data-counter="total"]').forEach(function (e) { e.textContent = checklist.total; });
    document.querySelectorAll('[data-counter="percent"]').forEach(function (e) { e.textContent = checklist.percent; });
    const bar = document.getElementById("overall-progress");
    bar.max = checklist.total; bar.value = checklist.completed; bar.textContent = checklist.percent + "%";
    checklist.categories.forEach(function (category) {
      const section = document.getElementById("category-" + category.id);
      if (!section) return;
      section.querySelector('[data-counter="category-completed"]').textContent = category.completed;
      section.querySelector('[data-counter="category-total"]').textContent = category.total;
      section.querySelector('[data-field="category-complete"]').hidden = !category.complete;
      category.items.forEach(function (item) {
        const element = itemElement(item.id);
        if (element) applyItem(element, item);
      });
    });
  }

  function showVerification(state) {
    if (!verificationStatus) return;
    if (state.progress && state.progress.status === "queued") {
      verificationStatus.textContent = "Queued: waiting to start…" + (state.problem ? " " + state.problem : "");
    } else if (state.progress) {
      verificationStatus.textContent = "Verifying… " + state.progress.done + " / " + state.progress.total + " steps";
    } else if (state.last_run) {
      const run = state.last_run;
      verificationStatus.textContent = "Last run " + run.state + " " + formatWhen(run.finished_at || run.started_at) +
        ", started by " + run.triggered_by + (run.error ? ": " + run.error : "");
    }
    if (verifyButton) verifyButton.disabled = Boolean(state.progress);
  }

  function refreshVerification() {
    return fetch("/api/v1/environments/" + encodeURIComponent(environment) + "/verification",
                 { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (state) { if (state) showVerification(state); });
  }

  let refreshing = null;
  let refreshAgain = false;
  function refresh() {
    if (refreshing) { refreshAgain = true; return refreshing; }
    refreshing = fetch("/api/v1/environments/" + encodeURIComponent(environment) + "/checklist",
                       { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(applyChecklist)
      .then(refreshSummary)
      .finally(function () {
        refreshing = null;
        if (refreshAgain) { refreshAgain = false; refresh(); }
      });
    return refreshing;
  }

  function setStatus(element, text, isError) {
    const status = element.querySelector(".save-status");
    status.textContent = text;
    status.classList.toggle("error", Boolean(isError));
  }

  // Send one change; the checkbox shows the server's answer only, never an unsaved tick.
  function save(element, changes, attempt) {
    element.classList.add("saving");
    setStatus(element, attempt ? "Retrying…" : "Saving…", false);
    const body = Object.assign({}, changes, { version: Number(element.dataset.version) });
    return fetch("/api/v1/environments/" + encodeURIComponent(environment) + "/items/" +
                 encodeURIComponent(element.dataset.item), {
      method: "PATCH",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfToken },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (payload) {
        return { response: response, payload: payload };
      });
    }).then(function (result) {
      const response = result.response;
      if (response.ok) {
        element.classList.remove("saving");
        applyItem(element, result.payload);
        setStatus(element, "Saved", false);
        setTimeout(function () {
          if (element.querySelector(".save-status").textContent === "Saved") setStatus(element, "", false);
        }, 3000);
        refresh();
        return;
      }
      if (response.status === 409) {
        element.classList.remove("saving");
        setStatus(element, "Someone else changed this item first; showing their version. Nothing of yours was saved.", true);
        refresh();
        return;
      }
      if (response.status >= 500 || response.status === 429) throw new Error("HTTP " + response.status);
      element.classList.remove("saving");
      setStatus(element, "Not saved: " + (result.payload.detail || ("HTTP " + response.status)), true);
      refresh();
    }).catch(function () {
      const delay = RETRY_DELAYS_MS[Math.min(attempt || 0, RETRY_DELAYS_MS.length - 1)];
      setStatus(element, "Not saved (connection problem); retrying in " + Math.round(delay / 1000) + " s…", true);
      setTimeout(function () { save(element, changes, (attempt || 0) + 1); }, delay);
    });
  }

  // Only an item's own tick saves; other boxes (a drill's "it may write" confirmation) are plain inputs.
  dashboard.addEventListener("change", function (event) {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox" || !box.closest(".check-form")) return;
    const element = box.closest(".item");
    const wanted = box.checked;
    box.checked = !wanted;        // keep showing the stored state...
    box.indeterminate = true;     // ...marked as pending until the server answers
    save(element, { checked: wanted }, 0);
  });

  const verifyForm = document.querySelector(".verify-form");
  if (verifyForm) {
    verifyForm.addEventListener("submit", function (event) {
      event.preventDefault();
      verifyButton.disabled = true;
      verificationStatus.textContent = "Starting verification…";
      fetch("/api/v1/environments/" + encodeURIComponent(environment) + "/verification", {
        method: "POST", credentials: "same-origin",
        headers: { "Accept": "application/json", "X-CSRF-Token": csrfToken },
      }).then(function (response) {
        return response.json().then(function (payload) {
          if (response.ok) { showVerification(payload); return; }
          verificationStatus.textContent = "Could not start: " + (payload.detail || ("HTTP " + response.status));
          verifyButton.disabled = false;
        });
      }).catch(function () {
        verificationStatus.textContent = "Could not start verification (connection problem); try again.";
        verifyButton.disabled = false;
      });
    });
  }

  dashboard.addEventListener("submit", function (event) {
    const form = event.target;
    const element = form.closest(".item");
    if (!element || !(form.classList.contains("check-form") || form.classList.contains("details-form"))) return;
    event.preventDefault();
    if (form.classList.contains("details-form")) {
      save(element, { owner: form.elements.owner.value, note: form.elements.note.value }, 0);
    } else {
      const box = form.querySelector('input[type="checkbox"]');
      save(element, { checked: box.checked }, 0);
    }
  });

  if (window.EventSource) {
    const source = new EventSource("/environments/" + encodeURIComponent(environment) + "/events");
    source.addEventListener("open", function () {
      liveStatus.textContent = "Live: changes by your team appear here as they happen.";
      refresh();
      // A drill that ended before the stream opened sent its news to no one: ask for it now.
      document.querySelectorAll(".drill-last .pill-running").forEach(function (pill) {
        refreshDrills(pill.closest(".item").dataset.item);
      });
    });
    source.addEventListener("change", function (event) {
      refresh();
      const data = JSON.parse(event.data);
      if (data.action && data.action.indexOf("verification.") === 0) refreshVerification();
      if (data.action === "drill" && data.item_id) refreshDrills(data.item_id);
      if (data.item_id) refreshHistory(data.item_id);
    });
    source.addEventListener("progress", function (event) {
      const data = JSON.parse(event.data);
      if (data.action === "job.failed") {
        liveStatus.textContent = "The background " + data.job + " failed: " + data.reason;
        refreshVerification();
        document.querySelectorAll(".drill-last .pill-running").forEach(function (pill) {
          refreshDrills(pill.closest(".item").dataset.item);
        });
        return;
      }
      if (data.action === "drill.progress") {
        document.querySelectorAll('.drill-last[data-drill="' + data.drill + '"]').forEach(function (line) {
          const itemId = line.closest(".item").dataset.item;
          // once the job has ended, the server's fragment shows the recorded outcome
          if (data.status === "succeeded") refreshDrills(itemId); else showDrillRunning(itemId, data.drill);
        });
        return;
      }
      if (data.status === "succeeded") { refreshVerification(); return; }
      showVerification({ progress: { done: data.done, total: data.total, status: data.status } });
    });
    source.addEventListener("signed-out", function () {
      source.close();
      liveStatus.textContent = "Live updates stopped: you are signed out. Reload the page to sign in again.";
    });
    source.addEventListener("error", function () {
      liveStatus.textContent = "Live updates interrupted; reconnecting…";
    });
  }
})();
