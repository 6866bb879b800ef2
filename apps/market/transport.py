class TransportError(Exception):
    """A failure talking to an external system. `permanent` says whether trying again can help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent
