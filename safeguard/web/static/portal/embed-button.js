/* Safeguard report button for schools' and organisations' sites (CR-14).
   Add the plain link from the portal's "share" page; this optional script only makes that link
   look like a button. It sets no cookies, sends no requests and counts nothing. */
(function () {
  "use strict";
  var links = document.querySelectorAll("a.safeguard-report-button");
  for (var i = 0; i < links.length; i += 1) {
    var link = links[i];
    var style = link.style;
    style.display = "inline-block";
    style.padding = "0.7em 1.3em";
    style.minHeight = "44px";
    style.background = "#1d4e89";
    style.color = "#ffffff";
    style.border = "2px solid #1d4e89";
    style.borderRadius = "0.4em";
    style.font = "600 1.1em system-ui, sans-serif";
    style.textDecoration = "none";
    style.lineHeight = "1.4";
    // The school's address is not sent to the portal.
    link.setAttribute("rel", "noreferrer");
  }
})();
