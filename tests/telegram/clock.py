class FakeClock:
    """Time that moves only when someone sleeps: what a limiter made its callers wait, without waiting."""

    def __init__(self, now: float = 1_000_000.25) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds
