// accessplan report: draws one page of the users x customers matrix from the
// JSON data block. Built with textContent/setAttribute only: no HTML strings.
(function () {
  "use strict";
  var started = performance.now();
  var D = JSON.parse(document.getElementById("report-data").textContent);
  var C = D.customers, U = D.users, P = D.profiles, I = D.impacts, cells = D.cells;
  var TIMED = 1, EXPIRING = 2, EXPIRED = 4, NOT_LIVE = 8, GONE = 16;
  var COLS = 25, ROWS = 100;
  var view = { cPage: 0, uPage: 0 };

  var byUser = [];
  for (var u = 0; u < U.length; u++) byUser.push([]);
  for (var k = 0; k < cells.length; k += 4) byUser[cells[k]].push(k);

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  function label(c, key) {
    var value = C[c][5][key];
    return value === undefined ? "(no " + key + ")" : value;
  }

  function customers() {
    var q = $("q-customer").value.trim().toLowerCase(), status = $("q-status").value, group = $("q-group").value;
    var out = [];
    for (var c = 0; c < C.length; c++) {
      if (status && C[c][2] !== status) continue;
      if (q && (C[c][0] + " " + C[c][1] + " " + C[c][3]).toLowerCase().indexOf(q) < 0) continue;
      out.push(c);
    }
    if (group) {
      out.sort(function (a, b) {  // by the label's value; customers without the label last
        var ma = C[a][5][group] === undefined, mb = C[b][5][group] === undefined;
        if (ma !== mb) return ma ? 1 : -1;
        var la = label(a, group), lb = label(b, group);
        return la < lb ? -1 : la > lb ? 1 : a - b;
      });
    }
    return out;
  }

  function wanted(k) {
    var only = $("q-only").value, p = P[cells[k + 2]];
    if (!only) return true;
    if (only === "admin") return p[0] === 1;
    if (only === "timed") return (p[3] & TIMED) !== 0;
    if (only === "expiring") return (p[3] & (EXPIRING | EXPIRED)) !== 0;
    if (only === "notlive") return (p[3] & NOT_LIVE) !== 0;
    if (only === "impact") return cells[k + 3] >= 0;
    return true;
  }

  function tooltip(k) {
    var p = P[cells[k + 2]], lines = [U[cells[k]][0] + " at " + C[cells[k + 1]][1] + " (" + C[cells[k + 1]][0] + ")"];
    if (p[3] & GONE) lines.push("no access left: removed by the plan");
    else {
      lines.push("platform admin: " + (p[0] ? "yes" : "no"));
      lines.push("products: " + (p[4] || "none"));
      if (p[5]) lines.push("roles: " + p[5]);
      if (p[6]) lines.push("groups: " + p[6]);
      lines.push("expiry: " + (p[2] || "permanent"));
      if (p[7]) lines.push("state: " + p[7]);
      if (C[cells[k + 1]][2] && C[cells[k + 1]][2] !== "approved") lines.push("customer: " + C[cells[k + 1]][2]);
    }
    var i = cells[k + 3];
    if (i >= 0) lines.push("plan: " + I[i][0] + (I[i][1] ? ", escalation" : "") + ": " + I[i][2]);
    return lines.join("\n");
  }

  function cell(k) {
    var p = P[cells[k + 2]], flags = p[3], cls = "cell";
    if (flags & GONE) cls += " gone";
    else cls += p[0] ? " admin" : " prod";
    if (flags & TIMED) cls += " timed";
    if (flags & EXPIRING) cls += " expiring";
    if (flags & EXPIRED) cls += " expired";
    if (flags & NOT_LIVE) cls += " notlive";
    var i = cells[k + 3];
    if (i >= 0) cls += (I[i][3] ? " imp-deferred" : " imp-" + I[i][0]) + (I[i][1] ? " esc" : "");
    var td = el("td", cls);
    td.setAttribute("data-u", U[cells[k]][0]);
    td.setAttribute("data-c", C[cells[k + 1]][0]);
    td.title = tooltip(k);
    if (flags & GONE) td.appendChild(document.createTextNode("\u2013"));
    if (p[0]) td.appendChild(el("b", "", "A"));
    if (p[1]) td.appendChild(document.createTextNode(p[1]));
    if (flags & TIMED) td.appendChild(el("i", "", "\u25F7"));
    if (i >= 0 && I[i][1]) td.appendChild(el("sup", "", "\u25B2"));
    return td;
  }

  function render() {
    var t0 = performance.now();
    var cols = customers();
    var cPages = Math.max(1, Math.ceil(cols.length / COLS));
    view.cPage = Math.min(view.cPage, cPages - 1);
    var shown = cols.slice(view.cPage * COLS, view.cPage * COLS + COLS);
    var position = {};
    for (var j = 0; j < shown.length; j++) position[shown[j]] = j;

    var q = $("q-user").value.trim().toLowerCase(), onlyWithAccess = $("q-empty").checked;
    var rows = [];
    for (var u = 0; u < U.length; u++) {
      if (q && (U[u][0] + " " + U[u][1]).toLowerCase().indexOf(q) < 0) continue;
      var mine = [];
      for (var n = 0; n < byUser[u].length; n++) {
        var k = byUser[u][n];
        if (position[cells[k + 1]] !== undefined && wanted(k)) mine.push(k);
      }
      if (onlyWithAccess && !mine.length) continue;
      rows.push([u, mine]);
    }
    var uPages = Math.max(1, Math.ceil(rows.length / ROWS));
    view.uPage = Math.min(view.uPage, uPages - 1);
    var page = rows.slice(view.uPage * ROWS, view.uPage * ROWS + ROWS);

    var table = $("matrix-table");
    var old = table.querySelectorAll("thead, tbody");
    for (var o = 0; o < old.length; o++) table.removeChild(old[o]);
    var thead = el("thead"), group = $("q-group").value;
    if (group && shown.length) {
      var tr0 = el("tr", "groups");
      tr0.appendChild(el("th", "corner", ""));
      var last = null, span = null;
      for (var g = 0; g < shown.length; g++) {
        var value = label(shown[g], group);
        if (value !== last) { span = el("th", "", value); span.colSpan = 1; tr0.appendChild(span); last = value; }
        else span.colSpan += 1;
      }
      thead.appendChild(tr0);
    }
    var tr = el("tr");
    tr.appendChild(el("th", "corner", rows.length + " users"));
    for (var h = 0; h < shown.length; h++) {
      var c = C[shown[h]], th = el("th", "customer" + (c[2] ? " " + c[2] : ""));
      th.appendChild(el("span", "", c[1]));
      th.title = c[1] + " (" + c[0] + ")" + (c[2] ? "\nrelationship: " + (c[2] === "new" ? "not applied yet" : c[2]) : "") +
        (c[3] ? "\nlabels: " + c[3] : "") + "\nlicenses: " + (c[4] || "none");
      th.setAttribute("data-c", c[0]);
      tr.appendChild(th);
    }
    thead.appendChild(tr);
    table.appendChild(thead);

    var tbody = el("tbody");
    for (var r = 0; r < page.length; r++) {
      var user = U[page[r][0]], row = el("tr"), head = el("th", user[2] ? "dl" : "", user[1]);
      var admins = 0;
      for (var a = 0; a < page[r][1].length; a++) admins += P[cells[page[r][1][a] + 2]][0];
      head.appendChild(el("small", "", user[0] + " \u00B7 " + page[r][1].length + (admins ? ", " + admins + " admin" : "")));
      head.title = user[0] + (user[2] ? " (distribution list)" : "");
      row.appendChild(head);
      var tds = [];
      for (var e = 0; e < shown.length; e++) { tds.push(el("td")); }
      for (var m = 0; m < page[r][1].length; m++) {
        var kk = page[r][1][m];
        tds[position[cells[kk + 1]]] = cell(kk);
      }
      for (var t = 0; t < tds.length; t++) row.appendChild(tds[t]);
      tbody.appendChild(row);
    }
    table.appendChild(tbody);

    $("pager-customers").textContent = cols.length
      ? "Customers " + (view.cPage * COLS + 1) + "\u2013" + (view.cPage * COLS + shown.length) + " of " + cols.length
      : "No customer matches";
    $("pager-users").textContent = rows.length
      ? "Users " + (view.uPage * ROWS + 1) + "\u2013" + (view.uPage * ROWS + page.length) + " of " + rows.length
      : "No user matches";
    $("c-prev").disabled = view.cPage === 0;
    $("c-next").disabled = view.cPage >= cPages - 1;
    $("u-prev").disabled = view.uPage === 0;
    $("u-next").disabled = view.uPage >= uPages - 1;
    document.body.setAttribute("data-render-ms", String(Math.round(performance.now() - t0)));
  }

  function reset() { view.cPage = 0; view.uPage = 0; render(); }
  ["q-user", "q-customer"].forEach(function (id) { $(id).addEventListener("input", reset); });
  ["q-status", "q-only", "q-group", "q-empty"].forEach(function (id) { $(id).addEventListener("change", reset); });
  $("c-prev").addEventListener("click", function () { view.cPage -= 1; view.uPage = 0; render(); });
  $("c-next").addEventListener("click", function () { view.cPage += 1; view.uPage = 0; render(); });
  $("u-prev").addEventListener("click", function () { view.uPage -= 1; render(); });
  $("u-next").addEventListener("click", function () { view.uPage += 1; render(); });
  render();
  document.body.setAttribute("data-load-ms", String(Math.round(performance.now() - started)));
  document.body.setAttribute("data-ready", "true");
})();
