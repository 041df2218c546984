/* pinkclinic diff: the differential flame graph (icicle, root on top), drawn on a canvas.
   Width = NEW's CPU per request (or BASE's, in the "removed" view); colour = the change
   against BASE: red more, blue less, grey within the noise. Target strings only ever go
   into the DOM through textContent. */
(function () {
  "use strict";
  var ROW = 18, FONT = "12px ui-monospace, Menlo, Consolas, monospace";

  function layout(t, view, rootIdx) {
    var n = t.parent.length, x = new Float64Array(n), w = new Float64Array(n),
        depth = new Int32Array(n), next = new Float64Array(n), show = new Uint8Array(n);
    var val = view === "removed" ? t.base : t["new"], total = val[rootIdx] || 1;
    show[rootIdx] = 1; x[rootIdx] = 0; w[rootIdx] = 1; depth[rootIdx] = 0;
    next[rootIdx] = 0;
    var maxDepth = 0;
    for (var i = rootIdx + 1; i < n; i++) {
      var p = t.parent[i];
      if (p < 0 || !show[p]) continue;
      show[i] = 1;
      w[i] = val[i] / total;
      x[i] = x[p] + next[p];
      next[p] += w[i];
      next[i] = 0;
      depth[i] = depth[p] + 1;
      if (depth[i] > maxDepth) maxDepth = depth[i];
    }
    // ancestors of a zoomed root are drawn full width above it
    return {x: x, w: w, depth: depth, show: show, maxDepth: maxDepth};
  }

  function colour(t, i) {
    var b = t.base[i], v = t["new"][i], s = t.sig[i];
    if (!s) return "#c9ccd1";
    var rel = Math.min(1, Math.abs(v - b) / Math.max(b, v, 1e-12));
    var k = 0.35 + 0.65 * rel;
    if (s > 0) return "rgb(" + Math.round(255 - 40 * k) + "," + Math.round(210 - 170 * k) + "," + Math.round(200 - 160 * k) + ")";
    return "rgb(" + Math.round(200 - 160 * k) + "," + Math.round(215 - 120 * k) + "," + Math.round(255 - 30 * k) + ")";
  }

  function fmt(v, unit) {
    if (unit === "share") return (100 * v).toFixed(2) + "%";
    return v >= 10 ? v.toFixed(1) + " ms" : v >= 0.1 ? v.toFixed(2) + " ms" : (1000 * v).toFixed(0) + " µs";
  }

  function Graph(root, t, unit, view) {
    var canvas = root.querySelector("canvas"), tip = root.querySelector(".pd-tip"),
        zoom = 0, lay = null, self = this;
    this.t = t;
    function label(i) { return i === 0 ? "all CPU" : t.frames[t.frame[i]][0]; }
    function draw() {
      var width = canvas.parentNode.clientWidth || 800;
      lay = layout(t, view, zoom);
      var anc = [], a = t.parent[zoom];
      while (a >= 0) { anc.unshift(a); a = t.parent[a]; }
      var rows = lay.maxDepth + 1 + anc.length, dpr = window.devicePixelRatio || 1;
      canvas.width = width * dpr; canvas.height = rows * ROW * dpr;
      canvas.style.width = width + "px"; canvas.style.height = rows * ROW + "px";
      var g = canvas.getContext("2d");
      g.setTransform(dpr, 0, 0, dpr, 0, 0);
      g.font = FONT; g.textBaseline = "middle";
      function box(i, x, y, w) {
        g.fillStyle = colour(t, i);
        g.fillRect(x, y, Math.max(w - 1, 0.5), ROW - 1);
        if (w > 30) {
          g.fillStyle = "#111";
          var text = label(i), max = Math.floor((w - 6) / 7);
          g.fillText(text.length > max ? text.slice(0, max - 1) + "…" : text, x + 3, y + ROW / 2);
        }
      }
      anc.forEach(function (i, d) { box(i, 0, d * ROW, width); });
      self.boxes = [];
      for (var i = 0; i < t.parent.length; i++) {
        if (!lay.show[i]) continue;
        var w = lay.w[i] * width;
        if (w < 0.5) continue;
        var x = lay.x[i] * width, y = (lay.depth[i] + anc.length) * ROW;
        box(i, x, y, w);
        self.boxes.push([x, y, w, i]);
      }
      anc.forEach(function (i, d) { self.boxes.push([0, d * ROW, width, i]); });
    }
    function hit(ev) {
      var r = canvas.getBoundingClientRect(), px = ev.clientX - r.left, py = ev.clientY - r.top;
      for (var k = 0; k < self.boxes.length; k++) {
        var bx = self.boxes[k];
        if (px >= bx[0] && px < bx[0] + bx[2] && py >= bx[1] && py < bx[1] + ROW) return bx[3];
      }
      return -1;
    }
    canvas.addEventListener("mousemove", function (ev) {
      var i = hit(ev);
      if (i < 0) { tip.hidden = true; return; }
      var f = i === 0 ? ["all CPU", "", 0] : t.frames[t.frame[i]], b = t.base[i], v = t["new"][i];
      var ch = b > 0 ? ((v - b) / b * 100).toFixed(1) + "%" : (v > 0 ? "new" : "");
      tip.textContent = f[0] + (f[1] ? "  " + f[1] + ":" + f[2] : "") + "\n" +
        "BASE " + fmt(b, unit) + "  NEW " + fmt(v, unit) + "  change " + ch +
        (t.sig[i] ? "" : "  (not significant)");
      tip.hidden = false;
      tip.style.left = Math.min(ev.clientX - canvas.getBoundingClientRect().left + 12, canvas.clientWidth - 320) + "px";
      tip.style.top = (ev.clientY - canvas.getBoundingClientRect().top + 16) + "px";
      tip.dataset.node = String(i);
    });
    canvas.addEventListener("mouseleave", function () { tip.hidden = true; });
    canvas.addEventListener("click", function (ev) {
      var i = hit(ev);
      if (i >= 0) { zoom = i; draw(); }
    });
    var reset = root.querySelector(".pd-reset");
    if (reset) reset.addEventListener("click", function () { zoom = 0; draw(); });
    this.draw = draw;
    draw();
  }

  function boot() {
    var el = document.getElementById("diff-data");
    if (!el) return;
    var data = JSON.parse(el.textContent);
    window.PinkDiff = {graphs: {}};
    [["new", data.tree], ["removed", data.removed]].forEach(function (p) {
      var root = document.getElementById("pd-" + p[0]);
      if (root && p[1]) window.PinkDiff.graphs[p[0]] = new Graph(root, p[1], data.unit, p[0]);
    });
    document.querySelectorAll(".pd-tabs button").forEach(function (btn) {
      btn.addEventListener("click", function () {
        document.querySelectorAll(".pd-view").forEach(function (v) {
          v.hidden = v.id !== "pd-" + btn.dataset.view;
        });
        document.querySelectorAll(".pd-tabs button").forEach(function (b) {
          b.setAttribute("aria-pressed", String(b === btn));
        });
        var g = window.PinkDiff.graphs[btn.dataset.view];
        if (g) g.draw();
      });
    });
    var timer = null;
    window.addEventListener("resize", function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        Object.keys(window.PinkDiff.graphs).forEach(function (k) { window.PinkDiff.graphs[k].draw(); });
      }, 100);
    });
    window.PinkDiff.ready = true;
    window.PinkDiff.paintedAt = performance.now();  // ms since navigation start (bench)
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
