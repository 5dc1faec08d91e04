// The support screen's stopwatch (seed 002): start, pause, stop; stop writes the
// elapsed minutes, rounded up, into the duration field. Without JavaScript the
// stopwatch stays hidden and the duration is typed in.
//
// While it runs, the time ticks every second beside a running mark, and a polite live
// region says "Running", "Paused" or "Stopped" (the ticking itself is a timer, which
// screen readers do not read out every second). Its state is kept in localStorage,
// per tenant and account, so that a reload (or a slip of the finger) loses no time;
// it is forgotten when the stopwatch is stopped or the intervention recorded.
(function () {
  "use strict";

  var PREFIX = "portal.stopwatch:";

  function load(key) {
    try {
      var saved = JSON.parse(window.localStorage.getItem(PREFIX + key) || "null");
      return saved && typeof saved.elapsed === "number" ? saved : null;
    } catch (error) {
      return null; // storage refused or unreadable: start afresh
    }
  }
  function save(key, state) {
    try {
      window.localStorage.setItem(PREFIX + key, JSON.stringify(state));
    } catch (error) { /* storage refused: the stopwatch still works on this page */ }
  }
  function forget(key) {
    try { window.localStorage.removeItem(PREFIX + key); } catch (error) { /* idem */ }
  }

  document.querySelectorAll("[data-stopwatch]").forEach(function (watch) {
    var target = document.getElementById(watch.dataset.target);
    var form = target ? target.form : null;
    var display = watch.querySelector("[data-display]");
    var status = watch.querySelector("[data-state]");
    var key = watch.dataset.key;
    var elapsed = 0, startedAt = null, timer = null;

    function seconds() {
      return elapsed + (startedAt ? Math.max(0, Date.now() - startedAt) / 1000 : 0);
    }
    function show() {
      var total = Math.floor(seconds());
      var hours = Math.floor(total / 3600);
      var minutes = Math.floor((total % 3600) / 60), rest = total % 60;
      display.textContent = (hours ? hours + ":" : "") +
        String(minutes).padStart(2, "0") + ":" + String(rest).padStart(2, "0");
    }
    function announce(state) {
      watch.classList.toggle("running", state === "running");
      watch.classList.toggle("paused", state === "paused");
      status.textContent = state ? watch.dataset[state] : "";
    }
    function remember(submitted) {
      save(key, { elapsed: elapsed, startedAt: startedAt, submitted: !!submitted });
    }
    function run() {
      clearInterval(timer);
      timer = setInterval(show, 1000);
      show();
      announce("running");
    }
    function pause() {
      if (startedAt) { elapsed = seconds(); startedAt = null; }
      clearInterval(timer);
      show();
    }

    watch.querySelector("[data-start]").addEventListener("click", function () {
      if (startedAt) { return; }
      startedAt = Date.now();
      remember();
      run();
    });
    watch.querySelector("[data-pause]").addEventListener("click", function () {
      if (!startedAt) { return; }
      pause();
      remember();
      announce("paused");
    });
    watch.querySelector("[data-stop]").addEventListener("click", function () {
      pause();
      target.value = Math.max(1, Math.ceil(seconds() / 60));
      elapsed = 0;
      forget(key);
      announce("stopped");
      target.focus();
    });
    if (form) {
      // Sent: forgotten once the page that follows shows it recorded (a form sent back
      // with errors keeps the time running).
      form.addEventListener("submit", function () {
        if (startedAt || elapsed) { remember(true); }
      });
    }

    var saved = load(key);
    if (saved && saved.submitted && !(form && form.hasAttribute("data-rejected"))) {
      forget(key); // the intervention was recorded
    } else if (saved) {
      elapsed = saved.elapsed;
      startedAt = typeof saved.startedAt === "number" ? saved.startedAt : null;
      if (saved.submitted) { remember(); }
      if (startedAt) { run(); } else if (elapsed) { show(); announce("paused"); }
    }
    watch.hidden = false;
  });
})();
