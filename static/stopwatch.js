// The support screen's stopwatch (seed 002): start, pause, stop; stop writes the
// elapsed minutes, rounded up, into the duration field. Without JavaScript the
// stopwatch stays hidden and the duration is typed in.
(function () {
  "use strict";
  document.querySelectorAll("[data-stopwatch]").forEach(function (watch) {
    var target = document.getElementById(watch.dataset.target);
    var display = watch.querySelector("[data-display]");
    var elapsed = 0, startedAt = null, timer = null;

    function seconds() {
      return elapsed + (startedAt ? (Date.now() - startedAt) / 1000 : 0);
    }
    function show() {
      var total = Math.floor(seconds());
      var minutes = Math.floor(total / 60), rest = total % 60;
      display.textContent = String(minutes).padStart(2, "0") + ":" + String(rest).padStart(2, "0");
    }
    function pause() {
      if (startedAt) { elapsed = seconds(); startedAt = null; }
      clearInterval(timer);
      show();
    }
    watch.querySelector("[data-start]").addEventListener("click", function () {
      if (!startedAt) { startedAt = Date.now(); timer = setInterval(show, 1000); }
    });
    watch.querySelector("[data-pause]").addEventListener("click", pause);
    watch.querySelector("[data-stop]").addEventListener("click", function () {
      pause();
      target.value = Math.max(1, Math.ceil(seconds() / 60));
      elapsed = 0;
      target.focus();
    });
    watch.hidden = false;
  });
})();
