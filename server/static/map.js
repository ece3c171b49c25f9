// The household map (/xa/ban-do, server/maps): one circle per household from the page's JSON
// data block, coloured by verdict, with a popup naming it and linking to its questionnaire.
// Tiles come only from the configured URL (data-tile-url on #map); without one, or when none of
// its tiles loads, the map is a plain coordinate plot: the same circles on an empty background
// with a latitude/longitude grid and a scale.  Popups are built from the page's <template> with
// textContent (no markup from the data).  Leaflet is served from this site (static/vendor).
"use strict";
(() => {
  const container = document.getElementById("map");
  const block = document.getElementById("map-data");
  if (!container || !block || !window.L) return;
  const data = JSON.parse(block.textContent);
  const households = data.households;
  const verdictLabels = Object.fromEntries(data.verdicts.map((v) => [v.key, v.label]));
  if (!households.length) return;
  const lang = document.documentElement.lang || "vi";
  const settings = container.dataset;
  const tileMaxZoom = Number(settings.tileMaxZoom) || 19;

  const map = L.map(container, {
    maxZoom: settings.tileUrl ? tileMaxZoom : 21,
    zoomControl: false, // bottom right: the top and left edges carry the grid's labels
  });
  L.control.zoom({ position: "bottomright" }).addTo(map);
  L.control.scale({ imperial: false, position: "bottomleft" }).addTo(map);

  // Poor households last, so they are drawn on top where circles overlap.
  const order = ["undecided", "neither", "near_poor", "poor"];
  const groups = {};
  for (const verdict of order) groups[verdict] = L.featureGroup().addTo(map);
  const template = document.getElementById("map-popup");
  const number = new Intl.NumberFormat(lang, { maximumFractionDigits: 1 });

  function popupFor(household) {
    const node = template.content.firstElementChild.cloneNode(true);
    const field = (name) => node.querySelector(`[data-field="${name}"]`);
    field("head_name").textContent = household.head_name;
    field("code").textContent = household.code || "—";
    field("village_name").textContent = household.village_name || "—";
    field("verdict_label").textContent = verdictLabels[household.verdict] || "";
    field(household.decided ? "review" : "decided").remove();
    if (household.accuracy === null || household.accuracy === undefined) {
      field("accuracy-label").remove();
      field("accuracy").remove();
    } else {
      field("accuracy").textContent = `±${number.format(household.accuracy)} m`;
    }
    const link = field("link");
    if (household.submission_url) link.href = household.submission_url;
    else link.remove();
    return node;
  }

  // Households at the very same point (one circle hides the others): each one's popup names
  // them all, its own first.
  const atPoint = new Map();
  for (const household of households) {
    const key = `${household.lat} ${household.lon}`;
    if (!atPoint.has(key)) atPoint.set(key, []);
    atPoint.get(key).push(household);
  }

  function popupOf(household) {
    const together = atPoint.get(`${household.lat} ${household.lon}`);
    if (together.length === 1) return popupFor(household);
    const node = document.createElement("div");
    node.append(popupFor(household));
    const heading = document.createElement("p");
    heading.className = "map-popup-together";
    heading.textContent = (settings.together || "+{n}").replace("{n}", together.length - 1);
    node.append(heading);
    for (const other of together) if (other !== household) node.append(popupFor(other));
    return node;
  }

  // Without a mouse: each circle is in the Tab order, named for a screen reader (head, code,
  // verdict), and Enter or Space opens its popup with the focus on its link; Escape closes it
  // (Leaflet) and the focus goes back to the circle.
  function nameOf(household) {
    return [household.head_name, household.code, verdictLabels[household.verdict]]
      .filter(Boolean)
      .join(" — ");
  }

  let opened = null; // the circle whose popup is open
  for (const household of households) {
    const group = groups[household.verdict] || groups.undecided;
    const marker = L.circleMarker([household.lat, household.lon], {
      radius: 8,
      className: `household verdict-${household.verdict}`,
    }).bindPopup(() => popupOf(household), { maxWidth: 280, maxHeight: 320 });
    marker.on("add", () => {
      const element = marker.getElement();
      element.setAttribute("tabindex", "0");
      element.setAttribute("role", "button");
      element.setAttribute("aria-label", nameOf(household));
      element.dataset.code = household.code || "";
      element.addEventListener("keydown", (event) => {
        if (event.key !== "Enter" && event.key !== " ") return;
        event.preventDefault();
        marker.openPopup();
        const popup = marker.getPopup().getElement();
        const link = popup?.querySelector(".map-popup a[href]");
        if (link) link.focus({ preventScroll: true });
      });
    });
    marker.on("popupopen", () => {
      opened = marker;
    });
    marker.addTo(group);
  }
  // Escape from inside a popup (Leaflet listens for it only when the map itself has the
  // focus): the popup closes and the focus goes back to its circle.
  function closeFromInside(event) {
    if (!event.target.closest || !event.target.closest(".leaflet-popup")) return;
    const source = opened;
    map.closePopup();
    const element = source && source.getElement();
    if (element && element.isConnected) element.focus({ preventScroll: true });
  }
  container.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closeFromInside(event);
  });
  map.fitBounds(L.latLngBounds(households.map((h) => [h.lat, h.lon])).pad(0.08), {
    maxZoom: 17,
  });

  // The legend's boxes show or hide a verdict's households.
  for (const box of document.querySelectorAll(".map-legend input[data-verdict]")) {
    box.addEventListener("change", () => {
      const group = groups[box.dataset.verdict];
      if (!group) return;
      if (box.checked) group.addTo(map);
      else map.removeLayer(group);
    });
  }

  if (settings.tileUrl) {
    const tiles = L.tileLayer(settings.tileUrl, {
      attribution: settings.tileAttribution || "",
      subdomains: settings.tileSubdomains || "abc",
      maxZoom: tileMaxZoom,
    });
    let loaded = 0;
    let failed = 0;
    let gaveUp = false;
    const giveUp = () => {
      if (gaveUp || loaded) return;
      gaveUp = true;
      map.removeLayer(tiles);
      map.setMaxZoom(21);
      plainPlot("map-note-failed");
    };
    tiles.on("tileload", () => {
      loaded += 1;
    });
    tiles.on("tileerror", () => {
      failed += 1;
    });
    // "load": every tile in view has answered; none loaded means the server cannot be reached.
    tiles.on("load", () => {
      if (failed) giveUp();
    });
    window.setTimeout(giveUp, 15000); // nothing at all after 15 s on a bad connection
    tiles.addTo(map);
  } else {
    plainPlot("map-note-none");
  }

  function plainPlot(noteId) {
    container.classList.add("map-plain");
    const note = document.getElementById(noteId);
    if (note) note.hidden = false;
    map.createPane("grid"); // .leaflet-grid-pane: under the circles (map.css)
    const renderer = L.svg({ pane: "grid" });
    const grid = L.layerGroup().addTo(map);
    const suffix = { lat: settings.north || "°", lon: settings.east || "°" };

    // A round step (1, 2 or 5 × a power of ten) giving about ``lines`` grid lines.
    function roundStep(span, lines) {
      const raw = span / Math.max(1, lines);
      const power = 10 ** Math.floor(Math.log10(raw));
      const m = raw / power;
      return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * power;
    }

    function label(text, kind, at) {
      const span = document.createElement("span");
      span.textContent = text;
      const icon = L.divIcon({ className: `map-grid-label ${kind}`, html: span, iconSize: null });
      L.marker(at, { icon, pane: "grid", interactive: false, keyboard: false }).addTo(grid);
    }

    function draw() {
      grid.clearLayers();
      const bounds = map.getBounds();
      const size = map.getSize();
      // Labels need room: a latitude every ~70 px, a longitude every ~110 px.
      const room = { lat: size.y / 70, lon: size.x / 110 };
      const [south, north] = [bounds.getSouth(), bounds.getNorth()];
      const [west, east] = [bounds.getWest(), bounds.getEast()];
      for (const [kind, low, high] of [
        ["lat", south, north],
        ["lon", west, east],
      ]) {
        if (!(high > low)) continue;
        const step = roundStep(high - low, room[kind]);
        const digits = Math.max(0, -Math.floor(Math.log10(step) + 1e-9));
        const format = new Intl.NumberFormat(lang, {
          minimumFractionDigits: digits,
          maximumFractionDigits: digits,
        });
        const first = Math.ceil(low / step);
        const last = Math.floor(high / step);
        if (last - first > 40) continue;
        for (let i = first; i <= last; i += 1) {
          const value = i * step;
          const line =
            kind === "lat"
              ? [
                  [value, west],
                  [value, east],
                ]
              : [
                  [south, value],
                  [north, value],
                ];
          L.polyline(line, { renderer, interactive: false, className: "map-grid" }).addTo(grid);
          const at = kind === "lat" ? [value, west] : [north, value];
          const point = map.latLngToContainerPoint(at);
          // No label under the scale (bottom left) or cut by the right edge.
          if (kind === "lat" ? point.y > size.y - 40 : point.x > size.x - 80) continue;
          label(`${format.format(value)}${value >= 0 ? suffix[kind] : "°"}`, kind, at);
        }
      }
    }

    map.on("moveend", draw);
    draw();
  }
})();
