/* pinkclinic flame graph. Hand-written vanilla JS drawing on a canvas: no libraries, no build.
 *
 * Data: the compact encoding of pinkclinic/render/flame_data.py (string table + int arrays,
 * a stack trie in preorder shared by all threads, and (thread, node, weight[, count]) samples).
 * Every filter change rebuilds a display tree from the trie in one pass: hidden code areas
 * are merged into their parents, idle samples and unselected threads are dropped. Zooming
 * only redraws. Strings from the profiled program reach the page through textContent and
 * canvas fillText only, never as markup.
 *
 * The widget is seven files, inlined in this order into one script element by
 * partials/flame_assets.j2: flame_core (constants, helpers, the Flame constructor, decoding),
 * flame_tree (the display tree), flame_draw (canvas drawing, formatting), flame_controls
 * (event handlers, state changes), flame_panel (info bar, breadcrumb, table), flame_source
 * (the source heatmap) and flame_boot
 * (URL hash, test hooks, mount). Each is an IIFE that reads or extends the namespace
 * window.__pinkFlameParts; flame_boot publishes window.PinkFlame and removes the namespace.
 * Every part returns at once when window.PinkFlame exists, as the single file did, so
 * including the assets twice on one page is harmless.
 */
(function () {
  'use strict';
  if (window.PinkFlame) { return; }

  var ROW = 18;
  var CHARW = 7.0;
  var FONT = '12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace';
  var TABLE_ROWS = 300;
  var MIN_PX = 0.75;  // narrower blocks (and their children) are not drawn
  var ROOT_COLOR = ['hsl(220,10%,82%)', '#111'];

  function mk(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }

  function fmtInt(x) { return Math.round(x).toLocaleString('en-US'); }

  function fmtBytes(b) {
    var u = ['B', 'kB', 'MB', 'GB', 'TB'];
    var i = 0;
    while (Math.abs(b) >= 1000 && i < u.length - 1) { b /= 1000; i++; }
    return (i ? b.toFixed(b < 10 ? 2 : 1) : String(Math.round(b))) + ' ' + u[i];
  }

  function fmtSeconds(s) {
    if (s >= 1) { return s.toFixed(s < 10 ? 2 : 1) + ' s'; }
    if (s >= 1e-3) { return (s * 1e3).toFixed(1) + ' ms'; }
    return (s * 1e6).toFixed(0) + ' \u00b5s';
  }

  function pct(x, total) {
    if (!total) { return '0%'; }
    var p = 100 * x / total;
    return (p >= 10 ? p.toFixed(1) : p.toFixed(2)) + '%';
  }

  var ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  var VAL = new Int8Array(128);
  for (var ai = 0; ai < 64; ai++) { VAL[ALPHABET.charCodeAt(ai)] = ai; }

  // base-64 varints (see pinkclinic/render/flame_data.py); exact up to 2^53
  function unpack(s) {
    var out = new Float64Array(s.length), k = 0, v = 0, mul = 1;
    for (var i = 0; i < s.length; i++) {
      var c = VAL[s.charCodeAt(i)];
      if (c >= 32) { v += (c - 32) * mul; mul *= 32; } else { out[k++] = v + c * mul; v = 0; mul = 1; }
    }
    return out.subarray(0, k);
  }

  function escapeRegex(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); }

  function areaHue(name, depIndex, nDeps) {
    if (name === 'app') { return [14, 85]; }
    if (name === 'stdlib') { return [50, 65]; }
    if (name === 'native') { return [275, 45]; }
    if (name === 'idle') { return [210, 6]; }
    var span = nDeps > 1 ? depIndex / (nDeps - 1) : 0.5;
    return [120 + Math.round(span * 115), 55];
  }

  function Flame(root, data) {
    this.root = root;
    this.id = root.getAttribute('data-pink-flame');
    this.d = data;
    var t0 = performance.now();
    this.decode();
    var t1 = performance.now();
    this.initState();
    this.readHash();
    this.buildControls();
    this.applyState();
    this.timings = {decode: t1 - t0, build: performance.now() - t1, rebuild: this.phases.rebuild,
      draw: this.phases.draw, sync: this.phases.sync};
    if (this.st.view === 'flame') { this.wrap.scrollTop = this.wrap.scrollHeight; }
    this.ensureVisible(this.st.sel);
    var self = this;
    window.addEventListener('resize', function () { self.scheduleDraw(); });
    window.addEventListener('hashchange', function () {
      if (location.hash.slice(1) !== self.lastHash) {
        self.readHash();
        self.applyState();
      }
    });
  }

  Flame.prototype.decode = function () {
    var d = this.d;
    var S = d.strings;
    this.S = S;
    var nF = d.frames.length / 4;
    this.nF = nF;
    this.fFunc = new Int32Array(nF);
    this.fFile = new Int32Array(nF);
    this.fLine = new Int32Array(nF);
    this.fArea = new Int32Array(nF);
    for (var f = 0; f < nF; f++) {
      this.fFunc[f] = d.frames[4 * f];
      this.fFile[f] = d.frames[4 * f + 1];
      this.fLine[f] = d.frames[4 * f + 2];
      this.fArea[f] = d.frames[4 * f + 3];
    }
    this.areas = d.areas;
    this.idleArea = d.areas.indexOf('idle');
    var deps = d.areas.filter(function (a) { return a.indexOf('deps:') === 0; });
    this.areaColor = d.areas.map(function (a) { return areaHue(a, deps.indexOf(a), deps.length); });
    var pops = unpack(d.pops), nN = pops.length;
    this.nN = nN;
    this.parent = new Int32Array(nN);
    this.frameOf = new Int32Array(unpack(d.frame));
    var path = new Int32Array(1024), len = 0;
    for (var n = 0; n < nN; n++) {
      len -= pops[n];
      this.parent[n] = len ? path[len - 1] : -1;
      if (len >= path.length) { var bigger = new Int32Array(path.length * 2); bigger.set(path); path = bigger; }
      path[len++] = n;
    }
    this.nT = d.threads.length / 4;
    this.stride = d.counts ? 4 : 3;
    this.scale = d.scale || 1;
    // samples: (thread, node, weight[, count]) with nodes delta-coded (+1)
    var sm = unpack(d.samples), node = 0;
    for (var i = 0; i < sm.length; i += this.stride) { node += sm[i + 1]; sm[i + 1] = node - 1; }
    this.sm = sm;
    // per-thread weights (busy, all) for the selector
    var tw = new Float64Array(this.nT), tb = new Float64Array(this.nT);
    for (i = 0; i < sm.length; i += this.stride) {
      tw[sm[i]] += sm[i + 2];
      if (!(sm[i + 1] >= 0 && this.fArea[this.frameOf[sm[i + 1]]] === this.idleArea)) { tb[sm[i]] += sm[i + 2]; }
    }
    this.threadAll = tw;
    this.threadBusy = tb;
  };

  Flame.prototype.initState = function () {
    var o = this.d.options || {};
    this.st = {
      view: o.view === 'icicle' ? 'icicle' : 'flame',
      idle: !!o.idle,
      hidden: {},
      threads: 'all',
      q: '',
      zoomPath: [],
      selPath: null,
      sort: 'self',
      sortDir: -1,
      zoom: 0,
      sel: -1
    };
    this.hotPos = -1;
    this.colorCache = {};
  };

  window.__pinkFlameParts = {
    Flame: Flame, ROW: ROW, CHARW: CHARW, FONT: FONT, TABLE_ROWS: TABLE_ROWS, MIN_PX: MIN_PX,
    ROOT_COLOR: ROOT_COLOR, mk: mk, fmtInt: fmtInt, fmtBytes: fmtBytes, fmtSeconds: fmtSeconds,
    pct: pct, escapeRegex: escapeRegex
  };
})();
