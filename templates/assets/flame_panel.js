/* pinkclinic flame graph, part 5 of 7 (see flame_core.js): pushing the state into the DOM
 * (tooltip text, info bar, breadcrumb, toggles, hottest-functions table). */
(function () {
  'use strict';
  if (window.PinkFlame) { return; }
  var P = window.__pinkFlameParts;
  var Flame = P.Flame, mk = P.mk, pct = P.pct, fmtInt = P.fmtInt, TABLE_ROWS = P.TABLE_ROWS;

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
      if (i === self.idleArea) {  // the waiting share of the selected threads, on or off
        self.areaPct[i].textContent = pct(self.idleShare[0], self.idleShare[1]);
      } else {
        self.areaPct[i].textContent = cb.checked ? pct(self.areaSelf[i], all) : '';
      }
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
    if (key === 'loc') {
      var fLine = this.fLine;
      rows.sort(function (x, y) {
        var a = S[self.fFile[x]], b = S[self.fFile[y]];
        return a < b ? -dir : a > b ? dir : (dir * (fLine[x] - fLine[y]) || selfF[y] - selfF[x] || x - y);
      });
    } else if (key === 'name' || key === 'area') {
      var txt = key === 'name' ? function (f) { return S[self.fFunc[f]].toLowerCase(); } : function (f) { return self.areas[self.fArea[f]]; };
      rows.sort(function (x, y) {
        var a = txt(x), b = txt(y);
        return a < b ? -dir : a > b ? dir : (selfF[y] - selfF[x] || x - y);
      });
    } else {
      var arr = key === 'total' ? this.totF : key === 'count' && this.cntF ? this.cntF : selfF;
      rows.sort(function (x, y) { return dir * (arr[x] - arr[y]) || selfF[y] - selfF[x] || x - y; });
    }
    var ths = this.thead.children, map = {selfp: 'self', totalp: 'total'};
    var mark = this.sortCol && (map[this.sortCol] || this.sortCol) === key ? this.sortCol : key;
    for (var i = 0; i < ths.length; i++) {
      if (ths[i].getAttribute('data-col') === mark) { ths[i].setAttribute('aria-sort', dir > 0 ? 'ascending' : 'descending'); } else { ths[i].removeAttribute('aria-sort'); }
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
})();
