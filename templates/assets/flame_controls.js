/* pinkclinic flame graph, part 4 of 7 (see flame_core.js): the toolbar, canvas and table
 * handlers, and the state changes they make (select, zoom, refilter). */
(function () {
  'use strict';
  if (window.PinkFlame) { return; }
  var P = window.__pinkFlameParts;
  var Flame = P.Flame, mk = P.mk, pct = P.pct, escapeRegex = P.escapeRegex;

  // a command line for the selector: paths cut to their last part, then at most 60 chars
  function shortCommand(cmd) {
    var out = cmd.split(' ').map(function (w) { return w.charAt(0) === '/' && w.length > 1 ? w.replace(/^.*\/(?=.)/, '') : w; }).join(' ');
    return out.length > 60 ? out.slice(0, 59) + '\u2026' : out;
  }

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
    var parents = (this.d.meta || {}).process_parents || {}, kids = {};
    var idleKnown = (this.d.meta || {}).idle_recorded !== false;  // else every sample is busy
    order.forEach(function (pid) { var pp = parents[pid]; if (pp !== undefined && pp in procs) { kids[pp] = (kids[pp] || 0) + 1; } });
    order.forEach(function (pid) {
      var ts = procs[pid];
      if (pid >= 0 && order.length > 1) {
        var w = 0;
        ts.forEach(function (t) { w += self.threadAll[t]; });
        var pp = parents[pid];
        var role = pp !== undefined && pp in procs ? 'child of ' + pp : kids[pid] ? 'parent of ' + kids[pid] : '';
        var cmd = shortCommand(S[T[4 * ts[0] + 3]] || '');
        self.threadSel.appendChild(mk('option', null, 'process ' + pid + (role ? ' (' + role + ')' : '') + (cmd ? ' ' + cmd : '') + ' \u2014 ' + pct(w, total))).value = 'p:' + pid;
      }
      self.threadGroups(pid, ts).forEach(function (g) {
        var all = 0, busyW = 0;
        g.ts.forEach(function (t) { all += self.threadAll[t]; busyW += self.threadBusy[t]; });
        var busy = idleKnown ? ', ' + pct(busyW, all || 1) + ' busy' : '';
        var label = (order.length > 1 ? '\u00a0\u00a0' : '') + g.label + ' (' + pct(all, total) + busy + ')';
        self.threadSel.appendChild(mk('option', null, label)).value = 'g:' + g.index;
      });
      ts.forEach(function (t) {
        var busy = idleKnown ? ', ' + pct(self.threadBusy[t], self.threadAll[t] || 1) + ' busy' : '';
        var label = (order.length > 1 ? '\u00a0\u00a0' : '') + self.threadName(t) + ' (' + pct(self.threadAll[t], total) + busy + ')';
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
    if (this.idleArea < 0 && (this.d.meta || {}).idle_recorded === false) {
      // say that waiting time is missing, rather than leave the toggle out
      var lab = mk('label', 'pf-disabled');
      lab.title = 'recorded without --idle: py-spy kept only threads running on a CPU; ' +
        'record with pinkclinic flame --idle for the waiting time';
      var cb = mk('input');
      cb.type = 'checkbox'; cb.disabled = true; cb.setAttribute('data-area', 'idle');
      lab.appendChild(cb); lab.appendChild(mk('span', 'pf-area-name', 'idle'));
      lab.appendChild(mk('span', 'pf-area-pct', 'not recorded'));
      this.areaBox.appendChild(lab);
    }

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
    var tips = {self: 'self: samples in the function\'s own lines (it is the innermost frame)',
                total: 'total: samples with the function anywhere on the stack (with everything it calls)'};
    if (this.d.counts) { cols.push(['count', 'Allocations']); }
    this.cols = cols;
    cols.forEach(function (c) {
      var th = mk('th', /self|total|count/.test(c[0]) ? 'num' : null, c[1]);
      th.setAttribute('data-col', c[0]);
      th.tabIndex = 0;
      var key = {selfp: 'self', totalp: 'total'}[c[0]] || c[0];
      if (tips[key]) { th.title = tips[key]; }
      var go = function () {
        self.sortCol = c[0];
        if (self.st.sort === key) { self.st.sortDir = -self.st.sortDir; } else { self.st.sort = key; self.st.sortDir = (key === 'name' || key === 'loc' || key === 'area') ? 1 : -1; }
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

  // Threads of one process whose names differ only in their numbers (a thread per request,
  // a pool's workers): one option for the lot, as 'g:' + index into this.groups.
  Flame.prototype.threadGroups = function (pid, ts) {
    var T = this.d.threads, S = this.S, byKey = {}, keys = [], out = [];
    this.groups = this.groups || [];
    ts.forEach(function (t) {
      var name = S[T[4 * t + 2]];
      if (!name) { return; }
      var key = name.replace(/\d+/g, 'N');
      if (!(key in byKey)) { byKey[key] = []; keys.push(key); }
      byKey[key].push(t);
    });
    for (var i = 0; i < keys.length; i++) {
      if (byKey[keys[i]].length < 2) { continue; }
      var g = {pid: pid, ts: byKey[keys[i]], index: this.groups.length,
               label: byKey[keys[i]].length + ' threads ' + keys[i]};
      this.groups.push(g);
      out.push(g);
    }
    return out;
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
    } else if (k === 'n' || k === ']') { this.stepHot(1); return; } else if (k === 'p' || k === '[') { this.stepHot(-1); return; } else if (k === '/') { this.search.focus(); ev.preventDefault(); return; } else if (k === '?') { var h = this.root.querySelector('.pf-keys'); if (h) { h.open = !h.open; } return; } else { return; }
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

  // A filter change keeps the zoom and the selection: their frame paths are resolved in the
  // new tree (see resolve). The paths the user chose are remembered until they choose
  // again, so hiding an area and showing it again comes back to the same frame.
  Flame.prototype.refilter = function () {
    var g = this.goal;
    if (!g || g.sel !== this.st.sel || g.zoom !== this.st.zoom) {
      g = {selPath: this.st.sel > 0 ? this.pathOf(this.st.sel) : null, zoomPath: this.pathOf(this.st.zoom)};
    }
    this.rebuild();
    this.st.zoom = this.resolve(g.zoomPath);
    this.st.sel = g.selPath ? this.resolve(g.selPath) : (this.hot.length ? this.hot[0] : 0);
    g.sel = this.st.sel; g.zoom = this.st.zoom;
    this.goal = g;
    this.draw();
    this.syncAll(true);
  };

  Flame.prototype.applyState = function () {
    var t0 = performance.now();
    this.goal = null;
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
})();
