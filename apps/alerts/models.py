from django.conf import settings
from django.db import models

from apps.market.models import Symbol


class Watchlist(models.Model):
    """A user's named list of symbols: what their screener views and alerts can be limited to."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="watchlists")
    name = models.CharField(max_length=100)
    symbols = models.ManyToManyField(Symbol, related_name="+", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="watchlist_name_unique_per_owner")]

    def __str__(self) -> str:
        return self.name
