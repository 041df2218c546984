/* pinkclinic flame graph, part 3 of 7 (see flame_core.js): drawing the display tree on the
 * canvas, hit-testing, and formatting weights and thread names. */
(function () {
  'use strict';
  if (window.PinkFlame) { return; }
  var P = window.__pinkFlameParts;
  var Flame = P.Flame, ROW = P.ROW, CHARW = P.CHARW, FONT = P.FONT, MIN_PX = P.MIN_PX;
  var ROOT_COLOR = P.ROOT_COLOR, fmtInt = P.fmtInt, fmtBytes = P.fmtBytes, fmtSeconds = P.fmtSeconds;

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

  // a block's label: the function, and its line when frames are keyed by line (--lines)
  Flame.prototype.label = function (d) {
    if (d === 0) { return this.rootLabel(); }
    var f = this.dFrame[d], name = this.S[this.fFunc[f]];
    return this.d.meta && this.d.meta.lines && this.fLine[f] > 0 ? name + ':' + this.fLine[f] : name;
  };

  Flame.prototype.rootLabel = function () {
    var sel = this.st.threads;
    var g = sel.charAt(0) === 'g' ? (this.groups || [])[+sel.slice(2)] : null;
    var what = sel === 'all' ? 'all' : g ? g.label : (sel.charAt(0) === 'p' ? 'process ' + sel.slice(2) : this.threadName(+sel.slice(2)));
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
})();
