/* On-device hashing for the child portal (CR-07): the child picks their own pictures or
 * videos, this script makes a PDQ hash (pictures) and an MD5 hash (any file) in the page, and
 * puts only those hashes into the form's hidden `hashes` field. The file input has no name,
 * so a form submit can never carry the file; nothing here sends anything anywhere.
 *
 * Binds to every <fieldset data-hash-on-device> (templates/portal/_hash_fieldset.html). All
 * words come from data-msg-* attributes there, so they are translated with the page.
 * Needs pdq.js and md5.js loaded first (window.SafeguardPDQ, window.SafeguardMD5).
 */
(function () {
  "use strict";

  // Same limit as the server's decoder (safeguard.media.decode.DEFAULT_MAX_PIXELS): a bigger
  // picture would need more memory than a phone may have for the canvas.
  const MAX_PIXELS = 50000000;

  function message(fieldset, key, values) {
    let text = fieldset.getAttribute("data-msg-" + key) || key;
    for (const name in values || {}) {
      text = text.split("%(" + name + ")s").join(String(values[name]));
    }
    return text;
  }

  async function decodePixels(file) {
    // EXIF orientation applied, as the server's decoder does; no colour management and no
    // premultiplication, so the pixels are the file's own as far as a canvas allows.
    const bitmap = await createImageBitmap(file, {
      imageOrientation: "from-image",
      premultiplyAlpha: "none",
      colorSpaceConversion: "none",
    });
    try {
      const { width, height } = bitmap;
      if (width * height > MAX_PIXELS) {
        const error = new Error("too many pixels");
        error.tooLarge = true;
        throw error;
      }
      const canvas = typeof OffscreenCanvas === "function"
        ? new OffscreenCanvas(width, height)
        : Object.assign(document.createElement("canvas"), { width: width, height: height });
      const context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(bitmap, 0, 0);
      return { data: context.getImageData(0, 0, width, height).data, width, height };
    } finally {
      bitmap.close();
    }
  }

  function looksLikeVideo(file) {
    return /^video\//.test(file.type) || /\.(mp4|m4v|mov|webm|mkv|avi|3gp|wmv)$/i.test(file.name);
  }

  function setup(fieldset) {
    const input = fieldset.querySelector("input[type=file]");
    const list = fieldset.querySelector("[data-hash-list]");
    const status = fieldset.querySelector("[data-hash-status]");
    const field = fieldset.querySelector("textarea[name=hashes]");
    const controls = fieldset.querySelector("[data-hash-controls]");
    if (!input || !list || !status || !field || !window.SafeguardPDQ || !window.SafeguardMD5) {
      return;
    }
    if (input.hasAttribute("name")) input.removeAttribute("name"); // belt and braces
    if (controls) controls.hidden = false;
    for (const note of fieldset.querySelectorAll("[data-hash-needs-js]")) note.hidden = true;
    const done = []; // {item, lines}, in the order the child picked the files
    let busy = false;

    function refreshField() {
      const seen = new Set();
      const lines = [];
      for (const entry of done) {
        for (const line of entry.lines) {
          if (!seen.has(line)) {
            seen.add(line);
            lines.push(line);
          }
        }
      }
      field.value = lines.join("\n");
      const form = input.form || fieldset.closest("form");
      if (form) form.dispatchEvent(new CustomEvent("hashes-changed", { detail: lines.length }));
    }

    function addLine(parent, label, value) {
      const row = document.createElement("p");
      row.className = "hash-line";
      if (label) row.append(label + " ");
      const code = document.createElement("code");
      code.textContent = value;
      row.append(code);
      parent.append(row);
    }

    function removeButton(entry, name) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button secondary";
      button.textContent = message(fieldset, "remove", { name: name });
      button.addEventListener("click", function () {
        done.splice(done.indexOf(entry), 1);
        entry.item.remove();
        refreshField();
        status.textContent = message(fieldset, "removed", { name: name });
        input.focus();
      });
      return button;
    }

    async function hashOne(file) {
      const item = document.createElement("li");
      const title = document.createElement("p");
      title.className = "hash-file";
      title.textContent = file.name;
      item.append(title);
      const progress = document.createElement("progress");
      progress.max = 1;
      progress.value = 0;
      progress.setAttribute("aria-label", message(fieldset, "working", { name: file.name }));
      item.append(progress);
      list.append(item);

      const entry = { item: item, lines: [] };
      if (file.size === 0) {
        progress.remove();
        addNote(item, message(fieldset, "empty", { name: file.name }));
        item.append(removeButton(entry, file.name));
        done.push(entry);
        return;
      }
      const md5 = await window.SafeguardMD5.md5Blob(file, function (doneBytes, total) {
        progress.value = doneBytes / total;
      });
      progress.remove();
      let pdq = null;
      let problem = null;
      if (looksLikeVideo(file)) {
        problem = "video";
      } else {
        try {
          const pixels = await decodePixels(file);
          pdq = window.SafeguardPDQ.hashRGBA(pixels.data, pixels.width, pixels.height);
        } catch (error) {
          problem = error && error.tooLarge ? "too-large" : "not-a-picture";
        }
      }
      if (pdq) {
        addLine(item, message(fieldset, "pdq-label"), pdq.hex);
        entry.lines.push("pdq " + pdq.hex + " " + pdq.quality);
      }
      addLine(item, message(fieldset, "md5-label"), md5);
      entry.lines.push("md5 " + md5);
      if (problem) addNote(item, message(fieldset, problem, { name: file.name }));
      item.append(removeButton(entry, file.name));
      done.push(entry);
    }

    function addNote(item, text) {
      const note = document.createElement("p");
      note.className = "note";
      note.textContent = text;
      item.append(note);
    }

    input.addEventListener("change", async function () {
      const files = Array.from(input.files || []);
      if (!files.length || busy) return;
      busy = true;
      fieldset.setAttribute("aria-busy", "true");
      status.textContent = message(fieldset, "working-all", { count: files.length });
      try {
        for (const file of files) {
          try {
            await hashOne(file);
          } catch (error) {
            const item = document.createElement("li");
            item.textContent = message(fieldset, "failed", { name: file.name });
            list.append(item);
          }
        }
      } finally {
        // The page keeps no reference to the files once their hashes are made.
        input.value = "";
        busy = false;
        fieldset.removeAttribute("aria-busy");
        refreshField();
        status.textContent = message(fieldset, "ready", { count: done.length });
      }
    });

    // A page shown again (e.g. after a mistake elsewhere in the form) keeps the codes made
    // before: they stay in the field, listed as one entry the child can take off.
    const earlier = field.value.split("\n").map((line) => line.trim()).filter(Boolean);
    if (earlier.length) {
      const item = document.createElement("li");
      const title = document.createElement("p");
      title.className = "hash-file";
      title.textContent = message(fieldset, "earlier");
      item.append(title);
      const entry = { item: item, lines: earlier };
      for (const line of earlier) addLine(item, "", line);
      item.append(removeButton(entry, message(fieldset, "earlier")));
      list.append(item);
      done.push(entry);
    }

    const form = input.form || fieldset.closest("form");
    if (form) {
      form.addEventListener("submit", function (event) {
        if (busy) {
          event.preventDefault();
          status.textContent = message(fieldset, "wait");
        }
      });
    }
  }

  function start() {
    document.querySelectorAll("fieldset[data-hash-on-device]").forEach(setup);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
