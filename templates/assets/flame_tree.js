/* pinkclinic flame graph, part 2 of 7 (see flame_core.js): the display tree, rebuilt from the
 * stack trie on every filter change; children, per-function totals, search matches, paths. */
(function () {
  'use strict';
  if (window.PinkFlame) { return; }
  var P = window.__pinkFlameParts;
  var Flame = P.Flame;

  // ---- the display tree ----
  Flame.prototype.threadMask = function () {
    var keep = new Uint8Array(this.nT);
    var sel = this.st.threads;
    var T = this.d.threads;
    if (sel.charAt(0) === 'g') {
      var g = (this.groups || [])[+sel.slice(2)];
      if (g) { g.ts.forEach(function (t) { keep[t] = 1; }); }
      return keep;
    }
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
    var rootSelf = 0, rootCount = 0, idleW = 0, allW = 0;
    var sm = this.sm, stride = this.stride, i, n;
    for (i = 0; i < sm.length; i += stride) {
      if (!keep[sm[i]]) { continue; }
      n = sm[i + 1];
      allW += sm[i + 2];
      if (n < 0) { rootSelf += sm[i + 2]; if (counts) { rootCount += sm[i + 3]; } continue; }
      if (fArea[frameOf[n]] === idleArea) { idleW += sm[i + 2]; if (!idleOn) { continue; } }
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
    this.idleShare = [idleW, allW];  // waiting vs all samples of the selected threads
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

  // the node for a path of frame ids, in the current tree. A frame of a hidden area was
  // merged into its parent and is skipped; a frame that is not a child (the frames
  // between were hidden when the path was taken) is looked for deeper, shallowest and
  // heaviest first; a frame that is nowhere below (another thread) is skipped too.
  Flame.prototype.resolve = function (path) {
    var d = 0;
    for (var k = 0; k < path.length; k++) {
      var f = path[k];
      if (!(f >= 0 && f < this.nF) || this.st.hidden[this.fArea[f]]) { continue; }
      var next = this.childWith(d, f);
      if (next < 0) { next = this.descendantWith(d, f); }
      if (next >= 0) { d = next; }
    }
    return d;
  };

  Flame.prototype.childWith = function (d, f) {
    for (var i = this.cs[d]; i < this.cs[d + 1]; i++) {
      if (this.dFrame[this.kids[i]] === f) { return this.kids[i]; }
    }
    return -1;
  };

  Flame.prototype.descendantWith = function (d, f) {
    var queue = new Int32Array(this.nd), head = 0, tail = 0, best = -1;
    queue[tail++] = d;
    while (head < tail) {
      var n = queue[head++];
      if (best >= 0 && this.dDepth[n] >= this.dDepth[best]) { break; }
      for (var i = this.cs[n]; i < this.cs[n + 1]; i++) {
        var c = this.kids[i];
        if (this.dFrame[c] === f) {
          if (best < 0 || this.dTot[c] > this.dTot[best]) { best = c; }
        } else if (best < 0) {
          queue[tail++] = c;
        }
      }
    }
    return best;
  };

  Flame.prototype.isUnder = function (d, anc) {
    while (d > 0 && d !== anc) { d = this.dParent[d]; }
    return d === anc;
  };
})();
