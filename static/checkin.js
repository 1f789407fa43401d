/* The check-in page's camera scanner (templates/checkin/desk.html).
 *
 * Where the browser has the BarcodeDetector API (Chrome on Android, for one), a tap on "Scan a QR
 * code" opens the back camera; a code read is put into the code field and that form is sent (via
 * htmx), which shows the guest. Everywhere else the page says so and the code field, the phone's
 * own camera app and the search by name do the job. A static file (the CSP forbids inline
 * scripts), loaded by the check-in page, which the tabs open as a whole page for that reason.
 */
(function () {
  "use strict";

  var SCAN_EVERY_MS = 250;
  var SAME_CODE_PAUSE_MS = 4000;
  var state = { stream: null, timer: null, detector: null, root: null, last: "", lastAt: 0 };

  function part(root, name) {
    return root.querySelector("[data-" + name + "]");
  }

  function say(root, message) {
    var status = part(root, "scan-status");
    if (status) status.textContent = message || "";
  }

  function supported() {
    return "BarcodeDetector" in window && window.isSecureContext &&
      navigator.mediaDevices && typeof navigator.mediaDevices.getUserMedia === "function";
  }

  function setUp(root) {
    if (!supported()) return;
    window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (formats.indexOf("qr_code") === -1) return;
      part(root, "scan-start").hidden = false;
      part(root, "scan-unsupported").hidden = true;
    }).catch(function () { /* stays unsupported */ });
  }

  function stop() {
    if (state.timer) window.clearInterval(state.timer);
    state.timer = null;
    if (state.stream) state.stream.getTracks().forEach(function (track) { track.stop(); });
    state.stream = null;
    var root = state.root;
    if (root && document.body.contains(root)) {
      part(root, "scan-view").hidden = true;
      part(root, "scan-stop").hidden = true;
      part(root, "scan-start").hidden = false;
      var video = part(root, "scan-video");
      if (video) video.srcObject = null;
    }
    state.root = null;
  }

  function found(root, value) {
    var now = Date.now();
    if (value === state.last && now - state.lastAt < SAME_CODE_PAUSE_MS) return;
    state.last = value;
    state.lastAt = now;
    var input = part(root, "code-input");
    var form = part(root, "code-form");
    if (!input || !form) return;
    input.value = value;
    if (navigator.vibrate) navigator.vibrate(60);
    form.requestSubmit();
  }

  function start(root) {
    stop();
    var video = part(root, "scan-video");
    state.root = root;
    state.detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    say(root, root.getAttribute("data-text-starting") || "");
    navigator.mediaDevices.getUserMedia({ video: { facingMode: { ideal: "environment" } }, audio: false })
      .then(function (stream) {
        if (state.root !== root) { stream.getTracks().forEach(function (t) { t.stop(); }); return; }
        state.stream = stream;
        video.srcObject = stream;
        part(root, "scan-view").hidden = false;
        part(root, "scan-start").hidden = true;
        part(root, "scan-stop").hidden = false;
        say(root, root.getAttribute("data-text-scanning") || "");
        return video.play().then(function () {
          state.timer = window.setInterval(function () {
            if (!document.body.contains(video)) { stop(); return; }
            if (video.readyState < 2) return;
            state.detector.detect(video).then(function (codes) {
              if (codes.length && codes[0].rawValue) found(root, codes[0].rawValue);
            }).catch(function () { /* one bad frame: try the next */ });
          }, SCAN_EVERY_MS);
        });
      })
      .catch(function () {
        stop();
        say(root, root.getAttribute("data-text-no-camera") || "");
      });
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) return;
    var root = target.closest("[data-checkin-scanner]");
    if (!root) return;
    if (target.closest("[data-scan-start]")) start(root);
    else if (target.closest("[data-scan-stop]")) { stop(); say(root, ""); }
  });

  function setUpAll(container) {
    var scope = container && container.querySelectorAll ? container : document;
    if (scope.matches && scope.matches("[data-checkin-scanner]")) setUp(scope);
    scope.querySelectorAll("[data-checkin-scanner]").forEach(setUp);
  }

  document.addEventListener("htmx:load", function (event) { setUpAll(event.target); });
  document.addEventListener("htmx:beforeHistorySave", stop);
  document.addEventListener("visibilitychange", function () { if (document.hidden) stop(); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { setUpAll(document); });
  } else {
    setUpAll(document);
  }
})();
