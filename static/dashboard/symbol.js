/* The symbol page: candles and volume from /api/v1/klines/, snapshots from /api/v1/symbols/, the live 1m candle. */
"use strict";

(() => {
  const page = document.getElementById("symbol-page");
  const symbol = page.dataset.symbol;
  let interval = page.dataset.interval;
  const container = document.getElementById("chart");
  const chartStatus = document.getElementById("chart-status");
  const INTERVAL_SECONDS = { "1m": 60, "5m": 300, "15m": 900, "1h": 3600, "4h": 14400, "1d": 86400, "1w": 604800 };
  const dark = window.matchMedia("(prefers-color-scheme: dark)").matches;
  const UP = "#26a69a";
  const DOWN = "#ef5350";

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

  let last = null; // the newest bar shown: {time, open, high, low, close, volume}
  let loading = 0;

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

  async function loadCandles() {
    const ticket = ++loading;
    const wanted = interval;
    container.dataset.state = "loading";
    chartStatus.textContent = "";
    chartStatus.classList.remove("error");
    const response = await fetch(`/api/v1/klines/${symbol}/?interval=${wanted}&limit=500`);
    const data = await response.json();
    if (ticket !== loading) return; // a newer interval was asked for meanwhile
    if (!response.ok) {
      chartStatus.textContent = (data.error && data.error.message) || `Error ${response.status}`;
      chartStatus.classList.add("error");
      container.dataset.state = "error";
      return;
    }
    const bars = data.map(bar);
    candles.setData(bars);
    volume.setData(bars.map(volumeBar));
    chart.timeScale().fitContent();
    last = bars.length ? bars[bars.length - 1] : null;
    if (!bars.length) chartStatus.textContent = "No candles stored yet.";
    container.dataset.interval = wanted;
    container.dataset.candles = String(bars.length);
    container.dataset.state = "ready";
  }

  /* The live 1m candle: its own bar on 1m, otherwise merged into the newest bar while it lies in it. */
  function onKline(k) {
    if (!last) return;
    const time = Math.floor(k.t / 1000);
    const close = Number(k.c);
    if (interval === "1m") {
      if (time < last.time) return;
      const b = { time, open: Number(k.o), high: Number(k.h), low: Number(k.l), close, volume: Number(k.v) };
      last = b;
      candles.update(b);
      volume.update(volumeBar(b));
    } else if (time >= last.time && time < last.time + INTERVAL_SECONDS[interval]) {
      last = { ...last, high: Math.max(last.high, Number(k.h)), low: Math.min(last.low, Number(k.l)), close };
      candles.update(last);
    }
    document.getElementById("symbol-price").textContent = Dashboard.price(close);
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

  for (const button of document.querySelectorAll("#intervals button")) {
    button.addEventListener("click", () => {
      interval = button.dataset.interval;
      for (const other of document.querySelectorAll("#intervals button")) {
        other.classList.toggle("active", other === button);
        other.setAttribute("aria-pressed", String(other === button));
      }
      history.replaceState(null, "", `?interval=${interval}`);
      loadCandles();
    });
  }

  loadCandles();
  loadSnapshots();
  Dashboard.liveStream([`kline:${symbol}:1m`], (stream, data) => onKline(data));
})();
