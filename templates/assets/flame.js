/* pinkclinic flame graph. Hand-written vanilla JS drawing on a canvas: no libraries, no build.
 *
 * Data: the compact encoding of pinkclinic/render/flame_data.py (string table + int arrays,
 * a stack trie in preorder shared by all threads, and (thread, node, weight[, count]) samples).
 * Every filter change rebuilds a display tree from the trie in one pass: hidden code areas
 * are merged into their parents, idle samples and unselected threads are dropped. Zooming
 * only redraws. Strings from the profiled program reach the page through textContent and
 * canvas fillText only, never as markup.
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
  var instances = {};

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

  // ---- URL hash: "<id>.<key>=<value>" pairs, so widgets on one page keep their own state ----
  Flame.prototype.hashParams = function () {
    var out = {};
    location.hash.slice(1).split('&').forEach(function (kv) {
      if (!kv) { return; }
      var i = kv.indexOf('=');
      var k = i < 0 ? kv : kv.slice(0, i);
      var v = i < 0 ? '' : kv.slice(i + 1);
      try { out[decodeURIComponent(k)] = decodeURIComponent(v); } catch (e) { /* ignore */ }
    });
    return out;
  };

  Flame.prototype.readHash = function () {
    var h = this.hashParams();
    var p = this.id + '.';
    var st = this.st;
    var num = function (s) { return s ? s.split('.').map(Number).filter(function (x) { return x >= 0; }) : []; };
    if (h[p + 'v']) { st.view = h[p + 'v'] === 'icicle' ? 'icicle' : 'flame'; }
    if (h[p + 'i'] !== undefined) { st.idle = h[p + 'i'] === '1'; }
    if (h[p + 't'] !== undefined) { st.threads = h[p + 't'] || 'all'; }
    if (h[p + 'q'] !== undefined) { st.q = h[p + 'q']; }
    if (h[p + 'h'] !== undefined) {
      st.hidden = {};
      var self = this;
      h[p + 'h'].split(',').forEach(function (a) {
        var i = self.areas.indexOf(a);
        if (i >= 0 && i !== self.idleArea) { st.hidden[i] = true; }
      });
    }
    st.zoomPath = num(h[p + 'z']);
    st.selPath = h[p + 's'] !== undefined ? num(h[p + 's']) : null;
    st.sel = st.selPath ? -2 : -1;
    if (h[p + 'o'] !== undefined) {
      var o = h[p + 'o'].split(':');
      if (['self', 'total', 'name', 'area', 'count'].indexOf(o[0]) >= 0) { st.sort = o[0]; st.sortDir = o[1] === 'a' ? 1 : -1; }
    }
  };

  Flame.prototype.writeHash = function () {
    var st = this.st;
    var p = this.id + '.';
    var own = {};
    own[p + 'v'] = st.view === 'icicle' ? 'icicle' : 'flame';
    own[p + 'i'] = st.idle ? '1' : '0';
    own[p + 't'] = st.threads;
    if (st.q) { own[p + 'q'] = st.q; }
    var hidden = [];
    for (var a in st.hidden) { if (st.hidden[a]) { hidden.push(this.areas[a]); } }
    if (hidden.length) { own[p + 'h'] = hidden.join(','); }
    if (st.zoom > 0) { own[p + 'z'] = this.pathOf(st.zoom).join('.'); }
    if (st.sel > 0) { own[p + 's'] = this.pathOf(st.sel).join('.'); }
    if (st.sort !== 'self' || st.sortDir !== -1) { own[p + 'o'] = st.sort + ':' + (st.sortDir > 0 ? 'a' : 'd'); }
    var parts = [];
    var h = this.hashParams();
    Object.keys(h).forEach(function (k) { if (k.indexOf(p) !== 0) { parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(h[k])); } });
    Object.keys(own).forEach(function (k) { parts.push(encodeURIComponent(k) + '=' + encodeURIComponent(own[k])); });
    var hash = parts.join('&');
    this.lastHash = hash;
    try {
      history.replaceState(history.state, '', '#' + hash);
    } catch (e) {
      location.replace('#' + hash);
    }
  };

  // ---- the display tree ----
  Flame.prototype.threadMask = function () {
    var keep = new Uint8Array(this.nT);
    var sel = this.st.threads;
    var T = this.d.threads;
    for (var t = 0; t < this.nT; t++) {
      if (sel === 'all') { keep[t] = 1; } else if (sel.charAt(0) === 'p') { keep[t] = String(T[4 * t]) === sel.slice(2) ? 1 : 0; } else if (sel.charAt(0) === 't') { keep[t] = String(t) === sel.slice(2) ? 1 : 0; }
    }
    return keep;
  };

  Flame.prototype.rebuild = function () {
    var nN = this.nN, nF = this.nF, parent = this.parent, frameOf = this.frameOf, fArea = this.fArea;
    var keep = this.threadMask();
    var idleOn = this.st.idle, idleArea = this.idleArea;
    var hidden = new Uint8Array(this.areas.length);
    for (var a in this.st.hidden) { if (this.st.hidden[a]) { hidden[a] = 1; } }
    var w = new Float64Array(nN), tot = new Float64Array(nN);
    var counts = this.d.counts, c = counts ? new Float64Array(nN) : null;
    var rootSelf = 0, rootCount = 0;
    var sm = this.sm, stride = this.stride, i, n;
    for (i = 0; i < sm.length; i += stride) {
      if (!keep[sm[i]]) { continue; }
      n = sm[i + 1];
      if (n < 0) { rootSelf += sm[i + 2]; if (counts) { rootCount += sm[i + 3]; } continue; }
      if (!idleOn && fArea[frameOf[n]] === idleArea) { continue; }
      w[n] += sm[i + 2];
      if (counts) { c[n] += sm[i + 3]; }
    }
    tot.set(w);
    for (n = nN - 1; n >= 0; n--) { if (parent[n] >= 0) { tot[parent[n]] += tot[n]; } }
    var cap = nN + 1;
    var dParent = new Int32Array(cap), dFrame = new Int32Array(cap), dDepth = new Int32Array(cap);
    var dSelf = new Float64Array(cap), dTot = new Float64Array(cap);
    var dCount = counts ? new Float64Array(cap) : null;
    var nd = 1, anyHidden = false;
    for (a = 0; a < hidden.length; a++) { if (hidden[a]) { anyHidden = true; } }
    dParent[0] = -1; dFrame[0] = -1; dSelf[0] = rootSelf;
    if (counts) { dCount[0] = rootCount; }
    if (!anyHidden) {
      // nothing merged: display node n + 1 is trie node n (zero-weight nodes stay unlinked)
      nd = nN + 1;
      for (n = 0; n < nN; n++) {
        var pn = parent[n] + 1;
        dParent[n + 1] = pn; dFrame[n + 1] = frameOf[n]; dDepth[n + 1] = dDepth[pn] + 1;
      }
      dSelf.set(w, 1);
      if (counts) { dCount.set(c, 1); }
    }
    var disp = anyHidden ? new Int32Array(nN) : null;
    var map = anyHidden ? new Map() : null;
    for (n = 0; anyHidden && n < nN; n++) {
      if (tot[n] === 0) { disp[n] = -1; continue; }
      var p = parent[n] < 0 ? 0 : disp[parent[n]];
      var f = frameOf[n];
      var d;
      if (hidden[fArea[f]]) {
        d = p;
      } else {
        var key = p * nF + f;
        d = map.get(key);
        if (d === undefined) {
          d = nd++;
          map.set(key, d);
          dParent[d] = p; dFrame[d] = f; dDepth[d] = dDepth[p] + 1;
        }
      }
      disp[n] = d;
      dSelf[d] += w[n];
      if (counts) { dCount[d] += c[n]; }
    }
    dTot.set(dSelf.subarray(0, nd));
    var maxDepth = 0;
    for (d = nd - 1; d >= 1; d--) {
      dTot[dParent[d]] += dTot[d];
      if (dDepth[d] > maxDepth && dTot[d] > 0) { maxDepth = dDepth[d]; }
    }
    // children, heaviest first
    var cs = new Int32Array(nd + 1), kids = new Int32Array(Math.max(nd - 1, 1)), fill = new Int32Array(nd);
    for (d = 1; d < nd; d++) { if (dTot[d] > 0) { cs[dParent[d] + 1]++; } }
    for (d = 0; d < nd; d++) { cs[d + 1] += cs[d]; }
    for (d = 1; d < nd; d++) { if (dTot[d] > 0) { var pp = dParent[d]; kids[cs[pp] + fill[pp]++] = d; } }
    this.sortedKids = new Uint8Array(nd);  // children are sorted on first use (see kidsOf)
    this.nd = nd; this.dParent = dParent; this.dFrame = dFrame; this.dDepth = dDepth;
    this.dSelf = dSelf; this.dTot = dTot; this.dCount = dCount; this.cs = cs; this.kids = kids;
    this.maxDepth = maxDepth;
    // hottest frames: self weight, waiting excluded
    var hot = [];
    for (d = 1; d < nd; d++) { if (dSelf[d] > 0 && fArea[dFrame[d]] !== idleArea) { hot.push(d); } }
    hot.sort(function (x, y) { return dSelf[y] - dSelf[x] || x - y; });
    this.hot = hot;
    var maxSelf = 0;
    for (d = 1; d < nd; d++) { if (dSelf[d] > maxSelf && fArea[dFrame[d]] !== idleArea) { maxSelf = dSelf[d]; } }
    this.maxSelf = maxSelf || 1;
    this.aggregate();
    this.match();
    this.tableDirty = true;
  };

  // the children of d, heaviest first (sorted lazily: only what is drawn or walked)
  Flame.prototype.kidsOf = function (d) {
    if (!this.sortedKids[d]) {
      this.sortedKids[d] = 1;
      var a = this.cs[d], b = this.cs[d + 1];
      if (b - a > 1) {
        var dTot = this.dTot, S = this.S, fFunc = this.fFunc, dFrame = this.dFrame;
        var sub = Array.prototype.slice.call(this.kids.subarray(a, b));
        sub.sort(function (x, y) { return dTot[y] - dTot[x] || (S[fFunc[dFrame[x]]] < S[fFunc[dFrame[y]]] ? -1 : 1); });
        this.kids.set(sub, a);
      }
    }
    return this.kids;
  };

  // self/total per function over the display tree; recursion counted once
  Flame.prototype.aggregate = function () {
    var nF = this.nF, nd = this.nd, cs = this.cs, kids = this.kids, dFrame = this.dFrame;
    var selfF = new Float64Array(nF), totF = new Float64Array(nF), onStack = new Int32Array(nF);
    var cntF = this.dCount ? new Float64Array(nF) : null;
    // iterative DFS; ~d on the stack marks leaving d
    var stack = new Int32Array(2 * nd + 2), sp = 0, dSelf = this.dSelf, dTot = this.dTot, dCount = this.dCount;
    stack[sp++] = 0;
    while (sp) {
      var d = stack[--sp];
      if (d < 0) { onStack[dFrame[~d]]--; continue; }
      if (d > 0) {
        var f = dFrame[d];
        selfF[f] += dSelf[d];
        if (cntF) { cntF[f] += dCount[d]; }
        if (onStack[f] === 0) { totF[f] += dTot[d]; }
        onStack[f]++;
        stack[sp++] = ~d;
      }
      for (var i = cs[d]; i < cs[d + 1]; i++) { stack[sp++] = kids[i]; }
    }
    this.selfF = selfF; this.totF = totF; this.cntF = cntF;
    var areaW = new Float64Array(this.areas.length);
    for (var f = 0; f < nF; f++) { areaW[this.fArea[f]] += selfF[f]; }
    this.areaSelf = areaW;
  };

  Flame.prototype.match = function () {
    var q = this.st.q, re = null;
    this.searchInvalid = false;
    if (q) {
      try { re = new RegExp(q, 'i'); } catch (e) { this.searchInvalid = true; }
    }
    this.re = re;
    if (!re) { this.matchF = null; this.matched = 0; return; }
    var S = this.S, m = new Uint8Array(this.nF);
    for (var f = 0; f < this.nF; f++) {
      m[f] = (re.test(S[this.fFunc[f]]) || re.test(S[this.fFile[f]])) ? 1 : 0;
    }
    this.matchF = m;
    var sum = 0, stack = new Int32Array(this.nd + 1), sp = 0, cs = this.cs, kids = this.kids;
    stack[sp++] = 0;
    while (sp) {
      var d = stack[--sp];
      if (d > 0 && m[this.dFrame[d]]) { sum += this.dTot[d]; continue; }
      for (var i = cs[d]; i < cs[d + 1]; i++) { stack[sp++] = kids[i]; }
    }
    this.matched = sum;
  };

  Flame.prototype.pathOf = function (d) {
    var out = [];
    while (d > 0) { out.push(this.dFrame[d]); d = this.dParent[d]; }
    return out.reverse();
  };

  Flame.prototype.resolve = function (path) {
    var d = 0;
    for (var k = 0; k < path.length; k++) {
      var next = -1;
      for (var i = this.cs[d]; i < this.cs[d + 1]; i++) {
        if (this.dFrame[this.kids[i]] === path[k]) { next = this.kids[i]; break; }
      }
      if (next < 0) { break; }
      d = next;
    }
    return d;
  };

  Flame.prototype.isUnder = function (d, anc) {
    while (d > 0 && d !== anc) { d = this.dParent[d]; }
    return d === anc;
  };

  // ---- drawing ----
  Flame.prototype.scheduleDraw = function () {
    var self = this;
    if (this.pending) { return; }
    this.pending = true;
    requestAnimationFrame(function () { self.pending = false; self.draw(); });
  };

  Flame.prototype.rowY = function (depth) {
    return this.st.view === 'icicle' ? depth * ROW : (this.rows - 1 - depth) * ROW;
  };

  // colour = area hue; heat (self weight) makes it deeper; search matches are magenta.
  // Quantised to 24 heat levels and cached, so drawing never builds colour strings.
  Flame.prototype.color = function (d) {
    if (d === 0) { return ROOT_COLOR; }
    var f = this.dFrame[d], area = this.fArea[f];
    var level = Math.round(23 * Math.sqrt(Math.min(1, this.dSelf[d] / this.maxSelf)));
    var mode = this.matchF ? (this.matchF[f] ? 2 : 1) : 0;
    var key = (area * 3 + mode) * 24 + level;
    var hit = this.colorCache[key];
    if (hit) { return hit; }
    var hs = this.areaColor[area], heat = level / 23;
    var light = 86 - 38 * heat, sat = hs[1], out;
    if (mode === 2) {
      out = ['hsl(315,90%,' + (62 - 12 * heat).toFixed(1) + '%)', '#000'];
    } else {
      if (mode === 1) { sat = Math.round(sat * 0.25); light = Math.min(92, light + 6); }
      out = ['hsl(' + hs[0] + ',' + sat + '%,' + light.toFixed(1) + '%)', light < 55 ? '#fff' : '#111'];
    }
    this.colorCache[key] = out;
    return out;
  };

  Flame.prototype.label = function (d) {
    if (d === 0) { return this.rootLabel(); }
    return this.S[this.fFunc[this.dFrame[d]]];
  };

  Flame.prototype.rootLabel = function () {
    var sel = this.st.threads;
    var what = sel === 'all' ? 'all' : (sel.charAt(0) === 'p' ? 'process ' + sel.slice(2) : this.threadName(+sel.slice(2)));
    return what + ' \u2014 ' + this.fmtWeight(this.dTot[0]);
  };

  Flame.prototype.draw = function () {
    var t0 = performance.now();
    var cv = this.canvas, ctx = this.ctx;
    var dpr = window.devicePixelRatio || 1;
    var W = Math.max(200, this.wrap.clientWidth);
    this.rows = this.maxDepth + 1;
    var H = this.rows * ROW + 2;
    if (cv.width !== Math.round(W * dpr) || cv.height !== Math.round(H * dpr)) {
      cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr);
      cv.style.height = H + 'px';
    }
    this.W = W;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    ctx.font = FONT;
    ctx.textBaseline = 'middle';
    var Z = this.st.zoom;
    this.empty.hidden = this.dTot[0] > 0;
    if (!(this.dTot[0] > 0)) {
      this.empty.textContent = !this.st.idle && this.idleArea >= 0 ?
        'Nothing to show: every sample here is idle. Tick "idle" to see the waiting time.' : 'Nothing to show: this profile has no samples here.';
    }
    var anc = this.dParent[Z];
    while (anc >= 0) { this.rect(anc, 0, W, true); anc = this.dParent[anc]; }
    this.drawn = 0;
    this.pxScale = this.dTot[Z] > 0 ? W / this.dTot[Z] : 0;
    this.drawNode(Z, 0, W);
    this.lastDrawMs = performance.now() - t0;
  };

  Flame.prototype.drawNode = function (d, x, w) {
    this.rect(d, x, w, false);
    this.drawn++;
    var cx = x, sc = this.pxScale, cs = this.cs, kids = this.kidsOf(d);
    for (var i = cs[d]; i < cs[d + 1]; i++) {
      var c = kids[i], cw = this.dTot[c] * sc;
      if (cw < MIN_PX) { break; }
      this.drawNode(c, cx, cw);
      cx += cw;
    }
  };

  Flame.prototype.rect = function (d, x, w, ancestor) {
    var ctx = this.ctx, y = this.rowY(this.dDepth[d]);
    var col = this.color(d);
    if (ancestor) { ctx.globalAlpha = 0.55; }
    ctx.fillStyle = col[0];
    ctx.fillRect(x, y, Math.max(w - (w > 3 ? 1 : 0), 0.4), ROW - 1);
    if (d === this.st.sel) {
      ctx.globalAlpha = 1;
      ctx.lineWidth = 2;
      ctx.strokeStyle = '#000';
      ctx.strokeRect(x + 1, y + 1, Math.max(w - 3, 1), ROW - 3);
    }
    if (w > 3 * CHARW) {
      var text = this.label(d), max = Math.floor((w - 6) / CHARW);
      if (text.length > max) { text = text.slice(0, Math.max(1, max - 1)) + '\u2026'; }
      ctx.fillStyle = col[1];
      ctx.fillText(text, x + 3, y + ROW / 2);
    }
    if (ancestor) { ctx.globalAlpha = 1; }
  };

  // the node under a point (CSS px relative to the canvas), or -1
  Flame.prototype.nodeAt = function (x, y) {
    var row = Math.floor(y / ROW);
    var depth = this.st.view === 'icicle' ? row : this.rows - 1 - row;
    var Z = this.st.zoom, zd = this.dDepth[Z];
    if (depth < 0 || x < 0 || x > this.W) { return -1; }
    if (depth <= zd) {
      var a = Z;
      while (this.dDepth[a] > depth) { a = this.dParent[a]; }
      return a;
    }
    var d = Z, left = 0, sc = this.pxScale;
    for (var k = zd + 1; k <= depth; k++) {
      var found = -1, cx = left, kids = this.kidsOf(d);
      for (var i = this.cs[d]; i < this.cs[d + 1]; i++) {
        var c = kids[i], cw = this.dTot[c] * sc;
        if (cw < MIN_PX) { break; }
        if (x >= cx && x < cx + cw) { found = c; break; }
        cx += cw;
      }
      if (found < 0) { return -1; }
      d = found; left = cx;
    }
    return d;
  };

  // where a node is drawn (CSS px), or null when it is not visible
  Flame.prototype.rectOf = function (d) {
    var Z = this.st.zoom;
    if (!this.isUnder(d, Z)) {
      if (this.isUnder(Z, d)) { return {x: 0, y: this.rowY(this.dDepth[d]), w: this.W, h: ROW}; }
      return null;
    }
    var chain = [];
    for (var a = d; a !== Z; a = this.dParent[a]) { chain.push(a); }
    chain.reverse();
    var x = 0, p = Z, sc = this.pxScale;
    for (var k = 0; k < chain.length; k++) {
      this.kidsOf(p);
      for (var i = this.cs[p]; i < this.cs[p + 1]; i++) {
        if (this.kids[i] === chain[k]) { break; }
        x += this.dTot[this.kids[i]] * sc;
      }
      p = chain[k];
    }
    var w = this.dTot[d] * sc;
    if (w < MIN_PX) { return null; }
    return {x: x, y: this.rowY(this.dDepth[d]), w: w, h: ROW};
  };

  Flame.prototype.ensureVisible = function (d) {
    if (d < 0) { return; }
    var y = this.rowY(this.dDepth[d]);
    var top = this.wrap.scrollTop, h = this.wrap.clientHeight;
    if (y < top || y + ROW > top + h) { this.wrap.scrollTop = Math.max(0, y - h / 2); }
  };

  // ---- formatting ----
  Flame.prototype.fmtWeight = function (w) {
    var u = this.d.unit, v = w * this.scale;
    if (u === 'bytes') { return fmtBytes(v); }
    if (u === 'seconds') { return fmtSeconds(v); }
    var rate = (this.d.meta || {}).rate_hz;
    return fmtInt(v) + (v === 1 ? ' sample' : ' samples') + (rate ? ' (' + fmtSeconds(v / rate) + ')' : '');
  };

  Flame.prototype.threadName = function (t) {
    var T = this.d.threads, S = this.S;
    var s = 'thread ' + (T[4 * t + 1] >= 0 ? T[4 * t + 1] : '?');
    if (S[T[4 * t + 2]]) { s += ' ' + S[T[4 * t + 2]]; }
    return s;
  };

  // ---- controls ----
  Flame.prototype.buildControls = function () {
    var r = this.root, self = this;
    this.canvas = r.querySelector('.pf-canvas');
    this.ctx = this.canvas.getContext('2d');
    this.wrap = r.querySelector('.pf-wrap');
    this.tip = r.querySelector('.pf-tip');
    this.info = r.querySelector('.pf-info');
    this.crumbs = r.querySelector('.pf-crumbs');
    this.empty = r.querySelector('.pf-empty');
    this.search = r.querySelector('.pf-search');
    this.matchedEl = r.querySelector('.pf-matched');
    this.viewBtn = r.querySelector('.pf-view');
    this.threadSel = r.querySelector('.pf-threads');
    this.areaBox = r.querySelector('.pf-areas');
    this.tbody = r.querySelector('.pf-table tbody');
    this.thead = r.querySelector('.pf-table thead tr');
    this.tableNote = r.querySelector('.pf-table-note');

    // process / thread selector
    var T = this.d.threads, S = this.S, procs = {}, order = [];
    for (var t = 0; t < this.nT; t++) {
      var pid = T[4 * t];
      if (!(pid in procs)) { procs[pid] = []; order.push(pid); }
      procs[pid].push(t);
    }
    var total = 0;
    for (t = 0; t < this.nT; t++) { total += this.threadAll[t]; }
    this.threadSel.appendChild(mk('option', null, 'all processes and threads')).value = 'all';
    order.forEach(function (pid) {
      var ts = procs[pid];
      if (pid >= 0 && order.length > 1) {
        var w = 0;
        ts.forEach(function (t) { w += self.threadAll[t]; });
        var cmd = S[T[4 * ts[0] + 3]] || '';
        if (cmd.length > 60) { cmd = cmd.slice(0, 59) + '\u2026'; }
        self.threadSel.appendChild(mk('option', null, 'process ' + pid + (cmd ? ' ' + cmd : '') + ' (' + pct(w, total) + ')')).value = 'p:' + pid;
      }
      ts.forEach(function (t) {
        var label = (order.length > 1 ? '\u00a0\u00a0' : '') + self.threadName(t) + ' (' + pct(self.threadAll[t], total) + ', ' + pct(self.threadBusy[t], self.threadAll[t] || 1) + ' busy)';
        self.threadSel.appendChild(mk('option', null, label)).value = 't:' + t;
      });
    });
    this.threadSel.addEventListener('change', function () { self.st.threads = self.threadSel.value; self.refilter(); });

    // code areas: one checkbox per area; idle drops the waiting samples
    this.areaChecks = [];
    this.areaPct = [];
    this.areas.forEach(function (a, i) {
      var lab = mk('label');
      var cb = mk('input');
      cb.type = 'checkbox';
      cb.setAttribute('data-area', a);
      var hs = self.areaColor[i];
      var sw = mk('span', 'pf-swatch');
      sw.style.background = 'hsl(' + hs[0] + ',' + hs[1] + '%,62%)';
      var pc = mk('span', 'pf-area-pct');
      lab.appendChild(cb); lab.appendChild(sw); lab.appendChild(mk('span', 'pf-area-name', a)); lab.appendChild(pc);
      self.areaBox.appendChild(lab);
      cb.addEventListener('change', function () {
        if (i === self.idleArea) { self.st.idle = cb.checked; } else { self.st.hidden[i] = !cb.checked; }
        self.refilter();
      });
      self.areaChecks.push(cb);
      self.areaPct.push(pc);
    });

    this.viewBtn.addEventListener('click', function () {
      self.st.view = self.st.view === 'flame' ? 'icicle' : 'flame';
      self.draw(); self.syncAll(true);
      self.ensureVisible(self.st.sel);
    });
    r.querySelector('.pf-next').addEventListener('click', function () { self.stepHot(1); });
    r.querySelector('.pf-prev').addEventListener('click', function () { self.stepHot(-1); });
    r.querySelector('.pf-reset').addEventListener('click', function () { self.zoomTo(0); });
    this.search.addEventListener('input', function () {
      self.st.q = self.search.value;
      self.match(); self.draw(); self.syncAll(true);
    });
    this.canvas.addEventListener('click', function (ev) {
      var b = self.canvas.getBoundingClientRect();
      var d = self.nodeAt(ev.clientX - b.left, ev.clientY - b.top);
      if (d >= 0) { self.st.sel = d; self.zoomTo(d); }
      self.canvas.focus({preventScroll: true});
    });
    this.canvas.addEventListener('mousemove', function (ev) {
      var b = self.canvas.getBoundingClientRect();
      var x = ev.clientX - b.left, y = ev.clientY - b.top;
      var d = self.nodeAt(x, y);
      if (d < 0) { self.tip.hidden = true; return; }
      self.tip.textContent = self.describe(d);
      self.tip.hidden = false;
      var left = Math.min(x + 14, self.W - 260);
      self.tip.style.left = Math.max(0, left) + 'px';
      self.tip.style.top = (y + 16) + 'px';
    });
    this.canvas.addEventListener('mouseleave', function () { self.tip.hidden = true; });
    this.canvas.addEventListener('keydown', function (ev) { self.key(ev); });

    // table header
    var cols = [['name', 'Function'], ['loc', 'Location'], ['area', 'Area'], ['self', 'Self'], ['selfp', 'Self %'], ['total', 'Total'], ['totalp', 'Total %']];
    if (this.d.counts) { cols.push(['count', 'Allocations']); }
    this.cols = cols;
    cols.forEach(function (c) {
      var th = mk('th', /self|total|count/.test(c[0]) ? 'num' : null, c[1]);
      th.setAttribute('data-col', c[0]);
      th.tabIndex = 0;
      var key = {selfp: 'self', totalp: 'total', loc: 'name'}[c[0]] || c[0];
      var go = function () {
        if (self.st.sort === key) { self.st.sortDir = -self.st.sortDir; } else { self.st.sort = key; self.st.sortDir = (key === 'name' || key === 'area') ? 1 : -1; }
        self.renderTable(); self.writeHash();
      };
      th.addEventListener('click', go);
      th.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { go(); } });
      self.thead.appendChild(th);
    });
    this.tbody.addEventListener('click', function (ev) {
      var tr = ev.target.closest ? ev.target.closest('tr') : null;
      if (!tr || !tr.hasAttribute('data-frame')) { return; }
      var f = +tr.getAttribute('data-frame');
      self.st.q = '^' + escapeRegex(self.S[self.fFunc[f]]) + '$';
      self.match();
      var best = -1;
      for (var d = 1; d < self.nd; d++) { if (self.dFrame[d] === f && (best < 0 || self.dTot[d] > self.dTot[best])) { best = d; } }
      if (best > 0) { self.st.sel = best; if (!self.isUnder(best, self.st.zoom)) { self.st.zoom = 0; } }
      self.draw(); self.syncAll(true); self.ensureVisible(self.st.sel);
    });
  };

  Flame.prototype.key = function (ev) {
    var d = this.st.sel < 0 ? this.st.zoom : this.st.sel, k = ev.key, next = -1;
    var up = this.st.view === 'flame' ? 'ArrowUp' : 'ArrowDown';
    var down = this.st.view === 'flame' ? 'ArrowDown' : 'ArrowUp';
    if (k === up) { if (this.cs[d + 1] > this.cs[d]) { next = this.kidsOf(d)[this.cs[d]]; } } else if (k === down) { next = this.dParent[d]; } else if (k === 'ArrowLeft' || k === 'ArrowRight') {
      var p = this.dParent[d];
      if (p >= 0) {
        this.kidsOf(p);
        for (var i = this.cs[p]; i < this.cs[p + 1]; i++) {
          if (this.kids[i] === d) {
            var j = i + (k === 'ArrowRight' ? 1 : -1);
            if (j >= this.cs[p] && j < this.cs[p + 1]) { next = this.kids[j]; }
            break;
          }
        }
      }
    } else if (k === 'Enter' || k === ' ') { this.zoomTo(d); ev.preventDefault(); return; } else if (k === 'Escape' || k === 'Backspace') {
      this.zoomTo(this.st.zoom > 0 ? this.dParent[this.st.zoom] : 0); ev.preventDefault(); return;
    } else if (k === 'n' || k === ']') { this.stepHot(1); return; } else if (k === 'p' || k === '[') { this.stepHot(-1); return; } else if (k === '/') { this.search.focus(); ev.preventDefault(); return; } else { return; }
    ev.preventDefault();
    if (next >= 0) {
      this.st.sel = next;
      if (!this.isUnder(next, this.st.zoom)) { this.st.zoom = next; }
      this.draw(); this.syncAll(true); this.ensureVisible(next);
    }
  };

  Flame.prototype.stepHot = function (dir) {
    if (!this.hot.length) { return; }
    var i = this.hot.indexOf(this.st.sel);
    var pos = i < 0 ? (dir > 0 ? 0 : this.hot.length - 1) : i + dir;
    pos = Math.max(0, Math.min(this.hot.length - 1, pos));
    this.hotPos = pos;
    this.st.sel = this.hot[pos];
    if (!this.isUnder(this.st.sel, this.st.zoom)) { this.st.zoom = 0; }
    this.draw(); this.syncAll(true); this.ensureVisible(this.st.sel);
  };

  Flame.prototype.zoomTo = function (d) {
    var t0 = performance.now();
    this.st.zoom = d;
    if (this.st.sel < 0 || (!this.isUnder(this.st.sel, d) && !this.isUnder(d, this.st.sel))) { this.st.sel = d; }
    this.draw();
    this.syncAll(true);
    this.lastZoomMs = performance.now() - t0;
  };

  Flame.prototype.refilter = function () {
    var zp = this.pathOf(this.st.zoom), sp = this.st.sel > 0 ? this.pathOf(this.st.sel) : null;
    this.rebuild();
    this.st.zoom = this.resolve(zp);
    this.st.sel = sp ? this.resolve(sp) : (this.hot.length ? this.hot[0] : 0);
    this.draw();
    this.syncAll(true);
  };

  Flame.prototype.applyState = function () {
    var t0 = performance.now();
    this.rebuild();
    var t1 = performance.now();
    this.st.zoom = this.resolve(this.st.zoomPath);
    if (this.st.sel === -2 && this.st.selPath) { this.st.sel = this.resolve(this.st.selPath); }
    if (this.st.sel < 0) { this.st.sel = this.hot.length ? this.hot[0] : 0; }
    this.draw();
    var t2 = performance.now();
    this.syncAll(false);
    this.phases = {rebuild: t1 - t0, draw: t2 - t1, sync: performance.now() - t2};
  };

  Flame.prototype.describe = function (d) {
    if (d === 0) { return this.rootLabel(); }
    var f = this.dFrame[d];
    var loc = this.S[this.fFile[f]] ? this.S[this.fFile[f]] + ':' + this.fLine[f] : '';
    return this.S[this.fFunc[f]] + (loc ? '  ' + loc : '') + '\n' + this.areas[this.fArea[f]] +
      ' \u00b7 total ' + pct(this.dTot[d], this.dTot[0]) + ' \u00b7 self ' + pct(this.dSelf[d], this.dTot[0]);
  };

  // push the state into the DOM: info bar, breadcrumb, toggles, table, search, hash
  Flame.prototype.syncAll = function (hash) {
    var st = this.st, self = this;
    this.viewBtn.textContent = st.view === 'flame' ? 'Icicle view' : 'Flame view';
    this.viewBtn.setAttribute('aria-pressed', st.view === 'icicle' ? 'true' : 'false');
    if (this.search.value !== st.q) { this.search.value = st.q; }
    this.search.classList.toggle('pf-invalid', !!this.searchInvalid);
    this.matchedEl.textContent = this.searchInvalid ? 'invalid regex' : (this.re ? 'matched ' + pct(this.matched, this.dTot[0]) : '');
    this.threadSel.value = st.threads;
    if (this.threadSel.value !== st.threads) { st.threads = 'all'; this.threadSel.value = 'all'; }
    var all = 0;
    for (var a = 0; a < this.areas.length; a++) { all += this.areaSelf[a]; }
    this.areaChecks.forEach(function (cb, i) {
      cb.checked = i === self.idleArea ? st.idle : !st.hidden[i];
      self.areaPct[i].textContent = cb.checked && i !== self.idleArea ? pct(self.areaSelf[i], all) : '';
    });
    // info bar
    var d = st.sel, info = this.info;
    info.textContent = '';
    if (d > 0) {
      var f = this.dFrame[d];
      var file = this.S[this.fFile[f]];
      info.appendChild(mk('span', 'pf-fn', this.S[this.fFunc[f]]));
      info.appendChild(this.field('file', file ? file + ':' + this.fLine[f] : '(native or synthetic)'));
      info.appendChild(this.field('area', this.areas[this.fArea[f]]));
      info.appendChild(this.field('self', pct(this.dSelf[d], this.dTot[0]) + ' \u00b7 ' + this.fmtWeight(this.dSelf[d])));
      info.appendChild(this.field('total', pct(this.dTot[d], this.dTot[0]) + ' \u00b7 ' + this.fmtWeight(this.dTot[d])));
      if (this.dCount) { info.appendChild(this.field('allocations', fmtInt(this.dCount[d]) + ' here')); }
      var rank = this.hot.indexOf(d);
      if (rank >= 0) { info.appendChild(this.field('rank', '#' + (rank + 1) + ' hottest')); }
    } else {
      info.appendChild(mk('span', 'pf-fn', this.rootLabel()));
    }
    // breadcrumb
    this.crumbs.textContent = '';
    var chain = [];
    for (var z = st.zoom; z >= 0; z = this.dParent[z]) { chain.push(z); }
    chain.reverse().forEach(function (z, i) {
      if (i) { self.crumbs.appendChild(mk('span', null, '\u203a')); }
      var b = mk('button', null, z === 0 ? 'all' : self.label(z));
      b.type = 'button';
      b.title = self.describe(z);
      b.addEventListener('click', function () { self.zoomTo(z); });
      self.crumbs.appendChild(b);
    });
    if (this.tableDirty) { this.renderTable(); this.tableDirty = false; }
    if (hash) { this.writeHash(); }
  };

  Flame.prototype.field = function (name, value) {
    var s = mk('span');
    s.appendChild(mk('b', null, name + ': '));
    s.appendChild(document.createTextNode(value));
    return s;
  };

  Flame.prototype.renderTable = function () {
    var self = this, rows = [], total = this.dTot[0];
    for (var f = 0; f < this.nF; f++) { if (this.totF[f] > 0) { rows.push(f); } }
    var key = this.st.sort, dir = this.st.sortDir, S = this.S;
    var selfF = this.selfF;
    if (key === 'name' || key === 'area') {
      var txt = key === 'name' ? function (f) { return S[self.fFunc[f]].toLowerCase(); } : function (f) { return self.areas[self.fArea[f]]; };
      rows.sort(function (x, y) {
        var a = txt(x), b = txt(y);
        return a < b ? -dir : a > b ? dir : (selfF[y] - selfF[x] || x - y);
      });
    } else {
      var arr = key === 'total' ? this.totF : key === 'count' && this.cntF ? this.cntF : selfF;
      rows.sort(function (x, y) { return dir * (arr[x] - arr[y]) || selfF[y] - selfF[x] || x - y; });
    }
    var ths = this.thead.children;
    for (var i = 0; i < ths.length; i++) {
      var col = ths[i].getAttribute('data-col');
      var k = {selfp: 'self', totalp: 'total', loc: 'name'}[col] || col;
      if (k === key && col !== 'selfp' && col !== 'totalp' && col !== 'loc') { ths[i].setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending'); } else { ths[i].removeAttribute('aria-sort'); }
    }
    var frag = document.createDocumentFragment();
    rows.slice(0, TABLE_ROWS).forEach(function (f) {
      var tr = mk('tr');
      tr.setAttribute('data-frame', String(f));
      var file = S[self.fFile[f]];
      tr.appendChild(mk('td', 'pf-name', S[self.fFunc[f]]));
      tr.appendChild(mk('td', 'pf-loc', file ? file + ':' + self.fLine[f] : ''));
      tr.appendChild(mk('td', null, self.areas[self.fArea[f]]));
      tr.appendChild(mk('td', 'num', self.fmtWeight(self.selfF[f])));
      tr.appendChild(mk('td', 'num', pct(self.selfF[f], total)));
      tr.appendChild(mk('td', 'num', self.fmtWeight(self.totF[f])));
      tr.appendChild(mk('td', 'num', pct(self.totF[f], total)));
      if (self.cntF) { tr.appendChild(mk('td', 'num', fmtInt(self.cntF[f]))); }
      frag.appendChild(tr);
    });
    this.tbody.textContent = '';
    this.tbody.appendChild(frag);
    this.tableNote.textContent = rows.length > TABLE_ROWS ? 'Showing ' + TABLE_ROWS + ' of ' + rows.length + ' functions.' : rows.length + ' functions.';
  };

  // ---- test and embedding hooks ----
  Flame.prototype.find = function (name) {
    var best = -1;
    for (var d = 1; d < this.nd; d++) {
      if (this.S[this.fFunc[this.dFrame[d]]] === name && (best < 0 || this.dTot[d] > this.dTot[best])) { best = d; }
    }
    return best;
  };

  Flame.prototype.visibleFunctions = function () {
    var out = {}, self = this, sc = this.pxScale;
    var walk = function (d) {
      if (d > 0) { out[self.label(d)] = true; }
      self.kidsOf(d);
      for (var i = self.cs[d]; i < self.cs[d + 1]; i++) {
        if (self.dTot[self.kids[i]] * sc < MIN_PX) { break; }
        walk(self.kids[i]);
      }
    };
    walk(this.st.zoom);
    return Object.keys(out).sort();
  };

  Flame.prototype.snapshot = function () {
    return {
      zoom: this.st.zoom ? this.label(this.st.zoom) : null,
      selected: this.st.sel > 0 ? this.label(this.st.sel) : null,
      view: this.st.view, idle: this.st.idle, threads: this.st.threads, query: this.st.q,
      matched: this.re ? this.matched / (this.dTot[0] || 1) : null,
      hottest: this.hot.length ? this.label(this.hot[0]) : null,
      total: this.dTot[0] * this.scale, nodes: this.nd, drawn: this.drawn,
      lastDrawMs: this.lastDrawMs, lastZoomMs: this.lastZoomMs
    };
  };

  function mount(id) {
    if (instances[id]) { return instances[id]; }
    var root = document.getElementById(id), dataEl = document.getElementById(id + '-data');
    if (!root || !dataEl) { return null; }
    var t0 = performance.now();
    var data = JSON.parse(dataEl.textContent);
    var tParse = performance.now() - t0;
    var inst = new Flame(root, data);
    inst.timings.parse = tParse;
    instances[id] = inst;
    if (!window.__pinkFlameFirstPaint) {
      window.__pinkFlameFirstPaint = performance.now();
      if (performance.mark) { performance.mark('pinkflame-first-paint'); }
    }
    return inst;
  }

  function flush() {
    var q = window.PinkFlameQueue || [];
    while (q.length) { mount(q.shift()); }
  }

  window.PinkFlame = {version: 1, instances: instances, mount: mount, flush: flush};
  flush();
})();
