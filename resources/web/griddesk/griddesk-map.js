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
  var gridLayer = null; // the layer holding every grid (griddesk.grids)
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

  var legendBox = null;

  function addLegend(html) {
    var legend = L.control({ position: "bottomright" });
    legend.onAdd = function () {
      var div = (legendBox = L.DomUtil.create("div", "griddesk-legend"));
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
      // The layer holds its own outline from here on; the page need not keep the source's
      // coordinates as well (a big city's grids are megabytes of them).
      feature.geometry = null;
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
      if (options.legend) {
        addLegend(options.legend);
      }
      if (options.selected) {
        highlight(options.selected);
      }
      // The layers are built: the data they were built from can go.
      window.griddeskData = null;
      connectBridge();
    },

    /* The customers as dots on one canvas of their own, redrawn after every pan and zoom from
     * typed arrays: no Leaflet object per customer, so a big city's 300k customers cost a few
     * megabytes and tens of milliseconds a redraw, not a marker each. packed is base64 of
     * little-endian int32 [lat * scale, lon * scale, ...]; the points from options.unmatchedFrom
     * on are in no grid and drawn red, over the others. */
    customers: function (packed, options) {
      var layer = new CustomerLayer(decodeInt32(packed), options || {});
      window.griddesk.lastCustomers = layer;
      return layer;
    },

    /* Colour the grids anew (another measure) without loading the page again: fills maps
     * each grid's code to its fill colour; legend is the legend box's new inner HTML. A
     * reloaded page would rebuild every grid and dot, and the browser keeps the old page's
     * memory for a while. */
    restyle: function (fills, legend) {
      Object.keys(layers).forEach(function (code) {
        var layer = layers[code];
        if (fills[code]) {
          layer.feature.properties.style = L.extend({}, layer.feature.properties.style, {
            fillColor: fills[code],
          });
          restyle(layer);
        }
      });
      if (legendBox && legend != null) {
        legendBox.innerHTML = legend;
      }
      return Object.keys(layers).length;
    },

    /* Draw these customers (packed as for griddesk.customers) instead of those shown: the app
     * fills a page built without them once it has read them. Returns how many there are. */
    setCustomers: function (packed, unmatchedFrom) {
      var layer = window.griddesk.lastCustomers;
      if (!layer) {
        return -1;
      }
      layer.setData(decodeInt32(packed), unmatchedFrom);
      return layer.size();
    },

    /* The grids of a feature collection as one layer, each styled as its properties say and
     * registered for tooltips, clicks and highlighting. */
    grids: function (data) {
      gridLayer = L.geoJson(data, {
        style: function (feature) {
          return feature.properties.style;
        },
        onEachFeature: function (feature, layer) {
          window.griddesk.register(feature, layer);
        },
      });
      return gridLayer;
    },

    /* Show these grids (a feature collection) and legend instead of those shown, outlining
     * the grid selected before if it is still there: the app's map read again after a change,
     * without loading the page again. Returns how many grids there are. */
    setGrids: function (data, legend) {
      var code = selected && selected.feature.properties.code;
      selected = null;
      layers = {};
      gridLayer.clearLayers();
      gridLayer.addData(data);
      if (legendBox && legend != null) {
        legendBox.innerHTML = legend;
      }
      if (code && layers[code]) {
        select(code);
      }
      return Object.keys(layers).length;
    },

    /* The map griddesk.init was given (null before). */
    map: function () {
      return theMap;
    },
  };

  function decodeInt32(packed) {
    var text = atob(packed);
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i += 1) {
      bytes[i] = text.charCodeAt(i);
    }
    return new Int32Array(bytes.buffer);
  }

  var MATCHED = [0x24, 0x42, 0x5f];
  var UNMATCHED = [0xb2, 0x18, 0x2b];
  var DOT_ALPHA = 0.7;
  // Above this many dots in view they are stamped into the canvas's pixels (no anti-aliasing,
  // but 300k take milliseconds); below it they are drawn as round, smooth circles.
  var STAMP_ABOVE = 4000;
  var PADDING = 0.1; // as Leaflet's own canvas: a little beyond the view, for panning
  var CUSTOMER_PANE = "griddeskCustomers";

  var CustomerLayer = L.Layer.extend({
    initialize: function (latLon, options) {
      this._scale = options.scale || 100000;
      // The last drawing, for tests and benchmarks: dots in view, how they were drawn, how long
      // it took and when it ended (ms since the epoch).
      this.drawn = 0;
      this.style = "";
      this.drawMs = 0;
      this.drawnAt = 0;
      this.setData(latLon, options.unmatchedFrom);
    },

    size: function () {
      return this._wx.length;
    },

    setData: function (latLon, unmatchedFrom) {
      var n = latLon.length / 2;
      var scale = this._scale;
      // Web Mercator at zoom 0 (256 px for the world), as Leaflet's EPSG3857 projects.
      this._wx = new Float64Array(n);
      this._wy = new Float64Array(n);
      var maxLat = L.Projection.SphericalMercator.MAX_LATITUDE;
      for (var k = 0; k < n; k += 1) {
        var lat = Math.max(Math.min(latLon[2 * k] / scale, maxLat), -maxLat);
        var lon = latLon[2 * k + 1] / scale;
        var sin = Math.sin((lat * Math.PI) / 180);
        this._wx[k] = 256 * (0.5 + lon / 360);
        this._wy[k] = 256 * (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI));
      }
      this._unmatchedFrom = unmatchedFrom == null ? n : unmatchedFrom;
      this._xs = this._ys = null;
      this._redraw();
    },

    onAdd: function (map) {
      var canvas = (this._canvas = L.DomUtil.create("canvas", "griddesk-customers"));
      canvas.style.pointerEvents = "none";
      L.DomUtil.addClass(canvas, "leaflet-zoom-" + (map._zoomAnimated ? "animated" : "hide"));
      // A pane of its own above the grids' (overlayPane, 400) and below the tooltips: the dots
      // stay on top whichever layer was added first.
      var pane = map.getPane(CUSTOMER_PANE);
      if (!pane) {
        pane = map.createPane(CUSTOMER_PANE);
        pane.style.zIndex = 450;
        pane.style.pointerEvents = "none";
      }
      pane.appendChild(canvas);
      this._redraw();
    },

    onRemove: function () {
      L.DomUtil.remove(this._canvas);
      this._canvas = null;
      this._image = this._pixels = null;
    },

    getEvents: function () {
      // moveend follows every zoom too: one redraw each.
      var events = { moveend: this._redraw, resize: this._redraw };
      if (this._map._zoomAnimated) {
        events.zoomanim = this._animateZoom;
      }
      return events;
    },

    _animateZoom: function (e) {
      // As Leaflet's image overlay: scale the drawn canvas while the zoom animates.
      var scale = this._map.getZoomScale(e.zoom);
      var offset = this._map._latLngBoundsToNewLayerBounds(this._bounds, e.zoom, e.center).min;
      L.DomUtil.setTransform(this._canvas, offset, scale);
    },

    _redraw: function () {
      var map = this._map;
      var canvas = this._canvas;
      if (!map || !canvas) {
        return;
      }
      var size = map.getSize();
      var pad = size.multiplyBy(PADDING).round();
      var topLeft = map.containerPointToLayerPoint(pad.multiplyBy(-1)).round();
      var width = size.x + 2 * pad.x;
      var height = size.y + 2 * pad.y;
      this._bounds = L.latLngBounds(
        map.layerPointToLatLng(topLeft),
        map.layerPointToLatLng(topLeft.add([width, height]))
      );
      var ratio = window.devicePixelRatio || 1;
      var w = Math.round(width * ratio);
      var h = Math.round(height * ratio);
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
      canvas.style.width = width + "px";
      canvas.style.height = height + "px";
      L.DomUtil.setPosition(canvas, topLeft);

      var started = performance.now();
      var ctx = canvas.getContext("2d");
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, w, h);
      var zoomScale = Math.pow(2, map.getZoom()) * ratio;
      var origin = map.getPixelOrigin().add(topLeft).multiplyBy(ratio);
      var radius = dotRadius(map.getZoom()) * ratio;
      var xs = (this._xs = this._xs || new Float32Array(this._wx.length));
      var ys = (this._ys = this._ys || new Float32Array(this._wx.length));
      var wx = this._wx;
      var wy = this._wy;
      var m = 0; // in view
      var firstRed = -1;
      var from = this._unmatchedFrom;
      for (var k = 0; k < wx.length; k += 1) {
        var x = wx[k] * zoomScale - origin.x;
        var y = wy[k] * zoomScale - origin.y;
        if (x > -radius && y > -radius && x < w + radius && y < h + radius) {
          if (k >= from && firstRed < 0) {
            firstRed = m;
          }
          xs[m] = x;
          ys[m] = y;
          m += 1;
        }
      }
      var red = firstRed < 0 ? m : firstRed;
      if (m > STAMP_ABOVE) {
        this._stamp(ctx, w, h, radius, xs, ys, red, m);
        this.style = "pixels";
      } else {
        this._circles(ctx, radius, xs, ys, 0, red, MATCHED);
        this._circles(ctx, radius, xs, ys, red, m, UNMATCHED);
        this.style = "circles";
      }
      this.drawn = m;
      this.drawMs = performance.now() - started;
      this.drawnAt = Date.now();
    },

    _circles: function (ctx, radius, xs, ys, from, to, rgb) {
      if (to <= from) {
        return;
      }
      ctx.fillStyle = "rgba(" + rgb.join(",") + "," + DOT_ALPHA + ")";
      ctx.beginPath();
      for (var i = from; i < to; i += 1) {
        ctx.moveTo(xs[i] + radius, ys[i]);
        ctx.arc(xs[i], ys[i], radius, 0, 2 * Math.PI);
      }
      ctx.fill();
    },

    _stamp: function (ctx, w, h, radius, xs, ys, red, m) {
      // One pixel buffer, kept while the canvas keeps its size: a new one each redraw is
      // megabytes of garbage per pan.
      var image = this._image;
      if (!image || image.width !== w || image.height !== h) {
        image = this._image = ctx.createImageData(w, h);
        this._pixels = new Uint32Array(image.data.buffer);
      }
      var pixels = this._pixels;
      pixels.fill(0);
      // The disc's pixel offsets, from the centre's pixel.
      var r = Math.max(radius, 0.75);
      var reach = Math.ceil(r);
      var dx = [];
      var dy = [];
      for (var oy = -reach; oy <= reach; oy += 1) {
        for (var ox = -reach; ox <= reach; ox += 1) {
          if (ox * ox + oy * oy <= r * r + 0.25) {
            dx.push(ox);
            dy.push(oy);
          }
        }
      }
      var alpha = Math.round(DOT_ALPHA * 255);
      var colours = [MATCHED, UNMATCHED].map(function (c) {
        // ImageData is RGBA in memory: on little-endian machines (every one Qt ships for) that
        // is 0xAABBGGRR read as one 32-bit word.
        return ((alpha << 24) | (c[2] << 16) | (c[1] << 8) | c[0]) >>> 0;
      });
      for (var i = 0; i < m; i += 1) {
        var colour = i < red ? colours[0] : colours[1];
        var cx = Math.round(xs[i]);
        var cy = Math.round(ys[i]);
        for (var j = 0; j < dx.length; j += 1) {
          var px = cx + dx[j];
          var py = cy + dy[j];
          if (px >= 0 && py >= 0 && px < w && py < h) {
            pixels[py * w + px] = colour;
          }
        }
      }
      ctx.putImageData(image, 0, 0);
    },
  });

  window.griddeskHighlight = highlight;
})();
