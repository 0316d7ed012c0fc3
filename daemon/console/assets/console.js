// ledge console: the little the pages need beyond htmx - the CSRF header, pausing live regions
// in hidden tabs, confirmations, the live log tail with search, and JSON checks while typing.
"use strict";
(function () {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
  const offline = () => document.getElementById("offline")?.removeAttribute("hidden");

  document.addEventListener("htmx:configRequest", (event) => {
    event.detail.headers["X-CSRF-Token"] = csrf;
  });
  // A tab nobody looks at asks for nothing.
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (document.hidden) event.preventDefault();
  });
  document.addEventListener("htmx:responseError", (event) => {
    if (event.detail.xhr.status === 401) offline();
  });
  document.addEventListener("htmx:sendError", offline);

  document.addEventListener("submit", (event) => {
    const form = event.target;
    const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
    if (question && !globalThis.confirm(question)) event.preventDefault();
  });

  // --- live log tail -------------------------------------------------------------------------
  const MAX_LINES = 5000;

  function appendHighlighted(parent, text, query) {
    if (!query) {
      parent.append(text);
      return;
    }
    const lower = text.toLowerCase();
    let at = 0;
    for (;;) {
      const hit = lower.indexOf(query, at);
      if (hit < 0) break;
      parent.append(text.slice(at, hit));
      const mark = document.createElement("mark");
      mark.textContent = text.slice(hit, hit + query.length);
      parent.append(mark);
      at = hit + query.length;
    }
    parent.append(text.slice(at));
  }

  function startLog(root) {
    const output = root.querySelector("pre.log");
    const search = root.querySelector("input[type=search]");
    const pause = root.querySelector("button[data-pause]");
    const count = root.querySelector(".count");
    const lines = [];
    let paused = false;
    let query = "";

    function matches(line) {
      return !query || line.toLowerCase().includes(query);
    }
    function stick() {
      return output.scrollHeight - output.scrollTop - output.clientHeight < 40;
    }
    function render() {
      output.replaceChildren();
      let shown = 0;
      for (const line of lines) {
        if (!matches(line)) continue;
        appendHighlighted(output, line + "\n", query);
        shown++;
      }
      output.scrollTop = output.scrollHeight;
      count.textContent = query ? `${shown} of ${lines.length} lines` : `${lines.length} lines`;
    }
    function add(line) {
      lines.push(line);
      if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
      if (paused) return;
      if (matches(line)) {
        const follow = stick();
        appendHighlighted(output, line + "\n", query);
        if (follow) output.scrollTop = output.scrollHeight;
      }
      count.textContent = query ? count.textContent : `${lines.length} lines`;
    }

    const source = new EventSource(root.dataset.logStream);
    let opened = false;
    source.onopen = () => {
      root.classList.remove("disconnected");
      // A reconnect starts again with the tail: drop what the last connection showed.
      if (opened) {
        lines.length = 0;
        render();
      }
      opened = true;
    };
    source.onmessage = (event) => add(event.data);
    source.addEventListener("end", () => {
      add("\u2014 the log stream ended \u2014");
      source.close();
    });
    source.onerror = () => root.classList.add("disconnected");
    search.addEventListener("input", () => {
      query = search.value.trim().toLowerCase();
      render();
    });
    pause.addEventListener("click", () => {
      paused = !paused;
      pause.textContent = paused ? "Resume" : "Pause";
      if (!paused) render();
    });
  }

  // --- JSON editors ---------------------------------------------------------------------------
  function where(text, error) {
    const at = /position (\d+)/.exec(String(error && error.message));
    if (!at) return String(error && error.message);
    const before = text.slice(0, Number(at[1]));
    const line = before.split("\n").length;
    const column = Number(at[1]) - before.lastIndexOf("\n");
    return `line ${line}, column ${column}: ${
      error.message.replace(/ in JSON at position \d+.*$/, "")
    }`;
  }

  function startJsonEditor(area) {
    const form = area.form;
    const message = form.querySelector(".field-error");
    const submit = form.querySelector("button[type=submit]");
    function check() {
      let problem = "";
      try {
        const value = JSON.parse(area.value);
        if (typeof value !== "object" || value === null || Array.isArray(value)) {
          problem = "expected a JSON object";
        }
      } catch (error) {
        problem = `not valid JSON at ${where(area.value, error)}`;
      }
      area.classList.toggle("invalid", problem !== "");
      area.setAttribute("aria-invalid", String(problem !== ""));
      message.textContent = problem;
      submit.disabled = problem !== "";
    }
    area.addEventListener("input", check);
    area.addEventListener("keydown", (event) => {
      if (event.key !== "Tab") return;
      event.preventDefault();
      area.setRangeText("  ", area.selectionStart, area.selectionEnd, "end");
      check();
    });
    check();
  }

  function start() {
    document.querySelectorAll("[data-log-stream]").forEach(startLog);
    document.querySelectorAll("textarea.json[data-validate]").forEach(startJsonEditor);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
