/* pinkclinic flame graph, part 6 of 7 (see flame_core.js): the source heatmap. When the
 * selected frame is an app function whose file the recording saved (data.source, see
 * pinkclinic/render/flame_source.py), the panel below the info bar lists the function's
 * lines, each shaded by the busy samples with that line on the stack (its total; self:
 * the line itself was running). Source text reaches the page through textContent only. */
(function () {
  'use strict';
  if (window.PinkFlame) { return; }
  var P = window.__pinkFlameParts;
  var Flame = P.Flame, mk = P.mk, pct = P.pct;
  var SCAN_UP = 200;  // lines searched above the first sampled line for the def
  var AFTER = 2;      // lines shown after the last sampled line

  var sync = Flame.prototype.syncAll;
  Flame.prototype.syncAll = function (hash) {
    sync.call(this, hash);
    this.renderSource();
  };

  // the first line to show: the function's def line when found above the sampled lines
  function firstLine(lines, name, from) {
    var short = name.slice(name.lastIndexOf('.') + 1);
    if (short.charAt(0) === '<') { return Math.max(1, from - 3); }  // <module>, <lambda>, ...
    for (var n = from; n >= Math.max(1, from - SCAN_UP); n--) {
      var t = lines[String(n)];
      if (t === undefined) { break; }
      var m = /^\s*(?:async\s+)?def\s+([A-Za-z_][A-Za-z0-9_]*)/.exec(t);
      if (m && m[1] === short) { return n; }
    }
    return Math.max(1, from - 3);
  }

  Flame.prototype.renderSource = function () {
    var box = this.root.querySelector('.pf-source'), src = this.d.source;
    if (!box || !src) { return; }
    var d = this.st.sel, f = d > 0 ? this.dFrame[d] : -1;
    if (f === this.srcFrame) { return; }
    this.srcFrame = f;
    box.textContent = '';
    var rows = f >= 0 ? src.heat[String(f)] : null;
    var file = f >= 0 ? this.S[this.fFile[f]] : '';
    var lines = src.files[file];
    if (!rows || !lines) { box.hidden = true; return; }
    box.hidden = false;
    var byLine = {}, sum = 0, max = 0;
    rows.forEach(function (r) { byLine[r[0]] = r; sum += r[2]; if (r[2] > max) { max = r[2]; } });
    var name = this.S[this.fFunc[f]];
    var lo = firstLine(lines, name, rows[0][0]);
    var hi = rows[rows.length - 1][0] + AFTER;
    var head = mk('p', 'pf-src-head');
    head.appendChild(mk('b', null, name));
    head.appendChild(document.createTextNode('  ' + file + ' \u00b7 busy samples of all threads on each line ' +
      '(total: the line on the stack; self: the line running), as a share of the function\'s ' + this.fmtWeight(sum)));
    box.appendChild(head);
    var table = mk('table', 'pf-src');
    var tr0 = mk('tr');
    ['line', 'total', 'self', ''].forEach(function (h) { tr0.appendChild(mk('th', null, h)); });
    var thead = mk('thead');
    thead.appendChild(tr0);
    table.appendChild(thead);
    var body = mk('tbody');
    for (var n = lo; n <= hi; n++) {
      var text = lines[String(n)];
      if (text === undefined) { continue; }
      var r = byLine[n], tr = mk('tr');
      tr.setAttribute('data-line', String(n));
      tr.setAttribute('data-total', String(r ? r[2] : 0));
      tr.setAttribute('data-self', String(r ? r[1] : 0));
      tr.appendChild(mk('td', 'num', n));
      tr.appendChild(mk('td', 'num', r ? pct(r[2], sum) : ''));
      tr.appendChild(mk('td', 'num', r && r[1] ? pct(r[1], sum) : ''));
      var code = mk('td', 'pf-code', text);
      if (r) {
        code.style.backgroundColor = 'hsla(14,85%,55%,' + (0.08 + 0.72 * r[2] / max).toFixed(3) + ')';
        code.title = this.fmtWeight(r[2]) + ' total, ' + this.fmtWeight(r[1]) + ' self';
      }
      tr.appendChild(code);
      body.appendChild(tr);
    }
    table.appendChild(body);
    box.appendChild(table);
  };
})();
