/* Proof-of-work for the anonymous report form (abuse handling without puzzles, CR-13).
   Before the form is sent, find a number n such that SHA-256(form_token + ":" + n) starts
   with `data-pow-bits` zero bits, and put it in the hidden pow_nonce field. A person never
   notices (well under a second); a flood of automated reports costs real work. Without
   JavaScript, or without WebCrypto (plain http on a non-local address), the form is sent as
   it is and the server applies a stricter limit per network. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-pow-bits]");
  if (!form || !window.crypto || !window.crypto.subtle || !window.TextEncoder) { return; }
  var bits = parseInt(form.getAttribute("data-pow-bits"), 10) || 0;
  var token = form.querySelector("input[name=form_token]");
  var nonce = form.querySelector("input[name=pow_nonce]");
  var statusLine = form.querySelector(".pow-status");
  var encoder = new TextEncoder();
  var solving = false;

  function leadingZeroBits(buffer) {
    var bytes = new Uint8Array(buffer);
    var count = 0;
    for (var i = 0; i < bytes.length; i++) {
      if (bytes[i] === 0) { count += 8; continue; }
      var b = bytes[i];
      while ((b & 0x80) === 0) { count += 1; b <<= 1; }
      return count;
    }
    return count;
  }

  function solve(prefix, start) {
    // Batches of digests in parallel keep the page responsive.
    var batch = [];
    for (var n = start; n < start + 256; n++) {
      batch.push(window.crypto.subtle.digest("SHA-256", encoder.encode(prefix + n)));
    }
    return Promise.all(batch).then(function (digests) {
      for (var i = 0; i < digests.length; i++) {
        if (leadingZeroBits(digests[i]) >= bits) { return String(start + i); }
      }
      return solve(prefix, start + 256);
    });
  }

  form.addEventListener("submit", function (event) {
    if (event.defaultPrevented || !bits || !token || !nonce || nonce.value) { return; }
    event.preventDefault();
    if (solving) { return; }
    solving = true;
    if (statusLine) { statusLine.textContent = form.getAttribute("data-msg-pow") || ""; }
    solve(token.value + ":", 0).then(function (found) {
      nonce.value = found;
    }).catch(function () {
      nonce.value = "";  // the server still accepts the form, with the stricter limit
    }).then(function () {
      solving = false;
      if (statusLine) { statusLine.textContent = ""; }
      HTMLFormElement.prototype.submit.call(form);
    });
  });
})();
