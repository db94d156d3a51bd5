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
  const verificationStatus = document.querySelector('[data-field="verification-status"]');
  const verifyButton = document.getElementById("verify-now");

  function itemElement(itemId) { return document.getElementById("item-" + itemId); }

  function formatWhen(iso) {
    if (!iso) return "";
    return iso.slice(0, 16).replace("T", " ") + " UTC";
  }

  function applyItem(element, item) {
    element.dataset.version = String(item.version);
    element.classList.toggle("done", item.done);
    element.querySelector('[data-field="regressed"]').hidden = !item.regressed;
    const proof = element.querySelector('[data-field="proof"]');
    const facts = element.querySelector('[data-field="facts"]');
    const proofResult = item.verification;
    proof.dataset.status = proofResult ? proofResult.status : "";
    proof.textContent = proofResult
      ? proofLabels[proofResult.status] + " — " + proofResult.summary + " (checked " + formatWhen(proofResult.verified_at) + ")"
      : "";
    facts.textContent = proofResult ? JSON.stringify(proofResult.facts, null, 2) : "";
    facts.closest("details").hidden = !proofResult || Object.keys(proofResult.facts).length === 0;
    const evidence = element.querySelector('[data-field="evidence"]');
    evidence.dataset.state = item.evidence ? item.evidence.state : "";
    evidence.textContent = item.evidence
      ? evidenceLabels[item.evidence.state] + " (valid " + item.evidence.valid_days + " days): " +
        item.evidence.kinds.map(function (kind) {
          return kind.kind + " " + kind.state + (kind.at ? " " + formatWhen(kind.at) : "") + " — " + kind.detail;
        }).join("; ")
      : "";
    element.querySelectorAll('input[name="version"]').forEach(function (input) { input.value = item.version; });
    const box = element.querySelector('input[type="checkbox"]');
    if (box && !element.classList.contains("saving")) { box.indeterminate = false; box.checked = item.checked; }
    element.querySelector('[data-field="checked-meta"]').textContent =
      item.checked ? "Ticked by " + item.checked_by + " on " + formatWhen(item.checked_at) : "";
    element.querySelector('[data-field="owner"]').textContent = item.owner || "nobody yet";
    element.querySelector('[data-field="note"]').textContent = item.note;
    const owner = element.querySelector('input[name="owner"]');
    const note = element.querySelector('textarea[name="note"]');
    if (owner && document.activeElement !== owner) owner.value = item.owner || "";
    if (note && document.activeElement !== note) note.value = item.note;
  }

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
    if (state.progress) {
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

  dashboard.addEventListener("change", function (event) {
    const box = event.target;
    if (!(box instanceof HTMLInputElement) || box.type !== "checkbox") return;
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
    });
    source.addEventListener("change", function (event) {
      refresh();
      const data = JSON.parse(event.data);
      if (data.action && data.action.indexOf("verification.") === 0) refreshVerification();
    });
    source.addEventListener("progress", function (event) {
      const data = JSON.parse(event.data);
      showVerification({ progress: { done: data.done, total: data.total } });
    });
    source.addEventListener("error", function () {
      liveStatus.textContent = "Live updates interrupted; reconnecting…";
    });
  }
})();
