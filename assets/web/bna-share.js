// Draws the exported BNA results (window.BNA_DATA, from bna-data.js) with Leaflet. Data comes
// in a script rather than fetched JSON so the page works from file:// without a server.
(function () {
  "use strict";
  var data = window.BNA_DATA;
  var body = document.body;
  if (!data || typeof L === "undefined") {
    body.setAttribute("data-bna-error", "missing bna-data.js or leaflet/leaflet.js");
    return;
  }

  // The desktop app's colours: blue low stress, red high, orange legacy 2, grey no bikes.
  function stressColor(s) {
    if (s === 1) return "#1f78b4";
    if (s === 2) return "#fd8d3c";
    if (s >= 3) return "#e31a1c";
    return "#9e9e9e";
  }
  var RAMP = [[0, [0x44, 0x01, 0x54]], [25, [0x3b, 0x52, 0x8b]], [50, [0x21, 0x91, 0x8c]],
              [75, [0x5e, 0xc9, 0x62]], [100, [0xfd, 0xe7, 0x25]]];
  function scoreColor(v) {
    if (typeof v !== "number") return "#cccccc";
    var s = Math.max(0, Math.min(100, v));
    for (var i = 0; i < RAMP.length - 1; i++) {
      var a = RAMP[i], b = RAMP[i + 1];
      if (s <= b[0]) {
        var t = (s - a[0]) / (b[0] - a[0]);
        var c = a[1].map(function (x, k) { return Math.round(x + (b[1][k] - x) * t); });
        return "rgb(" + c.join(",") + ")";
      }
    }
    return "rgb(253,231,37)";
  }
  function fmt(v) { return typeof v === "number" ? v.toFixed(2) : "–"; }
  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c];
    });
  }
  function stressText(s) { return s === undefined ? "no bikes" : (s === 1 ? "low (1)" : "high (" + s + ")"); }

  document.title = "BNA — " + data.title;
  document.getElementById("place").textContent = data.title;
  var overall = data.scores.filter(function (r) { return r.score_id === "overall_score"; })[0];
  var overallValue = overall ? (overall.score_normalized !== null ? overall.score_normalized : overall.score_original) : null;
  var scoreEl = document.getElementById("overall-score");
  scoreEl.textContent = fmt(overallValue);
  if (overallValue !== null) scoreEl.setAttribute("data-score", String(overallValue));

  var table = document.getElementById("scores");
  var rows = ['<tr class="head"><td>score</td><td class="v">value</td></tr>'];
  // bna writes the rows in reading order, each group before its members, with human labels.
  data.scores.forEach(function (r) {
    var v = r.score_normalized !== null ? r.score_normalized : r.score_original;
    var cls = r.parent ? "sub" : "";
    rows.push('<tr class="' + cls + '" data-score-id="' + esc(r.score_id) + '" title="' +
              esc(r.measures || r.human_explanation || "") + '"><td>' +
              esc(r.label || r.score_id) + '</td><td class="v">' + fmt(v) + "</td></tr>");
  });
  table.innerHTML = rows.join("");
  document.getElementById("meta").textContent = data.engine + " · analysed " + data.finished_at +
    " · population: " + data.population_source;

  var ATTRIBUTION = "© OpenStreetMap contributors";
  var map = L.map("map", { preferCanvas: false });
  map.attributionControl.addAttribution(ATTRIBUTION);

  var boundary = L.geoJSON(data.layers.boundary, {
    style: { color: "#222", weight: 2, dashArray: "6 4", fill: false }, interactive: false
  });
  var blocks = L.geoJSON(data.layers.blocks, {
    style: function (f) {
      return { fillColor: scoreColor(f.properties.overall_score), fillOpacity: 0.55, color: "#ffffff", weight: 0.5 };
    },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindPopup("<b>Block " + esc(p.geoid20 || p.id) + "</b><br>BNA score " + fmt(p.overall_score) +
        "<br>people " + fmt(p.pop_score) + " · opportunity " + fmt(p.opportunity_score) +
        "<br>core services " + fmt(p.core_services_score) + " · recreation " + fmt(p.recreation_score) +
        "<br>population " + (p.pop20 === undefined ? "–" : Math.round(p.pop20)));
    }
  });
  var network = L.geoJSON(data.layers.network, {
    style: function (f) { return { color: stressColor(f.properties.stress), weight: 2.5, opacity: 0.9 }; },
    onEachFeature: function (f, layer) {
      var p = f.properties;
      layer.bindPopup("<b>" + esc(p.name || "(unnamed)") + "</b><br>" + esc(p.functional_class || "") +
        "<br>stress " + stressText(p.stress) + "<br>forward " + stressText(p.ft_seg_stress) +
        " · backward " + stressText(p.tf_seg_stress));
    }
  });
  blocks.addTo(map);
  network.addTo(map);
  boundary.addTo(map);
  var frame = boundary.getLayers().length ? boundary.getBounds() : network.getBounds();
  if (frame.isValid()) map.fitBounds(frame, { padding: [10, 10] });
  else map.setView([0, 0], 2);

  // Optional basemap: off by default so the page needs no network.
  var basemap = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
    maxZoom: 19, attribution: ATTRIBUTION
  });
  function toggle(id, layer) {
    document.getElementById(id).addEventListener("change", function (e) {
      if (e.target.checked) layer.addTo(map); else map.removeLayer(layer);
      if (layer === basemap && e.target.checked) layer.bringToBack();
    });
  }
  toggle("show-network", network);
  toggle("show-blocks", blocks);
  toggle("show-basemap", basemap);

  // For tests and scripts: how much was drawn.
  body.setAttribute("data-drawn-network", String(network.getLayers().length));
  body.setAttribute("data-drawn-blocks", String(blocks.getLayers().length));
  body.setAttribute("data-bna-ready", "true");
})();
