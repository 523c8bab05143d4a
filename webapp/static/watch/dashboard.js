/* The dashboard's live refresh: poll dashboard.json every few seconds and put the new figures in place.
   Without this file the page still shows every figure (server-rendered); reloading refreshes it. */
(function () {
  "use strict";
  var stamp = document.getElementById("as-of");
  if (!stamp || !window.fetch) { return; }
  var url = stamp.getAttribute("data-url");
  var seconds = parseInt(stamp.getAttribute("data-seconds"), 10) || 5;

  function setFigure(name, value) {
    var nodes = document.querySelectorAll("[data-figure='" + name + "']");
    for (var i = 0; i < nodes.length; i++) {
      var text = String(value);
      if (nodes[i].textContent !== text) {
        nodes[i].textContent = text;
        var card = nodes[i].closest(".kpi");
        if (card) { card.classList.remove("changed"); void card.offsetWidth; card.classList.add("changed"); }
      }
    }
  }

  function fillTable(id, rows) {
    var table = document.getElementById(id);
    if (!table) { return; }
    var labels = JSON.parse(table.getAttribute("data-labels") || "{}");
    var body = table.tBodies[0];
    var fresh = document.createElement("tbody");
    rows.forEach(function (row) {
      var tr = document.createElement("tr");
      var name = document.createElement("td");
      name.textContent = labels[row[0]] || row[0];
      var count = document.createElement("td");
      count.className = "num";
      count.textContent = String(row[1]);
      tr.appendChild(name);
      tr.appendChild(count);
      fresh.appendChild(tr);
    });
    if (!rows.length) {
      var tr = document.createElement("tr");
      var td = document.createElement("td");
      td.colSpan = 2; td.className = "empty"; td.textContent = "暂无办件";
      tr.appendChild(td); fresh.appendChild(tr);
    }
    table.replaceChild(fresh, body);
  }

  function sorted(map) {
    return Object.keys(map).sort().map(function (key) { return [key, map[key]]; });
  }

  function districtTime(iso) {  /* "2026-02-25 09:00:00" in the district (UTC+8), as the server writes it */
    var local = new Date(new Date(iso).getTime() + 8 * 3600 * 1000).toISOString();
    return local.slice(0, 10) + " " + local.slice(11, 19);
  }

  function render(d) {
    ["open", "total", "due_today", "reminder", "yellow", "red", "statutory", "supplements_pending",
     "unacknowledged_warnings", "incidents"].forEach(function (name) { setFigure(name, d[name]); });
    setFigure("refused_without_reason", d.refused_without_reason.length);
    Object.keys(d.supervision || {}).forEach(function (key) { setFigure("supervision-" + key, d.supervision[key]); });
    var alarm = document.getElementById("refused-without-reason");
    if (alarm) {
      alarm.classList.toggle("kpi-alarm", d.refused_without_reason.length > 0);
      alarm.classList.toggle("kpi-ok", d.refused_without_reason.length === 0);
    }
    ["by_status", "by_level", "by_town", "by_department"].forEach(function (id) { fillTable(id, sorted(d[id])); });
    fillTable("by_item", d.by_item.map(function (item) { return [item.code + " " + item.name, item.count]; }));
    stamp.textContent = "数据时间 " + districtTime(d.as_of);
    stamp.classList.remove("stale");
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { if (!response.ok) { throw new Error(response.status); } return response.json(); })
      .then(render)
      .catch(function () { stamp.classList.add("stale"); })
      .then(function () { window.setTimeout(poll, seconds * 1000); });
  }

  window.setTimeout(poll, seconds * 1000);
}());
