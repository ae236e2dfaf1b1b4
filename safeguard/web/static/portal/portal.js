/* Quick exit (CR-03). The link works without JavaScript; here it becomes location.replace, so
   this page is not left in the back history, and Shift pressed three times in a row does the
   same from anywhere on the page. No other script runs on ordinary portal pages. */
(function () {
  "use strict";
  var link = document.getElementById("quick-exit");
  if (!link) { return; }
  var target = link.href;
  var WINDOW_MS = 2000;
  var presses = [];

  function leave(event) {
    if (event) { event.preventDefault(); }
    // Hide the page at once: the next site may take a moment to load.
    document.documentElement.style.visibility = "hidden";
    document.title = "";
    window.location.replace(target);
  }

  link.addEventListener("click", leave);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Shift") {
      // Only Shift pressed three times in a row counts, so typing capital letters never leaves.
      presses = [];
      return;
    }
    if (event.repeat) { return; }
    var now = Date.now();
    presses = presses.filter(function (t) { return now - t < WINDOW_MS; });
    presses.push(now);
    if (presses.length >= 3) { leave(); }
  });
})();
