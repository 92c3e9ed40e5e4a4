/* GridDesk grid map helpers (part of GridDesk, not a third-party file).
 *
 * Loaded in the page head after Leaflet and before folium's scripts. folium's GeoJson layer calls
 * griddesk.register(feature, layer) for every grid; the page calls griddesk.init(map, options)
 * once the layers exist. The page talks to its host through two window functions:
 *
 *   window.griddeskSelect(code)     called when the user clicks a grid, if defined. Inside the
 *                                   desktop app it is set to call bridge.gridClicked(code) on the
 *                                   QWebChannel object registered as "bridge".
 *   window.griddeskHighlight(code)  defined here: highlights the grid and pans to it; returns
 *                                   whether the grid is on the map. A falsy code clears it.
 *
 * Without Qt (an exported file in a browser) the page works the same, with no host to tell.
 */
(function () {
  "use strict";

  var layers = {}; // grid code -> Leaflet layer
  var selected = null;
  var theMap = null;
  var SELECTED = { weight: 4, color: "#0b5cd5", opacity: 1, fillOpacity: 0.8 };
  var HOVER = { weight: 3, color: "#1b1b1b", opacity: 1 };

  function restyle(layer) {
    var base = layer.feature.properties.style;
    layer.setStyle(layer === selected ? L.extend({}, base, SELECTED) : base);
  }

  function select(code) {
    var layer = (code && layers[code]) || null;
    var previous = selected;
    selected = layer;
    if (previous && previous !== layer) {
      restyle(previous);
    }
    if (layer) {
      restyle(layer);
      layer.bringToFront();
    }
    return layer;
  }

  function highlight(code) {
    var layer = select(code);
    if (!layer || !theMap) {
      return !!layer;
    }
    var bounds = layer.getBounds();
    if (theMap.getBoundsZoom(bounds) < theMap.getZoom()) {
      theMap.fitBounds(bounds, { animate: false });
    } else {
      theMap.panTo(bounds.getCenter(), { animate: false });
    }
    return true;
  }

  function dotRadius(zoom) {
    return zoom >= 16 ? 3.5 : zoom >= 14 ? 2.5 : zoom >= 13 ? 1.8 : 1.2;
  }

  function addLegend(html) {
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = L.DomUtil.create("div", "griddesk-legend");
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    legend.addTo(theMap);
  }

  function connectBridge() {
    if (typeof qt === "undefined" || !qt.webChannelTransport || typeof QWebChannel === "undefined") {
      return;
    }
    new QWebChannel(qt.webChannelTransport, function (channel) {
      var bridge = channel.objects.bridge;
      if (bridge && bridge.gridClicked) {
        window.griddeskSelect = function (code) {
          bridge.gridClicked(code);
        };
      }
    });
  }

  window.griddesk = {
    register: function (feature, layer) {
      var code = feature.properties.code;
      layers[code] = layer;
      if (feature.properties.tip) {
        layer.bindTooltip(feature.properties.tip, { sticky: true, className: "griddesk-tip" });
      }
      layer.on({
        click: function () {
          select(code);
          if (typeof window.griddeskSelect === "function") {
            window.griddeskSelect(code);
          }
        },
        mouseover: function () {
          if (layer !== selected) {
            layer.setStyle(HOVER);
          }
        },
        mouseout: function () {
          restyle(layer);
        },
      });
    },

    init: function (map, options) {
      theMap = map;
      options = options || {};
      if (options.bounds) {
        // Not animated: a zoom animation still running would swallow the first highlight.
        theMap.fitBounds(options.bounds, { padding: [10, 10], animate: false });
      }
      if (options.legend) {
        addLegend(options.legend);
      }
      if (options.selected) {
        highlight(options.selected);
      }
      connectBridge();
    },

    /* Customer points as circles on one canvas. data is a flat array of integers
     * [lat * scale, lon * scale, ...]; options.unmatched lists the indices of points in no grid;
     * options.cluster groups them with Leaflet.markercluster (bulk-added, in chunks). */
    customers: function (data, options) {
      options = options || {};
      var scale = options.scale || 100000;
      var flagged = {};
      (options.unmatched || []).forEach(function (k) {
        flagged[k] = true;
      });
      var renderer = L.canvas({ padding: 0.5 });
      var markers = new Array(data.length / 2);
      for (var i = 0, k = 0; i < data.length; i += 2, k += 1) {
        var colour = flagged[k] ? "#b2182b" : "#24425f";
        markers[k] = L.circleMarker([data[i] / scale, data[i + 1] / scale], {
          renderer: renderer,
          radius: 3,
          stroke: false,
          fillColor: colour,
          fillOpacity: 0.7,
          interactive: false,
        });
      }
      if (options.cluster && L.markerClusterGroup) {
        var group = L.markerClusterGroup({
          chunkedLoading: true,
          maxClusterRadius: 60,
          showCoverageOnHover: false,
          spiderfyOnMaxZoom: false,
          disableClusteringAtZoom: options.disableClusteringAtZoom || 17,
        });
        // Added once the group is on the map: addLayers on a group off the map checks each
        // marker against all the pending ones (quadratic: 3.5 s for 60k), on the map it does
        // not, and chunkedLoading keeps the page responsive meanwhile.
        group.once("add", function () {
          group.addLayers(markers);
        });
        return group;
      }
      // Unclustered: small dots when the whole city is in view, so the grid colours stay
      // readable, growing as the user zooms in.
      var layer = L.layerGroup(markers);
      var onMap = null;
      var resize = function () {
        var r = dotRadius(onMap.getZoom());
        for (var j = 0; j < markers.length; j += 1) {
          markers[j].setRadius(r);
        }
      };
      layer.on("add", function () {
        onMap = layer._map;
        onMap.on("zoomend", resize);
        resize();
      });
      layer.on("remove", function () {
        if (onMap) {
          onMap.off("zoomend", resize);
        }
        onMap = null;
      });
      return layer;
    },
  };

  window.griddeskHighlight = highlight;
})();
