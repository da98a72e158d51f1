/* The workshop screen: polls its data, updates the page in place (no reload, no flicker), cycles
   through its boards, says when the data is stale or the server unreachable, keeps the last view. */
(function () {
  "use strict";
  var root = document.getElementById("screen");
  var url = root.dataset.url;
  var refresh = Math.max(10, parseInt(root.dataset.refresh, 10) || 60) * 1000;
  var cycle = Math.max(5, parseInt(root.dataset.cycle, 10) || 30) * 1000;
  var RETRY = Math.min(refresh, 15000);
  var STATUS = { green: "Objectif atteint", orange: "Sous surveillance", red: "Hors seuil", grey: "Pas de donnée" };
  var SYMBOL = { green: "✔", orange: "▲", red: "✖", grey: "–" };
  var sections = {};      // board id → {el, signature, refs}
  var order = [];
  var shown = 0, lastOk = 0, lastGenerated = null, stopped = false, pollTimer = null;
  var paris = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  var parisShort = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", hour: "2-digit", minute: "2-digit" });
  var parisDate = new Intl.DateTimeFormat("fr-FR", { timeZone: "Europe/Paris", weekday: "long", day: "numeric", month: "long" });

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function setText(node, text) { if (node.textContent !== text) node.textContent = text; }
  function setClass(node, cls) { if (node.className !== cls) node.className = cls; }
  function fmt(value) {
    if (value === null || value === undefined) return "–";
    var rounded = Math.round(value * 10) / 10;
    return rounded.toLocaleString("fr-FR");
  }
  function targetText(row) {
    var sign = row.higher_is_better ? "≥" : "≤";
    var unit = row.unit ? " " + row.unit : "";
    return "objectif " + sign + " " + fmt(row.target) + unit + " · seuil " + fmt(row.threshold) + unit;
  }

  function buildRow(row) {
    var r = el("div", "scr-row");
    r.appendChild(el("div", "scr-letter", row.letter));
    var name = el("div", "scr-name");
    var label = el("span", "scr-label-text", row.label);
    var target = el("span", "scr-target");
    name.appendChild(label); name.appendChild(target);
    r.appendChild(name);
    var value = el("div", "scr-value");
    var number = el("span", "num");
    value.appendChild(number);
    if (row.unit) value.appendChild(el("small", null, row.unit));
    r.appendChild(value);
    var status = el("div", "scr-status");
    var sym = el("span", "sym");
    var text = el("span", "txt");
    status.appendChild(sym); status.appendChild(text);
    r.appendChild(status);
    var strip = el("div", "scr-strip");
    for (var i = 0; i < 31; i++) strip.appendChild(el("span"));
    r.appendChild(strip);
    r.dataset.indicator = row.indicator;
    return { el: r, target: target, number: number, status: status, sym: sym, text: text, strip: strip };
  }

  function updateRow(refs, row) {
    setClass(refs.el, "scr-row " + row.status);
    refs.el.dataset.status = row.status;
    setText(refs.target, row.note ? row.note : targetText(row));
    setText(refs.number, fmt(row.value));
    setClass(refs.status, "scr-status " + row.status);
    setText(refs.sym, SYMBOL[row.status]);
    setText(refs.text, STATUS[row.status]);
    var cells = refs.strip.children;
    for (var i = 0; i < 31; i++) {
      var day = row.month[i];
      setClass(cells[i], day ? day.status : "none");
      setText(cells[i], day ? SYMBOL[day.status] : "");
      cells[i].title = day ? day.date + " : " + fmt(day.value) : "";
    }
  }

  function buildBoard(board) {
    var section = el("section", "scr-board");
    section.dataset.board = board.board.id;
    var rows = el("div", "scr-rows");
    var refs = { rows: [] };
    board.rows.forEach(function (row) {
      var r = buildRow(row);
      refs.rows.push(r);
      rows.appendChild(r.el);
    });
    section.appendChild(rows);
    var side = el("aside", "scr-side");
    var crossPanel = el("div", "scr-panel");
    crossPanel.appendChild(el("h2", null, "Sécurité – croix du mois"));
    var cross = el("div", "scr-cross");
    crossPanel.appendChild(cross);
    refs.cross = cross; refs.crossPanel = crossPanel;
    side.appendChild(crossPanel);
    var actions = el("div", "scr-panel");
    actions.appendChild(el("h2", null, "Actions"));
    var counts = el("div", "scr-counts");
    refs.late = el("strong"); refs.open = el("strong"); refs.done = el("strong");
    [["late", refs.late, "en retard"], ["open", refs.open, "en cours"], ["done", refs.done, "faites (sem.)"]].forEach(function (c) {
      var box = el("div", c[0]); box.appendChild(c[1]); box.appendChild(document.createTextNode(c[2])); counts.appendChild(box);
    });
    actions.appendChild(counts);
    refs.actionList = el("ul", "scr-list");
    actions.appendChild(refs.actionList);
    side.appendChild(actions);
    var esc = el("div", "scr-panel");
    refs.escTitle = el("h2", null, "Remontées");
    esc.appendChild(refs.escTitle);
    refs.escList = el("ul", "scr-list");
    esc.appendChild(refs.escList);
    side.appendChild(esc);
    side.appendChild(el("div", "scr-legend", "✔ objectif atteint   ▲ sous surveillance   ✖ hors seuil   – pas de donnée"));
    section.appendChild(side);
    return { el: section, refs: refs };
  }

  function crossCells(board) {
    var safety = board.rows.filter(function (r) { return r.indicator === "aic.safety"; })[0];
    var statuses = safety ? safety.month.map(function (d) { return d.status; }) : (board.letters.S || null);
    return statuses;
  }
  var CROSS = [];
  [[0, [2, 3, 4]], [1, [2, 3, 4]], [2, [0, 1, 2, 3, 4, 5, 6]], [3, [0, 1, 2, 3, 4, 5, 6]], [4, [0, 1, 2, 3, 4, 5, 6]],
   [5, [2, 3, 4]], [6, [2, 3, 4]]].forEach(function (line) { line[1].forEach(function (c) { CROSS.push([line[0], c]); }); });

  function updateList(list, items, cls, empty) {
    var texts = items.map(function (i) { return i; });
    var key = JSON.stringify(texts);
    if (list.dataset.key === key) return;
    list.dataset.key = key;
    while (list.firstChild) list.removeChild(list.firstChild);
    if (!items.length) { list.appendChild(el("li", "scr-none", empty)); return; }
    items.forEach(function (text) { list.appendChild(el("li", cls, text)); });
  }

  function updateBoard(entry, board) {
    var refs = entry.refs;
    board.rows.forEach(function (row, i) { updateRow(refs.rows[i], row); });
    var statuses = crossCells(board);
    refs.crossPanel.hidden = !statuses;
    if (statuses) {
      if (!refs.cross.children.length) {
        CROSS.forEach(function (pos) { var c = el("span"); c.style.gridRow = pos[0] + 1; c.style.gridColumn = pos[1] + 1; refs.cross.appendChild(c); });
      }
      var days = new Date(Date.UTC(+board.date.slice(0, 4), +board.date.slice(5, 7), 0)).getUTCDate();
      for (var i = 0; i < CROSS.length; i++) {
        var cell = refs.cross.children[i];
        if (i >= days) { setClass(cell, "none"); setText(cell, ""); continue; }
        var status = i < statuses.length ? statuses[i] : "future";
        setClass(cell, status);
        setText(cell, (i < statuses.length && status !== "grey" ? SYMBOL[status] : "") + (i + 1));
      }
    }
    var late = board.actions.filter(function (a) { return a.state === "late"; });
    setText(refs.late, String(late.length));
    setText(refs.open, String(board.actions.filter(function (a) { return a.state === "open"; }).length));
    setText(refs.done, String(board.actions.filter(function (a) { return a.state === "done"; }).length));
    updateList(refs.actionList, late.slice(0, 4).map(function (a) {
      return a.title + " — " + a.owner + " (" + a.due.slice(8, 10) + "/" + a.due.slice(5, 7) + ")";
    }), "late", "Aucune action en retard");
    setText(refs.escTitle, "Remontées reçues (" + board.escalations.length + ")");
    updateList(refs.escList, board.escalations.slice(0, 3).map(function (e) {
      return e.problem + " — " + e.from_board;
    }), "esc", "Aucune remontée en attente");
  }

  function signature(board) { return board.rows.map(function (r) { return r.indicator; }).join("|"); }

  function render(data) {
    var container = document.getElementById("scr-boards");
    var loading = container.querySelector(".scr-loading");
    if (loading) container.removeChild(loading);
    var seen = {};
    data.boards.forEach(function (board) {
      var id = String(board.board.id);
      seen[id] = true;
      var entry = sections[id];
      if (!entry || entry.signature !== signature(board)) {
        var built = buildBoard(board);
        built.signature = signature(board);
        if (entry) container.replaceChild(built.el, entry.el); else container.appendChild(built.el);
        entry = sections[id] = built;
      }
      entry.data = board;
      updateBoard(entry, board);
    });
    Object.keys(sections).forEach(function (id) {
      if (!seen[id]) { container.removeChild(sections[id].el); delete sections[id]; }
    });
    order = data.boards.map(function (b) { return String(b.board.id); });
    lastGenerated = new Date(data.generated_at);
    setText(document.getElementById("scr-updated"), paris.format(lastGenerated));
    show(shown % Math.max(order.length, 1));
  }

  function show(index) {
    shown = index;
    order.forEach(function (id, i) { sections[id].el.hidden = i !== index; });
    var current = sections[order[index]];
    if (current) {
      setText(document.getElementById("scr-board"), current.data.board.name);
      setText(document.getElementById("scr-team"), parisDate.format(new Date(current.data.date + "T12:00:00Z")));
    }
    var pager = document.getElementById("scr-pager");
    if (pager.children.length !== (order.length > 1 ? order.length : 0)) {
      while (pager.firstChild) pager.removeChild(pager.firstChild);
      if (order.length > 1) order.forEach(function () { pager.appendChild(el("span")); });
    }
    for (var i = 0; i < pager.children.length; i++) setClass(pager.children[i], i === index ? "on" : "");
  }

  function banner(text, cls) {
    var node = document.getElementById("scr-banner");
    node.hidden = !text;
    setClass(node, "scr-banner" + (cls ? " " + cls : ""));
    setText(node, text || "");
  }

  function since() { return lastGenerated ? " (dernière mise à jour " + parisShort.format(lastGenerated) + ")" : ""; }

  function poll() {
    if (stopped) return;
    var controller = window.AbortController ? new AbortController() : null;
    var timeout = setTimeout(function () { if (controller) controller.abort(); }, 20000);
    fetch(url, { cache: "no-store", credentials: "omit", headers: { Accept: "application/json" },
                 signal: controller ? controller.signal : undefined })
      .then(function (response) {
        clearTimeout(timeout);
        if (response.status === 404 || response.status === 401 || response.status === 403) {
          stopped = true;
          banner("Écran révoqué ou inconnu : cet affichage n'est plus autorisé. Demandez un nouveau lien à l'administrateur.", "revoked");
          document.getElementById("scr-boards").style.opacity = "0.25";
          return null;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (!data) return;
        render(data);
        lastOk = Date.now();
        banner(null);
        schedule(refresh);
      })
      .catch(function () {
        clearTimeout(timeout);
        banner("⚠ Serveur injoignable : affichage conservé" + since() + ", nouvel essai en cours…");
        schedule(RETRY);
      });
  }
  function schedule(delay) { clearTimeout(pollTimer); pollTimer = setTimeout(poll, delay); }

  function tick() {
    setText(document.getElementById("scr-clock"), parisShort.format(new Date()));
    if (!stopped && lastOk && Date.now() - lastOk > 2 * refresh + 5000) {
      banner("⚠ Données non à jour" + since() + " : nouvel essai en cours…");
    }
  }

  setInterval(tick, 1000);
  setInterval(function () { if (order.length > 1) show((shown + 1) % order.length); }, cycle);
  tick();
  poll();
})();
