/* pinkclinic time-series charts: canvas line charts on one shared time axis.
 *
 * Input: the JSON in <script id="pc-charts" type="application/json">:
 *   {"t0": epoch, "t1": epoch, "window": {"start", "end"} | null,
 *    "charts": [{"id", "title", "unit", "flag": "text" | null,
 *                "series": [{"name", "color", "points": [[t, v], ...], "dash": bool}]}]}
 * A point whose value is null is a gap: the line is lifted there, not drawn across.
 * Every chart shades the load window; moving the pointer over any chart moves
 * a crosshair over all of them and shows each series' value at that time.
 * Strings from the target only ever reach the page through textContent.
 */
(function () {
  "use strict";
  var src = document.getElementById("pc-charts");
  var host = document.getElementById("pc-chart-list");
  if (!src || !host) return;
  var spec = JSON.parse(src.textContent);
  var charts = [];
  var PAD = { l: 56, r: 12, t: 8, b: 22 };
  var crossT = null;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function niceMax(v) {
    if (!(v > 0)) return 1;
    var p = Math.pow(10, Math.floor(Math.log10(v)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) if (steps[i] * p >= v) return steps[i] * p;
    return 10 * p;
  }

  function fmt(v, unit) {
    if (v === null || v === undefined || isNaN(v)) return "–";
    var a = Math.abs(v);
    var s = a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : v.toFixed(2);
    return s + (unit ? " " + unit : "");
  }

  function valueAt(points, t) {
    // the last point at or before t (series are step-like samples)
    var lo = 0, hi = points.length - 1, best = -1;
    while (lo <= hi) {
      var mid = (lo + hi) >> 1;
      if (points[mid][0] <= t) { best = mid; lo = mid + 1; } else hi = mid - 1;
    }
    return best < 0 ? null : points[best][1];
  }

  function build(c) {
    var box = el("section", "pc-chart" + (c.flag ? " pc-flagged" : ""));
    box.id = "chart-" + c.id;
    var head = el("div", "pc-chart-head");
    head.appendChild(el("h3", null, c.title));
    if (c.flag) head.appendChild(el("span", "pc-flag", "⚑ " + c.flag));
    var readout = el("div", "pc-readout");
    head.appendChild(readout);
    box.appendChild(head);
    var wrap = el("div", "pc-canvas-wrap");
    var base = el("canvas", "pc-base");
    var over = el("canvas", "pc-over");
    wrap.appendChild(base);
    wrap.appendChild(over);
    box.appendChild(wrap);
    var legend = el("div", "pc-legend");
    c.series.forEach(function (s) {
      var item = el("span", "pc-key");
      var sw = el("i");
      sw.style.background = s.color;
      item.appendChild(sw);
      item.appendChild(document.createTextNode(s.name));
      legend.appendChild(item);
    });
    if (!c.series.length) legend.appendChild(el("span", "pc-empty", c.empty || "no data recorded"));
    box.appendChild(legend);
    host.appendChild(box);
    var ymax = 0;
    c.series.forEach(function (s) { s.points.forEach(function (p) { if (p[1] > ymax) ymax = p[1]; }); });
    var state = { c: c, base: base, over: over, readout: readout, ymax: niceMax(ymax * 1.05) };
    over.addEventListener("mousemove", function (ev) {
      var r = over.getBoundingClientRect();
      var x = ev.clientX - r.left;
      crossT = spec.t0 + (x - PAD.l) / (r.width - PAD.l - PAD.r) * (spec.t1 - spec.t0);
      if (crossT < spec.t0 || crossT > spec.t1) crossT = null;
      drawAllOverlays();
    });
    over.addEventListener("mouseleave", function () { crossT = null; drawAllOverlays(); });
    return state;
  }

  function size(canvas) {
    var dpr = window.devicePixelRatio || 1;
    var w = canvas.clientWidth, h = canvas.clientHeight;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return { ctx: ctx, w: w, h: h };
  }

  function xOf(t, w) { return PAD.l + (t - spec.t0) / (spec.t1 - spec.t0 || 1) * (w - PAD.l - PAD.r); }

  function drawBase(st) {
    var g = size(st.base), ctx = g.ctx, w = g.w, h = g.h;
    var ih = h - PAD.t - PAD.b;
    var yOf = function (v) { return PAD.t + ih - v / st.ymax * ih; };
    ctx.clearRect(0, 0, w, h);
    if (spec.window) {  // the load window
      ctx.fillStyle = "rgba(120,150,255,0.10)";
      var x0 = xOf(spec.window.start, w), x1 = xOf(spec.window.end, w);
      ctx.fillRect(x0, PAD.t, Math.max(1, x1 - x0), ih);
    }
    ctx.strokeStyle = "rgba(128,128,128,0.25)";
    ctx.fillStyle = "#888";
    ctx.font = "11px system-ui, sans-serif";
    ctx.lineWidth = 1;
    for (var i = 0; i <= 4; i++) {  // y grid
      var v = st.ymax * i / 4, y = Math.round(yOf(v)) + 0.5;
      ctx.beginPath(); ctx.moveTo(PAD.l, y); ctx.lineTo(w - PAD.r, y); ctx.stroke();
      ctx.textAlign = "right";
      ctx.fillText(fmt(v, st.c.unit), PAD.l - 4, y + 4);
    }
    var span = spec.t1 - spec.t0, step = niceMax(span / 8) || 1;
    ctx.textAlign = "center";
    for (var s = 0; s <= span + 1e-9; s += step) {  // x ticks: seconds from the start
      var x = Math.round(xOf(spec.t0 + s, w)) + 0.5;
      ctx.beginPath(); ctx.moveTo(x, PAD.t + ih); ctx.lineTo(x, PAD.t + ih + 4); ctx.stroke();
      ctx.fillText(s.toFixed(step < 1 ? 1 : 0) + " s", x, h - 6);
    }
    st.c.series.forEach(function (sr) {
      ctx.strokeStyle = sr.color;
      ctx.lineWidth = 1.5;
      ctx.setLineDash(sr.dash ? [4, 3] : []);
      ctx.beginPath();
      var pen = false;
      sr.points.forEach(function (p) {
        if (p[1] === null) { pen = false; return; }
        var px = xOf(p[0], w), py = yOf(p[1]);
        if (!pen) ctx.moveTo(px, py); else ctx.lineTo(px, py);
        pen = true;
      });
      ctx.stroke();
    });
    ctx.setLineDash([]);
  }

  function drawOverlay(st) {
    var g = size(st.over), ctx = g.ctx, w = g.w, h = g.h;
    ctx.clearRect(0, 0, w, h);
    st.readout.textContent = "";
    if (crossT === null) return;
    var x = Math.round(xOf(crossT, w)) + 0.5;
    ctx.strokeStyle = "rgba(200,60,120,0.8)";
    ctx.beginPath(); ctx.moveTo(x, PAD.t); ctx.lineTo(x, h - PAD.b); ctx.stroke();
    var parts = [(crossT - spec.t0).toFixed(2) + " s"];
    st.c.series.forEach(function (sr) { parts.push(sr.name + ": " + fmt(valueAt(sr.points, crossT), st.c.unit)); });
    st.readout.textContent = parts.join("   ");
  }

  function drawAllOverlays() { charts.forEach(drawOverlay); }
  function drawAll() { charts.forEach(function (st) { drawBase(st); drawOverlay(st); }); }

  spec.charts.forEach(function (c) { charts.push(build(c)); });
  drawAll();
  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) cancelAnimationFrame(pending);
    pending = requestAnimationFrame(drawAll);
  });
  window.pcCharts = { redraw: drawAll, count: function () { return charts.length; } };
})();
