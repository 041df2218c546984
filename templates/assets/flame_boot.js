/* pinkclinic flame graph, part 7 of 7 (see flame_core.js): the URL hash, the test and
 * embedding hooks, and window.PinkFlame (mount, flush), which marks the parts as loaded. */
(function () {
  'use strict';
  if (window.PinkFlame) { return; }
  var P = window.__pinkFlameParts;
  var Flame = P.Flame, MIN_PX = P.MIN_PX;
  var instances = {};

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
      if (['self', 'total', 'name', 'loc', 'area', 'count'].indexOf(o[0]) >= 0) { st.sort = o[0]; st.sortDir = o[1] === 'a' ? 1 : -1; }
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

  // the parts are loaded; leave no namespace behind
  delete window.__pinkFlameParts;
  window.PinkFlame = {version: 1, instances: instances, mount: mount, flush: flush};
  flush();
})();
