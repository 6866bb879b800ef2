from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from apps.market.models import Candle, CmcSymbolOverride, CoinMetadata, ExchangeGap, OperationRun, Symbol
from apps.market.services.candle_import import UnreadableFile, candles_import, columns_parse
from apps.market.services.operations import operation_create
from tasks.market import run_operation


def _usd(value: float | None) -> str:
    return "-" if value is None else f"${value:,.0f}"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the service only: the admin shows them."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CandleImportForm(forms.Form):
    file = forms.FileField(
        help_text="1m candles: Binance's kline CSV, a CSV with columns named time, open, high..., or a Parquet file."
    )
    skip_bad = forms.BooleanField(required=False, help_text="Store the good rows even if some are bad.")
    columns = forms.CharField(
        required=False, help_text="Optional: field=column pairs, e.g. open_time=Date,open=Open (or column numbers)."
    )

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > settings.CANDLE_IMPORT_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                f"The file has {file.size:,} bytes, more than {settings.CANDLE_IMPORT_UPLOAD_MAX_BYTES:,}: import it "
                "with `manage.py import_candles`."
            )
        return file

    def clean_columns(self) -> dict[str, str]:
        try:
            return columns_parse(self.cleaned_data["columns"])
        except UnreadableFile as error:
            raise forms.ValidationError(str(error)) from None


@admin.register(Symbol)
class SymbolAdmin(admin.ModelAdmin):
    change_form_template = "admin/market/symbol/change_form.html"
    list_display = (
        "symbol",
        "status",
        "is_active",
        "is_derived",
        "coin_rank",
        "coin_market_cap",
        "quote_volume_24h",
        "last_candle_at",
        "exchange_gap_count",
        "listed_at",
        "tick_size",
        "step_size",
    )
    list_filter = ("is_active", "status", "quote_asset", "is_derived")
    list_editable = ("is_active",)
    search_fields = ("symbol", "base_asset")
    readonly_fields = (
        "base_asset",
        "quote_asset",
        "status",
        "tick_size",
        "step_size",
        "listed_at",
        "synced_at",
        "coin_metadata",
        "exchange_gap_count",
    )
    actions = ("activate", "deactivate", "backfill", "fill_gaps", "sync_metadata")
    ordering = ("symbol",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Symbol]:
        # Each column is one index probe per listed row (the candle and gap primary keys, the metadata's unique
        # base_asset), not a scan of the candle table nor a query per row.
        newest = Candle.objects.filter(symbol=OuterRef("pk")).order_by("-open_time").values("open_time")[:1]
        gaps = (
            ExchangeGap.objects.filter(symbol=OuterRef("pk")).order_by().values("symbol").annotate(n=Count("pk"))
        ).values("n")
        coin = CoinMetadata.objects.filter(base_asset=OuterRef("base_asset"))
        return (
            super()
            .get_queryset(request)
            .annotate(
                last_candle_at=Subquery(newest),
                exchange_gap_count=Coalesce(Subquery(gaps), 0),
                coin_rank=Subquery(coin.values("rank")),
                coin_market_cap=Subquery(coin.values("market_cap")),
            )
        )

    def get_urls(self):
        view = self.admin_site.admin_view(self.import_candles_view)
        return [path("<int:object_id>/import-candles/", view, name="market_symbol_import_candles"), *super().get_urls()]

    def import_candles_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        symbol = get_object_or_404(Symbol, pk=object_id)
        if not self.has_change_permission(request, symbol):
            raise PermissionDenied
        form = CandleImportForm(request.POST or None, request.FILES or None)
        report = None
        if request.method == "POST" and form.is_valid():
            try:
                report = candles_import(symbol=symbol, file=form.cleaned_data["file"].file,
                                        columns=form.cleaned_data["columns"],
                                        skip_bad=form.cleaned_data["skip_bad"])  # fmt: skip
            except (UnreadableFile, UnicodeDecodeError) as error:
                form.add_error("file", str(error))
        context = {**self.admin_site.each_context(request), "opts": self.opts, "original": symbol, "form": form,
                   "report": report, "title": f"Import candles into {symbol}"}  # fmt: skip
        return TemplateResponse(request, "admin/market/symbol/import_candles.html", context)

    def has_delete_permission(self, request: HttpRequest, obj: Symbol | None = None) -> bool:
        return False  # candles keep the symbol's id for ever; deactivate instead

    @admin.display(description="Last candle", ordering="last_candle_at")
    def last_candle_at(self, symbol: Symbol):
        return symbol.last_candle_at

    @admin.display(description="Exchange gaps", ordering="exchange_gap_count")
    def exchange_gap_count(self, symbol: Symbol) -> int:
        return symbol.exchange_gap_count

    @admin.display(description="CMC rank", ordering=F("coin_rank").asc(nulls_last=True))
    def coin_rank(self, symbol: Symbol) -> int | None:
        return symbol.coin_rank

    @admin.display(description="Market cap", ordering=F("coin_market_cap").desc(nulls_last=True))
    def coin_market_cap(self, symbol: Symbol) -> str:
        return _usd(symbol.coin_market_cap)

    @admin.display(description="CoinMarketCap")
    def coin_metadata(self, symbol: Symbol) -> SafeString | str:
        coin = CoinMetadata.objects.filter(base_asset=symbol.base_asset).first()
        if coin is None:
            return "Not synced yet (daily, when CMC_API_KEY is set; or the action 'Sync metadata')."
        logo = format_html('<img src="{}" alt="" width="32" height="32" style="vertical-align:middle"> ', coin.logo_url)
        return format_html(
            '{}<a href="{}">{} ({})</a>: rank {}, market cap {}, circulating supply {}; CMC id {}, synced {}',
            logo if coin.logo_url else "",
            reverse("admin:market_coinmetadata_change", args=[coin.pk]),
            coin.name,
            coin.cmc_symbol,
            coin.rank or "-",
            _usd(coin.market_cap),
            "-" if coin.circulating_supply is None else f"{coin.circulating_supply:,.0f}",
            coin.cmc_id,
            coin.synced_at,
        )

    @admin.action(description="Activate: stream, backfill and analyse")
    def activate(self, request: HttpRequest, queryset: QuerySet[Symbol]) -> None:
        count = queryset.update(is_active=True)
        self.message_user(request, f"{count} symbol(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate")
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Symbol]) -> None:
        count = queryset.update(is_active=False)
        self.message_user(request, f"{count} symbol(s) deactivated.", messages.SUCCESS)

    @admin.action(description="Backfill the history (MARKET_HISTORY_DAYS)")
    def backfill(self, request: HttpRequest, queryset: QuerySet[Symbol]) -> None:
        self._queue(request, queryset, OperationRun.Kind.BACKFILL)

    @admin.action(description="Fill gaps after the first stored candle")
    def fill_gaps(self, request: HttpRequest, queryset: QuerySet[Symbol]) -> None:
        self._queue(request, queryset, OperationRun.Kind.GAP_FILL)

    @admin.action(description="Sync metadata from CoinMarketCap")
    def sync_metadata(self, request: HttpRequest, queryset: QuerySet[Symbol]) -> None:
        self._queue(request, queryset, OperationRun.Kind.METADATA_SYNC)

    def _queue(self, request: HttpRequest, queryset: QuerySet[Symbol], kind: OperationRun.Kind) -> None:
        operation = operation_create(kind=kind, symbols=queryset)
        transaction.on_commit(lambda: run_operation.apply_async((operation.pk,), task_id=operation.task_id))
        # Tasks run in-process (the embedded default) have finished by now; with workers it is still queued.
        operation.refresh_from_db(fields=["status"])
        failed = operation.status == OperationRun.Status.FAILED
        self.message_user(
            request,
            format_html(
                '{} of {} symbol(s): {}. See <a href="{}">{}</a>.',
                operation.get_kind_display(),
                len(operation.symbols),
                operation.get_status_display().lower(),
                reverse("admin:market_operationrun_change", args=[operation.pk]),
                operation,
            ),
            messages.ERROR if failed else messages.SUCCESS,
        )


@admin.register(ExchangeGap)
class ExchangeGapAdmin(admin.ModelAdmin):
    list_display = ("symbol", "start", "end", "found_at")
    list_filter = ("symbol",)
    date_hierarchy = "start"
    list_select_related = ("symbol",)


@admin.register(CoinMetadata)
class CoinMetadataAdmin(ReadOnlyAdmin):
    """Read-only: the metadata sync rewrites these rows; fix a wrong match with a CMC symbol override."""

    list_display = ("base_asset", "name", "cmc_symbol", "rank", "market_cap_usd", "cmc_id", "synced_at")
    search_fields = ("base_asset", "name", "cmc_symbol")
    ordering = (F("rank").asc(nulls_last=True), "base_asset")

    @admin.display(description="Market cap", ordering="market_cap")
    def market_cap_usd(self, coin: CoinMetadata) -> str:
        return _usd(coin.market_cap)


@admin.register(CmcSymbolOverride)
class CmcSymbolOverrideAdmin(admin.ModelAdmin):
    list_display = ("exchange_asset", "cmc_symbol")
    search_fields = ("exchange_asset", "cmc_symbol")


@admin.register(OperationRun)
class OperationRunAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "status", "symbol_list", "created_at", "started_at", "finished_at", "summary")
    list_filter = ("kind", "status")
    date_hierarchy = "created_at"

    @admin.display(description="Symbols")
    def symbol_list(self, operation: OperationRun) -> str:
        names = operation.symbols
        return ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")

    @admin.display(description="Message")
    def summary(self, operation: OperationRun) -> str:
        first_line = operation.message.partition("\n")[0]
        return first_line[:120] + ("..." if len(first_line) > 120 or "\n" in operation.message else "")
