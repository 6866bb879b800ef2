/* The screener page: /api/v1/screener/ with the filters and ordering of the page's query string, live prices. */
"use strict";

(() => {
  const form = document.getElementById("filters");
  const table = document.getElementById("screener");
  const body = table.querySelector("tbody");
  const status = document.getElementById("status");
  const TEXT_FIELDS = new Set(["symbol", "name"]);
  const TIMEFRAMES = table.dataset.timeframes.split(" ");
  const SVG = "http://www.w3.org/2000/svg";
  const rows = new Map(); // symbol -> <tr>

  function params() {
    return new URLSearchParams(location.search);
  }

  function formFromUrl() {
    const query = params();
    for (const input of form.querySelectorAll("input[name]")) input.value = query.get(input.name) || "";
    const ordering = query.get("ordering") || "-market_cap";
    for (const th of table.querySelectorAll("th[data-field]")) {
      const field = th.dataset.field;
      th.classList.toggle("asc", ordering === field);
      th.classList.toggle("desc", ordering === `-${field}`);
      th.setAttribute("aria-sort", ordering === field ? "ascending" : ordering === `-${field}` ? "descending" : "none");
    }
  }

  function navigate(query) {
    const search = query.toString();
    history.pushState(null, "", search ? `?${search}` : location.pathname);
    formFromUrl();
    load();
  }

  function cell(text, className) {
    const td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    return td;
  }

  function changeClass(change) {
    const n = Dashboard.num(change);
    return n > 0 ? "num up" : n < 0 ? "num down" : "num";
  }

  function symbolCell(row) {
    const td = document.createElement("td");
    if (row.logo_url) {
      const logo = document.createElement("img");
      Object.assign(logo, { src: row.logo_url, alt: "", width: 18, height: 18, loading: "lazy", className: "logo" });
      logo.addEventListener("error", () => logo.remove()); // unreachable (offline) or gone: the symbol alone
      td.append(logo);
    }
    const link = document.createElement("a");
    link.href = `/s/${row.symbol}/`;
    link.textContent = row.symbol;
    td.append(link);
    return td;
  }

  /* The 24h sparkline (hourly closes) as an SVG line, green when it ends above where it started. */
  function sparklineCell(closes) {
    const td = cell("", "wide sparkline");
    const values = (closes || []).map(Number).filter((value) => !Number.isNaN(value));
    if (values.length < 2) return td;
    const [width, height] = [80, 22];
    const low = Math.min(...values);
    const span = Math.max(...values) - low || 1;
    const points = values.map((value, i) => {
      const x = (i / (values.length - 1)) * width;
      const y = height - 1 - ((value - low) / span) * (height - 2);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    });
    const svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", width);
    svg.setAttribute("height", height);
    svg.classList.add(values[values.length - 1] >= values[0] ? "up" : "down");
    const line = document.createElementNS(SVG, "polyline");
    line.setAttribute("points", points.join(" "));
    svg.append(line);
    td.append(svg);
    return td;
  }

  /* RSI and MACD histogram of each timeframe: RSI marked oversold (< 30) or overbought (> 70), the MACD histogram
     bullish above zero, bearish below. */
  function indicatorCells(row) {
    return TIMEFRAMES.flatMap((timeframe) => {
      const values = (row.indicators && row.indicators[timeframe] && row.indicators[timeframe].values) || {};
      const [rsi, macd] = [values.rsi_14, values.macd_hist]; // null while the history is too short
      const wide = timeframe === "1h" ? "" : " wide";
      const zone = rsi == null ? "" : rsi < 30 ? " oversold" : rsi > 70 ? " overbought" : "";
      const state = macd == null ? "" : macd > 0 ? " up" : macd < 0 ? " down" : "";
      return [
        cell(Dashboard.fixed(values.rsi_14), `num rsi-${timeframe}${wide}${zone}`),
        cell(Dashboard.fixed(values.macd_hist, 4), `num macd-${timeframe} wide${state}`),
      ];
    });
  }

  function render(data) {
    body.replaceChildren();
    rows.clear();
    for (const row of data.results) {
      const tr = document.createElement("tr");
      tr.dataset.symbol = row.symbol;
      const signal = row.signals && row.signals[0];
      tr.append(
        symbolCell(row),
        cell(row.name || "", "wide"),
        cell(Dashboard.price(row.price), "num price"),
        cell(Dashboard.percent(row.change_24h), `${changeClass(row.change_24h)} change`),
        cell(Dashboard.big(row.quote_volume_24h), "num volume"),
        cell(Dashboard.big(row.market_cap), "num wide"),
        sparklineCell(row.sparkline_24h),
        ...indicatorCells(row),
        cell(signal ? `${signal.strategy_name} (${signal.timeframe})` : "", "wide"),
      );
      tr.dataset.price = row.price ?? "";
      rows.set(row.symbol, tr);
      body.append(tr);
    }
    status.textContent = `${data.count} symbol${data.count === 1 ? "" : "s"}`;
    table.dataset.loaded = String(Date.now());
  }

  async function load() {
    const query = params();
    query.set("page_size", "1000");
    status.classList.remove("error");
    const response = await fetch(`/api/v1/screener/?${query}`, { headers: { Accept: "application/json" } });
    const data = await response.json();
    if (!response.ok) {
      status.textContent = (data.error && data.error.message) || `Error ${response.status}`;
      status.classList.add("error");
      body.replaceChildren();
      table.dataset.loaded = String(Date.now());
      return;
    }
    render(data);
  }

  function flash(td, up) {
    td.classList.remove("flash-up", "flash-down");
    void td.offsetWidth; // restart the animation
    td.classList.add(up ? "flash-up" : "flash-down");
  }

  function onTickers(tickers) {
    for (const [symbol, ticker] of Object.entries(tickers)) {
      const tr = rows.get(symbol);
      if (!tr) continue;
      const price = Number(ticker.c);
      const previous = Number(tr.dataset.price);
      const priceCell = tr.querySelector(".price");
      if (price !== previous) {
        priceCell.textContent = Dashboard.price(price);
        if (!Number.isNaN(previous)) flash(priceCell, price > previous);
        tr.dataset.price = String(price);
      }
      const open = Number(ticker.o);
      if (open > 0) {
        const change = (price / open - 1) * 100;
        const changeCell = tr.querySelector(".change");
        changeCell.textContent = Dashboard.percent(change);
        changeCell.className = `${changeClass(change)} change`;
      }
      tr.querySelector(".volume").textContent = Dashboard.big(ticker.q);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    for (const input of form.querySelectorAll("input[name]")) {
      if (input.value.trim() !== "") query.set(input.name, input.value.trim());
    }
    navigate(query);
  });

  form.addEventListener("reset", (event) => {
    event.preventDefault();
    const query = new URLSearchParams();
    const ordering = params().get("ordering");
    if (ordering) query.set("ordering", ordering);
    navigate(query);
  });

  for (const th of table.querySelectorAll("th[data-field]")) {
    th.tabIndex = 0;
    const sort = () => {
      const field = th.dataset.field;
      const query = params();
      const current = query.get("ordering") || "-market_cap";
      const first = TEXT_FIELDS.has(field) ? field : `-${field}`;
      const flipped = first.startsWith("-") ? field : `-${field}`;
      query.set("ordering", current === first ? flipped : first);
      query.delete("page");
      navigate(query);
    };
    th.addEventListener("click", sort);
    th.addEventListener("keydown", (event) => {
      if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        sort();
      }
    });
  }

  window.addEventListener("popstate", () => {
    formFromUrl();
    load();
  });

  formFromUrl();
  load();
  // Indicators and signals change with the candles: a full reload every minute (the ETag makes it cheap).
  setInterval(load, 60000);
  Dashboard.liveStream(["ticker"], (stream, data) => {
    if (stream === "ticker") onTickers(data);
  });
})();
