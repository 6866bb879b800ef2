from apps.indicators.services import snapshots_update_live
from apps.market.klines import CandleRow


def minutes_closed_received(sender: object, *, rows: list[CandleRow], **kwargs: object) -> None:
    snapshots_update_live(rows=rows)
