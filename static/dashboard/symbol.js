/* The symbol page: candles and volume from /api/v1/klines/ (older pages as the view reaches the left edge), the
   forming candle folded from the 1m stream, overlays and RSI/MACD panes, snapshots and recent signals. */
"use strict";

(() => {
  const page = document.getElementById("symbol-page");
  const symbol = page.dataset.symbol;
  const storedTimeframes = new Set(page.dataset.historyTimeframes.split(" "));
  const params = new URLSearchParams(location.search);
  let interval = page.dataset.interval;
  const container = document.getElementById("chart");
  const chartStatus = document.getElementById("chart-status");
  const legend = document.getElementById("legend");
  const INTERVAL_SECONDS = { "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400, "1w": 604800 };
  const FIRST_MONDAY = 4 * 86400; // 1970-01-05: weeks open on Mondays, as on Binance
  const PAGE_SIZE = 500;
  const HISTORY_PAGE_SIZE = 1000; // the indicator history API's largest page
  const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  const UP = "#26a69a";
  const DOWN = "#ef5350";
  const GUIDE = dark ? "#8d96a0" : "#656d76";

  // Each study: the outputs it draws (names of the indicator history API), and whether it takes a pane of its own.
  const STUDIES = {
    ema: {
      lines: [["ema_21", "EMA 21", "#f0b90b"], ["ema_50", "EMA 50", "#2962ff"], ["ema_200", "EMA 200", "#ab47bc"]],
    },
    sma: {
      lines: [["sma_20", "SMA 20", "#ff7043"], ["sma_50", "SMA 50", "#29b6f6"], ["sma_200", "SMA 200", "#8d6e63"]],
    },
    bb: {
      lines: [
        ["bb_upper", "BB upper", "#26a69a"],
        ["bb_middle", "BB middle", "#78909c"],
        ["bb_lower", "BB lower", "#26a69a"],
      ],
    },
    rsi: { pane: true, lines: [["rsi_14", "RSI 14", "#7e57c2"]], guides: [30, 70] },
    macd: {
      pane: true,
      histogram: ["macd_hist", "MACD hist"],
      lines: [["macd", "MACD", "#2962ff"], ["macd_signal", "Signal", "#ff6d00"]],
    },
  };

  const LC = window.LightweightCharts;
  const chart = LC.createChart(container, {
    autoSize: true,
    layout: { background: { color: "transparent" }, textColor: dark ? "#d1d4dc" : "#1f2328" },
    grid: {
      vertLines: { color: dark ? "#2a2e39" : "#eef0f3" },
      horzLines: { color: dark ? "#2a2e39" : "#eef0f3" },
    },
    timeScale: { timeVisible: true, secondsVisible: false },
  });
  const candles = chart.addSeries(LC.CandlestickSeries, {
    upColor: UP,
    downColor: DOWN,
    borderVisible: false,
    wickUpColor: UP,
    wickDownColor: DOWN,
  });
  const volume = chart.addSeries(LC.HistogramSeries, { priceFormat: { type: "volume" }, priceScaleId: "" });
  volume.priceScale().applyOptions({ scaleMargins: { top: 0.8, bottom: 0 } });
  candles.priceScale().applyOptions({ scaleMargins: { top: 0.1, bottom: 0.25 } });
  const markers = LC.createSeriesMarkers(candles, []);

  let loading = 0; // the generation of the chart's data: each interval switch starts a new one
  let bars = []; // the loaded candles, oldest first; the newest may be forming
  let settled = null; // the newest bar made of closed minutes only
  let settledThrough = 0; // the open time of the newest minute counted in `settled`
  let formingMinute = null; // the stream's open 1m candle, counted on top of `settled`
  let olderLoading = false;
  let olderExhausted = false;
  let values = new Map(); // bar time -> indicator outputs
  let valuesReady = null; // the promise of `values` for the loaded bars, once a study asked for them
  let valuesError = "";
  let signals = [];
  const shown = new Map(); // study name -> its series, each {key, label, color, series}

  async function fetchJson(url) {
    const response = await fetch(url);
    const data = await response.json();
    if (!response.ok) throw new Error((data.error && data.error.message) || `Error ${response.status}`);
    return data;
  }

  function bar(row) {
    return {
      time: Math.floor(row[0] / 1000),
      open: Number(row[1]),
      high: Number(row[2]),
      low: Number(row[3]),
      close: Number(row[4]),
      volume: Number(row[5]),
    };
  }

  function volumeBar(b) {
    return { time: b.time, value: b.volume, color: b.close >= b.open ? `${UP}80` : `${DOWN}80` };
  }

  function bucketStart(time) {
    const origin = interval === "1w" ? FIRST_MONDAY : 0;
    return time - ((time - origin) % INTERVAL_SECONDS[interval]);
  }

  function showBars() {
    candles.setData(bars);
    volume.setData(bars.map(volumeBar));
    showMarkers();
    container.dataset.candles = String(bars.length);
    container.dataset.first = bars.length ? String(bars[0].time * 1000) : "";
  }

  async function loadCandles() {
    const ticket = ++loading;
    const wanted = interval;
    container.dataset.state = "loading";
    chartStatus.textContent = "";
    chartStatus.classList.remove("error");
    Object.assign(container.dataset, { candles: "", first: "" });
    bars = [];
    settled = formingMinute = valuesReady = null;
    values = new Map();
    valuesError = "";
    olderExhausted = olderLoading = false;
    drawStudies();
    let lastMinute;
    try {
      // The newest bar holds the minutes stored when it was read: the last of them says where the stream goes on.
      [bars, lastMinute] = await Promise.all([
        fetchJson(`/api/v1/klines/${symbol}/?interval=${wanted}&limit=${PAGE_SIZE}`).then((rows) => rows.map(bar)),
        fetchJson(`/api/v1/klines/${symbol}/?interval=1m&limit=1`),
      ]);
    } catch (error) {
      if (ticket !== loading) return;
      chartStatus.textContent = error.message;
      chartStatus.classList.add("error");
      container.dataset.state = "error";
      return;
    }
    if (ticket !== loading) return; // a newer interval was asked for meanwhile
    showBars();
    chart.timeScale().resetTimeScale();
    if (bars.length) {
      settled = bars[bars.length - 1];
      settledThrough = lastMinute.length ? bar(lastMinute[0]).time : settled.time;
      showOhlc(settled);
    } else {
      chartStatus.textContent = "No candles stored yet.";
    }
    container.dataset.interval = wanted;
    container.dataset.state = "ready";
    if (shown.size) refreshStudies();
  }

  /* The page before the first loaded candle, when the view reaches the left edge; until one comes back empty. */
  async function loadOlder() {
    if (olderLoading || olderExhausted || !bars.length || container.dataset.state !== "ready") return;
    const ticket = loading;
    const first = bars[0].time;
    olderLoading = true;
    let older;
    try {
      const url = `/api/v1/klines/${symbol}/?interval=${interval}&end=${first * 1000 - 1}&limit=${PAGE_SIZE}`;
      older = (await fetchJson(url)).map(bar).filter((b) => b.time < first);
    } catch {
      if (ticket === loading) olderLoading = false; // tried again at the next scroll
      return;
    }
    if (ticket !== loading) return;
    if (older.length) {
      // Keep the same candles in view: their logical indexes move by what was put in front of them.
      const range = chart.timeScale().getVisibleLogicalRange();
      bars = [...older, ...bars];
      showBars();
      if (range) {
        chart.timeScale().setVisibleLogicalRange({ from: range.from + older.length, to: range.to + older.length });
      }
      if (valuesReady) requestValues(older[0].time, first - 1);
    } else {
      olderExhausted = true;
    }
    olderLoading = false;
  }

  /* A 1m kline from the stream, folded into the newest bar of the interval shown: the bar's closed minutes plus
     the forming one, so that each minute counts once however often it is updated. */
  function onKline(k) {
    if (!settled) return;
    const minute = bar([k.t, k.o, k.h, k.l, k.c, k.v]);
    if (minute.time <= settledThrough) return; // stored when the page was read, or a late repeat
    const time = bucketStart(minute.time);
    if (time < settled.time) return;
    if (formingMinute && formingMinute.time < minute.time) settle(formingMinute); // its closing update was lost
    const closing = time > settled.time ? settled.time : null;
    if (closing !== null) settled = { time, open: null, high: -Infinity, low: Infinity, close: null, volume: 0 };
    formingMinute = null;
    if (k.x) settle(minute);
    else formingMinute = minute;
    const newest = formingMinute ? fold(settled, formingMinute) : settled;
    if (newest.time === bars[bars.length - 1].time) bars[bars.length - 1] = newest;
    else bars.push(newest);
    candles.update(newest);
    volume.update(volumeBar(newest));
    container.dataset.candles = String(bars.length);
    showOhlc(newest);
    document.getElementById("symbol-price").textContent = Dashboard.price(newest.close);
    if (closing !== null && shown.size) barClosed(closing);
  }

  function fold(into, minute) {
    return {
      time: into.time,
      open: into.open === null ? minute.open : into.open,
      high: Math.max(into.high, minute.high),
      low: Math.min(into.low, minute.low),
      close: minute.close,
      volume: into.volume + minute.volume,
    };
  }

  function settle(minute) {
    settled = fold(settled, minute);
    settledThrough = minute.time;
  }

  /* Values come from the indicator history API where the timeframe has one, else computed here from the closed
     bars loaded (all of them, whatever from and to say: older pages change the first values of the averages). */
  async function loadValues(ticket, from, to) {
    if (ticket !== loading) return;
    if (!storedTimeframes.has(interval)) {
      const now = Date.now() / 1000;
      const closed = bars.filter((b) => b.time < settled.time || b.time + INTERVAL_SECONDS[interval] <= now);
      const columns = Object.entries(Indicators.compute(closed.map((b) => b.close)));
      values = new Map(
        closed.map((b, i) => [b.time, Object.fromEntries(columns.map(([key, column]) => [key, column[i]]))]),
      );
      return;
    }
    let start = from * 1000;
    for (;;) {
      const query = `timeframe=${interval}&start=${start}&end=${to * 1000}&limit=${HISTORY_PAGE_SIZE}`;
      const rows = await fetchJson(`/api/v1/indicators/${symbol}/?${query}`);
      if (ticket !== loading) return;
      for (const row of rows) values.set(Date.parse(row.open_time) / 1000, row.values);
      if (rows.length < HISTORY_PAGE_SIZE) return;
      start = Date.parse(rows[rows.length - 1].open_time) + 1;
    }
  }

  /* Loads the values of the bars from..to after any load under way, then draws the studies. */
  function requestValues(from, to) {
    const ticket = loading;
    valuesReady = (valuesReady || Promise.resolve())
      .then(() => loadValues(ticket, from, to))
      .catch((error) => {
        if (ticket === loading) valuesError = error.message;
      });
    valuesReady.then(drawStudies);
  }

  function refreshStudies() {
    if (!bars.length) return;
    if (valuesReady) valuesReady.then(drawStudies);
    else requestValues(bars[0].time, bars[bars.length - 1].time);
  }

  /* The stream opened a new bar: the one before it has closed. On stored timeframes the engine computes its values
     when it closes (Celery beat): they are asked for a minute later. */
  function barClosed(time) {
    if (!storedTimeframes.has(interval)) {
      requestValues(time, time);
      return;
    }
    const ticket = loading;
    setTimeout(() => {
      if (ticket === loading) requestValues(time, time);
    }, 60_000);
  }

  function points(key) {
    return bars.flatMap((b) => {
      const value = values.get(b.time)?.[key];
      return value === null || value === undefined ? [] : [{ time: b.time, value }];
    });
  }

  function drawStudies() {
    for (const lines of shown.values()) {
      for (const line of lines) {
        const data = points(line.key);
        const colored = (point) => ({ ...point, color: point.value >= 0 ? `${UP}b0` : `${DOWN}b0` });
        line.series.setData(line.histogram ? data.map(colored) : data);
        line.last = data.length ? data[data.length - 1].value : null;
      }
    }
    showLegend();
  }

  function addStudy(name) {
    const study = STUDIES[name];
    const pane = study.pane ? chart.panes().length : 0;
    const options = { lineWidth: 1, priceLineVisible: false, lastValueVisible: false, crosshairMarkerVisible: false };
    const lines = [];
    if (study.histogram) {
      const [key, label] = study.histogram;
      const series = chart.addSeries(LC.HistogramSeries, { priceLineVisible: false, lastValueVisible: false }, pane);
      lines.push({ key, label, color: GUIDE, series, histogram: true });
    }
    for (const [key, label, color] of study.lines) {
      lines.push({ key, label, color, series: chart.addSeries(LC.LineSeries, { ...options, color }, pane) });
    }
    for (const price of study.guides || []) {
      lines[0].series.createPriceLine({ price, color: GUIDE, lineWidth: 1, lineStyle: LC.LineStyle.Dashed });
    }
    if (study.pane) lines[0].series.getPane().setStretchFactor(0.35);
    shown.set(name, lines);
  }

  function removeStudy(name) {
    for (const line of shown.get(name)) chart.removeSeries(line.series); // an emptied pane goes with them
    shown.delete(name);
    showLegend();
  }

  function showOhlc(b) {
    const prices = { O: b.open, H: b.high, L: b.low, C: b.close };
    const parts = Object.entries(prices).map(([name, value]) => `${name} ${Dashboard.price(value)}`);
    document.getElementById("ohlc").textContent = `${parts.join("  ")}  V ${Dashboard.big(b.volume)}`;
  }

  function showLegend() {
    const items = [...shown.values()].flat().map((line) => {
      const item = document.createElement("span");
      item.className = "legend-item";
      item.dataset.key = line.key;
      item.style.setProperty("--swatch", line.color);
      const value = document.createElement("b");
      value.textContent = line.last === null || line.last === undefined ? "–" : Dashboard.price(line.last);
      item.append(`${line.label} `, value);
      return item;
    });
    if (valuesError) items.push(span("error", valuesError));
    else if (shown.size && !storedTimeframes.has(interval)) {
      items.push(span("note", `${interval} has no stored indicators: computed from the candles loaded`));
    }
    legend.replaceChildren(...items);
  }

  function span(className, textContent) {
    return Object.assign(document.createElement("span"), { className, textContent });
  }

  function showMarkers() {
    const loaded = new Set(bars.map((b) => b.time));
    const onChart = signals
      .map((signal) => ({ signal, time: Date.parse(signal.open_time) / 1000 }))
      .filter(({ signal, time }) => signal.timeframe === interval && loaded.has(time))
      .sort((a, b) => a.time - b.time);
    markers.setMarkers(
      onChart.map(({ signal, time }) => ({
        time,
        position: "aboveBar",
        shape: "arrowDown",
        color: GUIDE,
        text: signal.strategy_name,
      })),
    );
  }

  function utc(iso) {
    return `${new Date(iso).toISOString().slice(0, 16).replace("T", " ")} UTC`;
  }

  function formatValue(value) {
    return typeof value === "number" && Math.abs(value) < 1000 ? Dashboard.fixed(value, 2) : Dashboard.price(value);
  }

  async function loadSignals() {
    const target = document.getElementById("signals");
    let data;
    try {
      data = await fetchJson(`/api/v1/signals/?symbol=${symbol}`);
    } catch (error) {
      target.textContent = error.message;
      target.classList.add("error");
      return;
    }
    signals = data.results.slice(0, 10);
    if (!signals.length) {
      target.textContent = "No signals yet.";
      return;
    }
    const items = signals.map((signal) => {
      const item = document.createElement("li");
      const name = Object.assign(document.createElement("b"), { textContent: signal.strategy_name });
      const keyValues = Object.entries(signal.values).map(([key, value]) => `${key} ${formatValue(value)}`);
      const when = span("muted", `${signal.timeframe} · ${utc(signal.open_time)}`);
      item.append(name, " ", when, span("values", keyValues.join(", ")));
      return item;
    });
    const list = Object.assign(document.createElement("ol"), { className: "signal-list" });
    list.append(...items);
    target.replaceChildren(list);
    showMarkers();
  }

  async function loadSnapshots() {
    const target = document.getElementById("snapshots");
    const response = await fetch(`/api/v1/symbols/${symbol}/`);
    const data = await response.json();
    if (!response.ok) {
      target.textContent = (data.error && data.error.message) || `Error ${response.status}`;
      target.classList.add("error");
      return;
    }
    if (data.name) document.getElementById("symbol-name").textContent = `${data.symbol} · ${data.name}`;
    const ticker = data.live && data.live.ticker;
    if (ticker) document.getElementById("symbol-price").textContent = Dashboard.price(ticker.c);
    const timeframes = Object.keys(data.snapshots || {});
    if (!timeframes.length) {
      target.textContent = "No indicator snapshots yet.";
      return;
    }
    const outputs = [...new Set(timeframes.flatMap((tf) => Object.keys(data.snapshots[tf].values || {})))].sort();
    const table = document.createElement("table");
    table.className = "snapshot-table";
    const head = table.createTHead().insertRow();
    for (const title of ["", ...timeframes]) {
      const th = document.createElement("th");
      th.textContent = title;
      head.append(th);
    }
    const tbody = table.createTBody();
    for (const output of outputs) {
      const tr = tbody.insertRow();
      const th = document.createElement("th");
      th.textContent = output;
      tr.append(th);
      for (const tf of timeframes) {
        const td = tr.insertCell();
        td.className = "num";
        const value = data.snapshots[tf].values[output];
        td.textContent = Math.abs(value) >= 1000 ? Dashboard.price(value) : Dashboard.fixed(value, 4);
      }
    }
    target.replaceChildren(table);
  }

  /* The interval and the studies shown live in the query string, so that a view can be shared. */
  function saveView() {
    const query = new URLSearchParams({ interval });
    if (shown.size) query.set("studies", [...shown.keys()].join(","));
    history.replaceState(null, "", `?${query}`);
  }

  function press(button, pressed) {
    button.classList.toggle("active", pressed);
    button.setAttribute("aria-pressed", String(pressed));
  }

  for (const button of document.querySelectorAll("#intervals button")) {
    button.addEventListener("click", () => {
      interval = button.dataset.interval;
      for (const other of document.querySelectorAll("#intervals button")) press(other, other === button);
      saveView();
      loadCandles();
    });
  }

  const studiesAsked = new Set((params.get("studies") || "").split(","));
  for (const button of document.querySelectorAll("#studies button")) {
    const name = button.dataset.study;
    if (studiesAsked.has(name)) {
      addStudy(name);
      press(button, true);
    }
    button.addEventListener("click", () => {
      if (shown.has(name)) removeStudy(name);
      else {
        addStudy(name);
        refreshStudies();
      }
      press(button, shown.has(name));
      container.dataset.panes = String(chart.panes().length);
      saveView();
    });
  }
  container.dataset.panes = String(chart.panes().length);

  chart.timeScale().subscribeVisibleLogicalRangeChange((range) => {
    if (range && range.from < 10) loadOlder();
  });

  loadCandles();
  loadSnapshots();
  loadSignals();
  Dashboard.liveStream([`kline:${symbol}:1m`], (stream, data) => onKline(data));
})();
