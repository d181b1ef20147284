// cjo live dashboard: one JSON snapshot a second from /dashboard/events (server-sent events).
(function () {
  "use strict";
  var KEEP = 600; // points kept per chart: ten minutes at one a second
  var series = { t: [], eps: [], p50: [], p95: [], p99: [], lag: [] };

  function fmt(n, digits) {
    if (n === null || n === undefined) return "–";
    return Number(n).toLocaleString("en", { maximumFractionDigits: digits === undefined ? 0 : digits });
  }
  function pct(x) { return x === null || x === undefined ? "–" : (100 * x).toFixed(1) + "%"; }
  function pts(x) { return x === null || x === undefined ? "–" : (x >= 0 ? "+" : "") + (100 * x).toFixed(1) + " pts"; }
  function sum(obj) { var s = 0; for (var k in obj) s += obj[k]; return s; }
  function setText(id, text) { document.getElementById(id).textContent = text; }
  function cell(tag, text, cls) {
    var el = document.createElement(tag); el.textContent = text; if (cls) el.className = cls; return el;
  }
  function fillPairs(id, obj, empty) {
    var body = document.querySelector("#" + id + " tbody"); body.textContent = "";
    var keys = Object.keys(obj);
    if (!keys.length) { var r = body.insertRow(); r.appendChild(cell("td", empty, "empty")); return; }
    keys.forEach(function (k) {
      var r = body.insertRow(); r.appendChild(cell("td", k)); r.appendChild(cell("td", fmt(obj[k])));
    });
  }

  function chart(id, labels, colours) {
    var el = document.getElementById(id);
    var s = [{}].concat(labels.map(function (l, i) { return { label: l, stroke: colours[i], width: 2 }; }));
    var data = [[]].concat(labels.map(function () { return []; }));
    return new uPlot({ width: Math.max(320, el.clientWidth - 4), height: 180, series: s,
                       scales: { x: { time: true } }, legend: { show: labels.length > 1 } }, data, el);
  }
  var charts = {
    events: chart("chart-events", ["events/s"], ["#2d6cdf"]),
    latency: chart("chart-latency", ["p50", "p95", "p99"], ["#1f8a4c", "#d08b16", "#c23b3b"]),
    lag: chart("chart-lag", ["lag"], ["#7a4cc2"])
  };
  window.addEventListener("resize", function () {
    Object.keys(charts).forEach(function (k) {
      var el = charts[k].root.parentNode; charts[k].setSize({ width: Math.max(320, el.clientWidth - 4), height: 180 });
    });
  });

  function push(key, value) { series[key].push(value); if (series[key].length > KEEP) series[key].shift(); }

  function render(s) {
    var offers = s.offers.reduce(function (a, o) { return a + o.count; }, 0);
    setText("events-per-s", fmt(s.events_per_s, 1));
    setText("events-total", fmt(s.events_total));
    setText("decisions-total", fmt(sum(s.decisions)));
    setText("offers-total", fmt(offers));
    var l = s.latency_s;
    setText("latency", [l.p50, l.p95, l.p99].map(function (x) { return x === null ? "–" : x.toFixed(3) + " s"; }).join(" / "));
    setText("lag-total", fmt(s.lag.total));
    setText("dead-letters-total", fmt(sum(s.dead_letters)));

    // offers: trigger rows, channel columns
    var channels = [], triggers = {}, table = document.getElementById("offers");
    s.offers.forEach(function (o) {
      if (channels.indexOf(o.channel) < 0) channels.push(o.channel);
      (triggers[o.trigger] = triggers[o.trigger] || {})[o.channel] = o.count;
    });
    channels.sort();
    var head = table.tHead; head.textContent = ""; var body = table.tBodies[0]; body.textContent = "";
    if (!s.offers.length) {
      body.insertRow().appendChild(cell("td", "no offer yet", "empty"));
    } else {
      var hr = head.insertRow(); hr.appendChild(cell("th", "trigger"));
      channels.forEach(function (c) { hr.appendChild(cell("th", c.toLowerCase())); });
      hr.appendChild(cell("th", "total"));
      Object.keys(triggers).sort().forEach(function (t) {
        var r = body.insertRow(); r.appendChild(cell("td", t)); var total = 0;
        channels.forEach(function (c) { var n = triggers[t][c] || 0; total += n; r.appendChild(cell("td", fmt(n))); });
        r.appendChild(cell("td", fmt(total)));
      });
    }

    var up = document.querySelector("#take-up tbody"); up.textContent = "";
    if (!s.take_up.length) {
      var er = up.insertRow(); var ec = cell("td", "no closed outcome yet", "empty"); ec.colSpan = 7; er.appendChild(ec);
    }
    s.take_up.forEach(function (row) {
      var r = up.insertRow();
      r.appendChild(cell("td", row.trigger === "(all)" ? "all triggers" : row.trigger));
      r.appendChild(cell("td", fmt(row.treated))); r.appendChild(cell("td", fmt(row.holdout)));
      r.appendChild(cell("td", pct(row.rate_treated))); r.appendChild(cell("td", pct(row.rate_holdout)));
      r.appendChild(cell("td", row.uplift === null ? "–" : pts(row.uplift) + " [" + pts(row.low) + ", " + pts(row.high) + "]"));
      r.appendChild(cell("td", row.verdict, "verdict-" + row.verdict.replace(/ /g, "-")));
    });

    fillPairs("outcomes", s.decisions, "no decision yet");
    fillPairs("reasons", s.reasons, "none yet");
    fillPairs("dead-letters", s.dead_letters, "none");
    fillPairs("lag", s.lag.partitions, "–");

    var now = Date.now() / 1000;
    push("t", now); push("eps", s.events_per_s); push("lag", s.lag.total);
    push("p50", l.p50); push("p95", l.p95); push("p99", l.p99);
    charts.events.setData([series.t, series.eps]);
    charts.latency.setData([series.t, series.p50, series.p95, series.p99]);
    charts.lag.setData([series.t, series.lag]);
    setText("updated", new Date().toLocaleTimeString());
    document.body.dataset.snapshots = String(Number(document.body.dataset.snapshots || 0) + 1);
  }

  function status(state, text) {
    var el = document.getElementById("status"); el.className = "status " + state; el.dataset.state = state; el.textContent = text;
  }
  var source = new EventSource("/dashboard/events");
  source.onopen = function () { status("live", "live"); };
  source.onerror = function () { status("reconnecting", "reconnecting…"); };
  source.onmessage = function (e) { status("live", "live"); render(JSON.parse(e.data)); };
})();
