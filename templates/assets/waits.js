"use strict";
(function () {
  var V = JSON.parse(document.getElementById("waits-data").textContent);
  var C = V.colours, SVG = "http://www.w3.org/2000/svg";
  function el(tag, cls, text) { var e = document.createElement(tag); if (cls) e.className = cls; if (text != null) e.textContent = text; return e; }
  function sv(tag, attrs) { var e = document.createElementNS(SVG, tag); for (var k in attrs) e.setAttribute(k, attrs[k]); return e; }
  function pct(x) { return (100 * x).toFixed(1) + "%"; }
  function base(f) { return String(f).split("/").pop(); }
  function colour(k) { return C[k] || C.other; }
  if (!document.getElementById("split")) return;

  // how request time splits
  var split = document.getElementById("split"), legend = document.getElementById("legend");
  Object.keys(V.split).sort(function (a, b) { return V.split[b] - V.split[a]; }).forEach(function (k) {
    var d = el("div"); d.style.width = pct(V.split[k]); d.style.background = colour(k);
    d.title = (k === "cpu" ? "on-CPU" : k) + " " + pct(V.split[k]); split.appendChild(d);
    var l = el("span"); var i = el("i"); i.style.background = colour(k); l.appendChild(i);
    l.appendChild(document.createTextNode((k === "cpu" ? "on-CPU" : k) + " " + pct(V.split[k]))); legend.appendChild(l);
  });

  // bubbles: the user's functions along the chains; edges caller -> callee
  var nodes = {}, edges = {}, order = [];
  V.sites.forEach(function (s, si) {
    s.chains.forEach(function (ch) {
      var prev = null, app = ch.frames.filter(function (f) { return f.source.length || f.function === s.function; });
      app.forEach(function (f, depth) {
        var key = f.function + "\u0000" + f.file;
        var n = nodes[key];
        if (!n) { n = nodes[key] = { key: key, f: f, value: 0, kinds: {}, depth: depth, sites: {} }; order.push(n); }
        n.value += ch.task_seconds; n.depth = Math.max(n.depth, depth);
        n.kinds[s.kind] = (n.kinds[s.kind] || 0) + ch.task_seconds; n.sites[si] = true;
        if (prev) edges[prev.key + "\u0001" + key] = [prev, n];
        prev = n;
      });
    });
  });
  var svg = document.getElementById("bubbles"), W = svg.clientWidth || 900, H = 360;
  var cols = {}, maxv = Math.max.apply(null, order.map(function (n) { return n.value; }).concat([1e-9]));
  order.forEach(function (n) { (cols[n.depth] = cols[n.depth] || []).push(n); });
  var ncol = Object.keys(cols).length || 1;
  Object.keys(cols).forEach(function (d) {
    cols[d].forEach(function (n, i) { n.x = 60 + (W - 120) * (ncol > 1 ? d / (ncol - 1) : 0.5); n.y = H * (i + 1) / (cols[d].length + 1); });
  });
  Object.keys(edges).forEach(function (k) { var e = edges[k]; svg.appendChild(sv("line", { x1: e[0].x, y1: e[0].y, x2: e[1].x, y2: e[1].y })); });
  order.forEach(function (n) {
    var top = Object.keys(n.kinds).sort(function (a, b) { return n.kinds[b] - n.kinds[a]; })[0];
    var c = sv("circle", { cx: n.x, cy: n.y, r: 6 + 34 * Math.sqrt(n.value / maxv), fill: colour(top), "fill-opacity": 0.75 });
    var t = sv("title", {}); t.textContent = n.f.function + " (" + base(n.f.file) + ")"; c.appendChild(t);
    c.addEventListener("click", function () { show(Object.keys(n.sites).map(Number), c); });
    svg.appendChild(c);
    var label = sv("text", { x: n.x, y: n.y + 4, "text-anchor": "middle" }); label.textContent = n.f.function; svg.appendChild(label);
  });

  // the table of sites, and the detail of a selection
  var tbody = document.querySelector("#sites tbody");
  V.sites.forEach(function (s, i) {
    var tr = el("tr");
    [pct(s.share), s.kind, s.resource, s.function + " (" + base(s.file) + ":" + s.line + ")",
     s.mean_waiters.toFixed(1) + " / " + s.max_waiters.toFixed(0)].forEach(function (v) { tr.appendChild(el("td", null, v)); });
    tr.addEventListener("click", function () { show([i], null); });
    tbody.appendChild(tr);
  });
  function spark(values) {
    var w = 300, h = 40, m = Math.max.apply(null, values.concat([1])), s = sv("svg", { width: w, height: h });
    var pts = values.map(function (v, i) { return (i * w / Math.max(1, values.length - 1)).toFixed(1) + "," + (h - 2 - (h - 4) * v / m).toFixed(1); });
    s.appendChild(sv("polyline", { points: pts.join(" "), fill: "none", stroke: "#d6336c", "stroke-width": 1.5 }));
    return s;
  }
  function show(indices, circle) {
    document.querySelectorAll("#bubbles circle.sel").forEach(function (c) { c.classList.remove("sel"); });
    if (circle) circle.classList.add("sel");
    var d = document.getElementById("detail"); d.hidden = false; d.textContent = "";
    indices.forEach(function (i) {
      var s = V.sites[i];
      d.appendChild(el("h3", null, pct(s.share) + " " + s.kind + (s.resource ? " " + s.resource : "") + " in " + s.function + " (" + base(s.file) + ":" + s.line + ")"));
      var extra = Object.keys(s.detail || {}).map(function (k) { return k + " " + s.detail[k]; }).join(", ");
      d.appendChild(el("p", "pc-dim", s.mean_waiters.toFixed(1) + " tasks waiting on average, " + s.max_waiters.toFixed(0) + " at most" + (extra ? "; " + extra : "")));
      if (s.timeline && s.timeline.length) { d.appendChild(el("div", "pc-dim", "waiters over time (" + V.bin_s + " s bins)")); d.appendChild(spark(s.timeline)); }
      s.chains.forEach(function (ch) {
        d.appendChild(el("div", "pc-dim", "chain, " + ch.task_seconds.toFixed(2) + " task-s: " + ch.frames.map(function (f) { return f.function; }).join(" \u2192 ")));
        ch.frames.forEach(function (f) {
          if (!f.source.length) return;
          d.appendChild(el("div", null, f.function + "  " + f.file + ":" + f.line));
          var pre = el("pre");
          f.source.forEach(function (ln) { var line = el("div", ln[2] ? "hot" : null, String(ln[0]).padStart(5) + "  " + ln[1]); pre.appendChild(line); });
          d.appendChild(pre);
        });
      });
    });
  }

  // flame graph of logical stacks (icicle, outermost on top), wall time
  var flame = document.getElementById("flame");
  function rows(node, depth, x, w, out) {
    (out[depth] = out[depth] || []).push({ n: node, x: x, w: w });
    var cx = x;
    node.children.forEach(function (c) { var cw = node.value ? w * c.value / node.value : 0; if (cw > 0.002) rows(c, depth + 1, cx, cw, out); cx += cw; });
    return out;
  }
  if (V.flame && V.flame.value) {
    rows(V.flame, 0, 0, 1, []).forEach(function (row) {
      var r = el("div", "row"), at = 0;
      row.forEach(function (b) {
        if (b.x > at) { var gap = el("div"); gap.style.width = pct(b.x - at); r.appendChild(gap); }
        var k = Object.keys(b.n.kinds).sort(function (p, q) { return b.n.kinds[q] - b.n.kinds[p]; })[0];
        var cell = el("div", "cell", b.n.name); cell.style.width = pct(b.w); cell.style.background = colour(k);
        cell.title = b.n.name + " " + base(b.n.file) + ":" + b.n.line + " \u2014 " + b.n.value.toFixed(2) + " task-s (" + k + ")";
        r.appendChild(cell); at = b.x + b.w;
      });
      flame.appendChild(r);
    });
  }

  // the task tree at the busiest snapshot, like python -m asyncio pstree
  var lines = [];
  function walk(node, prefix, last, root) {
    var k = Object.keys(node.kinds).join("/");
    if (!root) lines.push(prefix + (last ? "\u2514\u2500\u2500 " : "\u251c\u2500\u2500 ") + node.name + " (" + base(node.file) + ":" + node.line + ")  \u00d7" + node.value.toFixed(0) + (node.children.length ? "" : "  [" + k + "]"));
    else lines.push(V.worst.tasks.toFixed(0) + " request tasks");
    node.children.forEach(function (c, i) { walk(c, root ? "" : prefix + (last ? "    " : "\u2502   "), i === node.children.length - 1, false); });
  }
  if (V.worst && V.worst.tree) walk(V.worst.tree, "", true, true);
  document.getElementById("tree").textContent = lines.join("\n");
})();
