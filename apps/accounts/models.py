import hashlib

from django.conf import settings
from django.db import models
from rest_framework.permissions import SAFE_METHODS


def api_key_digest(key: str) -> str:
    # A key is 240 random bits, so a fast hash keeps it as safe as a slow one would and costs nothing per request.
    return hashlib.sha256(key.encode("utf-8", errors="surrogateescape")).hexdigest()


class ApiKey(models.Model):
    """A named, long-lived key a user gives a program (`Authorization: Api-Key <key>`), until they revoke it. Only
    the key's digest is stored: the key itself is shown once, when it is created; its first characters stay so
    that the owner can tell their keys apart."""

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        READ_WRITE = "read_write", "Read and write"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    prefix = models.CharField(max_length=8)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="api_key_name_unique_per_owner")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    def allows(self, method: str) -> bool:
        """Whether a request of this HTTP method may be made with this key."""
        return self.scope == self.Scope.READ_WRITE or method in SAFE_METHODS
