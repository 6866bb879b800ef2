/* Shared by the dashboard's pages: number formatting and the live stream (/ws/stream/) with reconnection. */
"use strict";

const Dashboard = (() => {
  const compact = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 2 });

  function num(value) {
    return value === null || value === undefined || value === "" ? null : Number(value);
  }

  function price(value) {
    const n = num(value);
    if (n === null || Number.isNaN(n)) return "–";
    const digits = n >= 1000 ? 2 : n >= 1 ? 4 : 8;
    return n.toLocaleString("en-US", { maximumFractionDigits: digits });
  }

  function big(value) {
    const n = num(value);
    return n === null || Number.isNaN(n) ? "–" : compact.format(n);
  }

  function fixed(value, digits = 2) {
    const n = num(value);
    return n === null || Number.isNaN(n) ? "–" : n.toFixed(digits);
  }

  function percent(value) {
    const n = num(value);
    return n === null || Number.isNaN(n) ? "–" : `${n > 0 ? "+" : ""}${n.toFixed(2)}%`;
  }

  /* A WebSocket to /ws/stream/ subscribed to `streams`, reconnecting with exponential backoff (1 s up to 30 s,
     with jitter) and showing the "disconnected" banner while it is down. onUpdate(stream, data) per update. */
  function liveStream(streams, onUpdate) {
    const banner = document.getElementById("banner");
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const url = `${scheme}://${location.host}/ws/stream/`;
    let delay = 1000;

    function connect() {
      const socket = new WebSocket(url);
      socket.addEventListener("open", () => {
        delay = 1000;
        banner.hidden = true;
        document.body.dataset.live = "connected";
        socket.send(JSON.stringify({ action: "subscribe", streams }));
      });
      socket.addEventListener("message", (event) => {
        let frame;
        try {
          frame = JSON.parse(event.data);
        } catch {
          return;
        }
        if (frame.type === "update") onUpdate(frame.stream, frame.data);
      });
      socket.addEventListener("close", () => {
        banner.hidden = false;
        document.body.dataset.live = "disconnected";
        const wait = delay * (0.75 + Math.random() / 2);
        delay = Math.min(delay * 2, 30000);
        setTimeout(connect, wait);
      });
    }

    connect();
  }

  return { num, price, big, fixed, percent, liveStream };
})();
